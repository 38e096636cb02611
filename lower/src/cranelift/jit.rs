//! A compiled Cranelift kernel and the driver that runs it over the iteration space,
//! splitting rows (or, for one long row, the inner axis) into chunks over rayon.

use std::sync::{Arc, Mutex};

use cranelift_jit::JITModule;
use rayon::prelude::*;

use super::layout::IterSpace;
use crate::error::{LowerError, LowerErrorKind};
use crate::kernel::{check_args, CompiledKernel, KernelSpec, TensorView, TensorViewMut};

/// The machine-code entry point: `(ins, outs, consts, n)`.
pub type KernelFn = unsafe extern "C" fn(*const *const u8, *const *mut u8, *const f64, i64);

/// Elements per parallel task: small enough to balance two cores, large enough that task
/// overhead (about a microsecond) is noise.
const CHUNK_ELEMS: usize = 1 << 16;

/// Machine code for one kernel structure, shared by every kernel of that structure (any
/// sizes, any constant values). Freed when the last user drops it.
pub struct JitCode {
    /// Owns the code; only touched again to free it on drop.
    module: Mutex<Option<JITModule>>,
    func: KernelFn,
    ir: String,
}

impl JitCode {
    /// Wraps finalized code: `func` must be the finalized entry of a function in `module`
    /// built by `codegen::build`.
    pub(crate) fn new(module: JITModule, func: KernelFn, ir: String) -> JitCode {
        JitCode { module: Mutex::new(Some(module)), func, ir }
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

    /// Input offsets (in elements) of row `r` of the outer axes.
    fn row_offsets(&self, mut r: usize, offsets: &mut [usize]) {
        offsets.iter_mut().for_each(|o| *o = 0);
        for d in (0..self.space.outer.len()).rev() {
            let idx = r % self.space.outer[d];
            r /= self.space.outer[d];
            for (o, s) in offsets.iter_mut().zip(&self.space.outer_strides) {
                *o += idx * s[d];
            }
        }
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
                self.row_offsets(r, &mut offs);
                for (i, p) in in_ptrs.iter_mut().enumerate() {
                    let inner_off = s * usize::from(self.space.inner_strides[i]);
                    *p = addrs.ins[i] + (offs[i] + inner_off) * self.elem_size;
                }
                for (j, p) in out_ptrs.iter_mut().enumerate() {
                    *p = addrs.outs[j] + (r * inner + s) * self.elem_size;
                }
                // SAFETY: `check_args` proved every buffer holds exactly its shape's elements.
                // Row `r`, inner range `s..s+len` maps (through the broadcast strides of the
                // iteration space built from these very shapes) to in-bounds elements of each
                // input: stride-1 inputs read `len` elements from their offset, stride-0 inputs
                // read one. Outputs are written at `r*inner + s .. +len`, in bounds and
                // disjoint between tasks, so no two threads write the same element and no
                // input aliases an output (inputs are shared, outputs exclusively borrowed).
                unsafe {
                    (self.code.func)(
                        in_ptrs.as_ptr() as *const *const u8,
                        out_ptrs.as_ptr() as *const *mut u8,
                        self.consts.as_ptr(),
                        len as i64,
                    )
                };
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
