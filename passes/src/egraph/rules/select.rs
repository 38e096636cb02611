//! `where` with a known condition or equal branches: exact for every value.

use egg::Id;
use switchyard_ir::{Op, Scalar, UnaryOp as U};

use super::ctx::Ctx;
use super::Rule;
use crate::egraph::lang::SyNode;

/// The group's name.
pub const GROUP: &str = "select";

/// `where(true, a, b) -> a`, `where(false, a, b) -> b` (promoted and broadcast to the
/// result's type): the condition is the same for every element.
fn where_const(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    let pick = match cx.value(n.children[0])? {
        Scalar::Bool(true) => n.children[1],
        Scalar::Bool(false) => n.children[2],
        _ => return None,
    };
    let ty = cx.ty(root).clone();
    cx.coerce(pick, &ty)
}

/// `where(c, x, x) -> x`: both branches give the same element.
fn where_same(cx: &mut Ctx<'_>, root: Id, n: &SyNode) -> Option<Id> {
    if !cx.same(n.children[1], n.children[2]) {
        return None;
    }
    let ty = cx.ty(root).clone();
    cx.coerce(n.children[1], &ty)
}

/// `where(!c, a, b) -> where(c, b, a)`: swaps the branches instead of negating.
fn where_not(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let c = cx.unary_child(n.children[0], U::LogicalNot)?;
    cx.add(Op::Where, &[c, n.children[2], n.children[1]])
}

/// The group's rules.
pub fn rules() -> Vec<Rule> {
    vec![
        Rule::new("where-const", GROUP, &[Op::Where], where_const),
        Rule::new("where-same", GROUP, &[Op::Where], where_same),
        Rule::new("where-not", GROUP, &[Op::Where], where_not),
    ]
}
