//! The cost model extraction minimizes, with a hook for a target backend's own costs.

use switchyard_ir::{BinaryOp, IrGraph, Op, TensorType, UnaryOp};

/// What a node costs on the target. Extraction picks, for every e-class, the e-node that
/// keeps the total lowest, so a backend that knows its costs can steer it.
pub trait CostModel {
    /// The cost of computing `op` with result type `out` from operands of types `inputs`.
    /// Must be finite and non-negative; inputs (graph arguments) should cost 0.
    fn node_cost(&self, op: &Op, out: &TensorType, inputs: &[&TensorType]) -> f64;
}

/// The default model: memory traffic dominates. A node costs the bytes it writes plus a
/// fixed overhead (fewer materialized nodes are better), with a small surcharge for ops that
/// are expensive to compute (`div` over `mul`, `pow` over `square`). Inputs are free and
/// constants nearly so (fused kernels inline them).
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryTraffic;

/// The fixed cost of one materialized node, in bytes.
const NODE_OVERHEAD: f64 = 64.0;

/// Relative compute weight of an op (0: moves data only; 1: one cheap instruction).
fn compute_weight(op: &Op) -> f64 {
    use BinaryOp as B;
    use UnaryOp as U;
    match op {
        Op::Unary(U::Neg | U::Abs | U::Sign | U::Square | U::LogicalNot)
        | Op::Unary(U::IsNan | U::IsInf | U::IsFinite | U::Floor | U::Ceil | U::Round) => 1.0,
        Op::Unary(U::Sqrt | U::Reciprocal) => 4.0,
        Op::Unary(_) => 8.0,
        Op::Binary(B::Div | B::Remainder | B::FloorDivide) => 4.0,
        Op::Binary(B::Pow) => 16.0,
        Op::Binary(B::Atan2) => 8.0,
        Op::Binary(_) | Op::Where | Op::Clip | Op::Cast(_) => 1.0,
        Op::Reduce { .. } | Op::Matmul => 2.0,
        _ => 0.0,
    }
}

impl CostModel for MemoryTraffic {
    fn node_cost(&self, op: &Op, out: &TensorType, inputs: &[&TensorType]) -> f64 {
        match op {
            Op::Input { .. } => 0.0,
            Op::Full { .. } => 1.0,
            _ => {
                let bytes = out.shape.numel() as f64 * out.dtype.size_bytes() as f64;
                // A reduction's work is in the elements it reads, not the few it writes.
                let work = match op {
                    Op::Reduce { .. } | Op::Matmul => {
                        inputs.iter().map(|t| t.shape.numel() as f64 * t.dtype.size_bytes() as f64).sum()
                    }
                    _ => bytes,
                };
                NODE_OVERHEAD + bytes + work * compute_weight(op) / 16.0
            }
        }
    }
}

/// The total cost of a graph under `model`: every node counted once (a DAG, not a tree).
pub fn graph_cost(graph: &IrGraph, model: &dyn CostModel) -> f64 {
    graph
        .nodes()
        .map(|(_, node)| {
            let inputs: Vec<&TensorType> = node.inputs().iter().map(|&i| graph.node(i).ty()).collect();
            model.node_cost(node.op(), node.ty(), &inputs)
        })
        .sum()
}
