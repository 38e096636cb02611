//! A compiled Cranelift kernel and the driver that runs it over the iteration space,
//! splitting rows (or, for one long row, the inner axis) into chunks over rayon.

use std::sync::{Arc, Mutex};

use cranelift_jit::JITModule;
use rayon::prelude::*;

use switchyard_ir::ReduceOp;

use super::layout::IterSpace;
use switchyard_lower::{check_args, CompiledKernel, KernelSpec, TensorView, TensorViewMut};
use switchyard_lower::{LowerError, LowerErrorKind};

/// The machine-code entry point: `(ins, outs, consts, n)`.
pub type KernelFn = unsafe extern "C" fn(*const *const u8, *const *mut u8, *const f64, i64);

/// A reduction kernel's entry point: `(ins, unused, consts, n) -> partial`.
pub type ReduceFn = unsafe extern "C" fn(*const *const u8, *const *mut u8, *const f64, i64) -> f64;

/// Which kind of function a [`JitCode`] holds.
#[derive(Clone, Copy)]
pub enum Entry {
    /// An elementwise kernel.
    Map(KernelFn),
    /// A reduction kernel.
    Reduce(ReduceFn),
}

/// Elements per parallel task: small enough to balance two cores, large enough that task
/// overhead (about a microsecond) is noise.
const CHUNK_ELEMS: usize = 1 << 16;

/// Machine code for one kernel structure, shared by every kernel of that structure (any
/// sizes, any constant values). Freed when the last user drops it.
pub struct JitCode {
    /// Owns the code; only touched again to free it on drop.
    module: Mutex<Option<JITModule>>,
    entry: Entry,
    ir: String,
}

impl JitCode {
    /// Wraps finalized code: `entry` must be the finalized entry of a function in `module`
    /// built by `codegen::build` (`Entry::Map`) or `codegen::build_reduce` (`Entry::Reduce`).
    pub(crate) fn new(module: JITModule, entry: Entry, ir: String) -> JitCode {
        JitCode { module: Mutex::new(Some(module)), entry, ir }
    }
}

impl Drop for JitCode {
    fn drop(&mut self) {
        let module = match self.module.get_mut() {
            Ok(m) => m.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(m) = module {
            // SAFETY: the only pointer into this module's code is `self.func`, which dies with
            // `self`; no call can be running because `drop` has exclusive access, and every
            // `JitKernel` holding this code holds an `Arc` to it.
            unsafe { m.free_memory() };
        }
    }
}

impl std::fmt::Debug for JitCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JitCode({} bytes of IR text)", self.ir.len())
    }
}

/// A kernel compiled by `cpu.cranelift`: shared code plus this kernel's sizes and constants.
pub struct JitKernel {
    code: Arc<JitCode>,
    spec: KernelSpec,
    space: IterSpace,
    consts: Vec<f64>,
    elem_size: usize,
}

impl JitKernel {
    /// Binds shared `code` (built for `spec`'s structure and `space.inner_strides`) to this
    /// kernel's iteration space and constant values.
    pub(crate) fn new(code: Arc<JitCode>, spec: KernelSpec, space: IterSpace, consts: Vec<f64>) -> JitKernel {
        let elem_size = spec.nodes.first().map_or(4, |n| n.ty.dtype.size_bytes());
        JitKernel { code, spec, space, consts, elem_size }
    }
}

impl std::fmt::Debug for JitKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JitKernel({} nodes, {:?})", self.spec.nodes.len(), self.space)
    }
}

/// Raw addresses of one run's buffers, shared read-only between tasks.
#[derive(Clone, Copy)]
struct Addrs<'a> {
    ins: &'a [usize],
    outs: &'a [usize],
}

impl CompiledKernel for JitKernel {
    fn run(&self, inputs: &[TensorView<'_>], outputs: &mut [TensorViewMut<'_>]) -> Result<(), LowerError> {
        check_args(&self.spec, inputs, outputs)?;
        let rows = self.space.rows();
        let inner = self.space.inner;
        if rows == 0 || inner == 0 {
            return Ok(());
        }
        let ins: Vec<usize> = inputs.iter().map(|v| v.data.as_ptr() as usize).collect();
        let outs: Vec<usize> = outputs.iter_mut().map(|v| v.data.as_mut_ptr() as usize).collect();
        let addrs = Addrs { ins: &ins, outs: &outs };
        // Tasks: (first row, rows, first inner index, inner length).
        let tasks: Vec<(usize, usize, usize, usize)> = if rows == 1 {
            (0..inner).step_by(CHUNK_ELEMS).map(|s| (0, 1, s, CHUNK_ELEMS.min(inner - s))).collect()
        } else {
            let per = (CHUNK_ELEMS / inner).max(1);
            (0..rows).step_by(per).map(|r| (r, per.min(rows - r), 0, inner)).collect()
        };
        let run_task = |&(r0, nrows, s, len): &(usize, usize, usize, usize)| {
            let mut offs = vec![0usize; addrs.ins.len()];
            let mut in_ptrs = vec![0usize; addrs.ins.len()];
            let mut out_ptrs = vec![0usize; addrs.outs.len()];
            for r in r0..r0 + nrows {
                self.space.row_offsets(r, &mut offs);
                for (i, p) in in_ptrs.iter_mut().enumerate() {
                    let inner_off = s * usize::from(self.space.inner_strides[i]);
                    *p = addrs.ins[i] + (offs[i] + inner_off) * self.elem_size;
                }
                for (j, p) in out_ptrs.iter_mut().enumerate() {
                    *p = addrs.outs[j] + (r * inner + s) * self.elem_size;
                }
                if let Entry::Map(f) = self.code.entry {
                    // SAFETY: `check_args` proved every buffer holds exactly its shape's
                    // elements (its byte count computed without overflow: a `Shape`'s byte
                    // count in the widest dtype fits `isize`, so every element offset and byte
                    // address above, at most that count, is exact too). Row `r`, inner range
                    // `s..s+len` maps (through the broadcast strides of the iteration space
                    // built from these very shapes) to in-bounds elements of each input:
                    // stride-1 inputs read `len` elements from their offset, stride-0 inputs
                    // read one. Outputs are written at `r*inner + s .. +len`, in bounds and
                    // disjoint between tasks, so no two threads write the same element and no
                    // input aliases an output (inputs are shared, outputs exclusively
                    // borrowed). `f` is a `KernelFn` finalized in the module `self.code` owns.
                    unsafe {
                        f(
                            in_ptrs.as_ptr() as *const *const u8,
                            out_ptrs.as_ptr() as *const *mut u8,
                            self.consts.as_ptr(),
                            len as i64,
                        )
                    };
                }
            }
        };
        if tasks.len() == 1 {
            tasks.iter().for_each(run_task);
        } else {
            tasks.par_iter().for_each(run_task);
        }
        Ok(())
    }

    fn code(&self) -> Option<String> {
        Some(self.code.ir.clone())
    }
}

/// An error while building or finalizing code.
pub(crate) fn jit_error(what: &str, e: impl std::fmt::Display) -> LowerError {
    LowerError::new(LowerErrorKind::Compile, format!("cpu.cranelift: {what}: {e}"))
}

/// A reduction over trailing axes, compiled by `cpu.cranelift`: shared code plus this
/// kernel's shapes and constants. Partials are combined in a fixed order (runs of a row in
/// order, each run in fixed chunks of [`CHUNK_ELEMS`]), so the result does not depend on the
/// thread count.
pub struct ReduceKernel {
    code: Arc<JitCode>,
    spec: KernelSpec,
    space: IterSpace,
    consts: Vec<f64>,
    op: ReduceOp,
    rows: usize,
    runs: usize,
    count: usize,
    elem_size: usize,
}

/// How a reduction's output elements map onto its iteration space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowLayout {
    /// Output elements (rows of the reduction).
    pub rows: usize,
    /// Collapsed rows of the iteration space per output element.
    pub runs: usize,
    /// Elements reduced into each output element.
    pub count: usize,
}

impl ReduceKernel {
    /// Binds shared reduction `code` to one kernel's iteration space, row layout and constants.
    pub(crate) fn new(
        code: Arc<JitCode>,
        spec: KernelSpec,
        space: IterSpace,
        rows: RowLayout,
        consts: Vec<f64>,
        op: ReduceOp,
    ) -> ReduceKernel {
        let elem_size = spec.nodes.last().map_or(4, |n| n.ty.dtype.size_bytes());
        let RowLayout { rows, runs, count } = rows;
        ReduceKernel { code, spec, space, consts, op, rows, runs, count, elem_size }
    }

    fn identity(&self) -> f64 {
        match self.op {
            ReduceOp::Max => f64::NEG_INFINITY,
            ReduceOp::Min => f64::INFINITY,
            _ => 0.0,
        }
    }

    fn combine(&self, acc: f64, p: f64) -> f64 {
        match self.op {
            ReduceOp::Max | ReduceOp::Min if acc.is_nan() || p.is_nan() => f64::NAN,
            ReduceOp::Max => acc.max(p),
            ReduceOp::Min => acc.min(p),
            _ => acc + p,
        }
    }

    fn finish(&self, acc: f64) -> f64 {
        match self.op {
            ReduceOp::Mean => acc / self.count as f64,
            _ => acc,
        }
    }

    /// The partial of collapsed row `row`, inner elements `s..s+len`.
    fn partial(&self, ins: &[usize], row: usize, s: usize, len: usize) -> f64 {
        let Entry::Reduce(f) = self.code.entry else { return f64::NAN };
        let mut offs = vec![0usize; ins.len()];
        self.space.row_offsets(row, &mut offs);
        let ptrs: Vec<usize> = ins
            .iter()
            .enumerate()
            .map(|(i, &base)| {
                base + (offs[i] + s * usize::from(self.space.inner_strides[i])) * self.elem_size
            })
            .collect();
        let no_outputs: [usize; 0] = [];
        // SAFETY: `check_args` proved each input holds exactly its shape's elements (a byte
        // count that cannot have wrapped: a `Shape`'s byte count fits `isize`, so the offsets
        // and addresses above are exact). The iteration space was built from those shapes, so collapsed row `row`, inner range
        // `s..s+len`, maps to in-bounds elements of every input (stride-1 inputs read `len`
        // elements from their offset, stride-0 inputs one). A reduction function writes no
        // memory; its output pointer array is never read.
        unsafe {
            f(
                ptrs.as_ptr() as *const *const u8,
                no_outputs.as_ptr() as *const *mut u8,
                self.consts.as_ptr(),
                len as i64,
            )
        }
    }

    /// The reduced value of output element `r`, combining its runs and chunks in order.
    fn row_value(&self, ins: &[usize], r: usize) -> f64 {
        let mut acc = self.identity();
        if self.count == 0 {
            return self.finish(acc);
        }
        for j in 0..self.runs {
            for s in (0..self.space.inner).step_by(CHUNK_ELEMS) {
                let len = CHUNK_ELEMS.min(self.space.inner - s);
                acc = self.combine(acc, self.partial(ins, r * self.runs + j, s, len));
            }
        }
        self.finish(acc)
    }

    fn write(&self, out: &mut [u8], v: f64) {
        if self.elem_size == 4 {
            out.copy_from_slice(&(v as f32).to_le_bytes());
        } else {
            out.copy_from_slice(&v.to_le_bytes());
        }
    }
}

impl std::fmt::Debug for ReduceKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReduceKernel({:?}, {} rows of {})", self.op, self.rows, self.count)
    }
}

impl CompiledKernel for ReduceKernel {
    fn run(&self, inputs: &[TensorView<'_>], outputs: &mut [TensorViewMut<'_>]) -> Result<(), LowerError> {
        check_args(&self.spec, inputs, outputs)?;
        let ins: Vec<usize> = inputs.iter().map(|v| v.data.as_ptr() as usize).collect();
        let out = outputs
            .first_mut()
            .ok_or_else(|| LowerError::new(LowerErrorKind::Kernel, "reduction kernel without output"))?;
        if self.rows == 0 {
            return Ok(());
        }
        let chunks_per_run = self.space.inner.div_ceil(CHUNK_ELEMS).max(1);
        if self.rows == 1 && self.runs * chunks_per_run > 1 && self.count > 0 {
            // One long row: chunk partials in parallel, combined in order.
            let tasks: Vec<(usize, usize)> = (0..self.runs)
                .flat_map(|j| (0..self.space.inner).step_by(CHUNK_ELEMS).map(move |s| (j, s)))
                .collect();
            let parts: Vec<f64> = tasks
                .par_iter()
                .map(|&(j, s)| self.partial(&ins, j, s, CHUNK_ELEMS.min(self.space.inner - s)))
                .collect();
            let acc = parts.iter().fold(self.identity(), |a, &p| self.combine(a, p));
            self.write(&mut out.data[..self.elem_size], self.finish(acc));
            return Ok(());
        }
        let per_task = (CHUNK_ELEMS / (self.count.max(1))).max(1);
        let elem = self.elem_size;
        out.data.par_chunks_mut(per_task * elem).enumerate().for_each(|(t, chunk)| {
            for (k, slot) in chunk.chunks_exact_mut(elem).enumerate() {
                self.write(slot, self.row_value(&ins, t * per_task + k));
            }
        });
        Ok(())
    }

    fn code(&self) -> Option<String> {
        Some(self.code.ir.clone())
    }
}
