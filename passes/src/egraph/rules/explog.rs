//! exp/log algebra that is valid for every input. Almost none is: `exp(log x) -> x` turns
//! the NaN of a negative x into a number, `log(exp x) -> x` turns the `inf` of a large x into
//! a number, `exp(a) * exp(b) -> exp(a + b)` rounds differently; those are in
//! [`super::fast_math`]. What is left are forms that *are* the definition of another op.

use egg::Id;
use switchyard_ir::{BinaryOp as B, Op, UnaryOp as U};

use super::ctx::{is_num, is_one, Ctx};
use super::Rule;
use crate::egraph::lang::SyNode;

/// The group's name.
pub const GROUP: &str = "exp-log";

/// `1 / (1 + exp(-x)) -> sigmoid(x)` (also `reciprocal(...)` and `exp(-x) + 1`): exactly how
/// the reference defines `sigmoid`, so the result is identical for every x.
fn sigmoid_form(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let denom = match n.op {
        Op::Binary(B::Div) if cx.is_const(n.children[0], is_one) => n.children[1],
        Op::Unary(U::Reciprocal) => n.children[0],
        _ => return None,
    };
    let (p, q) = cx.binary_children(denom, B::Add)?;
    let e = if cx.is_const(p, is_one) {
        q
    } else if cx.is_const(q, is_one) {
        p
    } else {
        return None;
    };
    let minus_x = cx.unary_child(e, U::Exp)?;
    let x = cx.unary_child(minus_x, U::Neg)?;
    if cx.ty(x) != cx.ty(root) {
        return None;
    }
    cx.unary(U::Sigmoid, x)
}

/// `2 ** x -> exp2(x)` for floats: the same function, each within its declared precision of
/// the exact value; the special values agree (`-inf -> 0`, `inf -> inf`, NaN).
fn exp2_form(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    if !cx.dtype(root).is_float() || !cx.is_const(n.children[0], |s| is_num(s, 2.0)) {
        return None;
    }
    let ty = cx.ty(root).clone();
    let x = cx.coerce(n.children[1], &ty)?;
    cx.unary(U::Exp2, x)
}

/// The group's rules.
pub fn rules() -> Vec<Rule> {
    vec![
        Rule::new("sigmoid-form", GROUP, &[Op::Binary(B::Div), Op::Unary(U::Reciprocal)], sigmoid_form),
        Rule::new("exp2-form", GROUP, &[Op::Binary(B::Pow)], exp2_form),
    ]
}
