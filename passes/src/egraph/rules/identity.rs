//! Identities that hold for every value of every dtype the op accepts, NaN, infinities and
//! signed zeros included. The result is the kept operand promoted and broadcast to the
//! matched node's type.

use egg::Id;
use switchyard_ir::{BinaryOp as B, DType, Op, Scalar, UnaryOp as U};

use super::ctx::{is_additive_identity, is_one, is_pos_zero, Ctx};
use super::Rule;
use crate::egraph::lang::SyNode;

/// The group's name.
pub const GROUP: &str = "identity";

/// The operand of `node` opposite to a constant operand satisfying `pred` (either side when
/// `both`, else only a constant on the right), coerced to the class's type.
fn keep_other(cx: &mut Ctx<'_>, root: Id, node: &SyNode, both: bool, pred: fn(Scalar) -> bool) -> Option<Id> {
    let (a, b) = (node.children[0], node.children[1]);
    let ty = cx.ty(root).clone();
    if cx.is_const(b, pred) {
        return cx.coerce(a, &ty);
    }
    if both && cx.is_const(a, pred) {
        return cx.coerce(b, &ty);
    }
    None
}

/// `x * 1 -> x`: exact for every x (IEEE multiplication by 1 returns x; integers trivially).
fn mul_one(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    keep_other(cx, root, n, true, is_one)
}

/// `x + z -> x` for integer 0 or float `-0.0` only: `x + (+0.0)` turns `-0.0` into `+0.0`.
fn add_zero(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    keep_other(cx, root, n, true, is_additive_identity)
}

/// `x - 0 -> x` for integer 0 or float `+0.0` (`x - (-0.0)` turns `-0.0` into `+0.0`).
fn sub_zero(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    keep_other(cx, root, n, false, is_pos_zero)
}

/// `x / 1 -> x`: exact for every float x.
fn div_one(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    keep_other(cx, root, n, false, is_one)
}

/// `x ** 1 -> x`: IEEE `pow(x, 1)` is x for every x (NaN included); integer pow likewise.
fn pow_one(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    keep_other(cx, root, n, false, is_one)
}

/// `x // 1 -> x` for integers only (for floats it is `floor(x)`).
fn floordiv_one(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    if !cx.dtype(root).is_int() {
        return None;
    }
    keep_other(cx, root, n, false, is_one)
}

/// `-(-x) -> x`: exact for floats (sign flips) and wrapping integers.
fn neg_neg(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    cx.unary_child(n.children[0], U::Neg)
}

/// `cast(x, dtype(x)) -> x`: a cast to the same dtype changes nothing.
fn cast_same(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    match n.op {
        Op::Cast(d) if cx.dtype(n.children[0]) == d => Some(n.children[0]),
        _ => None,
    }
}

/// `floor/ceil/round(x) -> x` for integer x: integers are already whole.
fn round_int(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    cx.dtype(n.children[0]).is_int().then_some(n.children[0])
}

/// `r1(r2(x)) -> r2(x)` for r1, r2 among floor, ceil, round: a whole number (or NaN, or an
/// infinity) is unchanged by rounding. Also `abs(abs x)` and `sign(sign x)`: idempotent.
fn idempotent(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let inner = n.children[0];
    let accepts: &[U] = match n.op {
        Op::Unary(U::Floor | U::Ceil | U::Round) => &[U::Floor, U::Ceil, U::Round],
        Op::Unary(U::Abs) => &[U::Abs],
        Op::Unary(U::Sign) => &[U::Sign],
        _ => return None,
    };
    accepts.iter().any(|&u| cx.unary_child(inner, u).is_some()).then_some(inner)
}

/// `abs(-x) -> abs(x)` and `square(-x) -> square(x)`: exact (both are even in x; for
/// integers `abs(MIN) == MIN == abs(-MIN)` by wrapping).
fn even_neg(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let Op::Unary(u) = n.op else { return None };
    let x = cx.unary_child(n.children[0], U::Neg)?;
    cx.unary(u, x)
}

/// `maximum(x, x) -> x`, `minimum(x, x) -> x`: exact (NaN gives NaN either way).
fn max_self(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    if !cx.same(n.children[0], n.children[1]) {
        return None;
    }
    let ty = cx.ty(root).clone();
    cx.coerce(n.children[0], &ty)
}

/// `logical_not(logical_not(x)) -> x`: bools.
fn not_not(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    cx.unary_child(n.children[0], U::LogicalNot)
}

/// `x & x -> x`, `x | x -> x`: bools.
fn and_or_self(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    max_self(cx, root, n)
}

/// `x & true -> x`, `x & false -> false`, `x | false -> x`, `x | true -> true`,
/// `x ^ false -> x`, `x ^ true -> !x`: bools, every value.
fn bool_const(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let (a, b) = (n.children[0], n.children[1]);
    let (x, c) = match (cx.value(a), cx.value(b)) {
        (_, Some(Scalar::Bool(c))) => (a, c),
        (Some(Scalar::Bool(c)), _) => (b, c),
        _ => return None,
    };
    let ty = cx.ty(root).clone();
    match (&n.op, c) {
        (Op::Binary(B::LogicalAnd), true) | (Op::Binary(B::LogicalOr | B::LogicalXor), false) => {
            cx.coerce(x, &ty)
        }
        (Op::Binary(B::LogicalAnd), false) => Some(cx.full(Scalar::Bool(false), DType::Bool, ty.shape)),
        (Op::Binary(B::LogicalOr), true) => Some(cx.full(Scalar::Bool(true), DType::Bool, ty.shape)),
        (Op::Binary(B::LogicalXor), true) => {
            let x = cx.coerce(x, &ty)?;
            cx.unary(U::LogicalNot, x)
        }
        _ => None,
    }
}

/// The group's rules.
pub fn rules() -> Vec<Rule> {
    vec![
        Rule::new("mul-one", GROUP, &[Op::Binary(B::Mul)], mul_one),
        Rule::new("add-zero", GROUP, &[Op::Binary(B::Add)], add_zero),
        Rule::new("sub-zero", GROUP, &[Op::Binary(B::Sub)], sub_zero),
        Rule::new("div-one", GROUP, &[Op::Binary(B::Div)], div_one),
        Rule::new("pow-one", GROUP, &[Op::Binary(B::Pow)], pow_one),
        Rule::new("floordiv-one", GROUP, &[Op::Binary(B::FloorDivide)], floordiv_one),
        Rule::new("neg-neg", GROUP, &[Op::Unary(U::Neg)], neg_neg),
        Rule::new("cast-same", GROUP, &[Op::Cast(DType::F32)], cast_same),
        Rule::new(
            "round-int",
            GROUP,
            &[Op::Unary(U::Floor), Op::Unary(U::Ceil), Op::Unary(U::Round)],
            round_int,
        ),
        Rule::new(
            "idempotent",
            GROUP,
            &[
                Op::Unary(U::Floor),
                Op::Unary(U::Ceil),
                Op::Unary(U::Round),
                Op::Unary(U::Abs),
                Op::Unary(U::Sign),
            ],
            idempotent,
        ),
        Rule::new("even-neg", GROUP, &[Op::Unary(U::Abs), Op::Unary(U::Square)], even_neg),
        Rule::new("max-self", GROUP, &[Op::Binary(B::Maximum), Op::Binary(B::Minimum)], max_self),
        Rule::new("not-not", GROUP, &[Op::Unary(U::LogicalNot)], not_not),
        Rule::new("and-or-self", GROUP, &[Op::Binary(B::LogicalAnd), Op::Binary(B::LogicalOr)], and_or_self),
        Rule::new(
            "bool-const",
            GROUP,
            &[Op::Binary(B::LogicalAnd), Op::Binary(B::LogicalOr), Op::Binary(B::LogicalXor)],
            bool_const,
        ),
    ]
}
