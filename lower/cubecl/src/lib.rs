//! `gpu.cubecl`: GPU kernels generated at run time with CubeCL 0.10, on Vulkan adapters
//! through wgpu (WGSL) and, with the `cuda` feature, on CUDA devices.
//!
//! A kernel spec becomes a program (`program/`: straight-line SSA over f32, i32 and
//! bool registers, loads through affine views, stores), which one of three cube kernels
//! interprets at expansion time: the fused elementwise kernel (`fused.rs`, semantics in
//! `elementwise.rs`), the reduction kernel (`reduce.rs`, producers fused into its loads) and
//! a tiled f32 matmul (`matmul.rs`, with a slow path that keeps the reference's infinities
//! and NaN where an f32 sum overflows). Shape ops (`permute_dims`, `reshape`,
//! `broadcast_to`, `expand_dims`, `squeeze`, `slice`, `flip`) are views, so their kernels are
//! a load and a store; `concat`, `stack` and `pad` read each operand through a view that is
//! valid inside a window of the result (a coordinate range test and a guarded load). Constant values, sizes and strides are run-time scalars: the kernel
//! cache (`cache.rs`) is keyed by structure only. Devices are probed lazily and without
//! panics (`device.rs`); every launch is checked first (`launch.rs`), because cubecl reports
//! many failures only as a silent panic in its device thread; the static limits kernels are
//! generated within (bindings, workgroup sizes, lavapipe's loop budget, buffer sizes) are in
//! `limits.rs`. `plan --code` shows the program and the WGSL cubecl generates for it
//! (`source.rs`).
//!
//! Two driver behaviours shape the kernels. The driver compiles WGSL under Vulkan's float
//! rules, which allow reassociation and identities that are false for infinities, NaN and
//! signed zeros (lavapipe folds `x - x` to 0, `(a + b) - b` to `a`, `sqrt(x) * sqrt(x)` to
//! `|x|`, and merges `a + b` with `b + a`): a rounding the code relies on goes through
//! `math::opaque`, a run-time-zero barrier; so does every value of the user's float
//! arithmetic that another instruction reads, and one of two identical operands
//! (`program/guard.rs`: WGSL has no `NoContraction` or float-controls, naga 29 emits
//! neither, so the barrier is the only mechanism; it costs about 5% on lavapipe); and a
//! constant that must not be folded into another (the matmul's rescaling) is a run-time
//! scalar. And Mesa's lavapipe stops a shader invocation's loops
//! after 65,535 iterations in all, silently: a reduction cuts long rows into parts
//! (`reduce::plan_parts`), and matmul is generated for `k` up to `limits::MAX_K`.
//!
//! Dtypes: f32, i32 and bool (stored as u32). f64 and i64 are declared unsupported: WGSL has
//! no portable 64-bit types, even where a driver (lavapipe) offers them.
#![warn(missing_docs)]

mod cache;
mod device;
mod elementwise;
mod fused;
#[cfg(test)]
mod golden;
#[cfg(test)]
mod ieee_tests;
mod launch;
mod limits;
mod math;
mod matmul;
mod program;
mod reduce;
mod source;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use switchyard_ir::{BinaryOp, DType, DeviceKind, Op, OpSetVersion, ReduceOp, UnaryOp, OP_SET_VERSION};

use self::cache::{ProgramKey, CAPACITY};
use self::launch::CubeclKernel;
use self::limits::{launch_bindings, MAP_UNITS, MAX_FUSED_NODES, MAX_K, REDUCE_LOG2_BLOCK, TILE};
use self::program::{compile_error, map_program, matmul_program, reduce_program, Kind, Program};
use switchyard_lower::LowerError;
use switchyard_lower::{Backend, NodeQuery, Support, Tolerance};
use switchyard_lower::{CacheReport, KernelCache};
use switchyard_lower::{CompiledKernel, KernelSpec};
use switchyard_lower::{DeviceInfo, DeviceMemory};

pub use self::limits::MAX_BINDINGS;

/// Declared ulps of `exp` and `exp2` (measured worst on lavapipe: see `precision`).
const EXP_ULPS: u32 = 4;
/// Declared ulps of `sigmoid`.
const SIGMOID_ULPS: u32 = 6;
/// Declared ulps of `log` and `log2` (our own, `math.rs`; 1 measured).
const LOG_ULPS: u32 = 2;
/// Declared ulps of `log1p` and `expm1` (ours; 2 measured).
const LOG1P_ULPS: u32 = 3;
/// Declared ulps of `tanh` (through our `expm1`; 3 measured).
const TANH_ULPS: u32 = 4;
/// Declared ulps of `sin` and `cos` (ours, Payne-Hanek reduction; 2 measured).
const SIN_COS_ULPS: u32 = 3;
/// Declared ulps of `tan` (ours; 3 measured).
const TAN_ULPS: u32 = 4;
/// Declared ulps of `var` and `std` (1 measured on lavapipe over offset, huge, tiny, constant,
/// long, empty and one-element rows: `moments_are_accurate_whatever_the_offset_and_scale`).
const MOMENT_ULPS: u32 = 4;
/// Declared ulps of `pow` (ours, `math::pow_positive`; 1 measured against Rust's `powf`
/// over 20,000,000 pairs, subnormal and overflowing results included).
const POW_ULPS: u32 = 2;
/// Declared ulps of `atan2` (ours, `math::atan2`; 2 measured against Rust's `atan2`, glibc's
/// `atan2f`, over 20,000,000 pairs, and 1 against the correctly rounded result).
const ATAN2_ULPS: u32 = 3;

/// The CubeCL GPU backend, with its kernel cache. Creating it probes nothing: devices are
/// found on first use.
pub struct CubeclBackend {
    cache: KernelCache<ProgramKey, Program>,
}

impl Default for CubeclBackend {
    fn default() -> CubeclBackend {
        CubeclBackend { cache: KernelCache::new(CAPACITY) }
    }
}

impl CubeclBackend {
    /// A backend with an empty kernel cache.
    pub fn new() -> CubeclBackend {
        CubeclBackend::default()
    }
}

impl std::fmt::Debug for CubeclBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CubeclBackend({:?})", self.cache)
    }
}

/// Why a dtype is not supported, or `None` when it is.
fn dtype_refusal(dtype: DType) -> Option<String> {
    match dtype {
        DType::F64 => Some(
            "f64: not supported by gpu.cubecl on wgpu (not portable across Vulkan adapters; WGSL has no standard f64)"
                .into(),
        ),
        DType::I64 => Some(
            "i64: not supported by gpu.cubecl on wgpu (not portable across Vulkan adapters; WGSL has no 64-bit integers)"
                .into(),
        ),
        DType::F32 | DType::I32 | DType::Bool => None,
    }
}

/// Whether `u` is generated for operands of `dtype` (`None`), or why not.
fn unary_refusal(u: UnaryOp, dtype: DType) -> Option<String> {
    use UnaryOp::*;
    let ok = match dtype {
        DType::F32 => u != LogicalNot,
        DType::I32 => {
            matches!(u, Neg | Abs | Sign | Square | IsNan | IsInf | IsFinite | Floor | Ceil | Round)
        }
        DType::Bool => u == LogicalNot,
        _ => false,
    };
    (!ok).then(|| format!("{} on {dtype} is not generated", u.name()))
}

/// Whether `b` is generated for operands of `dtype` (`None`), or why not.
fn binary_refusal(b: BinaryOp, dtype: DType) -> Option<String> {
    use BinaryOp::*;
    let ok = match dtype {
        DType::F32 => !matches!(b, LogicalAnd | LogicalOr | LogicalXor),
        DType::I32 => !matches!(b, Div | Atan2 | LogicalAnd | LogicalOr | LogicalXor),
        DType::Bool => matches!(b, Eq | Ne | LogicalAnd | LogicalOr | LogicalXor),
        _ => false,
    };
    (!ok).then(|| format!("{} on {dtype} is not generated", b.name()))
}

/// Whether this matmul is generated (`None`), or why not.
fn matmul_refusal(node: &NodeQuery<'_>, operand: DType) -> Option<String> {
    if operand != DType::F32 {
        return Some(format!("matmul on {operand} is not generated"));
    }
    // The inner dimension: the last axis of the left operand.
    let k = node.inputs.first().and_then(|t| t.shape.dims().last().copied()).unwrap_or(0);
    (k > MAX_K).then(|| {
        format!(
            "matmul over k = {k} > {MAX_K}: not generated (Mesa's lavapipe stops shader loops after 65,535 \
             iterations)"
        )
    })
}

fn reduce_refusal(op: ReduceOp, dtype: DType, correction: u32) -> Option<String> {
    let ok = match op {
        ReduceOp::Sum | ReduceOp::Mean | ReduceOp::Var | ReduceOp::Std => dtype == DType::F32,
        ReduceOp::Max | ReduceOp::Min => matches!(dtype, DType::F32 | DType::I32),
        ReduceOp::Any | ReduceOp::All => dtype == DType::Bool,
        _ => false,
    };
    if ok && (correction == 0 || matches!(op, ReduceOp::Var | ReduceOp::Std)) {
        return None;
    }
    Some(match op {
        ReduceOp::Prod => {
            "prod: f32 partial products overflow or underflow where the reference's f64 ones do not; \
                           not generated"
                .to_string()
        }
        _ => format!("{} on {dtype} is not generated", op.name()),
    })
}

/// The kind of kernel a spec becomes.
fn kernel_kind(spec: &KernelSpec) -> Kind {
    match spec.nodes.last().map(|n| &n.op) {
        Some(Op::Reduce { .. }) => Kind::Reduce { reduction: program::Reduction::Sum, reg: 0, kept: 0 },
        Some(Op::Matmul) => Kind::Matmul { batch: 0, operands: (0, 1) },
        _ => Kind::Map,
    }
}

impl Backend for CubeclBackend {
    fn name(&self) -> &str {
        "gpu.cubecl"
    }

    fn version(&self) -> &str {
        env!("CARGO_PKG_VERSION")
    }

    fn op_set_version(&self) -> OpSetVersion {
        OP_SET_VERSION
    }

    fn device_kind(&self) -> DeviceKind {
        DeviceKind::Gpu
    }

    fn priority(&self) -> i32 {
        10
    }

    fn supports(&self, node: &NodeQuery<'_>) -> Support {
        let dtypes = node.input_dtypes().chain(std::iter::once(node.output.dtype));
        if let Some(reason) = dtypes.into_iter().find_map(dtype_refusal) {
            return Support::No(reason);
        }
        let operand = node.inputs.first().map_or(node.output.dtype, |t| t.dtype);
        let refusal = match node.op {
            Op::Full { .. } | Op::Arange { .. } | Op::Where | Op::Cast(_) => None,
            Op::Clip => (operand == DType::Bool).then(|| "clip on bool is not generated".to_string()),
            Op::Unary(u) => unary_refusal(*u, operand),
            Op::Binary(b) => binary_refusal(*b, operand),
            Op::Reduce { op, correction, .. } => reduce_refusal(*op, operand, *correction),
            op if program::is_view_op(op) => None,
            Op::Matmul => matmul_refusal(node, operand),
            Op::Concat(_) | Op::Stack(_) | Op::Pad { .. } => {
                (node.inputs.len() + 1 > MAX_BINDINGS).then(|| {
                    format!(
                        "{} of {} arrays would bind {} buffers; Vulkan adapters allow {MAX_BINDINGS}",
                        node.op.name(),
                        node.inputs.len(),
                        node.inputs.len() + 1
                    )
                })
            }
            Op::ToDevice(_) => Some("transfers are done by the runtime, not by a kernel".to_string()),
            Op::Input { .. } => Some("inputs are bound by the runtime".to_string()),
            other => Some(format!("{} has a data-dependent shape: not generated", other.name())),
        };
        match refusal {
            None => Support::Yes,
            Some(reason) => Support::No(reason),
        }
    }

    fn precision(&self, op: &Op, dtype: DType) -> Tolerance {
        if dtype != DType::F32 {
            return Tolerance::EXACT;
        }
        match op {
            // Measured on lavapipe over 196,608 values spread over the f32 range (the ignored
            // test `measure_float_precision`), with margin.
            Op::Unary(u) => match u {
                UnaryOp::Exp | UnaryOp::Exp2 => Tolerance::ulps(EXP_ULPS),
                UnaryOp::Sigmoid => Tolerance::ulps(SIGMOID_ULPS),
                UnaryOp::Log | UnaryOp::Log2 => Tolerance::ulps(LOG_ULPS),
                UnaryOp::Log1p | UnaryOp::Expm1 => Tolerance::ulps(LOG1P_ULPS),
                UnaryOp::Tanh => Tolerance::ulps(TANH_ULPS),
                UnaryOp::Sin | UnaryOp::Cos => Tolerance::ulps(SIN_COS_ULPS),
                UnaryOp::Tan => Tolerance::ulps(TAN_ULPS),
                _ => Tolerance::EXACT,
            },
            // Ours, measured over wide sweeps of pairs (the test
            // `pow_and_atan2_are_within_their_declared_ulps_over_wide_sweeps`), with margin.
            Op::Binary(BinaryOp::Pow) => Tolerance::ulps(POW_ULPS),
            Op::Binary(BinaryOp::Atan2) => Tolerance::ulps(ATAN2_ULPS),
            Op::Arange { .. } => Tolerance::ulps(1),
            // Compensated per unit, then a tree of 8 levels: a few f32 ulps of the sum of
            // magnitudes, whatever the length.
            Op::Reduce { op: ReduceOp::Sum | ReduceOp::Mean, .. } => {
                Tolerance { ulps: 2, rel: 4e-6, abs: 0.0 }
            }
            // A sum of squares (all terms positive) of deviations from a mean corrected to
            // about an ulp: a few ulps of the result whatever the data's offset (the
            // conformance suite's `rel` scale, var(|x|), is no larger than var(x)).
            Op::Reduce { op: ReduceOp::Var | ReduceOp::Std, .. } => Tolerance::ulps(MOMENT_ULPS),
            // `rel` is relative to the sum of the magnitudes of the terms, as cpu.gemm's: f32
            // accumulation in order of k is within k * 2^-24 of the exact sum (proven up to
            // k of about 1,600, and far beyond for data that is not adversarial). NaN and
            // infinities are the reference's exactly: a sum that overflows f32 on the way is
            // computed again with scaled operands and its infinite operands apart
            // (`matmul.rs`).
            Op::Matmul => Tolerance { ulps: 2, rel: 1e-4, abs: 0.0 },
            _ => Tolerance::EXACT,
        }
    }

    fn compile(&self, spec: &KernelSpec) -> Result<Arc<dyn CompiledKernel>, LowerError> {
        let (program, data) = match kernel_kind(spec) {
            Kind::Map => map_program(spec)?,
            Kind::Reduce { .. } => reduce_program(spec)?,
            Kind::Matmul { .. } => matmul_program(spec)?,
        };
        let bindings = launch_bindings(&program);
        if bindings > MAX_BINDINGS {
            return Err(compile_error(format!(
                "the kernel would bind {bindings} buffers; Vulkan adapters allow {MAX_BINDINGS} (split the group)"
            )));
        }
        let key = ProgramKey::new(spec, program.clone());
        let program = self.cache.get_or_compile(key, || Ok::<Program, LowerError>(program))?;
        Ok(Arc::new(CubeclKernel::new(program, data, spec.clone())))
    }

    fn describe_kernel(&self, spec: &KernelSpec) -> Option<String> {
        let ops = spec.nodes.iter().filter(|n| !matches!(n.op, Op::Full { .. })).count();
        Some(match kernel_kind(spec) {
            Kind::Map => format!("wgsl, {MAP_UNITS} threads/workgroup, fused {ops} ops"),
            Kind::Reduce { .. } => {
                let moments = matches!(
                    spec.nodes.last().map(|n| &n.op),
                    Some(Op::Reduce { op: ReduceOp::Var | ReduceOp::Std, .. })
                );
                format!(
                    "wgsl, one {}-thread workgroup per output element (long rows in parts){}, fused {ops} ops",
                    1 << REDUCE_LOG2_BLOCK,
                    if moments { ", 4 passes (mean, its correction, spread, squares) and a rescale" } else { "" }
                )
            }
            Kind::Matmul { .. } => {
                format!("wgsl, {t}x{t} tiles in shared memory", t = TILE)
            }
        })
    }

    fn max_fused_nodes(&self) -> usize {
        MAX_FUSED_NODES
    }

    fn device_memory(&self, ordinal: u32) -> Option<Arc<dyn DeviceMemory>> {
        device::CubeclMemory::of(ordinal)
    }

    fn devices(&self) -> Vec<DeviceInfo> {
        device::devices().iter().map(|d| d.info().clone()).collect()
    }

    fn kernel_cache(&self) -> Option<CacheReport> {
        Some(self.cache.report(self.name()))
    }
}
