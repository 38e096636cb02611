//! Strength reduction: a cheaper op with the same result.
//!
//! Left out on purpose: `x ** 0.5 -> sqrt(x)` differs at `-0.0` (`pow` gives `+0.0`, `sqrt`
//! gives `-0.0`) and at `-inf` (`+inf` against NaN), so it is in [`super::fast_math`];
//! `x ** 3 -> x*x*x` rounds twice where `pow` rounds once.

use egg::Id;
use switchyard_ir::{BinaryOp as B, Op, Scalar, UnaryOp as U};

use super::ctx::{is_num, is_one, Ctx};
use super::Rule;
use crate::egraph::lang::SyNode;

/// The group's name.
pub const GROUP: &str = "strength";

/// The left operand coerced to the result's type, when the right one is a constant
/// satisfying `pred`.
fn base_if(cx: &mut Ctx<'_>, root: Id, n: &SyNode, pred: impl Fn(Scalar) -> bool) -> Option<Id> {
    if !cx.is_const(n.children[1], pred) {
        return None;
    }
    let ty = cx.ty(root).clone();
    cx.coerce(n.children[0], &ty)
}

/// `x ** 2 -> square(x)`: integers exactly (both wrap); floats: `x*x` is correctly rounded
/// and `pow(x, 2)` is within its declared precision of it (identical in practice).
fn pow_two(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let x = base_if(cx, root, n, |s| is_num(s, 2.0))?;
    cx.unary(U::Square, x)
}

/// `x ** 0 -> 1`: `pow(x, ±0)` is 1 for every x, NaN included (IEEE 754 and NumPy), and
/// integer `pow(x, 0)` is 1.
fn pow_zero(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    cx.is_const(n.children[1], |s| is_num(s, 0.0)).then(|| cx.full_like(Scalar::I64(1), root))
}

/// `x ** -1 -> reciprocal(x)` for floats: `1/x` is correctly rounded, `pow(x, -1)` within its
/// precision of it; the special values agree (`±0 -> ±inf`, `±inf -> ±0`, NaN).
fn pow_minus_one(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    if !cx.dtype(root).is_float() {
        return None;
    }
    let x = base_if(cx, root, n, |s| is_num(s, -1.0))?;
    cx.unary(U::Reciprocal, x)
}

/// The exact reciprocal of a float constant that is a power of two, when `1/c` is itself
/// representable (so `x * (1/c)` and `x / c` round the same real number once). A normal
/// power of two has an all-zero mantissa; its reciprocal is a power of two as well, exact
/// unless it overflows or underflows to zero.
pub(crate) fn exact_reciprocal(c: Scalar) -> Option<Scalar> {
    match c {
        Scalar::F32(v) if v.is_normal() && v.to_bits() & 0x007f_ffff == 0 => {
            Some(1.0 / v).filter(|r| r.is_finite() && *r != 0.0).map(Scalar::F32)
        }
        Scalar::F64(v) if v.is_normal() && v.to_bits() & 0x000f_ffff_ffff_ffff == 0 => {
            Some(1.0 / v).filter(|r| r.is_finite() && *r != 0.0).map(Scalar::F64)
        }
        _ => None,
    }
}

/// `x / c -> x * (1/c)` when c is a power of two whose reciprocal is exact: both round the
/// same real number once, so the results are identical for every x.
fn div_pow2(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let c = n.children[1];
    let r = exact_reciprocal(cx.value(c)?)?;
    let ty = cx.ty(c).clone();
    let rc = cx.full(r, ty.dtype, ty.shape);
    cx.binary(B::Mul, n.children[0], rc)
}

/// `1 / x -> reciprocal(x)`: `reciprocal` is defined as `1 / x` (exact).
fn recip_form(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    if !cx.is_const(n.children[0], is_one) {
        return None;
    }
    let ty = cx.ty(root).clone();
    let x = cx.coerce(n.children[1], &ty)?;
    cx.unary(U::Reciprocal, x)
}

/// `x * x -> square(x)`: `square` is defined as `x * x` (exact), and reads x once.
fn mul_self(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    if !cx.same(n.children[0], n.children[1]) {
        return None;
    }
    cx.unary(U::Square, n.children[0])
}

/// The group's rules.
pub fn rules() -> Vec<Rule> {
    vec![
        Rule::new("pow-two", GROUP, &[Op::Binary(B::Pow)], pow_two),
        Rule::new("pow-zero", GROUP, &[Op::Binary(B::Pow)], pow_zero),
        Rule::new("pow-minus-one", GROUP, &[Op::Binary(B::Pow)], pow_minus_one),
        Rule::new("div-pow2", GROUP, &[Op::Binary(B::Div)], div_pow2),
        Rule::new("recip-form", GROUP, &[Op::Binary(B::Div)], recip_form),
        Rule::new("mul-self", GROUP, &[Op::Binary(B::Mul)], mul_self),
    ]
}
