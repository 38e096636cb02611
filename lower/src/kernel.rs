//! Kernels: the unit a backend compiles (a small self-contained graph) and the argument
//! views a compiled kernel runs on. The views are how the runtime hands buffers to a kernel
//! without this crate ever owning user data.

use std::fmt;

use switchyard_ir::{DType, Op, Shape, TensorType};

use crate::device_memory::DeviceView;
use crate::error::{LowerError, LowerErrorKind};

/// Where a kernel node takes an operand from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum KernelOperand {
    /// The kernel's input argument number `i`.
    Arg(usize),
    /// The result of the kernel's node number `i` (an earlier node).
    Node(usize),
}

/// One operation inside a kernel.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KernelNode {
    /// The op.
    pub op: Op,
    /// Its operands.
    pub operands: Vec<KernelOperand>,
    /// Its result type.
    pub ty: TensorType,
}

/// A kernel as handed to [`crate::Backend::compile`]: a self-contained list of nodes in
/// topological order, the types of its input arguments, and which nodes it writes out.
/// It does not borrow the graph, so it can be cached and compiled anywhere.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KernelSpec {
    /// Types of the input arguments, in order.
    pub inputs: Vec<TensorType>,
    /// The nodes, in topological order.
    pub nodes: Vec<KernelNode>,
    /// Indices into `nodes` of the values written to output arguments, in order.
    pub outputs: Vec<usize>,
}

impl KernelSpec {
    /// Types of the output arguments, in order.
    pub fn output_types(&self) -> impl Iterator<Item = &TensorType> {
        self.outputs.iter().map(move |&i| &self.nodes[i].ty)
    }
}

/// A read-only view of one argument: dtype, shape and the row-major bytes.
/// Bool elements are one byte, 0 or 1.
#[derive(Clone, Copy, Debug)]
pub struct TensorView<'a> {
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: &'a Shape,
    /// `shape.byte_len(dtype.size_bytes())` bytes, aligned to the dtype.
    pub data: &'a [u8],
}

/// A writable view of one output argument.
#[derive(Debug)]
pub struct TensorViewMut<'a> {
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: &'a Shape,
    /// `shape.byte_len(dtype.size_bytes())` bytes, aligned to the dtype.
    pub data: &'a mut [u8],
}

/// Errors a kernel reports about its arguments (never a panic).
fn arg_error(what: &str, expected: &TensorType, dtype: DType, shape: &Shape, len: usize) -> LowerError {
    LowerError::new(
        LowerErrorKind::Kernel,
        format!("kernel {what} expected {expected}, got {dtype}{shape} in {len} bytes"),
    )
}

/// Checks that views match the types a kernel was compiled for (dtype, shape, byte length).
pub fn check_args(
    spec: &KernelSpec,
    inputs: &[TensorView<'_>],
    outputs: &[TensorViewMut<'_>],
) -> Result<(), LowerError> {
    if inputs.len() != spec.inputs.len() || outputs.len() != spec.outputs.len() {
        return Err(LowerError::new(
            LowerErrorKind::Kernel,
            format!(
                "kernel takes {} inputs and {} outputs, got {} and {}",
                spec.inputs.len(),
                spec.outputs.len(),
                inputs.len(),
                outputs.len()
            ),
        ));
    }
    // `byte_len` cannot overflow: a `Shape` guarantees its byte count in the widest dtype fits
    // `isize` (so a view that passes holds exactly its elements, never fewer).
    let ok = |t: &TensorType, dtype: DType, shape: &Shape, len: usize| {
        t.dtype == dtype && &t.shape == shape && len == shape.byte_len(dtype.size_bytes())
    };
    for (t, v) in spec.inputs.iter().zip(inputs) {
        if !ok(t, v.dtype, v.shape, v.data.len()) {
            return Err(arg_error("input", t, v.dtype, v.shape, v.data.len()));
        }
    }
    for (t, v) in spec.output_types().zip(outputs) {
        if !ok(t, v.dtype, v.shape, v.data.len()) {
            return Err(arg_error("output", t, v.dtype, v.shape, v.data.len()));
        }
    }
    Ok(())
}

/// Executable code for one kernel, produced by a backend. The runtime calls `run`; the
/// kernel reads its inputs and writes every element of its outputs.
pub trait CompiledKernel: Send + Sync + fmt::Debug {
    /// Runs the kernel. Implementations check their arguments (see [`check_args`]) and
    /// return an error, never panic, on a mismatch.
    fn run(&self, inputs: &[TensorView<'_>], outputs: &mut [TensorViewMut<'_>]) -> Result<(), LowerError>;

    /// Runs the kernel on arguments in device memory (kernels of device backends). Returns
    /// when the work is queued or done; a later download waits for it. The default refuses:
    /// host kernels run on host memory only.
    fn run_device(&self, inputs: &[DeviceView<'_>], outputs: &[DeviceView<'_>]) -> Result<(), LowerError> {
        let _ = (inputs, outputs);
        Err(LowerError::new(LowerErrorKind::Kernel, "this kernel runs on host memory only"))
    }

    /// Generated code for display (`plan --code`), if the backend has any to show.
    fn code(&self) -> Option<String> {
        None
    }
}
