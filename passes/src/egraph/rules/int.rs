//! Algebra that holds for integers (wrapping arithmetic is a ring modulo 2^n) and bools but
//! not for floats, where NaN, infinities, signed zeros and rounding break it (those
//! versions are in [`super::fast_math`]). Every operand must have the result's dtype, so no
//! intermediate wraps at another width.

use egg::Id;
use switchyard_ir::{BinaryOp as B, Op, Scalar, UnaryOp as U};

use super::ctx::{is_num, Ctx};
use super::Rule;
use crate::egraph::lang::SyNode;

/// The group's name.
pub const GROUP: &str = "int";

/// True when `ids` all have the integer dtype of `root` (or `float_ok` allows floats).
pub(crate) fn uniform(cx: &Ctx<'_>, root: Id, ids: &[Id], float_ok: bool) -> bool {
    let d = cx.dtype(root);
    (d.is_int() || (float_ok && d.is_float())) && ids.iter().all(|&i| cx.dtype(i) == d)
}

/// `x * 0 -> 0` (either side); floats: `NaN * 0` is NaN and `-1 * 0` is `-0.0`.
pub(crate) fn mul_zero(cx: &mut Ctx<'_>, root: Id, n: &SyNode, float_ok: bool) -> Option<Id> {
    let d = cx.dtype(root);
    if !(d.is_int() || float_ok) {
        return None;
    }
    let zero = |s: Scalar| is_num(s, 0.0);
    (cx.is_const(n.children[0], zero) || cx.is_const(n.children[1], zero))
        .then(|| cx.full_like(Scalar::I64(0), root))
}

/// `x - x -> 0`; floats: `inf - inf` and `NaN - NaN` are NaN.
pub(crate) fn sub_self(cx: &mut Ctx<'_>, root: Id, n: &SyNode, float_ok: bool) -> Option<Id> {
    let d = cx.dtype(root);
    if !(d.is_int() || float_ok) || !cx.same(n.children[0], n.children[1]) {
        return None;
    }
    Some(cx.full_like(Scalar::I64(0), root))
}

/// `x == x`, `x <= x`, `x >= x` are true and `x != x`, `x < x`, `x > x` false, for integers
/// and bools; floats: NaN compares unequal to itself.
pub(crate) fn self_compare(cx: &mut Ctx<'_>, root: Id, n: &SyNode, float_ok: bool) -> Option<Id> {
    let (a, b) = (n.children[0], n.children[1]);
    if !cx.same(a, b) || (cx.dtype(a).is_float() && !float_ok) {
        return None;
    }
    let truth = match n.op {
        Op::Binary(B::Eq | B::Le | B::Ge) => true,
        Op::Binary(B::Ne | B::Lt | B::Gt | B::LogicalXor) => false,
        _ => return None,
    };
    Some(cx.full_like(Scalar::Bool(truth), root))
}

/// `-(a - b) -> b - a`; floats: `-(1 - 1)` is `-0.0`, `1 - 1` is `+0.0`.
pub(crate) fn neg_sub(cx: &mut Ctx<'_>, root: Id, n: &SyNode, float_ok: bool) -> Option<Id> {
    let (a, b) = cx.binary_children(n.children[0], B::Sub)?;
    if !uniform(cx, root, &[a, b], float_ok) {
        return None;
    }
    cx.binary(B::Sub, b, a)
}

/// `a*b + a*c -> a*(b + c)` (and `-`, any operand order): one multiplication fewer;
/// floats: distributivity does not hold after rounding (and `inf*(b - c)` differs).
pub(crate) fn factor(cx: &mut Ctx<'_>, root: Id, n: &SyNode, float_ok: bool) -> Option<Id> {
    let Op::Binary(op @ (B::Add | B::Sub)) = n.op else { return None };
    let (l, r) = cx.binary_children(n.children[0], B::Mul)?;
    let (u, v) = cx.binary_children(n.children[1], B::Mul)?;
    if !uniform(cx, root, &[l, r, u, v], float_ok) {
        return None;
    }
    let (shared, x, y) = if cx.same(l, u) {
        (l, r, v)
    } else if cx.same(l, v) {
        (l, r, u)
    } else if cx.same(r, u) {
        (r, l, v)
    } else if cx.same(r, v) {
        (r, l, u)
    } else {
        return None;
    };
    let inner = cx.binary(op, x, y)?;
    cx.binary(B::Mul, shared, inner)
}

/// `(x + c1) + c2 -> x + (c1 + c2)` and `(x * c1) * c2 -> x * (c1 * c2)` with constants
/// c1, c2 (the constant part folds); floats: reassociation rounds differently.
pub(crate) fn fold_constants(cx: &mut Ctx<'_>, root: Id, n: &SyNode, float_ok: bool) -> Option<Id> {
    let Op::Binary(op @ (B::Add | B::Mul)) = n.op else { return None };
    let (outer_x, c2) = match (cx.value(n.children[0]), cx.value(n.children[1])) {
        (None, Some(_)) => (n.children[0], n.children[1]),
        (Some(_), None) => (n.children[1], n.children[0]),
        _ => return None,
    };
    let (p, q) = cx.binary_children(outer_x, op)?;
    let (x, c1) = match (cx.value(p), cx.value(q)) {
        (None, Some(_)) => (p, q),
        (Some(_), None) => (q, p),
        _ => return None,
    };
    if !uniform(cx, root, &[x, c1, c2], float_ok) {
        return None;
    }
    let c = cx.binary(op, c1, c2)?;
    cx.binary(op, x, c)
}

/// The group's rules.
pub fn rules() -> Vec<Rule> {
    let cmp = [B::Eq, B::Ne, B::Lt, B::Le, B::Gt, B::Ge, B::LogicalXor].map(Op::Binary);
    vec![
        Rule::new("mul-zero-int", GROUP, &[Op::Binary(B::Mul)], |cx, r, n| mul_zero(cx, r, n, false)),
        Rule::new("sub-self-int", GROUP, &[Op::Binary(B::Sub)], |cx, r, n| sub_self(cx, r, n, false)),
        Rule::new("self-compare", GROUP, &cmp, |cx, r, n| self_compare(cx, r, n, false)),
        Rule::new("neg-sub-int", GROUP, &[Op::Unary(U::Neg)], |cx, r, n| neg_sub(cx, r, n, false)),
        Rule::new("factor-int", GROUP, &[Op::Binary(B::Add), Op::Binary(B::Sub)], |cx, r, n| {
            factor(cx, r, n, false)
        }),
        Rule::new("fold-constants-int", GROUP, &[Op::Binary(B::Add), Op::Binary(B::Mul)], |cx, r, n| {
            fold_constants(cx, r, n, false)
        }),
    ]
}
