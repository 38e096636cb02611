//! Cast chains, only where the first cast loses nothing.

use egg::Id;
use switchyard_ir::{DType, Op};

use super::ctx::Ctx;
use super::Rule;
use crate::egraph::lang::SyNode;

/// The group's name.
pub const GROUP: &str = "cast";

/// True when every value of `from` is exactly a value of `to` (so a cast through `to` keeps
/// the value and every cast's result depends only on that value).
pub fn lossless(from: DType, to: DType) -> bool {
    use DType::*;
    from == to || matches!((from, to), (Bool, _) | (I32, I64 | F64) | (F32, F64))
}

/// `cast(cast(x, A), B) -> cast(x, B)` when `dtype(x) -> A` is lossless (`f32 -> f64 -> f32`
/// is `x`; `f64 -> f32 -> f64` is not rewritten: the first cast rounds).
fn cast_chain(cx: &mut Ctx<'_>, _root: Id, n: &SyNode) -> Option<Id> {
    let Op::Cast(to) = n.op else { return None };
    let inner = cx.nodes_where(n.children[0], |op| matches!(op, Op::Cast(_)));
    for m in inner {
        let (Op::Cast(mid), x) = (&m.op, m.children[0]) else { continue };
        if lossless(cx.dtype(x), *mid) {
            return if cx.dtype(x) == to { Some(x) } else { cx.add(Op::Cast(to), &[x]) };
        }
    }
    None
}

/// The group's rules.
pub fn rules() -> Vec<Rule> {
    vec![Rule::new("cast-chain", GROUP, &[Op::Cast(DType::F32)], cast_chain)]
}
