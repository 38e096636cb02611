//! The key of `cpu.cranelift`'s kernel cache: what the generated code depends on (ops,
//! wiring, dtype, which inputs are broadcast along the inner loop), never sizes or constant
//! values, so a new N or a new constant reuses the code. The cache itself is the shared
//! [`switchyard_lower::KernelCache`].

use switchyard_ir::{DType, Op, Scalar, Shape};

use switchyard_lower::CacheKey;
use switchyard_lower::{KernelOperand, KernelSpec};

/// How many structures the cache keeps.
pub const CAPACITY: usize = 256;

/// A kernel's structure: what the generated code depends on, and nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodeKey {
    /// The one float dtype of the kernel.
    pub dtype: DType,
    /// Each node's op (constants and shapes erased) and operand wiring.
    pub nodes: Vec<(Op, Vec<KernelOperand>)>,
    /// Number of input arguments.
    pub inputs: usize,
    /// Which nodes are written out.
    pub outputs: Vec<usize>,
    /// Per input: 1 if it walks with the inner loop, 0 if broadcast along it.
    pub inner_strides: Vec<u8>,
}

impl CodeKey {
    /// The key of `spec` with the given inner strides.
    pub fn of(spec: &KernelSpec, dtype: DType, inner_strides: &[u8]) -> CodeKey {
        let nodes = spec
            .nodes
            .iter()
            .map(|n| {
                let op = match &n.op {
                    Op::Full { .. } => Op::Full { value: Scalar::zero(dtype), shape: Shape::scalar() },
                    other => other.clone(),
                };
                (op, n.operands.clone())
            })
            .collect();
        CodeKey {
            dtype,
            nodes,
            inputs: spec.inputs.len(),
            outputs: spec.outputs.clone(),
            inner_strides: inner_strides.to_vec(),
        }
    }
}

fn op_label(op: &Op) -> String {
    match op {
        Op::Full { .. } => "const".to_string(),
        Op::Unary(_) | Op::Binary(_) => op.name().to_string(),
        other => other.to_string(),
    }
}

fn strides_label(strides: &[u8]) -> String {
    let parts: Vec<&str> = strides.iter().map(|&s| if s == 0 { "bcast" } else { "walk" }).collect();
    format!("[{}]", parts.join(", "))
}

impl CacheKey for CodeKey {
    fn describe(&self) -> String {
        let ops: Vec<String> = self.nodes.iter().map(|(op, _)| op_label(op)).collect();
        format!("{} {}, inputs {}", self.dtype, ops.join("+"), strides_label(&self.inner_strides))
    }

    fn differences(&self, cached: &Self) -> Option<Vec<String>> {
        let ops = |k: &CodeKey| k.nodes.iter().map(|(op, _)| op.name()).collect::<Vec<_>>();
        if ops(self) != ops(cached) {
            return None;
        }
        let mut d = Vec::new();
        if self.dtype != cached.dtype {
            d.push(format!("dtype: {} here, {} cached", self.dtype, cached.dtype));
        }
        for (i, ((a, wa), (b, wb))) in self.nodes.iter().zip(&cached.nodes).enumerate() {
            // Erased constants differ only by dtype, which is reported once above.
            let both_constants = matches!((a, b), (Op::Full { .. }, Op::Full { .. }));
            if a != b && !both_constants {
                // Same op name, other attributes (axes, keepdims, clip bounds).
                d.push(format!("node {i}: {a} here, {b} cached"));
            } else if wa != wb {
                d.push(format!("node {i} operands: {wa:?} here, {wb:?} cached"));
            }
        }
        if self.inputs != cached.inputs {
            d.push(format!("inputs: {} here, {} cached", self.inputs, cached.inputs));
        } else if self.inner_strides != cached.inner_strides {
            d.push(format!(
                "broadcast pattern: {} here, {} cached",
                strides_label(&self.inner_strides),
                strides_label(&cached.inner_strides)
            ));
        }
        if self.outputs != cached.outputs {
            d.push(format!("outputs: nodes {:?} here, {:?} cached", self.outputs, cached.outputs));
        }
        Some(d)
    }
}
