//! `cpu.gemm`: `matmul` on the CPU through the [`gemm`] crate (0.19).
//!
//! Why `gemm`: it is pure Rust (no C toolchain or system BLAS to find), picks its micro-kernels
//! at run time by CPU feature (SSE, AVX2 with FMA, and AVX-512 with its `x86-v4` feature, which
//! the workspace enables: W6 ran about 1.9x faster with it on an AVX-512 host, and hosts
//! without AVX-512 take the FMA kernels, detected at run time), runs multithreaded
//! on rayon (`Parallelism::Rayon(n)`, the pool the rest of switchyard already uses), takes
//! arbitrary row and column strides, and is well kept (it is the kernel behind `faer`). The
//! alternatives: `matrixmultiply` is also pure Rust but clearly slower on large products and
//! has no f16; OpenBLAS (through `cblas`/`openblas-src`) is fast but a C dependency to build
//! or locate on every platform.
//!
//! What it runs: `matmul` of `f32` or `f64` operands of one dtype, with the array-API shape
//! rules of the reference: 2-D @ 2-D, batched operands whose batch axes broadcast, and 1-D
//! operands (a 1-D left operand is a row `[1, k]`, a 1-D right operand a column `[k, 1]`).
//! Everything else is declared unsupported with a reason and runs elsewhere (`cpu.reference`
//! runs everything). Each output matrix is one `gemm::gemm` call on the row-major input
//! buffers; a batch whose right operand is one shared matrix is a single call with the batch
//! folded into the rows. Large products run multithreaded inside gemm; many small products
//! of a batch run in parallel over rayon instead.
//!
//! Precision: gemm forms products and sums in the operand dtype (with FMA where the CPU has
//! it) and in its own blocking order; the reference accumulates in `f64` in order of `k` and
//! rounds once. See [`GemmBackend`]'s `precision`.
#![warn(missing_docs)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use rayon::prelude::*;
use switchyard_ir::{DType, DeviceKind, Op, OpSetVersion, TensorType, OP_SET_VERSION};

use switchyard_lower::{check_args, CompiledKernel, KernelOperand, KernelSpec, TensorView, TensorViewMut};
use switchyard_lower::{Backend, MatmulGeometry, NodeQuery, Support, Tolerance};
use switchyard_lower::{LowerError, LowerErrorKind};

/// Products of at least this many multiply-adds (`m * k * n`, per matrix or over a batch) run
/// multithreaded; smaller ones run on the calling thread.
const PARALLEL_MIN_MACS: usize = 64 * 64 * 64;

/// The `cpu.gemm` backend: `matmul` of `f32`/`f64` through the `gemm` crate, priority 20
/// (ahead of `cpu.cranelift`, which does not run `matmul`).
#[derive(Clone, Copy, Debug, Default)]
pub struct GemmBackend;

impl GemmBackend {
    /// The backend (it has no state).
    pub fn new() -> GemmBackend {
        GemmBackend
    }
}

/// The sizes of a `matmul` and where each output matrix takes its operands from.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Geometry {
    /// Rows of each product (the batch is folded in when `folded`).
    m: usize,
    /// The contracted length.
    k: usize,
    /// Columns of each product.
    n: usize,
    /// Number of matrices of `m * k` in the left operand's buffer.
    a_count: usize,
    /// Number of matrices of `k * n` in the right operand's buffer.
    b_count: usize,
    /// Number of products computed (0 when the result is empty).
    products: usize,
    /// For each product, in row-major order of the batch: its left and right matrix (only
    /// filled when asked for: `supports` does not need them).
    pairs: Vec<(usize, usize)>,
    /// Output matrices before folding (for descriptions).
    batch: usize,
    /// Rows of one product before folding (for descriptions).
    rows: usize,
}

/// Why a shape cannot run here (completed by the caller into a `Support::No` or an error).
type ShapeError = String;

fn overflow() -> ShapeError {
    "sizes beyond the address space".to_string()
}

impl Geometry {
    /// The geometry of `a @ b` giving `out`, or why it is not a product this backend runs;
    /// with `with_pairs`, the operand matrices of each product too.
    fn of(
        a: &TensorType,
        b: &TensorType,
        out: &TensorType,
        with_pairs: bool,
    ) -> Result<Geometry, ShapeError> {
        // 1-D promotion and the batch broadcast: the core's layout algebra.
        let geo = MatmulGeometry::of(a.shape.dims(), b.shape.dims())?;
        if out.shape.dims() != geo.out.as_slice() {
            return Err(format!("a result shape {} other than {:?}", out.shape, geo.out.as_slice()));
        }
        let (m, k, n) = (geo.m, geo.k, geo.n);
        // The batch extents are the result's leading ones, so their product fits (the `Shape`
        // invariant): no overflow here.
        let batch = geo.products();
        let (a_count, b_count) = (geo.a_matrices, geo.b_matrices);
        // Every element offset gemm computes must fit an isize.
        for (count, r, c) in [(a_count, m, k), (b_count, k, n), (batch, m, n)] {
            let elems = count.checked_mul(r).and_then(|x| x.checked_mul(c)).ok_or_else(overflow)?;
            isize::try_from(elems).map_err(|_| overflow())?;
        }
        let mut g =
            Geometry { m, k, n, a_count, b_count, products: batch, pairs: Vec::new(), batch, rows: m };
        if m == 0 || n == 0 || batch == 0 {
            // The result is empty: nothing to compute.
            g.products = 0;
            return Ok(g);
        }
        if b_count == 1 && a_count == batch && a.shape.rank() >= 2 {
            // One right matrix for every left one, whose matrices are consecutive rows: a
            // single product of `batch * m` rows.
            g.m = batch.checked_mul(m).ok_or_else(overflow)?;
            g.a_count = 1;
            g.products = 1;
            if with_pairs {
                g.pairs.push((0, 0));
            }
            return Ok(g);
        }
        if with_pairs {
            g.pairs = geo.pairs().collect();
        }
        Ok(g)
    }

    /// Multiply-adds of one product, saturating.
    fn macs(&self) -> usize {
        self.m.saturating_mul(self.k).saturating_mul(self.n)
    }

    /// How the products are spread over threads.
    fn threading(&self) -> Threading {
        let one = self.macs();
        if one >= PARALLEL_MIN_MACS {
            Threading::InGemm(rayon::current_num_threads().max(1))
        } else if self.products > 1 && one.saturating_mul(self.products) >= PARALLEL_MIN_MACS {
            Threading::OverBatch
        } else {
            Threading::Single
        }
    }
}

/// How a kernel uses threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Threading {
    /// One thread.
    Single,
    /// gemm splits each product over this many rayon threads.
    InGemm(usize),
    /// The batch's products run in parallel on rayon, each on one thread.
    OverBatch,
}

/// Why `cpu.gemm` does not run this node, or `None` when it does.
fn refusal(node: &NodeQuery<'_>) -> Option<String> {
    if !matches!(node.op, Op::Matmul) {
        return Some("cpu.gemm only runs matmul".into());
    }
    let [a, b] = node.inputs else {
        return Some(format!("matmul: {} operands not supported by cpu.gemm", node.inputs.len()));
    };
    let d = node.output.dtype;
    if !matches!(d, DType::F32 | DType::F64) {
        return Some(format!("matmul: {d} not supported by cpu.gemm (f32 and f64 only)"));
    }
    if a.dtype != d || b.dtype != d {
        return Some(format!(
            "matmul: mixed operand dtypes ({} @ {}) not supported by cpu.gemm (cast to one dtype first)",
            a.dtype, b.dtype
        ));
    }
    match Geometry::of(a, b, node.output, false) {
        Ok(_) => None,
        Err(why) => Some(format!("matmul: {why} not supported by cpu.gemm")),
    }
}

fn compile_error(message: impl Into<String>) -> LowerError {
    LowerError::new(LowerErrorKind::Compile, message)
}

fn kernel_error(message: impl Into<String>) -> LowerError {
    LowerError::new(LowerErrorKind::Kernel, message)
}

/// The one matmul node of a kernel: its operands' argument numbers and types.
fn matmul_of(spec: &KernelSpec) -> Result<(usize, usize, &TensorType), LowerError> {
    let [node] = spec.nodes.as_slice() else {
        return Err(compile_error(format!(
            "cpu.gemm runs one matmul per kernel, got {} nodes",
            spec.nodes.len()
        )));
    };
    if node.op != Op::Matmul {
        return Err(compile_error(format!("cpu.gemm only runs matmul, got {}", node.op)));
    }
    if spec.outputs != [0] {
        return Err(compile_error("a cpu.gemm kernel writes exactly its matmul"));
    }
    let arg = |o: Option<&KernelOperand>| match o {
        Some(&KernelOperand::Arg(i)) if i < spec.inputs.len() => Ok(i),
        other => Err(compile_error(format!("matmul operand {other:?} is not a kernel input"))),
    };
    if node.operands.len() != 2 {
        return Err(compile_error(format!("matmul takes 2 operands, got {}", node.operands.len())));
    }
    Ok((arg(node.operands.first())?, arg(node.operands.get(1))?, &node.ty))
}

impl Backend for GemmBackend {
    fn name(&self) -> &str {
        "cpu.gemm"
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
        20
    }

    fn supports(&self, node: &NodeQuery<'_>) -> Support {
        match refusal(node) {
            None => Support::Yes,
            Some(why) => Support::No(why),
        }
    }

    /// `matmul`: `rel` is relative to the sum of the magnitudes of the terms,
    /// `sum_p |a[i,p] * b[p,j]|`, not to the result (a cancelled result has no relative
    /// accuracy to promise). Any summation order of `k` products is within `k * u` of the
    /// exact sum (u = 2^-24 for f32, 2^-53 for f64), and the reference's own result is within
    /// `u` (f32: its single rounding) or `k * u` (f64) of it. The declared bounds are proven
    /// for `k` up to about 1,600 (f32, 1e-4) and 4,500 (f64, 1e-12) and hold with a wide
    /// margin far beyond that for data that is not adversarial (errors grow like `sqrt(k)`).
    /// NaN and infinities match the reference exactly, except that f32 partial sums are f32:
    /// a sum whose partial terms overflow f32 may be ±inf or NaN where the reference, which
    /// accumulates in f64, is finite.
    fn precision(&self, op: &Op, dtype: DType) -> Tolerance {
        match (op, dtype) {
            (Op::Matmul, DType::F32) => Tolerance { ulps: 0, rel: 1e-4, abs: 0.0 },
            (Op::Matmul, DType::F64) => Tolerance { ulps: 0, rel: 1e-12, abs: 0.0 },
            // It runs nothing else.
            _ => Tolerance::EXACT,
        }
    }

    fn compile(&self, spec: &KernelSpec) -> Result<Arc<dyn CompiledKernel>, LowerError> {
        let (lhs, rhs, out) = matmul_of(spec)?;
        let (a, b) = (&spec.inputs[lhs], &spec.inputs[rhs]);
        let inputs = [a.clone(), b.clone()];
        let query = NodeQuery { op: &Op::Matmul, inputs: &inputs, output: out };
        if let Some(why) = refusal(&query) {
            return Err(compile_error(why));
        }
        let geometry = Geometry::of(a, b, out, true).map_err(compile_error)?;
        Ok(Arc::new(GemmKernel { spec: spec.clone(), lhs, rhs, dtype: out.dtype, geometry }))
    }

    fn describe_kernel(&self, spec: &KernelSpec) -> Option<String> {
        let (lhs, rhs, out) = matmul_of(spec).ok()?;
        let g = Geometry::of(&spec.inputs[lhs], &spec.inputs[rhs], out, false).ok()?;
        let batch = if g.batch != 1 { format!(", batch {}", g.batch) } else { String::new() };
        let threads = match g.threading() {
            Threading::Single => "1 thread".to_string(),
            Threading::InGemm(n) => format!("rayon {n} threads"),
            Threading::OverBatch => format!("batch over rayon {} threads", rayon::current_num_threads()),
        };
        Some(format!("gemm 0.19, m x k x n = {} x {} x {}{batch}, {threads}", g.rows, g.k, g.n))
    }

    fn max_fused_nodes(&self) -> usize {
        1
    }
}

/// A compiled `matmul`: the checked spec and its geometry.
#[derive(Debug)]
struct GemmKernel {
    spec: KernelSpec,
    /// Argument number of the left operand.
    lhs: usize,
    /// Argument number of the right operand.
    rhs: usize,
    dtype: DType,
    geometry: Geometry,
}

/// The element types gemm runs here.
trait Element: bytemuck::Pod + Send + Sync + 'static {
    const ZERO: Self;
    const ONE: Self;
}

impl Element for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;
}

impl Element for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
}

/// `dst = lhs @ rhs` for one row-major `[m, k] @ [k, n]` product.
fn product<T: Element>(
    (m, k, n): (usize, usize, usize),
    lhs: &[T],
    rhs: &[T],
    dst: &mut [T],
    parallelism: gemm::Parallelism,
) -> Result<(), LowerError> {
    let lengths = (m.checked_mul(k), k.checked_mul(n), m.checked_mul(n));
    if lengths != (Some(lhs.len()), Some(rhs.len()), Some(dst.len())) {
        return Err(kernel_error(format!(
            "matmul [{m}, {k}] @ [{k}, {n}] given buffers of {}, {} and {} elements",
            lhs.len(),
            rhs.len(),
            dst.len()
        )));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        dst.fill(T::ZERO);
        return Ok(());
    }
    let stride = |x: usize| isize::try_from(x).map_err(|_| kernel_error("matmul stride beyond isize"));
    let (k_stride, n_stride) = (stride(k)?, stride(n)?);
    // SAFETY: gemm reads `lhs[i * k + p]` for i < m, p < k (row stride k, column stride 1),
    // `rhs[p * n + j]` for p < k, j < n (row stride n, column stride 1), and writes
    // `dst[i * n + j]` for i < m, j < n: the largest offsets are m*k - 1, k*n - 1 and
    // m*n - 1, within the three slices, whose lengths were checked just above (and all
    // offsets fit an isize: slices never exceed isize::MAX bytes). `dst` is a unique borrow,
    // so it overlaps neither input; gemm reads `dst` only with `read_dst` (false here: with
    // alpha forced to zero it is written without being read). T is f32 or f64 (the sealed
    // `Element`), types gemm implements (it panics only on other types).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n_stride,
            false,
            lhs.as_ptr(),
            1,
            k_stride,
            rhs.as_ptr(),
            1,
            n_stride,
            T::ZERO,
            T::ONE,
            false,
            false,
            false,
            parallelism,
        );
    }
    Ok(())
}

impl GemmKernel {
    fn run_typed<T: Element>(&self, a: &[u8], b: &[u8], out: &mut [u8]) -> Result<(), LowerError> {
        let cast_error = |what: &str, e: bytemuck::PodCastError| {
            kernel_error(format!("matmul {what} buffer is not a {} slice: {e:?}", self.dtype))
        };
        // An empty buffer may have any address (a dangling, byte-aligned pointer): no elements.
        let a: &[T] = if a.is_empty() {
            &[]
        } else {
            bytemuck::try_cast_slice(a).map_err(|e| cast_error("left", e))?
        };
        let b: &[T] = if b.is_empty() {
            &[]
        } else {
            bytemuck::try_cast_slice(b).map_err(|e| cast_error("right", e))?
        };
        let out: &mut [T] = if out.is_empty() {
            &mut []
        } else {
            bytemuck::try_cast_slice_mut(out).map_err(|e| cast_error("output", e))?
        };
        let g = &self.geometry;
        let (a_len, b_len, c_len) = (g.m * g.k, g.k * g.n, g.m * g.n);
        if g.products == 0 {
            return Ok(()); // an empty result (check_args verified its length)
        }
        if a.len() != g.a_count * a_len || b.len() != g.b_count * b_len || out.len() != g.pairs.len() * c_len
        {
            return Err(kernel_error("matmul buffers do not match the compiled shapes"));
        }
        let size = (g.m, g.k, g.n);
        let one = |(ia, ib): (usize, usize), dst: &mut [T], par| {
            let lhs = a.get(ia * a_len..(ia + 1) * a_len);
            let rhs = b.get(ib * b_len..(ib + 1) * b_len);
            match (lhs, rhs) {
                (Some(lhs), Some(rhs)) => product(size, lhs, rhs, dst, par),
                _ => Err(kernel_error("matmul batch index out of range")),
            }
        };
        let outs = out.chunks_exact_mut(c_len).zip(g.pairs.iter().copied());
        match g.threading() {
            Threading::OverBatch => outs
                .collect::<Vec<_>>()
                .into_par_iter()
                .try_for_each(|(dst, pair)| one(pair, dst, gemm::Parallelism::None)),
            Threading::InGemm(n) => {
                outs.into_iter().try_for_each(|(dst, pair)| one(pair, dst, gemm::Parallelism::Rayon(n)))
            }
            Threading::Single => {
                outs.into_iter().try_for_each(|(dst, pair)| one(pair, dst, gemm::Parallelism::None))
            }
        }
    }
}

impl CompiledKernel for GemmKernel {
    fn run(&self, inputs: &[TensorView<'_>], outputs: &mut [TensorViewMut<'_>]) -> Result<(), LowerError> {
        check_args(&self.spec, inputs, outputs)?;
        let (a, b) = match (inputs.get(self.lhs), inputs.get(self.rhs)) {
            (Some(a), Some(b)) => (a.data, b.data),
            _ => return Err(kernel_error("matmul operands missing")),
        };
        let out = outputs.first_mut().ok_or_else(|| kernel_error("matmul output missing"))?;
        // gemm panics only on element types it lacks, which `Element` rules out; should it
        // still panic, report an error rather than tear down the caller.
        catch_unwind(AssertUnwindSafe(|| match self.dtype {
            DType::F32 => self.run_typed::<f32>(a, b, out.data),
            DType::F64 => self.run_typed::<f64>(a, b, out.data),
            other => Err(kernel_error(format!("matmul of {other} is not compiled by cpu.gemm"))),
        }))
        .map_err(|_| kernel_error("internal error: gemm panicked"))?
    }

    fn code(&self) -> Option<String> {
        let g = &self.geometry;
        Some(format!(
            "; cpu.gemm: {} product(s) of [{}, {}] @ [{}, {}] ({}), {:?}",
            g.products,
            g.m,
            g.k,
            g.k,
            g.n,
            self.dtype,
            g.threading()
        ))
    }
}

#[cfg(test)]
mod tests {
    //! `cpu.gemm` against `cpu.reference` on random and special values, every shape class,
    //! both threading paths; refusals. (Placement next to `cpu.cranelift` is tested in the
    //! facade's `tests/integration/placement.rs`, where the default registry is.)

    use switchyard_ir::{infer, BinaryOp, SeededRng, Shape};

    use super::*;
    use switchyard_conformance::{aligned, decode as floats, encode, randoms};
    use switchyard_lower::KernelNode;
    use switchyard_lower::ReferenceBackend;

    fn ty(dtype: DType, dims: &[usize]) -> TensorType {
        TensorType { dtype, shape: Shape::new(dims).unwrap() }
    }

    fn spec(a: &TensorType, b: &TensorType) -> KernelSpec {
        let out = infer(&Op::Matmul, &[a, b]).unwrap();
        KernelSpec {
            inputs: vec![a.clone(), b.clone()],
            nodes: vec![KernelNode {
                op: Op::Matmul,
                operands: vec![KernelOperand::Arg(0), KernelOperand::Arg(1)],
                ty: out,
            }],
            outputs: vec![0],
        }
    }

    /// Random values with NaN, infinities and signed zeros sprinkled in (about 1 in `every`).
    fn with_specials(n: usize, seed: u64, every: usize) -> Vec<f64> {
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0];
        // Which elements turn special is a stream of its own (`randoms` draws from `seed`).
        let mut rng = SeededRng::new(!seed);
        randoms(n, seed)
            .into_iter()
            .map(|x| if rng.below(every) == 0 { *rng.pick(&specials) } else { x })
            .collect()
    }

    /// The values in `dtype`, in an 8-byte-aligned buffer (as the runtime's are).
    fn bytes(dtype: DType, values: &[f64]) -> Vec<u64> {
        aligned(&encode(dtype, values))
    }

    /// The first `n` bytes of `words`.
    fn view(words: &[u64], n: usize) -> &[u8] {
        &bytemuck::cast_slice(words)[..n]
    }

    /// Compiles `spec` on `backend` and runs it on `inputs` (values cast to the dtypes).
    fn run(backend: &dyn Backend, spec: &KernelSpec, inputs: &[&[f64]]) -> Vec<f64> {
        let in_bytes: Vec<Vec<u64>> =
            spec.inputs.iter().zip(inputs).map(|(t, v)| bytes(t.dtype, v)).collect();
        let views: Vec<TensorView<'_>> = spec
            .inputs
            .iter()
            .zip(&in_bytes)
            .map(|(t, b)| TensorView {
                dtype: t.dtype,
                shape: &t.shape,
                data: view(b, t.shape.numel() * t.dtype.size_bytes()),
            })
            .collect();
        let out = &spec.nodes[0].ty;
        let out_len = out.shape.numel() * out.dtype.size_bytes();
        // Poisoned with NaN: every element must be written.
        let mut buf = bytes(out.dtype, &vec![f64::NAN; out.shape.numel()]);
        let kernel = backend.compile(spec).unwrap_or_else(|e| panic!("{}: {e}", backend.name()));
        let data = &mut bytemuck::cast_slice_mut(&mut buf)[..out_len];
        let mut outs = [TensorViewMut { dtype: out.dtype, shape: &out.shape, data }];
        kernel.run(&views, &mut outs).unwrap_or_else(|e| panic!("{}: {e}", backend.name()));
        floats(out.dtype, view(&buf, out_len))
    }

    /// `a @ b` on cpu.gemm against cpu.reference, within the declared precision: `rel` times
    /// the sum of the magnitudes of the terms (computed by the reference on |a| and |b|).
    /// NaN must be NaN, infinities equal, zeros of the same sign.
    fn check(dtype: DType, a_dims: &[usize], b_dims: &[usize], a: &[f64], b: &[f64]) {
        let spec = spec(&ty(dtype, a_dims), &ty(dtype, b_dims));
        let want = run(&ReferenceBackend, &spec, &[a, b]);
        let got = run(&GemmBackend, &spec, &[a, b]);
        let abs = |v: &[f64]| v.iter().map(|x| x.abs()).collect::<Vec<f64>>();
        let scale = run(&ReferenceBackend, &spec, &[&abs(a), &abs(b)]);
        let tol = GemmBackend.precision(&Op::Matmul, dtype);
        assert_eq!(want.len(), got.len());
        let what = format!("{dtype}{a_dims:?} @ {b_dims:?}");
        for (i, ((&w, &g), &s)) in want.iter().zip(&got).zip(&scale).enumerate() {
            let ok = if w.is_nan() {
                g.is_nan()
            } else if w.is_infinite() || w == 0.0 && s == 0.0 {
                g == w && g.is_sign_negative() == w.is_sign_negative()
            } else {
                g.is_finite() && (g - w).abs() <= tol.rel * s
            };
            assert!(ok, "{what}: element {i}: reference {w:e}, gemm {g:e}, scale {s:e}");
        }
    }

    fn check_random(dtype: DType, a_dims: &[usize], b_dims: &[usize], seed: u64) {
        let a = randoms(a_dims.iter().product(), seed);
        let b = randoms(b_dims.iter().product(), seed + 1);
        check(dtype, a_dims, b_dims, &a, &b);
    }

    const FLOATS: [DType; 2] = [DType::F32, DType::F64];

    #[test]
    fn two_d_products_match_the_reference() {
        for dtype in FLOATS {
            for (i, (a, b)) in [
                (&[1, 1][..], &[1, 1][..]),
                (&[7, 13], &[13, 5]),
                (&[1, 13], &[13, 1]),
                (&[33, 17], &[17, 65]),
                (&[3, 1], &[1, 4]),
                (&[2, 1000], &[1000, 3]),
            ]
            .into_iter()
            .enumerate()
            {
                check_random(dtype, a, b, i as u64 * 10);
            }
        }
    }

    #[test]
    fn products_big_enough_for_rayon_match_the_reference() {
        let g = Geometry::of(
            &ty(DType::F32, &[200, 300]),
            &ty(DType::F32, &[300, 100]),
            &ty(DType::F32, &[200, 100]),
            false,
        )
        .unwrap();
        assert!(matches!(g.threading(), Threading::InGemm(_)), "{:?}", g.threading());
        for dtype in FLOATS {
            check_random(dtype, &[200, 300], &[300, 100], 7);
        }
    }

    #[test]
    fn batched_and_one_d_operands_match_the_reference() {
        for dtype in FLOATS {
            for (i, (a, b)) in [
                (&[2, 3, 7, 5][..], &[3, 5, 4][..]), // batch broadcast in both
                (&[4, 6, 8], &[8, 3]),               // folded into one product
                (&[4, 6, 8], &[1, 8, 3]),            // folded, size-1 batch on the right
                (&[6, 8], &[4, 8, 3]),               // left broadcast
                (&[2, 1, 5, 6], &[1, 3, 6, 2]),
                (&[4, 100, 80], &[80, 90]),     // folded, multithreaded in gemm
                (&[64, 20, 20], &[64, 20, 20]), // many small products in parallel
                (&[13], &[13, 5]),
                (&[7, 13], &[13]),
                (&[13], &[13]),
                (&[3, 7, 13], &[13]),
                (&[13], &[2, 13, 5]),
                (&[1, 1], &[1]),
            ]
            .into_iter()
            .enumerate()
            {
                check_random(dtype, a, b, 100 + i as u64);
            }
        }
        let threading = |a: &[usize], b: &[usize]| {
            let (a, b) = (ty(DType::F32, a), ty(DType::F32, b));
            let out = infer(&Op::Matmul, &[&a, &b]).unwrap();
            Geometry::of(&a, &b, &out, true).unwrap().threading()
        };
        assert_eq!(threading(&[64, 20, 20], &[64, 20, 20]), Threading::OverBatch);
        assert!(matches!(threading(&[4, 100, 80], &[80, 90]), Threading::InGemm(_)));
        assert_eq!(threading(&[7, 13], &[13, 5]), Threading::Single);
    }

    #[test]
    fn nan_and_infinities_propagate_like_the_reference() {
        for dtype in FLOATS {
            for (i, (a, b, every)) in
                [(&[7, 13][..], &[13, 5][..], 7), (&[100, 90], &[90, 110], 200), (&[3, 9, 4], &[4, 6], 5)]
                    .into_iter()
                    .enumerate()
            {
                let seed = 1000 + i as u64;
                let av = with_specials(a.iter().product(), seed, every);
                let bv = with_specials(b.iter().product(), seed + 1, every);
                check(dtype, a, b, &av, &bv);
            }
            // Zeros only: +0, as the reference (which sums from +0.0).
            check(dtype, &[2, 3], &[3, 2], &[-0.0; 6], &[0.0; 6]);
        }
    }

    #[test]
    fn empty_dimensions_give_zeros_or_nothing() {
        for dtype in FLOATS {
            // k = 0: every element is +0 (the poisoned buffer is overwritten).
            let s = spec(&ty(dtype, &[3, 0]), &ty(dtype, &[0, 4]));
            let got = run(&GemmBackend, &s, &[&[], &[]]);
            assert_eq!(got.len(), 12);
            assert!(got.iter().all(|x| *x == 0.0 && x.is_sign_positive()), "{got:?}");
            let s = spec(&ty(dtype, &[2, 3, 0]), &ty(dtype, &[0]));
            assert_eq!(run(&GemmBackend, &s, &[&[], &[]]), vec![0.0; 6]);
            // m = 0, n = 0, empty batch: nothing to write.
            for (a, b) in
                [(&[0, 3][..], &[3, 4][..]), (&[3, 4], &[4, 0]), (&[0, 2, 3], &[3, 5]), (&[2, 3], &[0, 3, 5])]
            {
                check_random(dtype, a, b, 9);
            }
        }
    }

    #[test]
    fn the_refusals_say_what_is_not_supported() {
        let ask = |op: &Op, inputs: &[TensorType]| {
            let refs: Vec<&TensorType> = inputs.iter().collect();
            let out = infer(op, &refs).unwrap();
            GemmBackend.supports(&NodeQuery { op, inputs, output: &out })
        };
        let (f32m, f64m) = (ty(DType::F32, &[2, 3]), ty(DType::F64, &[3, 2]));
        assert_eq!(ask(&Op::Matmul, &[f32m.clone(), ty(DType::F32, &[3, 2])]), Support::Yes);
        assert_eq!(
            ask(&Op::Binary(BinaryOp::Add), &[f32m.clone(), f32m.clone()]),
            Support::no("cpu.gemm only runs matmul")
        );
        let Support::No(why) = ask(&Op::Matmul, &[ty(DType::I64, &[2, 3]), ty(DType::I64, &[3, 2])]) else {
            panic!("i64 matmul accepted")
        };
        assert_eq!(why, "matmul: i64 not supported by cpu.gemm (f32 and f64 only)");
        let Support::No(why) = ask(&Op::Matmul, &[f32m, f64m]) else { panic!("mixed matmul accepted") };
        assert!(
            why.starts_with("matmul: mixed operand dtypes (f32 @ f64) not supported by cpu.gemm"),
            "{why}"
        );
        // A result type that is not the product's is refused with the shape.
        let (a, b) = (ty(DType::F32, &[2, 3]), ty(DType::F32, &[3, 4]));
        let wrong = ty(DType::F32, &[4, 2]);
        let Support::No(why) =
            GemmBackend.supports(&NodeQuery { op: &Op::Matmul, inputs: &[a, b], output: &wrong })
        else {
            panic!("wrong result shape accepted")
        };
        assert!(
            why.starts_with("matmul: a result shape") && why.ends_with("not supported by cpu.gemm"),
            "{why}"
        );
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let s = spec(&ty(DType::F32, &[2, 3]), &ty(DType::F32, &[3, 2]));
        let kernel = GemmBackend.compile(&s).unwrap();
        let out_shape = Shape::new(&[2, 2]).unwrap();
        // One byte past an aligned start: the views have the right lengths but are misaligned.
        let storage = vec![0f32; 8];
        let raw: &[u8] = bytemuck::cast_slice(&storage);
        let (a, b) = (&raw[1..25], &raw[1..25]);
        let mut out = vec![0f32; 4];
        let views = [
            TensorView { dtype: DType::F32, shape: &s.inputs[0].shape, data: a },
            TensorView { dtype: DType::F32, shape: &s.inputs[1].shape, data: b },
        ];
        let mut outs = [TensorViewMut {
            dtype: DType::F32,
            shape: &out_shape,
            data: bytemuck::cast_slice_mut(&mut out),
        }];
        let e = kernel.run(&views, &mut outs).unwrap_err();
        assert_eq!(e.kind(), LowerErrorKind::Kernel);
        // Too few inputs.
        assert_eq!(kernel.run(&views[..1], &mut outs).unwrap_err().kind(), LowerErrorKind::Kernel);
        // A kernel of anything else is not compiled.
        let mut other = s.clone();
        other.nodes[0].op = Op::Binary(BinaryOp::Add);
        assert_eq!(GemmBackend.compile(&other).unwrap_err().kind(), LowerErrorKind::Compile);
    }

    #[test]
    fn cpu_gemm_passes_the_conformance_suite() {
        let report = switchyard_conformance::check(&GemmBackend);
        assert!(report.is_ok(), "{report}");
        assert!(
            report.is_verified("matmul", DType::F32) && report.is_verified("matmul", DType::F64),
            "{report}"
        );
    }
}
