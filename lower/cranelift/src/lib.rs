//! `cpu.cranelift`: fused, vectorized, parallel CPU kernels generated at run time.
//!
//! Connected elementwise nodes become one loop (`codegen.rs`) over a collapsed iteration space
//! (`layout.rs`), run in chunks over rayon (`jit.rs`). Transcendental functions are inline
//! polynomials (`math/`); libm is called only for trig arguments beyond the inline range
//! reduction.
//!
//! Today it covers float (`f32`, `f64`) arithmetic, `exp exp2 expm1 log log2 log1p sin cos
//! tan tanh sigmoid sign`, rounding, `maximum`/`minimum`, `clip`, constants, and
//! `sum mean max min` over trailing axes; everything else is declared unsupported with a
//! reason and runs on `cpu.reference`. Huge `sin`/`cos`/`tan` arguments (beyond the inline
//! range reduction) take a slow path that calls the platform's function lane by lane.
#![warn(missing_docs)]

mod cache;
mod codegen;
mod jit;
mod layout;
mod math;

use std::sync::{Arc, OnceLock};

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module};
use switchyard_ir::{BinaryOp, DType, DeviceKind, Op, OpSetVersion, ReduceOp, UnaryOp, OP_SET_VERSION};

use switchyard_lower::KernelOperand;

use self::cache::CAPACITY;
use self::codegen::{build, build_reduce, kernel_dtype, reduce_signature, reduction_of, signature, Layout};
use self::jit::{jit_error, Entry, JitCode, JitKernel, KernelFn, ReduceFn, ReduceKernel, RowLayout};
use self::layout::{iter_space, iter_space_split};
use switchyard_lower::LowerError;
use switchyard_lower::{Backend, NodeQuery, Support, Tolerance};
use switchyard_lower::{CacheReport, KernelCache};
use switchyard_lower::{CompiledKernel, KernelSpec};

pub use self::cache::CodeKey;

/// The Cranelift JIT backend, with its kernel cache.
pub struct CraneliftBackend {
    cache: KernelCache<CodeKey, JitCode>,
}

impl Default for CraneliftBackend {
    fn default() -> CraneliftBackend {
        CraneliftBackend { cache: KernelCache::new(CAPACITY) }
    }
}

impl CraneliftBackend {
    /// A backend with an empty kernel cache.
    pub fn new() -> CraneliftBackend {
        CraneliftBackend::default()
    }
}

impl std::fmt::Debug for CraneliftBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CraneliftBackend({:?})", self.cache)
    }
}

/// The host ISA with speed optimizations, built once.
fn isa() -> Result<OwnedTargetIsa, LowerError> {
    static ISA: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
    ISA.get_or_init(|| {
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").map_err(|e| e.to_string())?;
        let builder = cranelift_native::builder().map_err(|e| e.to_string())?;
        builder.finish(settings::Flags::new(flags)).map_err(|e| e.to_string())
    })
    .clone()
    .map_err(|e| jit_error("no native target", e))
}

/// Generates and finalizes machine code for `spec`'s structure.
fn compile_code(spec: &KernelSpec, layout: &Layout) -> Result<JitCode, LowerError> {
    let isa = isa()?;
    let reduce = reduction_of(spec).is_some();
    let (func, sig) = if reduce {
        (build_reduce(spec, layout, isa.frontend_config())?, reduce_signature(isa.default_call_conv()))
    } else {
        (build(spec, layout, isa.frontend_config())?, signature(isa.default_call_conv()))
    };
    let ir = func.display().to_string();
    let mut module =
        JITModule::new(JITBuilder::with_isa(isa.clone(), cranelift_module::default_libcall_names()));
    let id = module.declare_function("kernel", Linkage::Local, &sig).map_err(|e| jit_error("declare", e))?;
    let mut ctx = module.make_context();
    ctx.func = func;
    module.define_function(id, &mut ctx).map_err(|e| jit_error("compile", e))?;
    module.finalize_definitions().map_err(|e| jit_error("finalize", e))?;
    let code = module.get_finalized_function(id);
    let entry = if reduce {
        // SAFETY: `code` is the finalized entry of the function just defined with
        // `reduce_signature(...)`: four i64 parameters and an f64 result in the platform's
        // default calling convention, which is what `ReduceFn` spells as `extern "C"`.
        Entry::Reduce(unsafe { std::mem::transmute::<*const u8, ReduceFn>(code) })
    } else {
        // SAFETY: as above, with `signature(...)`: four i64 parameters, no results: `KernelFn`.
        Entry::Map(unsafe { std::mem::transmute::<*const u8, KernelFn>(code) })
    };
    Ok(JitCode::new(module, entry, ir))
}

fn supported_unary(u: UnaryOp) -> bool {
    use UnaryOp::*;
    matches!(
        u,
        Neg | Abs
            | Sign
            | Sqrt
            | Square
            | Reciprocal
            | Floor
            | Ceil
            | Round
            | Exp
            | Exp2
            | Expm1
            | Log
            | Log2
            | Log1p
            | Sin
            | Cos
            | Tan
            | Tanh
            | Sigmoid
    )
}

fn supported_binary(b: BinaryOp) -> bool {
    use BinaryOp::*;
    matches!(b, Add | Sub | Mul | Div | Maximum | Minimum)
}

impl CraneliftBackend {
    fn compile_reduce(
        &self,
        spec: &KernelSpec,
        dtype: DType,
        op: ReduceOp,
    ) -> Result<Arc<dyn CompiledKernel>, LowerError> {
        let last = spec.nodes.last().ok_or_else(|| jit_error("kernel", "empty"))?;
        let Op::Reduce { axes, .. } = &last.op else { return Err(jit_error("kernel", "not a reduction")) };
        let operand_shape = match last.operands.first() {
            Some(KernelOperand::Arg(i)) => spec.inputs.get(*i).map(|t| t.shape.clone()),
            Some(KernelOperand::Node(k)) => spec.nodes.get(*k).map(|n| n.ty.shape.clone()),
            None => None,
        }
        .ok_or_else(|| jit_error("kernel", "reduction operand out of range"))?;
        let rank = operand_shape.rank();
        let split = rank.checked_sub(axes.len()).ok_or_else(|| jit_error("kernel", "bad axes"))?;
        if axes.iter().enumerate().any(|(k, &a)| a != split + k) {
            return Err(jit_error("kernel", "only trailing-axis reductions are generated"));
        }
        if let Some(bad) = spec.inputs.iter().find(|t| !t.shape.broadcasts_to(&operand_shape)) {
            return Err(jit_error("kernel", format!("input {bad} does not broadcast to {operand_shape}")));
        }
        let shapes: Vec<_> = spec.inputs.iter().map(|t| t.shape.clone()).collect();
        let space = iter_space_split(&operand_shape, &shapes, split);
        let rows: usize = operand_shape.dims()[..split].iter().product();
        let count: usize = operand_shape.dims()[split..].iter().product();
        let runs = if count == 0 || rows == 0 { 0 } else { space.rows() / rows };
        if count > 0 && rows > 0 && runs * rows != space.rows() {
            return Err(jit_error("kernel", "reduction rows do not tile the iteration space"));
        }
        let layout = Layout { inner_strides: space.inner_strides.clone() };
        let consts = constants(spec);
        let key = CodeKey::of(spec, dtype, &layout.inner_strides);
        let code = self.cache.get_or_compile(key, || compile_code(spec, &layout))?;
        let row_layout = RowLayout { rows, runs, count };
        Ok(Arc::new(ReduceKernel::new(code, spec.clone(), space, row_layout, consts, op)))
    }
}

/// The values of the kernel's `full` constants, in node order (passed at run time).
fn constants(spec: &KernelSpec) -> Vec<f64> {
    spec.nodes
        .iter()
        .filter_map(|n| match n.op {
            Op::Full { value, .. } => Some(value.to_f64()),
            _ => None,
        })
        .collect()
}

impl Backend for CraneliftBackend {
    fn name(&self) -> &str {
        "cpu.cranelift"
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
        10
    }

    fn supports(&self, node: &NodeQuery<'_>) -> Support {
        if let Op::Reduce { op, axes, correction, .. } = node.op {
            let rank = node.inputs.first().map_or(0, |t| t.shape.rank());
            if !matches!(op, ReduceOp::Sum | ReduceOp::Mean | ReduceOp::Max | ReduceOp::Min) {
                return Support::no(format!("{} is not generated yet (runs on cpu.reference)", op.name()));
            }
            if *correction != 0 {
                return Support::no(format!("{}: correction={correction} unsupported", op.name()));
            }
            let trailing =
                !axes.is_empty() && axes.iter().enumerate().all(|(k, &a)| a == rank - axes.len() + k);
            if !trailing {
                return Support::no(format!(
                    "{}: axes={axes:?} unsupported on rank {rank}; only trailing axes are generated yet",
                    op.name()
                ));
            }
        }
        let op_ok = match node.op {
            Op::Full { .. } | Op::Clip | Op::Reduce { .. } => true,
            Op::Unary(u) => supported_unary(*u),
            Op::Binary(b) => supported_binary(*b),
            _ => false,
        };
        if !op_ok {
            return Support::no(format!("{} is not generated yet (runs on cpu.reference)", node.op.name()));
        }
        let d = node.output.dtype;
        if !d.is_float() {
            return Support::no(format!("{d}: only f32 and f64 kernels are generated yet"));
        }
        if node.input_dtypes().any(|i| i != d) {
            return Support::no("operands of mixed float widths need an explicit cast first");
        }
        Support::Yes
    }

    fn precision(&self, op: &Op, _dtype: DType) -> Tolerance {
        match op {
            // Declared with one ulp of margin over the worst case measured by full-range sweeps
            // (see the tests), except expm1, tanh and sigmoid, whose f32 worst case is 3.
            Op::Unary(UnaryOp::Exp | UnaryOp::Exp2 | UnaryOp::Log | UnaryOp::Log2) => Tolerance::ulps(2),
            Op::Unary(
                UnaryOp::Expm1
                | UnaryOp::Tanh
                | UnaryOp::Sigmoid
                | UnaryOp::Log1p
                | UnaryOp::Sin
                | UnaryOp::Cos,
            ) => Tolerance::ulps(3),
            Op::Unary(UnaryOp::Tan) => Tolerance::ulps(4),
            // Sums add in another order than the reference (both in f64): relative to the sum
            // of magnitudes the difference is tiny, relative to a cancelled result it is not.
            Op::Reduce { op: ReduceOp::Sum | ReduceOp::Mean, .. } => {
                Tolerance { ulps: 2, rel: 1e-12, abs: 0.0 }
            }
            _ => Tolerance::EXACT,
        }
    }

    fn compile(&self, spec: &KernelSpec) -> Result<Arc<dyn CompiledKernel>, LowerError> {
        let dtype = kernel_dtype(spec)?;
        if let Some(op) = reduction_of(spec) {
            return self.compile_reduce(spec, dtype, op);
        }
        let out = spec
            .outputs
            .first()
            .and_then(|&o| spec.nodes.get(o))
            .map(|n| n.ty.shape.clone())
            .ok_or_else(|| jit_error("kernel", "no valid output"))?;
        if let Some(bad) = spec.inputs.iter().find(|t| !t.shape.broadcasts_to(&out)) {
            return Err(jit_error("kernel", format!("input {bad} does not broadcast to {out}")));
        }
        let shapes: Vec<_> = spec.inputs.iter().map(|t| t.shape.clone()).collect();
        let space = iter_space(&out, &shapes);
        let layout = Layout { inner_strides: space.inner_strides.clone() };
        let consts = constants(spec);
        let key = CodeKey::of(spec, dtype, &layout.inner_strides);
        let code = self.cache.get_or_compile(key, || compile_code(spec, &layout))?;
        Ok(Arc::new(JitKernel::new(code, spec.clone(), space, consts)))
    }

    fn max_fused_nodes(&self) -> usize {
        64
    }

    fn kernel_cache(&self) -> Option<CacheReport> {
        Some(self.cache.report(self.name()))
    }

    fn describe_kernel(&self, spec: &KernelSpec) -> Option<String> {
        let dtype = kernel_dtype(spec).ok()?;
        let lanes = if dtype == DType::F32 { "f32x4" } else { "f64x2" };
        let what = if reduction_of(spec).is_some() {
            "reduction, fixed-order partials"
        } else {
            "loop, 4 vectors per iteration"
        };
        Some(format!("{lanes} {what}, 64K-element chunks on rayon"))
    }
}
#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;
