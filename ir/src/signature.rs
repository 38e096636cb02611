//! A graph's input signature: the inputs a caller binds, each with its declared type and
//! whether the requested outputs depend on it.

use crate::graph::{IrGraph, NodeId};
use crate::op::Op;
use crate::typing::TensorType;

/// One declared input, as a caller binds it (in JSON its type's `dtype` and `shape` sit
/// beside `name`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct InputDecl {
    /// The name the caller binds.
    pub name: String,
    /// Its declared dtype and shape.
    #[serde(flatten)]
    pub ty: TensorType,
    /// Whether the outputs depend on it. An input the graph declares but the outputs do not
    /// use may be given (it is still type-checked) or left out.
    pub required: bool,
}

impl IrGraph {
    /// Every declared input, in declaration order, with whether `outputs` depend on it.
    pub fn signature(&self, outputs: &[NodeId]) -> Vec<InputDecl> {
        let seen = self.reachable(outputs);
        self.inputs()
            .into_iter()
            .filter_map(|id| match self.node(id).op() {
                Op::Input { name, dtype, shape } => Some(InputDecl {
                    name: name.clone(),
                    ty: TensorType { dtype: *dtype, shape: shape.clone() },
                    required: seen.get(id.index()).copied().unwrap_or(false),
                }),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DType, Shape, UnaryOp};

    #[test]
    fn the_signature_lists_every_input_and_what_the_outputs_need() {
        let mut g = IrGraph::new();
        let f32s = |n| Op::Input { name: n, dtype: DType::F32, shape: Shape::vector(3) };
        let x = g.add(f32s("x".into()), &[]).unwrap();
        let _unused = g.add(f32s("y".into()), &[]).unwrap();
        let e = g.add(Op::Unary(UnaryOp::Exp), &[x]).unwrap();
        let sig = g.signature(&[e]);
        let names: Vec<(&str, bool)> = sig.iter().map(|d| (d.name.as_str(), d.required)).collect();
        assert_eq!(names, [("x", true), ("y", false)]);
        assert_eq!(sig[0].ty.to_string(), "f32[3]");
    }
}
