//! Fast-math: rewrites that are only valid if NaN, infinities, signed zeros and rounding
//! may change. Off by default; enabled by [`crate::Options::fast_math`]. Each doc comment
//! says what it breaks.

use egg::Id;
use switchyard_ir::{BinaryOp as B, Op, ReduceOp as R, Scalar, UnaryOp as U};

use super::ctx::{is_num, is_one, is_pos_zero, Ctx};
use super::reduce::{align, of_broadcast};
use super::{int, Rule};
use crate::egraph::lang::SyNode;

/// The group's name.
pub const GROUP: &str = "fast-math";

/// `x / x -> 1`: breaks `0/0`, `inf/inf` and NaN (all NaN).
fn div_self(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    cx.same(n.children[0], n.children[1]).then(|| cx.full_like(Scalar::I64(1), root))
}

/// `exp(log x) -> x`: breaks x < 0 (NaN becomes x) and rounds differently.
fn exp_log(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    cx.unary_child(n.children[0], U::Log)
}

/// `log(exp x) -> x`: breaks large x (`inf` becomes x) and rounds differently.
fn log_exp(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    cx.unary_child(n.children[0], U::Exp)
}

/// `x ** 0.5 -> sqrt(x)`: breaks `-0.0` (`+0.0` becomes `-0.0`) and `-inf` (`inf` becomes NaN).
fn pow_half(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    if !cx.dtype(root).is_float() || !cx.is_const(n.children[1], |s| is_num(s, 0.5)) {
        return None;
    }
    let ty = cx.ty(root).clone();
    let x = cx.coerce(n.children[0], &ty)?;
    cx.unary(U::Sqrt, x)
}

/// `sqrt(square x) -> abs(x)`: breaks overflow (`inf` becomes `|x|`).
fn sqrt_square(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let x = cx.unary_child(n.children[0], U::Square)?;
    cx.unary(U::Abs, x)
}

/// `x + 0.0 -> x`: breaks `-0.0` (`+0.0` becomes `-0.0`).
fn add_pos_zero(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let (a, b) = (n.children[0], n.children[1]);
    let ty = cx.ty(root).clone();
    if !ty.dtype.is_float() {
        return None;
    }
    if cx.is_const(b, is_pos_zero) {
        cx.coerce(a, &ty)
    } else if cx.is_const(a, is_pos_zero) {
        cx.coerce(b, &ty)
    } else {
        None
    }
}

/// `x / c -> x * (1/c)` for any finite non-zero c: rounds twice where division rounds once.
fn div_const(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let c = n.children[1];
    let v = cx.value(c)?;
    if !cx.dtype(root).is_float() || !v.to_f64().is_finite() || v.to_f64() == 0.0 {
        return None;
    }
    let ty = cx.ty(c).clone();
    let one = cx.full(Scalar::F64(1.0), ty.dtype, ty.shape);
    let r = cx.binary(B::Div, one, c)?;
    cx.binary(B::Mul, n.children[0], r)
}

/// `exp(x) - 1 -> expm1(x)`: more accurate near 0, so the result changes there.
fn expm1_form(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    if !cx.is_const(n.children[1], is_one) {
        return None;
    }
    let x = cx.unary_child(n.children[0], U::Exp)?;
    (cx.ty(x) == cx.ty(root)).then_some(())?;
    cx.unary(U::Expm1, x)
}

/// `log(1 + x) -> log1p(x)`: more accurate near 0, so the result changes there.
fn log1p_form(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let (p, q) = cx.binary_children(n.children[0], B::Add)?;
    let x = if cx.is_const(p, is_one) {
        q
    } else if cx.is_const(q, is_one) {
        p
    } else {
        return None;
    };
    (cx.ty(x) == cx.ty(root)).then_some(())?;
    cx.unary(U::Log1p, x)
}

/// `sum(broadcast_to(x), stretched axes) -> x * n` for floats: the reference adds the n
/// copies one by one, which rounds (and turns `-0.0` into `+0.0`).
fn sum_of_broadcast(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let m = of_broadcast(cx, n)?;
    let d = cx.dtype(m.x);
    if !d.is_float() {
        return None;
    }
    let count = cx.full(Scalar::F64(m.count as f64), d, switchyard_ir::Shape::scalar());
    let t = cx.binary(B::Mul, m.x, count)?;
    align(cx, root, t, &m.aligned)
}

/// `mean(broadcast_to(x), stretched axes) -> x`: the reference's sum-then-divide rounds.
fn mean_of_broadcast(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let m = of_broadcast(cx, n)?;
    align(cx, root, m.x, &m.aligned)
}

/// The group's rules.
pub fn rules() -> Vec<Rule> {
    let sum = Op::Reduce { op: R::Sum, axes: Default::default(), keepdims: false, correction: 0 };
    let mean = Op::Reduce { op: R::Mean, axes: Default::default(), keepdims: false, correction: 0 };
    let cmp = [B::Eq, B::Ne, B::Lt, B::Le, B::Gt, B::Ge].map(Op::Binary);
    vec![
        Rule::new("mul-zero", GROUP, &[Op::Binary(B::Mul)], |cx, r, n| int::mul_zero(cx, r, n, true)),
        Rule::new("sub-self", GROUP, &[Op::Binary(B::Sub)], |cx, r, n| int::sub_self(cx, r, n, true)),
        Rule::new("self-compare-float", GROUP, &cmp, |cx, r, n| int::self_compare(cx, r, n, true)),
        Rule::new("neg-sub", GROUP, &[Op::Unary(U::Neg)], |cx, r, n| int::neg_sub(cx, r, n, true)),
        Rule::new("factor", GROUP, &[Op::Binary(B::Add), Op::Binary(B::Sub)], |cx, r, n| {
            int::factor(cx, r, n, true)
        }),
        Rule::new("fold-constants", GROUP, &[Op::Binary(B::Add), Op::Binary(B::Mul)], |cx, r, n| {
            int::fold_constants(cx, r, n, true)
        }),
        Rule::new("div-self", GROUP, &[Op::Binary(B::Div)], div_self),
        Rule::new("exp-log", GROUP, &[Op::Unary(U::Exp)], exp_log),
        Rule::new("log-exp", GROUP, &[Op::Unary(U::Log)], log_exp),
        Rule::new("pow-half", GROUP, &[Op::Binary(B::Pow)], pow_half),
        Rule::new("sqrt-square", GROUP, &[Op::Unary(U::Sqrt)], sqrt_square),
        Rule::new("add-pos-zero", GROUP, &[Op::Binary(B::Add)], add_pos_zero),
        Rule::new("div-const", GROUP, &[Op::Binary(B::Div)], div_const),
        Rule::new("expm1-form", GROUP, &[Op::Binary(B::Sub)], expm1_form),
        Rule::new("log1p-form", GROUP, &[Op::Unary(U::Log)], log1p_form),
        Rule::new("sum-of-broadcast", GROUP, &[sum], sum_of_broadcast),
        Rule::new("mean-of-broadcast", GROUP, &[mean], mean_of_broadcast),
    ]
}
