//! Negations folded into the neighbouring add, sub, mul or div. IEEE defines `a - b` as
//! `a + (-b)` and rounds symmetrically, so these are exact for floats (signed zeros
//! included) as well as for wrapping integers.

use egg::Id;
use switchyard_ir::{BinaryOp as B, Op, UnaryOp as U};

use super::ctx::{is_num, Ctx};
use super::Rule;
use crate::egraph::lang::SyNode;

/// The group's name.
pub const GROUP: &str = "sign";

/// `a + (-b) -> a - b` and `(-a) + b -> b - a`.
fn add_neg(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let (a, b) = (n.children[0], n.children[1]);
    if let Some(b2) = cx.unary_child(b, U::Neg) {
        return cx.binary(B::Sub, a, b2);
    }
    let a2 = cx.unary_child(a, U::Neg)?;
    cx.binary(B::Sub, b, a2)
}

/// `a - (-b) -> a + b`.
fn sub_neg(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let b2 = cx.unary_child(n.children[1], U::Neg)?;
    cx.binary(B::Add, n.children[0], b2)
}

/// `(-a) * (-b) -> a * b`, `(-a) / (-b) -> a / b`: the signs cancel exactly.
fn neg_neg_product(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let Op::Binary(op) = n.op else { return None };
    let a = cx.unary_child(n.children[0], U::Neg)?;
    let b = cx.unary_child(n.children[1], U::Neg)?;
    cx.binary(op, a, b)
}

/// `x * -1 -> -x`: exact for floats and wrapping integers.
fn mul_minus_one(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let (a, b) = (n.children[0], n.children[1]);
    let x = if cx.is_const(b, |s| is_num(s, -1.0)) {
        a
    } else if cx.is_const(a, |s| is_num(s, -1.0)) {
        b
    } else {
        return None;
    };
    let ty = cx.ty(root).clone();
    let x = cx.coerce(x, &ty)?;
    cx.unary(U::Neg, x)
}

/// The group's rules.
pub fn rules() -> Vec<Rule> {
    vec![
        Rule::new("add-neg", GROUP, &[Op::Binary(B::Add)], add_neg),
        Rule::new("sub-neg", GROUP, &[Op::Binary(B::Sub)], sub_neg),
        Rule::new("neg-neg-product", GROUP, &[Op::Binary(B::Mul), Op::Binary(B::Div)], neg_neg_product),
        Rule::new("mul-minus-one", GROUP, &[Op::Binary(B::Mul)], mul_minus_one),
    ]
}
