//! Reductions of broadcasts and of reductions, where exact.
//!
//! `max`/`min`/`any`/`all` of copies of one value is that value, so reducing only axes a
//! broadcast stretched gives the operand back. `sum` of n copies is `n * x` exactly for
//! integers (both wrap in i64) but not for floats: the reference adds the copies one by one
//! in f64, which is not `n * x` in general (and turns `-0.0` into `+0.0`); the float form is
//! in [`super::fast_math`]. Reductions of reductions merge for the associative, exact ones.

use egg::Id;
use smallvec::SmallVec;
use switchyard_ir::{Axes, BinaryOp as B, DType, Op, ReduceOp as R, Scalar, Shape};

use super::ctx::Ctx;
use super::Rule;
use crate::egraph::lang::SyNode;

/// The group's name.
pub const GROUP: &str = "reduce";

/// A reduction over only stretched axes of `broadcast_to(x, S)`, as found in the e-graph.
pub(crate) struct OfBroadcast {
    /// The broadcast operand.
    pub x: Id,
    /// The number of elements each result element reduces (at least 1).
    pub count: usize,
    /// The dims of x aligned to the result's rank.
    pub aligned: SmallVec<[usize; 4]>,
}

/// Matches `reduce(broadcast_to(x, S), axes)` where every reduced axis is one the broadcast
/// stretched (x has extent 1 there or lacks the axis) and the reduction is not empty.
pub(crate) fn of_broadcast(cx: &Ctx<'_>, n: &SyNode) -> Option<OfBroadcast> {
    let Op::Reduce { axes, keepdims, .. } = &n.op else { return None };
    let b = cx.nodes_where(n.children[0], |op| matches!(op, Op::BroadcastTo(_)));
    let m = b.first()?;
    let Op::BroadcastTo(s) = &m.op else { return None };
    let x = m.children[0];
    let xd = cx.ty(x).shape.dims().to_vec();
    let off = s.rank().checked_sub(xd.len())?;
    let stretched = |a: usize| a < off || xd.get(a - off) == Some(&1);
    if !axes.iter().all(|&a| stretched(a)) {
        return None;
    }
    // Checked: with a zero extent elsewhere the reduced extents may multiply past usize.
    let count = axes.iter().try_fold(1usize, |acc, &a| acc.checked_mul(*s.dims().get(a)?))?;
    if count == 0 {
        return None;
    }
    let full: SmallVec<[usize; 4]> = (0..s.rank()).map(|a| if a < off { 1 } else { xd[a - off] }).collect();
    let aligned =
        if *keepdims { full } else { (0..s.rank()).filter(|a| !axes.contains(a)).map(|a| full[a]).collect() };
    Some(OfBroadcast { x, count, aligned })
}

/// Reshapes `t` (holding x's elements) to the aligned dims and broadcasts it to the result.
pub(crate) fn align(cx: &mut Ctx<'_>, root: Id, t: Id, aligned: &[usize]) -> Option<Id> {
    let mut t = t;
    if cx.ty(t).shape.dims() != aligned {
        let shape = Shape::new(aligned).ok()?;
        t = cx.add(Op::Reshape(shape), &[t])?;
    }
    let ty = cx.ty(root).clone();
    cx.coerce(t, &ty)
}

/// `max/min/any/all(broadcast_to(x), stretched axes) -> x` (reshaped and broadcast to the
/// result): every reduced element is a copy of one element of x (NaN stays NaN).
fn extreme_of_broadcast(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let m = of_broadcast(cx, n)?;
    align(cx, root, m.x, &m.aligned)
}

/// `sum(broadcast_to(x), stretched axes) -> cast(x, i64) * n` for integers: the reference
/// sums integers wrapping in i64, and n wrapping additions of v are `n * v` modulo 2^64.
fn sum_of_broadcast_int(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let m = of_broadcast(cx, n)?;
    if !cx.dtype(m.x).is_int() {
        return None;
    }
    let x = if cx.dtype(m.x) == DType::I64 { m.x } else { cx.add(Op::Cast(DType::I64), &[m.x])? };
    let count = cx.full(Scalar::I64(i64::try_from(m.count).ok()?), DType::I64, Shape::scalar());
    let t = cx.binary(B::Mul, x, count)?;
    align(cx, root, t, &m.aligned)
}

/// `r(r(x, a1), a2) -> r(x, a1 ∪ a2)` for max, min, any, all (associative and exact) and
/// integer sum and prod (wrapping in i64 either way), when both keep or both drop the axes.
fn reduce_reduce(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let Op::Reduce { op, axes: outer, keepdims, correction: 0 } = &n.op else { return None };
    let inner = cx.nodes_where(
        n.children[0],
        |o| matches!(o, Op::Reduce { op: p, keepdims: k, .. } if p == op && k == keepdims),
    );
    let m = inner.first()?;
    let Op::Reduce { axes: first, .. } = &m.op else { return None };
    let x = m.children[0];
    let exact = match op {
        R::Max | R::Min | R::Any | R::All => true,
        R::Sum | R::Prod => cx.dtype(x).is_int(),
        _ => false,
    };
    if !exact {
        return None;
    }
    let rank = cx.ty(x).shape.rank();
    let kept: Vec<usize> = (0..rank).filter(|a| !first.contains(a)).collect();
    let mut all: Vec<usize> = first.to_vec();
    for &a in outer {
        all.push(if *keepdims { a } else { *kept.get(a)? });
    }
    all.sort_unstable();
    all.dedup();
    let axes: Axes = all.into_iter().collect();
    cx.add(Op::Reduce { op: *op, axes, keepdims: *keepdims, correction: 0 }, &[x])
}

fn reduce_op(op: R) -> Op {
    Op::Reduce { op, axes: Axes::new(), keepdims: false, correction: 0 }
}

/// The group's rules.
pub fn rules() -> Vec<Rule> {
    let extremes = [R::Max, R::Min, R::Any, R::All].map(reduce_op);
    let merging = [R::Max, R::Min, R::Any, R::All, R::Sum, R::Prod].map(reduce_op);
    vec![
        Rule::new("extreme-of-broadcast", GROUP, &extremes, extreme_of_broadcast),
        Rule::new("sum-of-broadcast-int", GROUP, &[reduce_op(R::Sum)], sum_of_broadcast_int),
        Rule::new("reduce-reduce", GROUP, &merging, reduce_reduce),
    ]
}
