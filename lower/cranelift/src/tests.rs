//! `cpu.cranelift` against `cpu.reference`: every claimed op and dtype on random and special
//! values, broadcasting, fused chains, empty arrays; each within the declared precision.

use switchyard_ir::{catalog, infer, BinaryOp, DType, Op, ReduceOp, Scalar, Shape, TensorType, UnaryOp};

use super::CraneliftBackend;
use switchyard_conformance::{decode as floats, encode as bytes, randoms, ulps_apart};
use switchyard_lower::ReferenceBackend;
use switchyard_lower::{Backend, NodeQuery, Tolerance};
use switchyard_lower::{KernelNode, KernelOperand, KernelSpec, TensorView, TensorViewMut};

/// Values that break naive code: signed zeros, infinities, NaN, subnormals, huge, tiny.
fn specials() -> Vec<f64> {
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
        1e-310,
        -1e-310,
        1e-40,
        1e38,
        -1e38,
        1e300,
        88.7,
        -103.9,
        709.7,
        -745.0,
        3.0e-39,
    ]
}

/// Distance in units in the last place of `dtype` (0 for equal values, including -0 == +0).
fn ulps(dtype: DType, a: f64, b: f64) -> u64 {
    if a == 0.0 && b == 0.0 && a.is_sign_negative() != b.is_sign_negative() {
        return u64::MAX; // -0 where +0 is meant (or the reverse) is wrong, not close
    }
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_nan() || b.is_nan() || a.is_infinite() || b.is_infinite() {
        return u64::MAX;
    }
    ulps_apart(dtype, a, b)
}

/// Runs `spec` on both backends and checks every output within `tol` ulps.
fn check(spec: &KernelSpec, inputs: &[Vec<f64>], tol: Tolerance, what: &str) {
    check_scaled(spec, inputs, tol, None, what)
}

/// Like [`check`]; with `scale`, an element also passes when it is within 8 epsilons of
/// `scale[k]` (the magnitude of the terms that make it up: cancellation makes relative error
/// against the result itself meaningless).
fn check_scaled(spec: &KernelSpec, inputs: &[Vec<f64>], tol: Tolerance, scale: Option<&[f64]>, what: &str) {
    let dtype = spec.nodes[spec.outputs[0]].ty.dtype;
    let in_bytes: Vec<Vec<u8>> = spec.inputs.iter().zip(inputs).map(|(t, v)| bytes(t.dtype, v)).collect();
    let views: Vec<TensorView<'_>> = spec
        .inputs
        .iter()
        .zip(&in_bytes)
        .map(|(t, b)| TensorView { dtype: t.dtype, shape: &t.shape, data: b })
        .collect();
    let run = |backend: &dyn Backend| -> Vec<Vec<f64>> {
        let kernel = backend.compile(spec).unwrap_or_else(|e| panic!("{what}: {e}"));
        let tys: Vec<&TensorType> = spec.output_types().collect();
        let mut bufs: Vec<Vec<u8>> =
            tys.iter().map(|t| vec![0u8; t.shape.numel() * t.dtype.size_bytes()]).collect();
        let mut outs: Vec<TensorViewMut<'_>> = tys
            .iter()
            .zip(bufs.iter_mut())
            .map(|(t, b)| TensorViewMut { dtype: t.dtype, shape: &t.shape, data: b })
            .collect();
        kernel.run(&views, &mut outs).unwrap_or_else(|e| panic!("{what}: {e}"));
        drop(outs);
        bufs.iter().zip(&tys).map(|(b, t)| floats(t.dtype, b)).collect()
    };
    let want = run(&ReferenceBackend);
    let got = run(&CraneliftBackend::new());
    for (w, g) in want.iter().zip(&got) {
        for (k, (&a, &b)) in w.iter().zip(g).enumerate() {
            let d = ulps(dtype, a, b);
            let eps = if dtype == DType::F32 { f64::from(f32::EPSILON) } else { f64::EPSILON };
            let scaled_ok =
                scale.and_then(|s| s.get(k % s.len().max(1))).is_some_and(|m| (a - b).abs() <= 8.0 * eps * m);
            assert!(
                d <= u64::from(tol.ulps) || scaled_ok,
                "{what}: element {k}: reference {a:e}, cranelift {b:e} ({d} ulp)"
            );
        }
    }
}

fn ty(dtype: DType, dims: &[usize]) -> TensorType {
    TensorType { dtype, shape: Shape::new(dims).unwrap_or_default() }
}

fn node(op: Op, operands: Vec<KernelOperand>, inputs: &[&TensorType]) -> KernelNode {
    let out = infer(&op, inputs).unwrap_or_else(|e| panic!("{e}"));
    KernelNode { op, operands, ty: out }
}

#[test]
fn every_claimed_elementwise_op_matches_the_reference() {
    let n = specials().len() + 203; // odd length: vector body and scalar tail both run
    for dtype in [DType::F32, DType::F64] {
        for op in catalog() {
            let arity = match &op {
                Op::Unary(_) => 1,
                Op::Binary(_) => 2,
                Op::Clip => 3,
                _ => continue,
            };
            let t = ty(dtype, &[n]);
            let ins: Vec<TensorType> = vec![t.clone(); arity];
            let refs: Vec<&TensorType> = ins.iter().collect();
            let Ok(out) = infer(&op, &refs) else { continue };
            let query = NodeQuery { op: &op, inputs: &ins, output: &out };
            if !CraneliftBackend::new().supports(&query).is_yes() {
                continue;
            }
            let mut values: Vec<Vec<f64>> = Vec::new();
            for a in 0..arity {
                let mut v = specials();
                if a > 0 {
                    v.rotate_left(a * 3);
                }
                v.extend(randoms(n - v.len(), a as u64 + 1));
                values.push(v);
            }
            let spec = KernelSpec {
                inputs: ins.clone(),
                nodes: vec![KernelNode {
                    op: op.clone(),
                    operands: (0..arity).map(KernelOperand::Arg).collect(),
                    ty: out,
                }],
                outputs: vec![0],
            };
            check(&spec, &values, CraneliftBackend::new().precision(&op, dtype), &format!("{op} on {dtype}"));
        }
    }
}

#[test]
fn exp_is_within_its_declared_ulps_over_the_whole_range() {
    for (dtype, lo, hi) in [(DType::F32, -110.0, 90.0), (DType::F64, -750.0, 712.0)] {
        let n = 200_001;
        let xs: Vec<f64> = (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64).collect();
        let t = ty(dtype, &[n]);
        let spec = KernelSpec {
            inputs: vec![t.clone()],
            nodes: vec![node(Op::Unary(UnaryOp::Exp), vec![KernelOperand::Arg(0)], &[&t])],
            outputs: vec![0],
        };
        check(&spec, &[xs], Tolerance::ulps(2), &format!("exp sweep {dtype}"));
    }
}

/// The largest ulp error of `op` over an even sweep of `[lo, hi]`, the specials, and
/// geometric sequences approaching zero from both sides.
fn worst_ulps(op: UnaryOp, dtype: DType, lo: f64, hi: f64) -> u64 {
    let n = 100_001;
    let mut xs: Vec<f64> = (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64).collect();
    xs.extend(specials());
    xs.extend((0..200).map(|i| 1e-9 * 1.2f64.powi(i)));
    xs.extend((0..200).map(|i| -1e-9 * 1.2f64.powi(i)));
    // Every binade of both types, a few points each (logs, huge trig arguments).
    xs.extend((-1100..1030).flat_map(|e| [1.0, 1.3, 1.7].map(|m| m * 2f64.powi(e))));
    // Nearest representable values to multiples of pi/2 (trig's hardest reductions).
    xs.extend((1..4000).map(|k| f64::from(k) * std::f64::consts::FRAC_PI_2));
    xs.extend((1..2000).map(|k| f64::from(k * 997) * std::f64::consts::FRAC_PI_2));
    let t = ty(dtype, &[xs.len()]);
    let spec = KernelSpec {
        inputs: vec![t.clone()],
        nodes: vec![node(Op::Unary(op), vec![KernelOperand::Arg(0)], &[&t])],
        outputs: vec![0],
    };
    let in_bytes = bytes(dtype, &xs);
    let view = [TensorView { dtype, shape: &t.shape, data: &in_bytes }];
    let run = |b: &dyn Backend| {
        let k = b.compile(&spec).unwrap();
        let mut out = vec![0u8; in_bytes.len()];
        k.run(&view, &mut [TensorViewMut { dtype, shape: &t.shape, data: &mut out }]).unwrap();
        floats(dtype, &out)
    };
    let (want, got) = (run(&ReferenceBackend), run(&CraneliftBackend::new()));
    want.iter().zip(&got).map(|(&a, &b)| ulps(dtype, a, b)).max().unwrap_or(0)
}

#[test]
fn transcendentals_meet_their_declared_ulps_over_the_whole_range() {
    // Measured worst cases (2026-11, f32/f64 ulp): exp 1/1, exp2 1/1, expm1 3/2, log 1/1,
    // log2 1/1, log1p 2/2, sin 2/2, cos 2/2, tan 3/3, tanh 3/3, sigmoid 3/2. The sweep also
    // covers every binade (huge trig arguments take the libm slow path) and the nearest
    // values to multiples of pi/2.
    let ranges: [(UnaryOp, f64, f64, f64, f64); 11] = [
        (UnaryOp::Exp, -110.0, 90.0, -750.0, 712.0),
        (UnaryOp::Exp2, -160.0, 130.0, -1100.0, 1030.0),
        (UnaryOp::Expm1, -110.0, 90.0, -750.0, 712.0),
        (UnaryOp::Log, 0.0, 100.0, 0.0, 100.0),
        (UnaryOp::Log2, 0.0, 100.0, 0.0, 100.0),
        (UnaryOp::Log1p, -1.0, 10.0, -1.0, 10.0),
        (UnaryOp::Sin, -1e4, 1e4, -1e4, 1e4),
        (UnaryOp::Cos, -1e4, 1e4, -1e4, 1e4),
        (UnaryOp::Tan, -1e4, 1e4, -1e4, 1e4),
        (UnaryOp::Tanh, -20.0, 20.0, -40.0, 40.0),
        (UnaryOp::Sigmoid, -120.0, 120.0, -800.0, 800.0),
    ];
    for (op, lo32, hi32, lo64, hi64) in ranges {
        for (dtype, lo, hi) in [(DType::F32, lo32, hi32), (DType::F64, lo64, hi64)] {
            let worst = worst_ulps(op, dtype, lo, hi);
            let declared = CraneliftBackend::new().precision(&Op::Unary(op), dtype).ulps;
            assert!(worst <= u64::from(declared), "{} {dtype}: {worst} ulp > declared {declared}", op.name());
        }
    }
}

#[test]
fn fused_chains_with_broadcasting_match() {
    // out = exp(x*2 + 1) * y - x, with y broadcast along rows, and x*2 written out too.
    for dtype in [DType::F32, DType::F64] {
        let x = ty(dtype, &[37, 19]);
        let y = ty(dtype, &[19]);
        let c = |v: f64| ty(dtype, &[]).clone_with(Scalar::F64(v).cast(dtype));
        let two = c(2.0);
        let one = c(1.0);
        let full = |t: &(TensorType, Scalar)| KernelNode {
            op: Op::Full { value: t.1, shape: Shape::scalar() },
            operands: vec![],
            ty: t.0.clone(),
        };
        let nodes = vec![
            full(&two),
            node(
                Op::Binary(BinaryOp::Mul),
                vec![KernelOperand::Arg(0), KernelOperand::Node(0)],
                &[&x, &two.0],
            ),
            full(&one),
            node(
                Op::Binary(BinaryOp::Add),
                vec![KernelOperand::Node(1), KernelOperand::Node(2)],
                &[&x, &one.0],
            ),
            node(Op::Unary(UnaryOp::Exp), vec![KernelOperand::Node(3)], &[&x]),
            node(Op::Binary(BinaryOp::Mul), vec![KernelOperand::Node(4), KernelOperand::Arg(1)], &[&x, &y]),
            node(Op::Binary(BinaryOp::Sub), vec![KernelOperand::Node(5), KernelOperand::Arg(0)], &[&x, &x]),
        ];
        let spec = KernelSpec { inputs: vec![x.clone(), y.clone()], nodes, outputs: vec![6, 1] };
        let xs: Vec<f64> = randoms(37 * 19, 9).iter().map(|v| v / 8.0).collect();
        let ys = randoms(19, 4);
        let scale: Vec<f64> = xs
            .iter()
            .enumerate()
            .map(|(k, &x)| ((2.0 * x + 1.0).exp() * ys[k % 19]).abs() + x.abs())
            .collect();
        check_scaled(&spec, &[xs, ys], Tolerance::ulps(2), Some(&scale), &format!("fused chain {dtype}"));
    }
}

#[test]
fn outer_products_scalars_and_empty_arrays() {
    let d = DType::F32;
    for (a, b) in
        [(vec![64, 1], vec![1, 48]), (vec![], vec![5]), (vec![3, 1, 4], vec![2, 1]), (vec![0, 3], vec![3])]
    {
        let (ta, tb) = (ty(d, &a), ty(d, &b));
        let spec = KernelSpec {
            inputs: vec![ta.clone(), tb.clone()],
            nodes: vec![node(
                Op::Binary(BinaryOp::Mul),
                vec![KernelOperand::Arg(0), KernelOperand::Arg(1)],
                &[&ta, &tb],
            )],
            outputs: vec![0],
        };
        let va = randoms(ta.shape.numel(), 1);
        let vb = randoms(tb.shape.numel(), 2);
        check(&spec, &[va, vb], Tolerance::EXACT, &format!("{a:?} * {b:?}"));
    }
}

#[test]
fn bad_arguments_are_errors() {
    let t = ty(DType::F32, &[4]);
    let spec = KernelSpec {
        inputs: vec![t.clone()],
        nodes: vec![node(Op::Unary(UnaryOp::Neg), vec![KernelOperand::Arg(0)], &[&t])],
        outputs: vec![0],
    };
    let k = CraneliftBackend::new().compile(&spec).unwrap();
    let short = [0u8; 8];
    let mut out = [0u8; 16];
    let shape = Shape::vector(4);
    let r = k.run(
        &[TensorView { dtype: DType::F32, shape: &shape, data: &short }],
        &mut [TensorViewMut { dtype: DType::F32, shape: &shape, data: &mut out }],
    );
    assert!(r.is_err());
    assert!(k.code().is_some_and(|c| c.contains("f32x4")), "{:?}", k.code());
    // Integer kernels are refused with a reason, not miscompiled.
    let i = ty(DType::I32, &[4]);
    let op = Op::Unary(UnaryOp::Neg);
    let s = CraneliftBackend::new().supports(&NodeQuery {
        op: &op,
        inputs: std::slice::from_ref(&i),
        output: &i,
    });
    assert!(!s.is_yes());
}

trait CloneWith {
    fn clone_with(&self, v: Scalar) -> (TensorType, Scalar);
}

impl CloneWith for TensorType {
    fn clone_with(&self, v: Scalar) -> (TensorType, Scalar) {
        (self.clone(), v)
    }
}

#[test]
fn code_is_cached_by_structure_not_by_size_or_constant() {
    let backend = CraneliftBackend::new();
    let spec = |n: usize, c: f64, bdims: &[usize]| {
        let x = ty(DType::F32, &[n]);
        let y = ty(DType::F32, bdims);
        let k = (ty(DType::F32, &[]), Scalar::F32(c as f32));
        KernelSpec {
            inputs: vec![x.clone(), y.clone()],
            nodes: vec![
                KernelNode {
                    op: Op::Full { value: k.1, shape: Shape::scalar() },
                    operands: vec![],
                    ty: k.0.clone(),
                },
                node(
                    Op::Binary(BinaryOp::Mul),
                    vec![KernelOperand::Arg(0), KernelOperand::Node(0)],
                    &[&x, &k.0],
                ),
                node(
                    Op::Binary(BinaryOp::Add),
                    vec![KernelOperand::Node(1), KernelOperand::Arg(1)],
                    &[&x, &y],
                ),
            ],
            outputs: vec![2],
        }
    };
    backend.compile(&spec(100, 2.0, &[100])).unwrap();
    backend.compile(&spec(5000, 3.5, &[5000])).unwrap();
    let s = backend.kernel_cache().unwrap();
    assert_eq!((s.misses, s.hits, s.entries.len()), (1, 1, 1), "{s:?}");
    // The constant really is the new one: 3.5 * x + y.
    check(&spec(7, 3.5, &[7]), &[randoms(7, 1), randoms(7, 2)], Tolerance::EXACT, "cached constant");
    backend.compile(&spec(100, 2.0, &[])).unwrap();
    let s = backend.kernel_cache().unwrap();
    assert_eq!(s.misses, 2);
    let miss = &s.recent_misses[1];
    assert_eq!(miss.kernel, "f32 const+mul+add, inputs [walk, bcast]");
    assert_eq!(
        miss.reason,
        "differs from cached `f32 const+mul+add, inputs [walk, walk]` in broadcast pattern: \
         [walk, bcast] here, [walk, walk] cached"
    );
    // Another dtype is named as such.
    let f64_spec = {
        let mut s = spec(9, 2.0, &[9]);
        for t in &mut s.inputs {
            t.dtype = DType::F64;
        }
        for n in &mut s.nodes {
            n.ty.dtype = DType::F64;
            if let Op::Full { value, .. } = &mut n.op {
                *value = Scalar::F64(2.0);
            }
        }
        s
    };
    backend.compile(&f64_spec).unwrap();
    let s = backend.kernel_cache().unwrap();
    let reason = &s.recent_misses[2].reason;
    assert!(reason.ends_with("in dtype: f64 here, f32 cached"), "{reason}");
}

fn reduce_spec(op: ReduceOp, dtype: DType, dims: &[usize], k: usize, keepdims: bool) -> KernelSpec {
    let t = ty(dtype, dims);
    let axes = (dims.len() - k..dims.len()).collect();
    KernelSpec {
        inputs: vec![t.clone()],
        nodes: vec![node(
            Op::Reduce { op, axes, keepdims, correction: 0 },
            vec![KernelOperand::Arg(0)],
            &[&t],
        )],
        outputs: vec![0],
    }
}

#[test]
fn reductions_over_trailing_axes_match_the_reference() {
    let shapes: [(&[usize], usize); 8] = [
        (&[37], 1),
        (&[5, 33], 1),
        (&[4, 3, 7], 2),
        (&[6, 1], 1),
        (&[0, 9], 1),
        (&[3, 0], 1),
        (&[2, 70_001], 1),
        (&[150_003], 1),
    ];
    for op in [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min] {
        for dtype in [DType::F32, DType::F64] {
            for (dims, k) in shapes {
                if matches!(op, ReduceOp::Max | ReduceOp::Min) && dims.iter().product::<usize>() == 0 {
                    continue; // refused by the type checker
                }
                let spec = reduce_spec(op, dtype, dims, k, k == 1);
                let n: usize = dims.iter().product();
                let xs = randoms(n, 5);
                let row: usize = dims[dims.len() - k..].iter().product();
                // Sums are compared against the sum of magnitudes of their row.
                let scale: Vec<f64> =
                    xs.chunks(row.max(1)).map(|r| r.iter().map(|v| v.abs()).sum::<f64>().max(1.0)).collect();
                let what = format!("{} {dtype} {dims:?}", op.name());
                check_scaled(&spec, &[xs], Tolerance::EXACT, Some(&scale), &what);
            }
        }
    }
}

#[test]
fn reductions_propagate_nan_and_handle_infinities() {
    for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min] {
        let spec = reduce_spec(op, DType::F32, &[4, 6], 1, false);
        let mut xs = randoms(24, 3);
        xs[2] = f64::NAN; // row 0
        xs[9] = f64::INFINITY; // row 1
        xs[13] = f64::NEG_INFINITY; // row 2
        check(&spec, &[xs], Tolerance::EXACT, op.name());
    }
}

/// FIXME: max/min reductions over a row whose extreme is a signed zero present as both `-0`
/// and `+0` pick the zero by IEEE `fmax`/`fmin` (+0 is larger), while the reference keeps
/// the first of equal values in element order. Lane-wise accumulation cannot keep that
/// order cheaply; the array API leaves the choice unspecified, but the declared precision
/// is "exact". This asserts today's behaviour until the claim or the kernel changes.
#[test]
fn max_of_mixed_signed_zeros_differs_from_the_reference_today() {
    let spec = reduce_spec(ReduceOp::Max, DType::F32, &[2], 1, false);
    let xs = [-0.0, 0.0];
    let t = &spec.inputs[0];
    let in_bytes = bytes(DType::F32, &xs);
    let view = [TensorView { dtype: DType::F32, shape: &t.shape, data: &in_bytes }];
    let out_ty = &spec.nodes[0].ty;
    let run = |b: &dyn Backend| {
        let mut out = vec![0u8; 4];
        let k = b.compile(&spec).unwrap();
        k.run(&view, &mut [TensorViewMut { dtype: DType::F32, shape: &out_ty.shape, data: &mut out }])
            .unwrap();
        floats(DType::F32, &out)[0]
    };
    let (want, got) = (run(&ReferenceBackend), run(&CraneliftBackend::new()));
    assert!(want == 0.0 && want.is_sign_negative(), "reference keeps the first zero: {want}");
    assert!(got == 0.0 && got.is_sign_positive(), "cranelift: IEEE fmax picks +0: {got}");
}

#[test]
fn reductions_absorb_their_producers_and_do_not_depend_on_threads() {
    // sum((x - y)^2) over one long row: W2's kernel.
    let n = 300_007;
    let t = ty(DType::F32, &[n]);
    let s = ty(DType::F32, &[]);
    let spec = KernelSpec {
        inputs: vec![t.clone(), t.clone()],
        nodes: vec![
            node(Op::Binary(BinaryOp::Sub), vec![KernelOperand::Arg(0), KernelOperand::Arg(1)], &[&t, &t]),
            node(Op::Unary(UnaryOp::Square), vec![KernelOperand::Node(0)], &[&t]),
            node(
                Op::Reduce {
                    op: ReduceOp::Sum,
                    axes: smallvec::smallvec![0],
                    keepdims: false,
                    correction: 0,
                },
                vec![KernelOperand::Node(1)],
                &[&t],
            ),
        ],
        outputs: vec![2],
    };
    assert_eq!(spec.nodes[2].ty, s);
    let (xs, ys) = (randoms(n, 11), randoms(n, 12));
    check(&spec, &[xs.clone(), ys.clone()], Tolerance::ulps(1), "sum((x-y)^2)");
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let k = CraneliftBackend::new().compile(&spec).unwrap();
        let (xb, yb) = (bytes(DType::F32, &xs), bytes(DType::F32, &ys));
        let mut out = vec![0u8; 4];
        pool.install(|| {
            k.run(
                &[
                    TensorView { dtype: DType::F32, shape: &t.shape, data: &xb },
                    TensorView { dtype: DType::F32, shape: &t.shape, data: &yb },
                ],
                &mut [TensorViewMut { dtype: DType::F32, shape: &s.shape, data: &mut out }],
            )
            .unwrap()
        });
        out
    };
    assert_eq!(run(1), run(2));
    assert_eq!(run(1), run(3));
}
