//! `cpu.reference`: the reference interpreter, the oracle every other backend is checked
//! against. It is written for obviousness and exactness, not speed: each kernel node is
//! evaluated on owned, typed copies of its operands ([`Data`]) by [`eval_op`], with the
//! meaning of every elementwise op taken from [`switchyard_ir::elementwise::Element`].
//!
//! Semantics beyond the IR's element rules (all in `f64` means: accumulate in `f64`, in the
//! stated order, and round to the result dtype once at the end):
//! - Reductions visit each group in row-major order of the reduced axes. `sum`/`prod` of
//!   integers wrap in `i64`; of floats accumulate in `f64` from `+0.0` (`1.0`). `mean` is
//!   `sum / N`, `var` the two-pass `sum((x - mean)^2) / max(N - correction, 0)`, `std` its
//!   square root, all in `f64` (empty: NaN). `max`/`min` propagate NaN. `argmax`/`argmin` give
//!   the first extreme position in the group's row-major order (the flat index when reducing
//!   all axes); a NaN is the extreme, the first NaN wins.
//! - `matmul` of floats accumulates in `f64` in order of `k`; of integers wraps in the dtype.
//! - `arange` of floats is `start + i * step` in `f64`, rounded once; of integers it wraps.
//!
//! Invariant: a kernel never panics on its arguments; it checks them and returns a
//! [`LowerError`] of kind [`LowerErrorKind::Kernel`].

mod data;
mod elementwise;
mod eval;
mod index;
mod matmul;
mod nonzero;
mod reduce;
mod shape_ops;
mod source;
#[cfg(test)]
mod tests;

use std::fmt::{self, Write as _};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use switchyard_ir::{
    infer, ByteCount, DType, DeviceKind, Laziness, Op, OpSetVersion, TensorType, OP_SET_VERSION,
};

pub use data::{Data, Stored, Values};
pub use eval::eval_op;

use crate::backend::{Backend, NodeQuery, Support, Tolerance};
use crate::error::{LowerError, LowerErrorKind};
use crate::kernel::{check_args, CompiledKernel, KernelOperand, KernelSpec, TensorView, TensorViewMut};

/// A kernel-run error.
fn kernel_error(message: impl Into<String>) -> LowerError {
    LowerError::new(LowerErrorKind::Kernel, message)
}

/// A compile error.
fn compile_error(message: impl Into<String>) -> LowerError {
    LowerError::new(LowerErrorKind::Compile, message)
}

/// The reference backend, `cpu.reference`: an interpreter that runs every lazy op of the
/// catalog on every dtype the type checker allows, exactly, on the CPU.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReferenceBackend;

impl Backend for ReferenceBackend {
    fn name(&self) -> &str {
        "cpu.reference"
    }

    fn version(&self) -> &str {
        env!("CARGO_PKG_VERSION")
    }

    fn op_set_version(&self) -> OpSetVersion {
        OP_SET_VERSION
    }

    fn device_kind(&self) -> DeviceKind {
        DeviceKind::Cpu
    }

    fn priority(&self) -> i32 {
        0
    }

    fn supports(&self, node: &NodeQuery<'_>) -> Support {
        if let Laziness::EagerOnly { .. } = node.op.info().laziness {
            return Support::no("eager-only: rejected when the graph is built");
        }
        if let Op::ToDevice(d) = node.op {
            if d.kind != DeviceKind::Cpu {
                return Support::no(
                    "the reference backend runs on the CPU only; the transfer itself is done by the runtime",
                );
            }
        }
        let inputs: Vec<&TensorType> = node.inputs.iter().collect();
        match infer(node.op, &inputs) {
            Ok(_) => Support::Yes,
            Err(e) => Support::no(format!("not a well-typed node: {e}")),
        }
    }

    fn precision(&self, _op: &Op, _dtype: DType) -> Tolerance {
        Tolerance::EXACT
    }

    fn compile(&self, kernel: &KernelSpec) -> Result<Arc<dyn CompiledKernel>, LowerError> {
        Ok(Arc::new(ReferenceKernel::new(kernel)?))
    }
}

/// A compiled reference kernel: the checked spec, and after which node each intermediate
/// can be dropped.
#[derive(Debug)]
struct ReferenceKernel {
    spec: KernelSpec,
    /// `frees[i]`: nodes whose last reader is node `i` and that are not outputs.
    frees: Vec<Vec<usize>>,
    /// An upper bound of the memory the interpreter holds while it runs (16 bytes for each
    /// element of every argument and node: a value and an index, saturating), reserved up
    /// front.
    working_bytes: usize,
}

impl ReferenceKernel {
    /// Checks that the spec is well formed and well typed, and plans when to drop values.
    fn new(spec: &KernelSpec) -> Result<ReferenceKernel, LowerError> {
        let mut last_reader: Vec<Option<usize>> = vec![None; spec.nodes.len()];
        for (i, node) in spec.nodes.iter().enumerate() {
            let mut types = Vec::with_capacity(node.operands.len());
            for operand in &node.operands {
                let ty = match *operand {
                    KernelOperand::Arg(j) => spec.inputs.get(j),
                    KernelOperand::Node(j) if j < i => {
                        last_reader[j] = Some(i);
                        Some(&spec.nodes[j].ty)
                    }
                    KernelOperand::Node(_) => None,
                };
                types.push(ty.ok_or_else(|| {
                    compile_error(format!("node {i} ({}) reads {operand:?}, which is not available", node.op))
                })?);
            }
            if let Op::Input { name, .. } = &node.op {
                return Err(compile_error(format!(
                    "node {i}: input `{name}` is bound by the runtime; a reference kernel cannot compute it"
                )));
            }
            if let Op::ToDevice(d) = &node.op {
                if d.kind != DeviceKind::Cpu {
                    return Err(compile_error(format!(
                        "node {i}: to_device({d}): the reference backend runs on the CPU only"
                    )));
                }
            }
            let inferred =
                infer(&node.op, &types).map_err(|e| compile_error(format!("node {i} is ill-typed: {e}")))?;
            if inferred != node.ty {
                return Err(compile_error(format!(
                    "node {i} ({}) has type {}, but its operands give {inferred}",
                    node.op, node.ty
                )));
            }
        }
        if let Some(&bad) = spec.outputs.iter().find(|&&o| o >= spec.nodes.len()) {
            return Err(compile_error(format!(
                "output {bad} names no node (the kernel has {})",
                spec.nodes.len()
            )));
        }
        let mut frees = vec![Vec::new(); spec.nodes.len()];
        for (j, reader) in last_reader.into_iter().enumerate() {
            if let Some(i) = reader {
                if !spec.outputs.contains(&j) {
                    frees[i].push(j);
                }
            }
        }
        let elements =
            spec.inputs.iter().map(|t| t.shape.numel()).chain(spec.nodes.iter().map(|n| n.ty.shape.numel()));
        let working_bytes = elements.fold(0usize, |acc, n| acc.saturating_add(n.saturating_mul(16)));
        Ok(ReferenceKernel { spec: spec.clone(), frees, working_bytes })
    }

    /// Evaluates every node in order; the result holds (at least) the output nodes' values.
    fn evaluate(&self, args: &[Data]) -> Result<Vec<Option<Data>>, LowerError> {
        let mut values: Vec<Option<Data>> = vec![None; self.spec.nodes.len()];
        for (i, node) in self.spec.nodes.iter().enumerate() {
            let operands = node
                .operands
                .iter()
                .map(|operand| {
                    match *operand {
                        KernelOperand::Arg(j) => args.get(j),
                        KernelOperand::Node(j) => values.get(j).and_then(Option::as_ref),
                    }
                    .ok_or_else(|| kernel_error(format!("node {i}: operand {operand:?} is not available")))
                })
                .collect::<Result<Vec<&Data>, LowerError>>()?;
            // An empty result needs no computing, and walking the other extents of one (a
            // concat of [2^40, 0] arrays, found by the fuzzer) would take hours.
            let result = if node.ty.shape.numel() == 0 {
                Data::empty(&node.ty)?
            } else {
                eval_op(&node.op, &operands, &node.ty)
                    .map_err(|e| kernel_error(format!("node {i}: {}", e.message())))?
            };
            values[i] = Some(result);
            for &j in &self.frees[i] {
                values[j] = None;
            }
        }
        Ok(values)
    }
}

impl CompiledKernel for ReferenceKernel {
    fn run(&self, inputs: &[TensorView<'_>], outputs: &mut [TensorViewMut<'_>]) -> Result<(), LowerError> {
        check_args(&self.spec, inputs, outputs)?;
        reserve_working_memory(self.working_bytes)?;
        let args = inputs.iter().map(Data::from_view).collect::<Result<Vec<Data>, LowerError>>()?;
        // The interpreter checks everything it indexes with; should it still panic, report
        // the bug as an error rather than tear down the caller.
        let values = catch_unwind(AssertUnwindSafe(|| self.evaluate(&args)))
            .map_err(|_| kernel_error("internal error: the reference interpreter panicked"))??;
        for (view, &node) in outputs.iter_mut().zip(&self.spec.outputs) {
            let value = values
                .get(node)
                .and_then(Option::as_ref)
                .ok_or_else(|| kernel_error(format!("output node {node} was not computed")))?;
            value.write_into(view)?;
        }
        Ok(())
    }

    fn code(&self) -> Option<String> {
        Some(self.to_string())
    }
}

/// Fails with an out-of-memory error, instead of aborting midway, when the system would not
/// give the interpreter `bytes` of working memory. The interpreter's vectors are allocated as
/// it goes (infallibly); asking for all of it first turns an impossible size into an error.
/// (A size the system grants here but cannot back later is the operating system's to handle,
/// as for any program.)
fn reserve_working_memory(bytes: usize) -> Result<(), LowerError> {
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(bytes).map_err(|_| {
        LowerError::new(
            LowerErrorKind::OutOfMemory,
            format!(
                "out of memory: cpu.reference needs up to {} of working memory for this kernel",
                ByteCount(bytes as u128)
            ),
        )
    })
}

/// The interpreted program, one node a line: `%2 = exp() %1 : f32[4]`.
impl fmt::Display for ReferenceKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "; cpu.reference interprets:")?;
        for (i, node) in self.spec.nodes.iter().enumerate() {
            let mut operands = String::new();
            for (k, operand) in node.operands.iter().enumerate() {
                let sep = if k > 0 { ", " } else { "" };
                match operand {
                    KernelOperand::Arg(j) => write!(operands, "{sep}arg{j}")?,
                    KernelOperand::Node(j) => write!(operands, "{sep}%{j}")?,
                }
            }
            writeln!(f, "%{i} = {} {operands} : {}", node.op, node.ty)?;
        }
        let outs: Vec<String> = self.spec.outputs.iter().map(|o| format!("%{o}")).collect();
        write!(f, "return {}", outs.join(", "))
    }
}
