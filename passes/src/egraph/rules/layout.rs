//! Layout ops (views and copies that move elements without arithmetic): chains collapse and
//! identities vanish. All exact: they never touch a value.

use egg::Id;
use switchyard_ir::{Axes, DType, Op, Shape, SliceAxis, UnaryOp as U};

use super::ctx::Ctx;
use super::Rule;
use crate::egraph::lang::SyNode;

/// The group's name.
pub const GROUP: &str = "layout";

fn is_reshape_like(op: &Op) -> bool {
    matches!(op, Op::Reshape(_) | Op::ExpandDims(_) | Op::Squeeze(_))
}

/// `permute_dims(permute_dims(x, p), q) -> permute_dims(x, p∘q)` (or x when that is the
/// identity): result axis i is x's axis `p[q[i]]`.
fn permute_permute(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let Op::PermuteDims(q) = &n.op else { return None };
    let inner = cx.nodes_where(n.children[0], |op| matches!(op, Op::PermuteDims(_)));
    let m = inner.first()?;
    let Op::PermuteDims(p) = &m.op else { return None };
    let composed: Axes = q.iter().map(|&i| p.get(i).copied()).collect::<Option<_>>()?;
    if composed.iter().enumerate().all(|(i, &a)| i == a) {
        return Some(m.children[0]);
    }
    cx.add(Op::PermuteDims(composed), &[m.children[0]])
}

/// A layout op that leaves its operand as it is: a reshape, squeeze or broadcast to the
/// operand's own shape, the identity permutation, a flip of no axis (or only extent-1 axes),
/// a slice taking every element in order.
fn layout_identity(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let x = n.children[0];
    let dims = cx.ty(x).shape.dims().to_vec();
    let same = match &n.op {
        Op::Reshape(_) | Op::Squeeze(_) | Op::BroadcastTo(_) => cx.ty(x) == cx.ty(root),
        Op::PermuteDims(p) => p.iter().enumerate().all(|(i, &a)| i == a),
        Op::Flip(axes) => axes.iter().all(|&a| dims.get(a).is_some_and(|&d| d <= 1)),
        Op::Slice(s) => {
            s.len() == dims.len()
                && s.iter().zip(&dims).all(|(s, &d)| s.start == 0 && s.step == 1 && s.len == d)
        }
        _ => false,
    };
    same.then_some(x)
}

/// `reshape(reshape(x))` (any mix of reshape, expand_dims, squeeze) `-> reshape(x)`, or x
/// itself when the shapes agree: row-major reshapes compose.
fn reshape_chain(cx: &mut Ctx<'_>, root: Id, _n: &SyNode) -> Option<Id> {
    let inner = cx.nodes_where(_n.children[0], is_reshape_like);
    let m = inner.first()?;
    let x = m.children[0];
    if cx.ty(x) == cx.ty(root) {
        return Some(x);
    }
    let shape = cx.ty(root).shape.clone();
    cx.add(Op::Reshape(shape), &[x])
}

/// `broadcast_to(broadcast_to(x, s1), s2) -> broadcast_to(x, s2)`: broadcasting composes.
fn broadcast_chain(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let inner = cx.nodes_where(n.children[0], |op| matches!(op, Op::BroadcastTo(_)));
    let x = inner.first()?.children[0];
    let ty = cx.ty(root).clone();
    cx.coerce(x, &ty)
}

/// `flip(flip(x, a), b) -> flip(x, a △ b)` (x when empty): flipping an axis twice restores it.
fn flip_flip(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let Op::Flip(b) = &n.op else { return None };
    let inner = cx.nodes_where(n.children[0], |op| matches!(op, Op::Flip(_)));
    let m = inner.first()?;
    let Op::Flip(a) = &m.op else { return None };
    let mut axes: Vec<usize> = a.iter().chain(b.iter()).copied().collect();
    axes.sort_unstable();
    let sym: Axes = axes.iter().copied().filter(|x| axes.iter().filter(|y| *y == x).count() == 1).collect();
    if sym.is_empty() {
        return Some(m.children[0]);
    }
    cx.add(Op::Flip(sym), &[m.children[0]])
}

/// `slice(slice(x, s1), s2) -> slice(x, s1∘s2)`: per axis, start `s1.start + s2.start *
/// s1.step`, step `s1.step * s2.step`, length `s2.len` (refused on arithmetic overflow).
fn slice_slice(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let Op::Slice(s2) = &n.op else { return None };
    let inner = cx.nodes_where(n.children[0], |op| matches!(op, Op::Slice(_)));
    let m = inner.first()?;
    let Op::Slice(s1) = &m.op else { return None };
    let mut out = Vec::with_capacity(s1.len());
    for (a, b) in s1.iter().zip(s2) {
        let (start, step) = if b.len == 0 {
            (a.start, a.step)
        } else {
            let off = isize::try_from(b.start).ok()?.checked_mul(a.step)?;
            let start = isize::try_from(a.start).ok()?.checked_add(off)?;
            (usize::try_from(start).ok()?, a.step.checked_mul(b.step)?)
        };
        out.push(SliceAxis { start, step, len: b.len });
    }
    cx.add(Op::Slice(out), &[m.children[0]])
}

/// `u(broadcast_to(x, s)) -> broadcast_to(u(x), s)` for elementwise unary ops and casts:
/// the op sees the same values, computed once per element of x instead of per copy.
fn unary_through_broadcast(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let inner = cx.nodes_where(n.children[0], |op| matches!(op, Op::BroadcastTo(_)));
    let m = inner.first()?;
    let Op::BroadcastTo(s) = &m.op else { return None };
    let y = cx.add(n.op.clone(), &[m.children[0]])?;
    cx.add(Op::BroadcastTo(s.clone()), &[y])
}

/// The group's rules.
pub fn rules() -> Vec<Rule> {
    let reshape_like = [Op::Reshape(Shape::scalar()), Op::ExpandDims(0), Op::Squeeze(Axes::new())];
    let identities = [
        Op::Reshape(Shape::scalar()),
        Op::Squeeze(Axes::new()),
        Op::BroadcastTo(Shape::scalar()),
        Op::PermuteDims(Axes::new()),
        Op::Flip(Axes::new()),
        Op::Slice(Vec::new()),
    ];
    let unary: Vec<Op> = U::ALL.iter().map(|&u| Op::Unary(u)).chain([Op::Cast(DType::F32)]).collect();
    vec![
        Rule::new("permute-permute", GROUP, &[Op::PermuteDims(Axes::new())], permute_permute),
        Rule::new("layout-identity", GROUP, &identities, layout_identity),
        Rule::new("reshape-chain", GROUP, &reshape_like, reshape_chain),
        Rule::new("broadcast-chain", GROUP, &[Op::BroadcastTo(Shape::scalar())], broadcast_chain),
        Rule::new("flip-flip", GROUP, &[Op::Flip(Axes::new())], flip_flip),
        Rule::new("slice-slice", GROUP, &[Op::Slice(Vec::new())], slice_slice),
        Rule::new("unary-through-broadcast", GROUP, &unary, unary_through_broadcast),
    ]
}
