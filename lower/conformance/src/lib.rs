//! The conformance kit: checks every claim a backend makes against `cpu.reference`.
//!
//! A backend author adds this crate as a dev-dependency; nothing needs it at run time (the
//! engine trusts the declarations; `switchyard support-table` runs the kit to mark what it
//! verified, [`verified_support_table`]).
//!
//! A backend author calls [`check`] on their backend in one test:
//!
//! ```
//! use switchyard_lower::ReferenceBackend;
//! let report = switchyard_conformance::check(&ReferenceBackend);
//! assert!(report.is_ok(), "{report}");
//! ```
//!
//! For every op of the catalog, every dtype and a few attribute variants (reduction axes,
//! `keepdims`), the suite asks the backend whether it supports the node. Each claim ("yes")
//! is run on cases built from random and special values (NaN, ±inf, ±0, subnormals, huge,
//! integer extremes), an empty array, broadcast operands and, where the backend also claims
//! a transpose, a non-contiguous (transposed) operand; every case runs on the backend and on
//! the reference and is compared within the precision the backend declares for that op and
//! dtype ([`Tolerance`]). Integers and bools must match exactly; NaN must match NaN and
//! infinities exactly. For accumulating ops (`sum mean var std prod matmul`), `rel` is taken
//! relative to the sum of the magnitudes of the terms (the reference run on `|x|`), because
//! cancellation makes an error relative to the result itself meaningless.
//!
//! Each op alone is not enough: a driver may simplify arithmetic inside a kernel (Vulkan
//! allows it to reassociate, and to fold `x - x` to 0). So the suite also runs fused
//! identity-prone patterns on every float dtype (`x - x`, `(x + y) - y`, `x * 0`, `x / x`,
//! `x + 0` and `x + -0`, `(x * y) / y`, `maximum(x, x)`, `(x + y) - (y + x)`, `x * y + x`,
//! reductions of such producers, ...), over every pair of special values (±0, ±inf, NaN,
//! subnormals, huge, values whose sums round): as one kernel on a backend that fuses that
//! many nodes, node by node on one that does not. Each is a claim of the pattern's last op
//! (variant `fused: <pattern>`), so a backend that does not keep them loses that op's
//! verified mark in the support table. The allowed error is the sum of the tolerances the
//! backend declares for the pattern's ops; NaN, infinities and (where exact) the sign of
//! zero must match.
#![warn(missing_docs)]

use std::fmt;

use switchyard_ir::{
    catalog, infer, BinaryOp, DType, DeviceKind, Op, ReduceOp, Scalar, SeededRng, Shape, TensorType, UnaryOp,
};

use switchyard_lower::ReferenceBackend;
use switchyard_lower::{row_name, sample, support_table, Registry, SupportTable};
use switchyard_lower::{Backend, NodeQuery, Support, Tolerance};
use switchyard_lower::{CompiledKernel, KernelNode, KernelOperand, KernelSpec, TensorView, TensorViewMut};
use switchyard_lower::{DeviceBuffer, DeviceView};

/// [`support_table`] with every backend's claims run through the suite and the verified
/// cells marked (what `switchyard support-table` and the README show).
pub fn verified_support_table(registry: &Registry) -> SupportTable {
    let mut table = support_table(registry);
    for backend in registry.backends() {
        let report = check(backend.as_ref());
        table.mark_verified(&report.backend, |op, dtype| report.is_verified(op, dtype));
    }
    table
}

/// What the suite concluded about one claim.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    /// Every case matched the reference within the declared precision.
    Verified {
        /// How many cases ran.
        cases: usize,
    },
    /// A case did not match (or did not compile or run).
    Failed {
        /// The case that failed.
        case: String,
        /// The worst element: reference value, backend value, and the allowed error.
        detail: String,
    },
    /// The backend does not claim this op, dtype and variant.
    NotClaimed {
        /// The backend's reason.
        reason: String,
    },
}

/// One claim: an op (with an attribute variant) on one dtype.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ClaimResult {
    /// The op's row name in the support table.
    pub op: String,
    /// The attribute variant (`axes=[1]`, ...), empty when the op has one form.
    pub variant: String,
    /// The operands' dtype.
    pub dtype: DType,
    /// The declared precision checked.
    pub precision: String,
    /// The verdict.
    pub verdict: Verdict,
}

/// The suite's findings for one backend.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ConformanceReport {
    /// The backend's name.
    pub backend: String,
    /// Every claim examined.
    pub claims: Vec<ClaimResult>,
}

impl ConformanceReport {
    /// True when no claim failed.
    pub fn is_ok(&self) -> bool {
        self.failed().next().is_none()
    }

    /// The failed claims.
    pub fn failed(&self) -> impl Iterator<Item = &ClaimResult> {
        self.claims.iter().filter(|c| matches!(c.verdict, Verdict::Failed { .. }))
    }

    /// The verified claims.
    pub fn verified(&self) -> impl Iterator<Item = &ClaimResult> {
        self.claims.iter().filter(|c| matches!(c.verdict, Verdict::Verified { .. }))
    }

    /// The verdict for `op` (a support-table row name) on `dtype` in its first variant.
    pub fn verdict(&self, op: &str, dtype: DType) -> Option<&Verdict> {
        self.claims.iter().find(|c| c.op == op && c.dtype == dtype).map(|c| &c.verdict)
    }

    /// True when every examined variant of `op` on `dtype` that was claimed was verified,
    /// and at least one was.
    pub fn is_verified(&self, op: &str, dtype: DType) -> bool {
        let mut any = false;
        for c in self.claims.iter().filter(|c| c.op == op && c.dtype == dtype) {
            match c.verdict {
                Verdict::Verified { .. } => any = true,
                Verdict::Failed { .. } => return false,
                Verdict::NotClaimed { .. } => {}
            }
        }
        any
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |pred: fn(&Verdict) -> bool| self.claims.iter().filter(|c| pred(&c.verdict)).count();
        writeln!(
            f,
            "conformance of {}: {} verified, {} failed, {} not claimed",
            self.backend,
            n(|v| matches!(v, Verdict::Verified { .. })),
            n(|v| matches!(v, Verdict::Failed { .. })),
            n(|v| matches!(v, Verdict::NotClaimed { .. })),
        )?;
        for c in self.failed() {
            if let Verdict::Failed { case, detail } = &c.verdict {
                let variant = if c.variant.is_empty() { String::new() } else { format!(" ({})", c.variant) };
                writeln!(
                    f,
                    "  FAILED {}{variant} on {} (declared {}): case {case}: {detail}",
                    c.op, c.dtype, c.precision
                )?;
            }
        }
        Ok(())
    }
}

/// One input case: a label and the operands' types and values.
struct Case {
    label: String,
    inputs: Vec<TensorType>,
    /// A transpose node in front of operand 0 (the operand is stored transposed).
    transpose_first: bool,
}

/// Runs the suite on `backend`.
pub fn check(backend: &dyn Backend) -> ConformanceReport {
    let mut claims = Vec::new();
    for base in catalog() {
        if matches!(base, Op::ToDevice(_) | Op::Input { .. }) {
            continue; // not kernel ops: placement and the runtime handle them
        }
        for dtype in DType::ALL {
            let (op0, inputs0) = sample(&base, dtype);
            let refs: Vec<&TensorType> = inputs0.iter().collect();
            if infer(&op0, &refs).is_err() {
                continue; // undefined or eager-only: nothing to claim
            }
            for (variant, op) in variants(&op0) {
                claims.push(check_claim(backend, &op, &variant, dtype, &inputs0));
            }
        }
    }
    for dtype in DType::ALL.into_iter().filter(|d| d.is_float()) {
        for pattern in PATTERNS {
            claims.push(check_pattern(backend, pattern, dtype));
        }
    }
    ConformanceReport { backend: backend.name().to_string(), claims }
}

/// Attribute variants of an op worth checking separately.
fn variants(op: &Op) -> Vec<(String, Op)> {
    match op {
        Op::Reduce { op: r, correction, .. } => {
            let mk = |axes: &[usize], keepdims: bool| Op::Reduce {
                op: *r,
                axes: axes.iter().copied().collect(),
                keepdims,
                correction: *correction,
            };
            let mut v = vec![
                ("axes=[1]".to_string(), mk(&[1], false)),
                ("axes=[0,1]".to_string(), mk(&[0, 1], false)),
                ("axes=[0], keepdims".to_string(), mk(&[0], true)),
            ];
            if matches!(r, ReduceOp::ArgMax | ReduceOp::ArgMin) {
                v.truncate(1);
            }
            if matches!(r, ReduceOp::Var | ReduceOp::Std) {
                let mut corrected = mk(&[1], false);
                if let Op::Reduce { correction, .. } = &mut corrected {
                    *correction = 1;
                }
                v.push(("axes=[1], correction=1".to_string(), corrected));
            }
            v
        }
        Op::Concat(_) => (0..2).map(|a| (format!("axis={a}"), Op::Concat(a))).collect(),
        Op::Stack(_) => (0..3).map(|a| (format!("axis={a}"), Op::Stack(a))).collect(),
        Op::Pad { value, .. } => vec![
            (String::new(), op.clone()),
            (
                "2-d, widths [(1,2),(0,3)]".to_string(),
                Op::Pad { widths: vec![(1, 2), (0, 3)], value: *value },
            ),
        ],
        other => vec![(String::new(), other.clone())],
    }
}

/// Dims `[3, 5]` with `extent` on `axis` (for joins along `axis`).
fn join_dims(axis: usize, extent: usize) -> Vec<usize> {
    let mut dims = vec![3, 5];
    if let Some(d) = dims.get_mut(axis) {
        *d = extent;
    }
    dims
}

fn is_accumulating(op: &Op) -> bool {
    matches!(
        op,
        Op::Matmul
            | Op::Reduce {
                op: ReduceOp::Sum | ReduceOp::Mean | ReduceOp::Var | ReduceOp::Std | ReduceOp::Prod,
                ..
            }
    )
}

/// The cases for `op`, given the representative operand types of the support table.
fn cases(op: &Op, dtype: DType, sample_inputs: &[TensorType]) -> Vec<Case> {
    let t = |d: DType, dims: &[usize]| TensorType { dtype: d, shape: Shape::new(dims).unwrap_or_default() };
    let with_dims = |dims: &[&[usize]]| -> Vec<TensorType> {
        sample_inputs.iter().zip(dims).map(|(s, d)| t(s.dtype, d)).collect()
    };
    let arity = sample_inputs.len();
    let case = |label: &str, inputs: Vec<TensorType>| Case {
        label: label.to_string(),
        inputs,
        transpose_first: false,
    };
    match op {
        Op::Matmul => vec![
            case("3x5 @ 5x4", with_dims(&[&[3, 5], &[5, 4]])),
            case("7x13 @ 13x5", with_dims(&[&[7, 13], &[13, 5]])),
            case("empty k: 2x0 @ 0x3", with_dims(&[&[2, 0], &[0, 3]])),
            case("empty m: 0x3 @ 3x2", with_dims(&[&[0, 3], &[3, 2]])),
        ],
        Op::Reduce { .. } => vec![
            case("specials 5x41", vec![t(dtype, &[5, 41])]),
            case("empty rows 3x0", vec![t(dtype, &[3, 0])]),
            case("empty 0x4", vec![t(dtype, &[0, 4])]),
            Case { label: "transposed 41x5".into(), inputs: vec![t(dtype, &[41, 5])], transpose_first: true },
        ],
        // Joins: parts of several sizes, an empty part, more than two parts, and a transposed
        // (non-contiguous) first part.
        Op::Concat(axis) => {
            let dims = |extents: &[usize]| -> Vec<TensorType> {
                extents.iter().map(|&e| t(dtype, &join_dims(*axis, e))).collect()
            };
            let mut transposed = dims(&[4, 2]);
            transposed[0] = t(dtype, &join_dims(*axis, 4).into_iter().rev().collect::<Vec<_>>());
            vec![
                case("two parts", dims(&[4, 2])),
                case("three parts, one empty", dims(&[3, 0, 4])),
                Case { label: "transposed first part".into(), inputs: transposed, transpose_first: true },
            ]
        }
        Op::Stack(_) => vec![
            case("two parts", vec![t(dtype, &[3, 5]); 2]),
            case("three parts", vec![t(dtype, &[3, 5]); 3]),
            case("empty parts", vec![t(dtype, &[0, 5]); 2]),
            Case {
                label: "transposed first part".into(),
                inputs: vec![t(dtype, &[5, 3]), t(dtype, &[3, 5])],
                transpose_first: true,
            },
        ],
        Op::Pad { widths, .. } if widths.len() == 2 => vec![
            case("3x5", vec![t(dtype, &[3, 5])]),
            case("empty 0x4", vec![t(dtype, &[0, 4])]),
            Case { label: "transposed 5x3".into(), inputs: vec![t(dtype, &[5, 3])], transpose_first: true },
        ],
        Op::Unary(_) | Op::Binary(_) | Op::Where | Op::Cast(_) | Op::Clip => {
            let n = 67; // odd: vector bodies and scalar tails both run
            let mut v = vec![
                case("specials and randoms", with_dims(&vec![&[n][..]; arity])),
                case("empty", with_dims(&vec![&[0][..]; arity])),
            ];
            if arity >= 2 {
                let mut dims: Vec<&[usize]> = vec![&[3, 1], &[1, 5]];
                dims.extend(std::iter::repeat_n(&[5][..], arity - 2));
                v.push(case("broadcast 3x1 with 1x5", with_dims(&dims)));
            } else {
                v.push(case("0-d", with_dims(&[&[]])));
            }
            let mut dims: Vec<&[usize]> = vec![&[7, 3]];
            dims.extend(std::iter::repeat_n(&[3, 7][..], arity.saturating_sub(1)));
            v.push(Case {
                label: "transposed operand".into(),
                inputs: with_dims(&dims),
                transpose_first: true,
            });
            v
        }
        _ => vec![case("specials and randoms", sample_inputs.to_vec())],
    }
}

fn check_claim(
    backend: &dyn Backend,
    op: &Op,
    variant: &str,
    dtype: DType,
    sample_inputs: &[TensorType],
) -> ClaimResult {
    let tol = backend.precision(op, dtype);
    let mut result = ClaimResult {
        op: row_name(op),
        variant: variant.to_string(),
        dtype,
        precision: tol.to_string(),
        verdict: Verdict::NotClaimed { reason: String::new() },
    };
    let mut ran = 0;
    let mut first_reason: Option<String> = None;
    for (k, case) in cases(op, dtype, sample_inputs).into_iter().enumerate() {
        let Some(spec) = build_spec(op, &case) else { continue };
        // The backend must claim every node of the case (a transposed case also needs the
        // transpose); a case it does not claim is skipped, not failed. The reason reported
        // is the one for the op under test (the last node), not for the helper transpose.
        let refusal = spec.nodes.iter().enumerate().find_map(|(i, node)| {
            let ins: Vec<TensorType> = node
                .operands
                .iter()
                .map(|o| match *o {
                    KernelOperand::Arg(a) => spec.inputs[a].clone(),
                    KernelOperand::Node(n) => spec.nodes[n].ty.clone(),
                })
                .collect();
            match backend.supports(&NodeQuery { op: &node.op, inputs: &ins, output: &node.ty }) {
                Support::Yes => None,
                Support::No(reason) => Some((i + 1 == spec.nodes.len(), reason)),
            }
        });
        if let Some((is_op, reason)) = refusal {
            if is_op {
                first_reason.get_or_insert(reason);
            }
            continue;
        }
        if let Err(detail) = run_case(backend, op, &spec, tol, k as u64) {
            result.verdict = Verdict::Failed { case: case.label, detail };
            return result;
        }
        ran += 1;
    }
    result.verdict = if ran > 0 {
        Verdict::Verified { cases: ran }
    } else {
        Verdict::NotClaimed { reason: first_reason.unwrap_or_else(|| "no case applies".into()) }
    };
    result
}

/// The kernel for one case: the op over kernel arguments (behind a transpose for the first
/// operand when the case asks for one). `None` when the case is not well-typed.
fn build_spec(op: &Op, case: &Case) -> Option<KernelSpec> {
    let mut nodes = Vec::new();
    let mut operands: Vec<KernelOperand> = (0..case.inputs.len()).map(KernelOperand::Arg).collect();
    let mut types: Vec<TensorType> = case.inputs.clone();
    if case.transpose_first {
        let first = case.inputs.first()?;
        let rank = first.shape.rank();
        let perm = Op::PermuteDims((0..rank).rev().collect());
        let ty = infer(&perm, &[first]).ok()?;
        nodes.push(KernelNode { op: perm, operands: vec![KernelOperand::Arg(0)], ty: ty.clone() });
        operands[0] = KernelOperand::Node(0);
        types[0] = ty;
    }
    let refs: Vec<&TensorType> = types.iter().collect();
    let ty = infer(op, &refs).ok()?;
    nodes.push(KernelNode { op: op.clone(), operands, ty });
    let last = nodes.len() - 1;
    Some(KernelSpec { inputs: case.inputs.clone(), nodes, outputs: vec![last] })
}

/// `n` seeded pseudo-random values, uniform in `[-20, 20)`, drawn from the project's one
/// generator ([`SeededRng`]: the same on every platform). Also the test data of the backends'
/// own tests.
pub fn randoms(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = SeededRng::new(seed);
    (0..n).map(|_| plus_minus_20(rng.next_unit())).collect()
}

/// `u` in `[0, 1)` (a multiple of 2^-53, as [`SeededRng::next_unit`] gives) mapped onto
/// `[-20, 20)`: minus 0.5 is exact, and times 40 the largest, 20 - 5 * 2^-50, rounds to
/// 20 - 2^-48, so -20 is reached and 20 never is.
fn plus_minus_20(u: f64) -> f64 {
    (u - 0.5) * 40.0
}

/// Special values first, then seeded randoms, `n` in all, as `f64` (converted per dtype).
fn values(dtype: DType, n: usize, seed: u64) -> Vec<f64> {
    let specials: Vec<f64> = match dtype {
        DType::Bool => vec![0.0, 1.0, 1.0, 0.0],
        DType::I32 => vec![0.0, 1.0, -1.0, 2.0, -7.0, 100.0, f64::from(i32::MAX), f64::from(i32::MIN)],
        DType::I64 => vec![0.0, 1.0, -1.0, 2.0, -7.0, 100.0, i64::MAX as f64, i64::MIN as f64],
        _ => {
            let (sub, huge) = if dtype == DType::F32 { (1e-40, 1e38) } else { (1e-310, 1e300) };
            vec![
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.5,
                -2.5,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                sub,
                -sub,
                huge,
                -huge,
                88.7,
                -103.9,
                3.0,
            ]
        }
    };
    let mut out: Vec<f64> = specials.into_iter().cycle().take(n.min(16)).collect();
    let fill = n.saturating_sub(out.len());
    out.extend(randoms(fill, seed).into_iter().map(|r| match dtype {
        DType::Bool => f64::from(u8::from(r < 0.0)),
        DType::I32 | DType::I64 => (r * 50.0).round(),
        _ => r,
    }));
    out.truncate(n);
    out
}

/// `v` as the little-endian bytes of `dtype` (`as` conversions: ints saturate).
pub fn encode(dtype: DType, v: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * dtype.size_bytes());
    for &x in v {
        match dtype {
            DType::Bool => out.push(u8::from(x != 0.0)),
            DType::I32 => out.extend_from_slice(&(x as i32).to_le_bytes()),
            DType::I64 => out.extend_from_slice(&(x as i64).to_le_bytes()),
            DType::F32 => out.extend_from_slice(&(x as f32).to_le_bytes()),
            DType::F64 => out.extend_from_slice(&x.to_le_bytes()),
        }
    }
    out
}

/// Little-endian bytes of `dtype` as `f64` values.
pub fn decode(dtype: DType, b: &[u8]) -> Vec<f64> {
    let w = dtype.size_bytes().max(1);
    b.chunks_exact(w)
        .map(|c| match dtype {
            DType::Bool => f64::from(c[0]),
            DType::I32 => f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            DType::I64 => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f64,
            DType::F32 => f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            DType::F64 => f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        })
        .collect()
}

/// A copy of `bytes` in 8-byte-aligned storage (runtime buffers are 64-byte aligned; a
/// `Vec<u8>` promises nothing), padded to whole words.
pub fn aligned(bytes: &[u8]) -> Vec<u64> {
    let mut words = vec![0u64; bytes.len().div_ceil(8)];
    bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
    words
}

/// Runs `spec` on `backend` over `inputs` (byte buffers, passed in aligned storage); the
/// output bytes.
fn run_on(backend: &dyn Backend, spec: &KernelSpec, inputs: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let kernel = backend.compile(spec).map_err(|e| format!("compile: {e}"))?;
    if backend.device_kind() != DeviceKind::Cpu {
        return run_on_device(backend, kernel.as_ref(), spec, inputs);
    }
    let words: Vec<Vec<u64>> = inputs.iter().map(|b| aligned(b)).collect();
    let views: Vec<TensorView<'_>> = spec
        .inputs
        .iter()
        .zip(inputs.iter().zip(&words))
        .map(|(t, (b, w))| TensorView {
            dtype: t.dtype,
            shape: &t.shape,
            data: &bytemuck::cast_slice::<u64, u8>(w)[..b.len()],
        })
        .collect();
    let out_ty = spec.output_types().next().ok_or("kernel without output")?;
    let out_len = out_ty.shape.numel() * out_ty.dtype.size_bytes();
    let mut out = vec![0u64; out_len.div_ceil(8)];
    let data = &mut bytemuck::cast_slice_mut::<u64, u8>(&mut out)[..out_len];
    let mut outs = [TensorViewMut { dtype: out_ty.dtype, shape: &out_ty.shape, data }];
    kernel.run(&views, &mut outs).map_err(|e| format!("run: {e}"))?;
    Ok(bytemuck::cast_slice::<u64, u8>(&out)[..out_len].to_vec())
}

/// [`run_on`] for a device backend: upload to its first device, run there, download.
fn run_on_device(
    backend: &dyn Backend,
    kernel: &dyn CompiledKernel,
    spec: &KernelSpec,
    inputs: &[Vec<u8>],
) -> Result<Vec<u8>, String> {
    let memory = backend.device_memory(0).ok_or_else(|| {
        format!("{} offers no device to run on (no {} device here)", backend.name(), backend.device_kind())
    })?;
    let bufs: Vec<DeviceBuffer> = spec
        .inputs
        .iter()
        .zip(inputs)
        .map(|(t, b)| memory.upload(t.dtype, b))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("upload: {e}"))?;
    let views: Vec<DeviceView<'_>> = spec
        .inputs
        .iter()
        .zip(&bufs)
        .map(|(t, b)| DeviceView { dtype: t.dtype, shape: &t.shape, buffer: b })
        .collect();
    let out_ty = spec.output_types().next().ok_or("kernel without output")?;
    let out = memory.alloc(out_ty.dtype, out_ty.shape.numel()).map_err(|e| format!("alloc: {e}"))?;
    let outs = [DeviceView { dtype: out_ty.dtype, shape: &out_ty.shape, buffer: &out }];
    kernel.run_device(&views, &outs).map_err(|e| format!("run: {e}"))?;
    memory.download(out_ty.dtype, &out).map_err(|e| format!("download: {e}"))
}

/// Distance of two finite values in units in the last place of `dtype` (`-0` and `+0` are
/// 0 apart).
pub fn ulps_apart(dtype: DType, a: f64, b: f64) -> u64 {
    let key = |x: f64| -> i64 {
        if dtype == DType::F32 {
            let i = (x as f32).to_bits() as i32;
            i64::from(if i < 0 { i32::MIN - i } else { i })
        } else {
            let i = x.to_bits() as i64;
            if i < 0 {
                i64::MIN - i
            } else {
                i
            }
        }
    };
    key(a).abs_diff(key(b))
}

/// Whether `got` matches the reference `want` within `tol` (`scale`: the magnitude the
/// relative error is measured against).
fn matches(dtype: DType, want: f64, got: f64, tol: Tolerance, scale: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() || !dtype.is_float() {
        return want == got && want.is_sign_negative() == got.is_sign_negative();
    }
    if want == 0.0 && got == 0.0 {
        return want.is_sign_negative() == got.is_sign_negative() || tol.rel > 0.0 || tol.abs > 0.0;
    }
    (got - want).abs() <= tol.abs + tol.rel * scale || ulps_apart(dtype, want, got) <= u64::from(tol.ulps)
}

fn run_case(
    backend: &dyn Backend,
    op: &Op,
    spec: &KernelSpec,
    tol: Tolerance,
    seed: u64,
) -> Result<(), String> {
    let data: Vec<Vec<f64>> = spec
        .inputs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut v = values(t.dtype, t.shape.numel(), seed * 7 + i as u64);
            if i > 0 && v.len() > 3 {
                let len = v.len();
                v.rotate_left((3 * i) % len); // operands meet different specials
            }
            v
        })
        .collect();
    let bytes: Vec<Vec<u8>> = spec.inputs.iter().zip(&data).map(|(t, v)| encode(t.dtype, v)).collect();
    let want_b = run_on(&ReferenceBackend, spec, &bytes).map_err(|e| format!("the reference failed: {e}"))?;
    let got_b = run_on(backend, spec, &bytes)?;
    let out_dtype = spec.output_types().next().map_or(DType::F64, |t| t.dtype);
    let scale =
        if is_accumulating(op) && out_dtype.is_float() { Some(magnitude_scale(spec, &data)?) } else { None };
    compare(out_dtype, &want_b, &got_b, tol, scale.as_deref())
}

/// The reference's result for `spec` on the magnitudes of `data`: the scale of an
/// accumulating op's error (the sum of the magnitudes of its terms).
fn magnitude_scale(spec: &KernelSpec, data: &[Vec<f64>]) -> Result<Vec<f64>, String> {
    let out_dtype = spec.output_types().next().map_or(DType::F64, |t| t.dtype);
    let abs: Vec<Vec<u8>> = spec
        .inputs
        .iter()
        .zip(data)
        .map(|(t, v)| encode(t.dtype, &v.iter().map(|x| x.abs()).collect::<Vec<_>>()))
        .collect();
    let s = run_on(&ReferenceBackend, spec, &abs).map_err(|e| format!("the reference failed: {e}"))?;
    Ok(decode(out_dtype, &s))
}

/// Compares a backend's output bytes with the reference's: integers and bools exactly,
/// floats within `tol` (relative to `scale` where given, else to the reference's value).
fn compare(
    out_dtype: DType,
    want_b: &[u8],
    got_b: &[u8],
    tol: Tolerance,
    scale: Option<&[f64]>,
) -> Result<(), String> {
    let want = decode(out_dtype, want_b);
    let got = decode(out_dtype, got_b);
    if want.len() != got.len() {
        return Err(format!("{} elements, the reference has {}", got.len(), want.len()));
    }
    if !out_dtype.is_float() {
        return match want_b.iter().zip(got_b).position(|(a, b)| a != b) {
            None => Ok(()),
            Some(p) => {
                let k = p / out_dtype.size_bytes().max(1);
                Err(format!("element {k}: reference {}, backend {} (exact required)", want[k], got[k]))
            }
        };
    }
    for (k, (&w, &g)) in want.iter().zip(&got).enumerate() {
        let sc = scale.and_then(|s| s.get(k)).copied().unwrap_or(0.0).abs().max(w.abs());
        if !matches(out_dtype, w, g, tol, sc) {
            return Err(format!(
                "element {k}: reference {w:e}, backend {g:e} ({} ulp apart; allowed {tol})",
                ulps_apart(out_dtype, w, g)
            ));
        }
    }
    Ok(())
}

/// A fused identity-prone pattern: several nodes in one kernel whose naive simplification
/// (`x - x` to 0, `(x + y) - y` to `x`, `x * 0` to 0, `x / x` to 1, `x + 0` to `x`, merging
/// `x + y` with `y + x`, contracting `x * y + x` into a fused multiply-add) is false for
/// infinities, NaN, signed zeros or rounding. A driver may apply such rewrites inside a
/// kernel (Vulkan's float rules allow it) although no single op is wrong on its own.
struct Pattern {
    /// How it reads, `x` and `y` being its operands.
    name: &'static str,
    /// How many operands: 1 (`x`) or 2 (`x`, `y`).
    arity: usize,
    /// Builds the nodes from the operands (`y` is `x` when `arity` is 1); the result.
    build: fn(&mut Nodes, KernelOperand, KernelOperand) -> Option<KernelOperand>,
}

/// The names of the fused patterns [`check`] runs (`x - x`, ...): a report's claim for one
/// has the variant `fused: <name>`.
pub fn fused_pattern_names() -> impl Iterator<Item = &'static str> {
    PATTERNS.iter().map(|p| p.name)
}

/// The patterns [`check`] runs, on every float dtype, as one kernel on a backend that fuses
/// that many nodes and node by node on one that does not. Each is a claim of its last op
/// (the row of the support table it counts for), as the variant `fused: <name>`.
const PATTERNS: &[Pattern] = &[
    Pattern { name: "x - x", arity: 1, build: |n, x, _| n.binary(BinaryOp::Sub, x, x) },
    Pattern {
        name: "(x * x) - (x * x)",
        arity: 1,
        build: |n, x, _| {
            let t = n.binary(BinaryOp::Mul, x, x)?;
            n.binary(BinaryOp::Sub, t, t)
        },
    },
    Pattern { name: "x / x", arity: 1, build: |n, x, _| n.binary(BinaryOp::Div, x, x) },
    Pattern {
        name: "x * 0",
        arity: 1,
        build: |n, x, _| {
            let c = n.constant(0.0)?;
            n.binary(BinaryOp::Mul, x, c)
        },
    },
    Pattern {
        name: "x + 0",
        arity: 1,
        build: |n, x, _| {
            let c = n.constant(0.0)?;
            n.binary(BinaryOp::Add, x, c)
        },
    },
    Pattern {
        name: "x + -0",
        arity: 1,
        build: |n, x, _| {
            let c = n.constant(-0.0)?;
            n.binary(BinaryOp::Add, x, c)
        },
    },
    Pattern {
        name: "0 - x",
        arity: 1,
        build: |n, x, _| {
            let c = n.constant(0.0)?;
            n.binary(BinaryOp::Sub, c, x)
        },
    },
    Pattern {
        name: "-x + x",
        arity: 1,
        build: |n, x, _| {
            let m = n.unary(UnaryOp::Neg, x)?;
            n.binary(BinaryOp::Add, m, x)
        },
    },
    Pattern {
        name: "(x + 1) - 1",
        arity: 1,
        build: |n, x, _| {
            let one = n.constant(1.0)?;
            let t = n.binary(BinaryOp::Add, x, one)?;
            n.binary(BinaryOp::Sub, t, one)
        },
    },
    Pattern {
        name: "(x * 3) / 3",
        arity: 1,
        build: |n, x, _| {
            let three = n.constant(3.0)?;
            let t = n.binary(BinaryOp::Mul, x, three)?;
            n.binary(BinaryOp::Div, t, three)
        },
    },
    Pattern {
        name: "sqrt(x) * sqrt(x)",
        arity: 1,
        build: |n, x, _| {
            let r = n.unary(UnaryOp::Sqrt, x)?;
            n.binary(BinaryOp::Mul, r, r)
        },
    },
    Pattern { name: "maximum(x, x)", arity: 1, build: |n, x, _| n.binary(BinaryOp::Maximum, x, x) },
    Pattern { name: "minimum(x, x)", arity: 1, build: |n, x, _| n.binary(BinaryOp::Minimum, x, x) },
    Pattern { name: "x == x", arity: 1, build: |n, x, _| n.binary(BinaryOp::Eq, x, x) },
    Pattern { name: "x != x", arity: 1, build: |n, x, _| n.binary(BinaryOp::Ne, x, x) },
    Pattern {
        name: "(x + y) - y",
        arity: 2,
        build: |n, x, y| {
            let t = n.binary(BinaryOp::Add, x, y)?;
            n.binary(BinaryOp::Sub, t, y)
        },
    },
    Pattern {
        name: "(x - y) + y",
        arity: 2,
        build: |n, x, y| {
            let t = n.binary(BinaryOp::Sub, x, y)?;
            n.binary(BinaryOp::Add, t, y)
        },
    },
    Pattern {
        name: "(x + y) - x",
        arity: 2,
        build: |n, x, y| {
            let t = n.binary(BinaryOp::Add, x, y)?;
            n.binary(BinaryOp::Sub, t, x)
        },
    },
    Pattern {
        name: "(x + y) - (y + x)",
        arity: 2,
        build: |n, x, y| {
            let a = n.binary(BinaryOp::Add, x, y)?;
            let b = n.binary(BinaryOp::Add, y, x)?;
            n.binary(BinaryOp::Sub, a, b)
        },
    },
    Pattern {
        name: "(x * y) / y",
        arity: 2,
        build: |n, x, y| {
            let t = n.binary(BinaryOp::Mul, x, y)?;
            n.binary(BinaryOp::Div, t, y)
        },
    },
    Pattern {
        name: "(x / y) * y",
        arity: 2,
        build: |n, x, y| {
            let t = n.binary(BinaryOp::Div, x, y)?;
            n.binary(BinaryOp::Mul, t, y)
        },
    },
    Pattern {
        name: "x * y + x",
        arity: 2,
        build: |n, x, y| {
            let t = n.binary(BinaryOp::Mul, x, y)?;
            n.binary(BinaryOp::Add, t, x)
        },
    },
    Pattern {
        name: "(x + y) > x",
        arity: 2,
        build: |n, x, y| {
            let t = n.binary(BinaryOp::Add, x, y)?;
            n.binary(BinaryOp::Gt, t, x)
        },
    },
    Pattern {
        name: "sum(x - x, axis=1)",
        arity: 1,
        build: |n, x, _| {
            let t = n.binary(BinaryOp::Sub, x, x)?;
            n.reduce(ReduceOp::Sum, t)
        },
    },
    Pattern {
        name: "sum((x + y) - (y + x), axis=1)",
        arity: 2,
        build: |n, x, y| {
            let a = n.binary(BinaryOp::Add, x, y)?;
            let b = n.binary(BinaryOp::Add, y, x)?;
            let t = n.binary(BinaryOp::Sub, a, b)?;
            n.reduce(ReduceOp::Sum, t)
        },
    },
    Pattern {
        name: "max((x + y) - y, axis=1)",
        arity: 2,
        build: |n, x, y| {
            let a = n.binary(BinaryOp::Add, x, y)?;
            let t = n.binary(BinaryOp::Sub, a, y)?;
            n.reduce(ReduceOp::Max, t)
        },
    },
    Pattern {
        name: "sum(x * 0, axis=1)",
        arity: 1,
        build: |n, x, _| {
            let c = n.constant(0.0)?;
            let t = n.binary(BinaryOp::Mul, x, c)?;
            n.reduce(ReduceOp::Sum, t)
        },
    },
];

/// The nodes of a pattern's kernel as they are built.
struct Nodes {
    dtype: DType,
    inputs: Vec<TensorType>,
    nodes: Vec<KernelNode>,
}

impl Nodes {
    fn ty(&self, o: KernelOperand) -> Option<TensorType> {
        match o {
            KernelOperand::Arg(a) => self.inputs.get(a).cloned(),
            KernelOperand::Node(n) => self.nodes.get(n).map(|n| n.ty.clone()),
        }
    }

    /// Appends `op` over `operands` (`None` when it is not well-typed).
    fn push(&mut self, op: Op, operands: &[KernelOperand]) -> Option<KernelOperand> {
        let types: Vec<TensorType> = operands.iter().map(|&o| self.ty(o)).collect::<Option<_>>()?;
        let refs: Vec<&TensorType> = types.iter().collect();
        let ty = infer(&op, &refs).ok()?;
        self.nodes.push(KernelNode { op, operands: operands.to_vec(), ty });
        Some(KernelOperand::Node(self.nodes.len() - 1))
    }

    fn unary(&mut self, u: UnaryOp, x: KernelOperand) -> Option<KernelOperand> {
        self.push(Op::Unary(u), &[x])
    }

    fn binary(&mut self, b: BinaryOp, x: KernelOperand, y: KernelOperand) -> Option<KernelOperand> {
        self.push(Op::Binary(b), &[x, y])
    }

    /// A 0-d constant of the kernel's dtype (broadcast by its users, as fusion inlines one).
    fn constant(&mut self, v: f64) -> Option<KernelOperand> {
        let value = match self.dtype {
            DType::F32 => Scalar::F32(v as f32),
            _ => Scalar::F64(v),
        };
        self.push(Op::Full { value, shape: Shape::scalar() }, &[])
    }

    /// The reduction over axis 1.
    fn reduce(&mut self, op: ReduceOp, x: KernelOperand) -> Option<KernelOperand> {
        self.push(
            Op::Reduce { op, axes: [1usize].into_iter().collect(), keepdims: false, correction: 0 },
            &[x],
        )
    }
}

/// The special values the patterns are run on, every pair of them: zeros of both signs,
/// infinities, NaN, the subnormal, normal and finite extremes, values whose sums round
/// (`1e-8 + 1`, `3 + 1e8`), and a few ordinary ones.
fn pattern_specials(dtype: DType) -> Vec<f64> {
    let (sub, min_normal, huge, max) = if dtype == DType::F32 {
        (1e-40, f64::from(f32::MIN_POSITIVE), 1e38, f64::from(f32::MAX))
    } else {
        (1e-310, f64::MIN_POSITIVE, 1e300, f64::MAX)
    };
    vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        1.5,
        -2.5,
        3.0,
        0.1,
        1e-8,
        1e-3,
        1e8,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        sub,
        -sub,
        min_normal,
        huge,
        -huge,
        max,
    ]
}

/// One case of a pattern: a label and its operands (types and values).
struct PatternCase {
    label: &'static str,
    inputs: Vec<(TensorType, Vec<f64>)>,
}

/// The cases of a pattern of `arity` operands, reducing (`reduce`) or elementwise.
fn pattern_cases(dtype: DType, arity: usize, reduce: bool) -> Vec<PatternCase> {
    let s = pattern_specials(dtype);
    let k = s.len();
    let t = |dims: &[usize]| TensorType { dtype, shape: Shape::new(dims).unwrap_or_default() };
    let randoms_x = randoms(67, 101);
    let randoms_y = randoms(67, 102);
    let mut cases = Vec::new();
    if reduce {
        // Rows of one special each (x) against every special (y), and the other way round.
        let rows: Vec<f64> = (0..k * k).map(|i| s[i / k]).collect();
        let cols: Vec<f64> = (0..k * k).map(|i| s[i % k]).collect();
        let pick = |a: &[f64], b: &[f64]| -> Vec<(TensorType, Vec<f64>)> {
            [a, b].iter().take(arity).map(|v| (t(&[k, k]), v.to_vec())).collect()
        };
        cases.push(PatternCase {
            label: "a special per row, every special along it",
            inputs: pick(&rows, &cols),
        });
        cases.push(PatternCase { label: "every special along each row", inputs: pick(&cols, &rows) });
        let (xr, yr) = (randoms(5 * 41, 103), randoms(5 * 41, 104));
        cases.push(PatternCase {
            label: "randoms 5x41",
            inputs: [xr, yr].into_iter().take(arity).map(|v| (t(&[5, 41]), v)).collect(),
        });
        return cases;
    }
    if arity == 1 {
        let mut x = s.clone();
        x.extend(&randoms_x);
        cases.push(PatternCase { label: "specials and randoms", inputs: vec![(t(&[x.len()]), x)] });
        let x2: Vec<f64> =
            (0..k * k).map(|i| s[i % k] * if (i / k).is_multiple_of(2) { 1.0 } else { 1e-3 }).collect();
        cases.push(PatternCase { label: "specials, 2-d", inputs: vec![(t(&[k, k]), x2)] });
        return cases;
    }
    // Every pair of specials, then pairs of randoms; and the pairs again through broadcasting
    // (strided loads).
    let mut x: Vec<f64> = (0..k * k).map(|i| s[i / k]).collect();
    let mut y: Vec<f64> = (0..k * k).map(|i| s[i % k]).collect();
    x.extend(&randoms_x);
    y.extend(&randoms_y);
    let n = x.len();
    cases.push(PatternCase {
        label: "every pair of specials, and randoms",
        inputs: vec![(t(&[n]), x), (t(&[n]), y)],
    });
    cases.push(PatternCase {
        label: "every pair of specials, broadcast kx1 with 1xk",
        inputs: vec![(t(&[k, 1]), s.clone()), (t(&[1, k]), s)],
    });
    cases
}

/// Checks one pattern on one dtype: every case the backend claims all the nodes of, as one
/// kernel where the backend fuses that many nodes, else node by node; against the
/// reference, within the sum of the tolerances the backend declares for the pattern's ops.
fn check_pattern(backend: &dyn Backend, pattern: &Pattern, dtype: DType) -> ClaimResult {
    let reduce = pattern.name.contains("axis=");
    let mut result = ClaimResult {
        op: String::new(),
        variant: format!("fused: {}", pattern.name),
        dtype,
        precision: String::new(),
        verdict: Verdict::NotClaimed { reason: "no case applies".into() },
    };
    let mut ran = 0;
    for case in pattern_cases(dtype, pattern.arity, reduce) {
        let mut nodes =
            Nodes { dtype, inputs: case.inputs.iter().map(|(t, _)| t.clone()).collect(), nodes: Vec::new() };
        let x = KernelOperand::Arg(0);
        let y = if pattern.arity > 1 { KernelOperand::Arg(1) } else { x };
        let Some(_) = (pattern.build)(&mut nodes, x, y) else { continue };
        let last = nodes.nodes.len() - 1;
        let spec = KernelSpec { inputs: nodes.inputs, nodes: nodes.nodes, outputs: vec![last] };
        let row = &spec.nodes[last].op;
        result.op = row_name(row);
        let mut tol = Tolerance::EXACT;
        for node in spec.nodes.iter().filter(|n| !matches!(n.op, Op::Full { .. })) {
            let t = backend.precision(&node.op, dtype);
            tol = Tolerance {
                ulps: tol.ulps.saturating_add(t.ulps),
                rel: tol.rel + t.rel,
                abs: tol.abs + t.abs,
            };
        }
        result.precision = tol.to_string();
        if let Some(reason) = refusal(backend, &spec) {
            result.verdict = Verdict::NotClaimed { reason };
            continue;
        }
        let data: Vec<Vec<f64>> = case.inputs.into_iter().map(|(_, v)| v).collect();
        let bytes: Vec<Vec<u8>> = spec.inputs.iter().zip(&data).map(|(t, v)| encode(t.dtype, v)).collect();
        let outcome = (|| -> Result<(), String> {
            let want =
                run_on(&ReferenceBackend, &spec, &bytes).map_err(|e| format!("the reference failed: {e}"))?;
            let got = if backend.max_fused_nodes() >= spec.nodes.len() {
                run_on(backend, &spec, &bytes)?
            } else {
                run_node_by_node(backend, &spec, &bytes)?
            };
            let out_dtype = spec.nodes[last].ty.dtype;
            let scale = if is_accumulating(row) { Some(magnitude_scale(&spec, &data)?) } else { None };
            compare(out_dtype, &want, &got, tol, scale.as_deref())
        })();
        if let Err(detail) = outcome {
            result.verdict = Verdict::Failed { case: case.label.to_string(), detail };
            return result;
        }
        ran += 1;
    }
    if ran > 0 {
        result.verdict = Verdict::Verified { cases: ran };
    }
    result
}

/// The backend's reason for refusing some node of `spec`, if it refuses one.
fn refusal(backend: &dyn Backend, spec: &KernelSpec) -> Option<String> {
    spec.nodes.iter().find_map(|node| {
        let ins: Vec<TensorType> = node
            .operands
            .iter()
            .map(|o| match *o {
                KernelOperand::Arg(a) => spec.inputs[a].clone(),
                KernelOperand::Node(n) => spec.nodes[n].ty.clone(),
            })
            .collect();
        match backend.supports(&NodeQuery { op: &node.op, inputs: &ins, output: &node.ty }) {
            Support::Yes => None,
            Support::No(reason) => Some(reason),
        }
    })
}

/// Runs `spec` one node per kernel (as the runtime runs it on a backend that does not
/// fuse): each node over the bytes of its operands; the last node's output bytes.
fn run_node_by_node(backend: &dyn Backend, spec: &KernelSpec, inputs: &[Vec<u8>]) -> Result<Vec<u8>, String> {
    let mut values: Vec<Vec<u8>> = Vec::with_capacity(spec.nodes.len());
    for node in &spec.nodes {
        let mut types = Vec::with_capacity(node.operands.len());
        let mut args = Vec::with_capacity(node.operands.len());
        for o in &node.operands {
            let (t, b) = match *o {
                KernelOperand::Arg(a) => (spec.inputs.get(a), inputs.get(a)),
                KernelOperand::Node(n) => (spec.nodes.get(n).map(|n| &n.ty), values.get(n)),
            };
            let (Some(t), Some(b)) = (t, b) else { return Err("a node reads a missing operand".into()) };
            types.push(t.clone());
            args.push(b.clone());
        }
        let single = KernelSpec {
            inputs: types,
            nodes: vec![KernelNode {
                op: node.op.clone(),
                operands: (0..node.operands.len()).map(KernelOperand::Arg).collect(),
                ty: node.ty.clone(),
            }],
            outputs: vec![0],
        };
        values.push(run_on(backend, &single, &args)?);
    }
    values.pop().ok_or_else(|| "an empty kernel".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_cranelift::CraneliftBackend;

    #[test]
    fn randoms_are_the_seeded_generator_mapped_to_minus_20_to_20() {
        let mut rng = SeededRng::new(5);
        let want: Vec<f64> = (0..8).map(|_| plus_minus_20(rng.next_unit())).collect();
        assert_eq!(randoms(8, 5), want);
        assert_eq!(randoms(1000, 9), randoms(1000, 9));
        assert_ne!(randoms(8, 9), randoms(8, 10));
        let v = randoms(100_000, 1);
        assert!(v.iter().all(|x| (-20.0..20.0).contains(x)), "out of [-20, 20)");
        let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        assert!(lo < -19.9 && hi > 19.9, "[{lo}, {hi}]: not spread over the range");
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.2, "mean {mean}");
        // The ends: 0 maps to -20 exactly, the largest unit value to just below 20.
        assert_eq!(plus_minus_20(0.0), -20.0);
        let largest = ((1u64 << 53) - 1) as f64 / (1u64 << 53) as f64;
        assert_eq!(plus_minus_20(largest), 20.0 - 2f64.powi(-48));
    }

    #[test]
    fn the_reference_conforms_to_itself() {
        let report = check(&ReferenceBackend);
        assert!(report.is_ok(), "{report}");
        assert!(report.verified().count() > 100, "{report}");
        // The reference does not fuse: its patterns run node by node.
        assert_eq!(verified_patterns(&report).len(), 2 * PATTERNS.len(), "{report}");
    }

    /// The fused patterns' claims of `report` that were verified, as `(variant, dtype)`.
    fn verified_patterns(report: &ConformanceReport) -> Vec<(String, DType)> {
        report
            .verified()
            .filter(|c| c.variant.starts_with("fused: "))
            .map(|c| (c.variant.clone(), c.dtype))
            .collect()
    }

    #[test]
    fn cpu_cranelift_conforms() {
        let report = check(&CraneliftBackend::new());
        assert!(report.is_ok(), "{report}");
        // Every fused pattern ran as one kernel on both float dtypes and kept the
        // reference's bits (but those with comparisons, which cpu.cranelift leaves to the
        // reference).
        let verified = verified_patterns(&report);
        for p in PATTERNS.iter().filter(|p| !["==", "!=", " > "].iter().any(|c| p.name.contains(c))) {
            for dtype in [DType::F32, DType::F64] {
                assert!(
                    verified.contains(&(format!("fused: {}", p.name), dtype)),
                    "{} {dtype}: {report}",
                    p.name
                );
            }
        }
        assert!(report.is_verified("exp", DType::F32));
        assert!(report.is_verified("sum", DType::F64));
        assert!(matches!(report.verdict("exp", DType::I32), Some(Verdict::NotClaimed { .. }) | None));
    }
}
