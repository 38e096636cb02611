//! Tests of the reference backend: every lazy op of the catalog on every dtype the type
//! checker accepts (checked against the scalar semantics of `switchyard_ir::elementwise`),
//! zero-size shapes for every op, and hand-computed values for the tricky cases.

use switchyard_ir::elementwise::{binary_scalar, unary_scalar, Element};
use switchyard_ir::{
    catalog, infer, Arity, BinaryOp, DType, Device, Laziness, Op, ReduceOp, Scalar, Shape, SliceAxis,
    TensorType, UnaryOp,
};

use super::data::with_values;
use super::*;
use crate::kernel::KernelNode;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn shape(dims: &[usize]) -> Shape {
    Shape::new(dims).unwrap()
}

/// An array of typed values.
fn arr<T: Stored>(dims: &[usize], values: &[T]) -> Data {
    Data::new(shape(dims), T::wrap(values.to_vec())).unwrap()
}

fn ty(d: &Data) -> TensorType {
    TensorType { dtype: d.dtype(), shape: d.shape().clone() }
}

/// Values `[2, -1, 0, 3, 5, -4, 1, 7, 0.5]` (rotated by `salt`) cast to `dtype`.
fn sample(dtype: DType, dims: &[usize], salt: usize) -> Data {
    let base = [2.0, -1.0, 0.0, 3.0, 5.0, -4.0, 1.0, 7.0, 0.5];
    let n = shape(dims).numel();
    let v: Vec<f64> = (0..n).map(|i| base[(i + salt) % base.len()]).collect();
    Data::new(shape(dims), Values::F64(v).cast(dtype)).unwrap()
}

fn scalars(d: &Data) -> Vec<Scalar> {
    with_values!(d.values(), |v| v.iter().map(|x| x.to_scalar()).collect())
}

fn f64s(d: &Data) -> Vec<f64> {
    scalars(d).into_iter().map(Scalar::to_f64).collect()
}

fn i64s(d: &Data) -> Vec<i64> {
    d.typed::<i64>().unwrap().to_vec()
}

fn bools(d: &Data) -> Vec<bool> {
    d.typed::<bool>().unwrap().to_vec()
}

/// Compiles a one-node kernel for `op` on `inputs` and runs it on byte buffers, the way the
/// runtime does; also checks that `eval_op` gives the same bytes.
fn run(op: Op, inputs: &[&Data]) -> Result<Data, LowerError> {
    let types: Vec<TensorType> = inputs.iter().map(|d| ty(d)).collect();
    let refs: Vec<&TensorType> = types.iter().collect();
    let out = infer(&op, &refs).map_err(|e| LowerError::new(LowerErrorKind::Compile, e.to_string()))?;
    let spec = KernelSpec {
        inputs: types.clone(),
        nodes: vec![KernelNode {
            op: op.clone(),
            operands: (0..inputs.len()).map(KernelOperand::Arg).collect(),
            ty: out.clone(),
        }],
        outputs: vec![0],
    };
    let kernel = ReferenceBackend.compile(&spec)?;
    let result = run_kernel(&*kernel, &spec, inputs)?.remove(0);
    let direct = eval_op(&op, inputs, &out)?;
    assert_eq!(direct.to_bytes(), result.to_bytes(), "eval_op and the kernel disagree on {op}");
    Ok(result)
}

/// Runs a compiled kernel on `inputs`, returning its outputs.
fn run_kernel(
    kernel: &dyn CompiledKernel,
    spec: &KernelSpec,
    inputs: &[&Data],
) -> Result<Vec<Data>, LowerError> {
    let bytes: Vec<Vec<u8>> = inputs.iter().map(|d| d.to_bytes()).collect();
    let views: Vec<TensorView<'_>> = inputs
        .iter()
        .zip(&bytes)
        .map(|(d, b)| TensorView { dtype: d.dtype(), shape: d.shape(), data: b })
        .collect();
    let out_types: Vec<TensorType> = spec.output_types().cloned().collect();
    let mut out_bytes: Vec<Vec<u8>> =
        out_types.iter().map(|t| vec![0xAB; t.shape.numel() * t.dtype.size_bytes()]).collect();
    {
        let mut out_views: Vec<TensorViewMut<'_>> = out_types
            .iter()
            .zip(out_bytes.iter_mut())
            .map(|(t, b)| TensorViewMut { dtype: t.dtype, shape: &t.shape, data: b })
            .collect();
        kernel.run(&views, &mut out_views)?;
    }
    out_types
        .iter()
        .zip(&out_bytes)
        .map(|(t, b)| Data::from_view(&TensorView { dtype: t.dtype, shape: &t.shape, data: b }))
        .collect()
}

fn eval(op: Op, inputs: &[&Data]) -> Data {
    match run(op.clone(), inputs) {
        Ok(d) => d,
        Err(e) => panic!("{op} failed: {e}"),
    }
}

fn reduce_op(op: ReduceOp, axes: &[usize], keepdims: bool) -> Op {
    Op::Reduce { op, axes: axes.iter().copied().collect(), keepdims, correction: 0 }
}

/// Equal bits, or both NaN (NaN sign and payload are not part of the semantics: `0.0 / 0.0`
/// gives a negative NaN on x86-64 and a positive one elsewhere).
fn same_value(x: Scalar, y: Scalar) -> bool {
    let nan = |s: Scalar| s.dtype().is_float() && s.to_f64().is_nan();
    x == y || (x.dtype() == y.dtype() && nan(x) && nan(y))
}

fn same_values(a: &[Scalar], b: &[Scalar]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(*x, *y))
}

// ---------------------------------------------------------------------------------------
// Every lazy op of the catalog on every accepted dtype
// ---------------------------------------------------------------------------------------

/// The dtype combinations to try for an op with `n` operands.
fn dtype_combos(n: usize) -> Vec<Vec<DType>> {
    let mut combos = vec![vec![]];
    for _ in 0..n {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                DType::ALL.iter().map(move |&d| {
                    let mut c = c.clone();
                    c.push(d);
                    c
                })
            })
            .collect();
    }
    combos
}

/// Reference values for a 1-D reduction over all of `xs`, computed on scalars.
fn expected_reduce(op: ReduceOp, xs: &[Scalar], out: DType) -> Scalar {
    let n = xs.len() as f64;
    let sum = xs.iter().fold(0.0, |a, x| a + x.to_f64());
    let var = || {
        let mean = sum / n;
        xs.iter().fold(0.0, |a, x| a + (x.to_f64() - mean) * (x.to_f64() - mean)) / n
    };
    let arg = |better: BinaryOp| {
        let mut best = 0;
        for (i, x) in xs.iter().enumerate() {
            if binary_scalar(better, *x, xs[best]) == Scalar::Bool(true) {
                best = i;
            }
        }
        Scalar::I64(best as i64)
    };
    let fold = |b: BinaryOp| xs[1..].iter().fold(xs[0], |a, x| binary_scalar(b, a, *x));
    match op {
        ReduceOp::Sum if out.is_float() => Scalar::F64(sum).cast(out),
        ReduceOp::Sum => Scalar::I64(xs.iter().fold(0i64, |a, x| a.wrapping_add(x.to_i64().unwrap()))),
        ReduceOp::Prod if out.is_float() => Scalar::F64(xs.iter().fold(1.0, |a, x| a * x.to_f64())).cast(out),
        ReduceOp::Prod => Scalar::I64(xs.iter().fold(1i64, |a, x| a.wrapping_mul(x.to_i64().unwrap()))),
        ReduceOp::Max => fold(BinaryOp::Maximum),
        ReduceOp::Min => fold(BinaryOp::Minimum),
        ReduceOp::Mean => Scalar::F64(sum / n).cast(out),
        ReduceOp::Var => Scalar::F64(var()).cast(out),
        ReduceOp::Std => Scalar::F64(var().sqrt()).cast(out),
        ReduceOp::ArgMax => arg(BinaryOp::Gt),
        ReduceOp::ArgMin => arg(BinaryOp::Lt),
        ReduceOp::Any => Scalar::Bool(xs.contains(&Scalar::Bool(true))),
        ReduceOp::All => Scalar::Bool(xs.iter().all(|x| *x == Scalar::Bool(true))),
    }
}

/// Checks one op on one dtype combination against scalar semantics.
fn check_catalog_case(op: &Op, inputs: &[&Data], out_dtype: DType) {
    let result = eval(op.clone(), inputs);
    assert_eq!(result.dtype(), out_dtype, "{op}");
    let got = scalars(&result);
    let ins: Vec<Vec<Scalar>> = inputs.iter().map(|d| scalars(d)).collect();
    let cast_all = |v: &[Scalar]| -> Vec<Scalar> { v.iter().map(|x| x.cast(out_dtype)).collect() };
    let expected: Vec<Scalar> = match op {
        Op::Full { value, shape } => vec![*value; shape.numel()],
        Op::Arange { start, step, len } => (0..*len)
            .map(|i| {
                if out_dtype.is_float() {
                    Scalar::F64(start.to_f64() + i as f64 * step.to_f64()).cast(out_dtype)
                } else {
                    binary_scalar(
                        BinaryOp::Add,
                        *start,
                        binary_scalar(BinaryOp::Mul, Scalar::I64(i as i64), *step),
                    )
                    .cast(out_dtype)
                }
            })
            .collect(),
        Op::Unary(u) => ins[0].iter().map(|x| unary_scalar(*u, *x)).collect(),
        Op::Binary(b) => ins[0].iter().zip(&ins[1]).map(|(x, y)| binary_scalar(*b, *x, *y)).collect(),
        Op::Where => (0..got.len())
            .map(|i| if ins[0][i] == Scalar::Bool(true) { ins[1][i] } else { ins[2][i] }.cast(out_dtype))
            .collect(),
        Op::Cast(d) => ins[0].iter().map(|x| x.cast(*d)).collect(),
        Op::Clip => (0..got.len())
            .map(|i| switchyard_ir::elementwise::clip_scalar(ins[0][i], ins[1][i], ins[2][i]).cast(out_dtype))
            .collect(),
        Op::Reduce { op: r, .. } => vec![expected_reduce(*r, &ins[0], out_dtype)],
        Op::Reshape(_)
        | Op::PermuteDims(_)
        | Op::BroadcastTo(_)
        | Op::ExpandDims(_)
        | Op::Squeeze(_)
        | Op::Slice(_)
        | Op::ToDevice(_) => ins[0].clone(),
        Op::Flip(_) => ins[0].iter().rev().copied().collect(),
        Op::Pad { value, .. } => {
            let mut v = vec![*value];
            v.extend(&ins[0]);
            v.push(*value);
            v
        }
        Op::Concat(_) | Op::Stack(_) => ins.iter().flat_map(|v| cast_all(v)).collect(),
        Op::Matmul => {
            let zero = Scalar::zero(out_dtype);
            let dot = if out_dtype.is_float() {
                Scalar::F64(ins[0].iter().zip(&ins[1]).fold(0.0, |a, (x, y)| a + x.to_f64() * y.to_f64()))
                    .cast(out_dtype)
            } else {
                ins[0].iter().zip(&ins[1]).fold(zero, |a, (x, y)| {
                    binary_scalar(BinaryOp::Add, a, binary_scalar(BinaryOp::Mul, *x, *y)).cast(out_dtype)
                })
            };
            vec![dot]
        }
        Op::Nonzero { size: Some(k), fill } => {
            let mut idx: Vec<i64> = (0..ins[0].len())
                .filter(|&i| ins[0][i].cast(DType::Bool) == Scalar::Bool(true))
                .map(|i| i as i64)
                .collect();
            idx.truncate(*k);
            idx.resize(*k, *fill);
            idx.into_iter().map(Scalar::I64).collect()
        }
        other => panic!("no expectation for {other}"),
    };
    assert!(same_values(&got, &expected), "{op} on {:?}: got {got:?}, expected {expected:?}", ins);
}

/// The op adapted to operand dtypes (attributes that carry a dtype must match it).
fn adapt(op: &Op, dtypes: &[DType]) -> Op {
    match op {
        Op::Pad { widths, value } => Op::Pad { widths: widths.clone(), value: value.cast(dtypes[0]) },
        other => other.clone(),
    }
}

#[test]
fn every_lazy_op_runs_on_every_accepted_dtype() {
    let mut tested = 0;
    for op in catalog() {
        let name = op.name();
        if let Laziness::EagerOnly { .. } = op.info().laziness {
            let q = NodeQuery {
                op: &op,
                inputs: &[],
                output: &TensorType { dtype: DType::F32, shape: shape(&[0]) },
            };
            assert_eq!(
                ReferenceBackend.supports(&q),
                Support::no("eager-only: rejected when the graph is built")
            );
            let x = sample(DType::F32, &[4], 0);
            assert!(eval_op(&op, &[&x], &ty(&x)).is_err(), "{name}");
            continue;
        }
        let mut cases = 0;
        match (&op, op.info().arity) {
            (Op::Input { .. }, _) => {
                // IrGraph inputs are bound by the runtime; a kernel refuses to compute one.
                let out = TensorType { dtype: DType::F32, shape: Shape::vector(4) };
                assert_eq!(eval_op(&op, &[], &out).unwrap_err().kind(), LowerErrorKind::Kernel);
                assert!(run(op.clone(), &[]).is_err());
                cases += 1;
            }
            (Op::Full { .. }, _) => {
                for d in DType::ALL {
                    let full = Op::Full { value: Scalar::F64(2.5).cast(d), shape: shape(&[2, 3]) };
                    check_catalog_case(&full, &[], d);
                    cases += 1;
                }
            }
            (Op::Arange { .. }, _) => {
                for d in DType::ALL {
                    let arange = Op::Arange {
                        start: Scalar::F64(-3.5).cast(d),
                        step: Scalar::F64(2.25).cast(d),
                        len: 5,
                    };
                    if let Ok(t) = infer(&arange, &[]) {
                        check_catalog_case(&arange, &[], t.dtype);
                        cases += 1;
                    }
                }
            }
            (_, arity) => {
                let n = match arity {
                    Arity::Fixed(n) => n,
                    Arity::AtLeast(_) => 2,
                };
                let targets: Vec<Op> = match &op {
                    Op::Cast(_) => DType::ALL.iter().map(|&d| Op::Cast(d)).collect(),
                    other => vec![other.clone()],
                };
                for target in &targets {
                    for dtypes in dtype_combos(n) {
                        let op = adapt(target, &dtypes);
                        let inputs: Vec<Data> =
                            dtypes.iter().enumerate().map(|(i, &d)| sample(d, &[4], 3 * i)).collect();
                        let refs: Vec<&Data> = inputs.iter().collect();
                        let types: Vec<TensorType> = inputs.iter().map(ty).collect();
                        let trefs: Vec<&TensorType> = types.iter().collect();
                        let Ok(out) = infer(&op, &trefs) else { continue };
                        let q = NodeQuery { op: &op, inputs: &types, output: &out };
                        assert_eq!(ReferenceBackend.supports(&q), Support::Yes, "{op} on {dtypes:?}");
                        check_catalog_case(&op, &refs, out.dtype);
                        cases += 1;
                    }
                }
            }
        }
        assert!(cases > 0, "{name}: no dtype combination was accepted");
        tested += cases;
    }
    assert!(tested > 300, "only {tested} cases");
}

// ---------------------------------------------------------------------------------------
// Zero-size shapes, for every op
// ---------------------------------------------------------------------------------------

#[test]
fn every_op_handles_zero_size_dims() {
    let s = |dims: &[usize]| shape(dims);
    let ax = |a: &[usize]| -> switchyard_ir::Axes { a.iter().copied().collect() };
    for d in DType::ALL {
        let e03 = sample(d, &[0, 3], 0);
        let e20 = sample(d, &[2, 0], 0);
        let full = sample(d, &[2, 3], 0);
        let row = sample(d, &[3], 1);
        let e01 = sample(d, &[0, 1], 0);
        let cond = sample(DType::Bool, &[0, 3], 0);
        let rhs32 = sample(d, &[3, 2], 0);
        let rhs03 = sample(d, &[0, 3], 0);
        let mut cases: Vec<(Op, Vec<&Data>)> = vec![
            (Op::Full { value: Scalar::one(d), shape: s(&[0, 3]) }, vec![]),
            (Op::Arange { start: Scalar::one(d), step: Scalar::one(d), len: 0 }, vec![]),
            (Op::Where, vec![&cond, &e03, &row]),
            (Op::Clip, vec![&e03, &row, &e01]),
            (Op::Cast(DType::F64), vec![&e03]),
            (Op::Reshape(s(&[3, 0])), vec![&e03]),
            (Op::PermuteDims(ax(&[1, 0])), vec![&e03]),
            (Op::BroadcastTo(s(&[2, 0, 3])), vec![&e03]),
            (Op::ExpandDims(1), vec![&e03]),
            (Op::Squeeze(ax(&[1])), vec![&e01]),
            (
                Op::Slice(vec![
                    SliceAxis { start: 0, step: 1, len: 0 },
                    SliceAxis { start: 2, step: -1, len: 3 },
                ]),
                vec![&e03],
            ),
            (
                Op::Slice(vec![
                    SliceAxis { start: 1, step: 1, len: 1 },
                    SliceAxis { start: 99, step: -2, len: 0 },
                ]),
                vec![&full],
            ),
            (Op::Concat(0), vec![&e03, &full]),
            (Op::Concat(1), vec![&e20, &e20]),
            (Op::Stack(0), vec![&e03, &e03]),
            (Op::Flip(ax(&[0, 1])), vec![&e03]),
            (Op::Pad { widths: vec![(1, 1), (0, 0)], value: Scalar::one(d) }, vec![&e03]),
            (Op::Matmul, vec![&e03, &rhs32]),
            (Op::Matmul, vec![&e20, &rhs03]),
            (Op::ToDevice(Device::CPU), vec![&e03]),
            (Op::Nonzero { size: Some(2), fill: -7 }, vec![&e03]),
        ];
        for u in UnaryOp::ALL {
            cases.push((Op::Unary(u), vec![&e03]));
        }
        for b in BinaryOp::ALL {
            cases.push((Op::Binary(b), vec![&e03, &row]));
            cases.push((Op::Binary(b), vec![&e01, &row]));
        }
        for r in ReduceOp::ALL {
            for axes in [&[0][..], &[1], &[0, 1], &[]] {
                for keepdims in [false, true] {
                    cases.push((reduce_op(r, axes, keepdims), vec![&e03]));
                }
            }
        }
        let mut ran = 0;
        for (op, inputs) in &cases {
            let types: Vec<TensorType> = inputs.iter().map(|x| ty(x)).collect();
            let trefs: Vec<&TensorType> = types.iter().collect();
            let Ok(out) = infer(op, &trefs) else { continue };
            let result = eval(op.clone(), inputs);
            assert_eq!(ty(&result), out, "{op} on {d}");
            ran += 1;
            // Results with elements have their defined values.
            match op {
                Op::Reduce { op: r, axes, .. } if out.shape.numel() > 0 && axes.contains(&0) => {
                    let want = match r {
                        ReduceOp::Sum => Scalar::zero(out.dtype),
                        ReduceOp::Prod => Scalar::one(out.dtype),
                        ReduceOp::Mean | ReduceOp::Var | ReduceOp::Std => {
                            Scalar::F64(f64::NAN).cast(out.dtype)
                        }
                        ReduceOp::Any => Scalar::Bool(false),
                        ReduceOp::All => Scalar::Bool(true),
                        other => panic!("{other:?} over zero elements was accepted"),
                    };
                    assert!(scalars(&result).iter().all(|x| same_value(*x, want)), "{op} on {d}: {result:?}");
                }
                Op::Pad { .. } => assert!(scalars(&result).iter().all(|x| *x == Scalar::one(d))),
                Op::Matmul if out.shape.numel() > 0 => {
                    assert!(scalars(&result).iter().all(|x| *x == Scalar::zero(out.dtype)), "{result:?}")
                }
                Op::Nonzero { .. } => assert_eq!(i64s(&result), vec![-7; 4]),
                Op::Concat(0) => assert_eq!(result.to_bytes(), full.to_bytes()),
                Op::Slice(_) | Op::Concat(_) | Op::Full { .. } | Op::Arange { .. } => {}
                _ => assert_eq!(out.shape.numel(), 0, "{op}"),
            }
        }
        assert!(ran >= 40, "{d}: only {ran} zero-size cases ran");
    }
}

// ---------------------------------------------------------------------------------------
// Hand-computed values
// ---------------------------------------------------------------------------------------

#[test]
fn float_specials_follow_ieee() {
    let inf = f32::INFINITY;
    let x = arr(&[4], &[inf, 0.0, -1.0, f32::NAN]);
    let exp = eval(Op::Unary(UnaryOp::Exp), &[&x]);
    let e = exp.typed::<f32>().unwrap();
    assert_eq!(e[0], inf);
    assert_eq!(e[1], 1.0);
    assert!(e[3].is_nan());
    let log = f64s(&eval(Op::Unary(UnaryOp::Log), &[&x]));
    assert_eq!(log[1], f64::NEG_INFINITY);
    assert!(log[2].is_nan());
    let sqrt = eval(Op::Unary(UnaryOp::Sqrt), &[&arr(&[2], &[-1.0f64, 4.0])]);
    assert!(sqrt.typed::<f64>().unwrap()[0].is_nan());
    assert_eq!(sqrt.typed::<f64>().unwrap()[1], 2.0);
    let tests = eval(Op::Unary(UnaryOp::IsNan), &[&x]);
    assert_eq!(bools(&tests), vec![false, false, false, true]);
    assert_eq!(bools(&eval(Op::Unary(UnaryOp::IsFinite), &[&x])), vec![false, true, true, false]);
    let recip = eval(Op::Unary(UnaryOp::Reciprocal), &[&arr(&[2], &[0.0f64, -0.0])]);
    assert_eq!(recip.typed::<f64>().unwrap(), &[f64::INFINITY, f64::NEG_INFINITY]);
}

#[test]
fn maximum_and_max_propagate_nan() {
    let nan = f64::NAN;
    let a = arr(&[3], &[1.0, nan, 3.0]);
    let b = arr(&[3], &[nan, 2.0, 1.0]);
    let m = f64s(&eval(Op::Binary(BinaryOp::Maximum), &[&a, &b]));
    assert!(m[0].is_nan() && m[1].is_nan());
    assert_eq!(m[2], 3.0);
    let mn = f64s(&eval(Op::Binary(BinaryOp::Minimum), &[&a, &b]));
    assert!(mn[0].is_nan() && mn[1].is_nan());
    assert_eq!(mn[2], 1.0);
    let x = arr(&[2, 3], &[1.0f32, nan as f32, 0.5, 4.0, 5.0, 6.0]);
    let max = f64s(&eval(reduce_op(ReduceOp::Max, &[1], false), &[&x]));
    assert!(max[0].is_nan());
    assert_eq!(max[1], 6.0);
    assert!(f64s(&eval(reduce_op(ReduceOp::Min, &[0, 1], false), &[&x]))[0].is_nan());
    let mean = f64s(&eval(reduce_op(ReduceOp::Sum, &[1], false), &[&x]));
    assert!(mean[0].is_nan());
    assert_eq!(mean[1], 15.0);
}

#[test]
fn integer_division_by_zero_is_zero() {
    let a = arr(&[4], &[7i32, -7, 0, i32::MIN]);
    let b = arr(&[4], &[0i32, 0, 0, -1]);
    assert_eq!(
        eval(Op::Binary(BinaryOp::FloorDivide), &[&a, &b]).typed::<i32>().unwrap(),
        &[0, 0, 0, i32::MIN]
    );
    assert_eq!(eval(Op::Binary(BinaryOp::Remainder), &[&a, &b]).typed::<i32>().unwrap(), &[0, 0, 0, 0]);
    let a = arr(&[3], &[7i64, -7, 7]);
    let b = arr(&[3], &[0i64, 2, -2]);
    assert_eq!(i64s(&eval(Op::Binary(BinaryOp::FloorDivide), &[&a, &b])), vec![0, -4, -4]);
    assert_eq!(i64s(&eval(Op::Binary(BinaryOp::Remainder), &[&a, &b])), vec![0, 1, -1]);
}

#[test]
fn integer_overflow_wraps_and_sums_widen() {
    let a = arr(&[2], &[i32::MAX, i32::MIN]);
    let one = arr(&[], &[1i32]);
    assert_eq!(
        eval(Op::Binary(BinaryOp::Add), &[&a, &one]).typed::<i32>().unwrap(),
        &[i32::MIN, i32::MIN + 1]
    );
    assert_eq!(eval(Op::Unary(UnaryOp::Neg), &[&a]).typed::<i32>().unwrap(), &[-i32::MAX, i32::MIN]);
    // sum of i32 is i64: no wrap at 2^31.
    let big = arr(&[3], &[i32::MAX, i32::MAX, 2]);
    let s = eval(reduce_op(ReduceOp::Sum, &[0], false), &[&big]);
    assert_eq!(s.dtype(), DType::I64);
    assert_eq!(i64s(&s), vec![2 * i64::from(i32::MAX) + 2]);
    // i64 sum and prod wrap.
    let big = arr(&[2], &[i64::MAX, 1]);
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::Sum, &[0], false), &[&big])), vec![i64::MIN]);
    let p = arr(&[3], &[1i32 << 20, 1 << 20, 1 << 30]);
    assert_eq!(
        i64s(&eval(reduce_op(ReduceOp::Prod, &[0], false), &[&p])),
        vec![(1i64 << 40).wrapping_mul(1 << 30)]
    );
    // i32 mixed with i64 promotes before the op.
    let wide = arr(&[1], &[i64::from(i32::MAX)]);
    assert_eq!(i64s(&eval(Op::Binary(BinaryOp::Add), &[&one, &wide])), vec![i64::from(i32::MAX) + 1]);
}

#[test]
fn empty_reductions_have_their_identities() {
    let e = arr::<f32>(&[0], &[]);
    assert_eq!(f64s(&eval(reduce_op(ReduceOp::Sum, &[0], false), &[&e])), vec![0.0]);
    assert_eq!(f64s(&eval(reduce_op(ReduceOp::Prod, &[0], false), &[&e])), vec![1.0]);
    assert!(f64s(&eval(reduce_op(ReduceOp::Mean, &[0], false), &[&e]))[0].is_nan());
    assert!(f64s(&eval(reduce_op(ReduceOp::Var, &[0], false), &[&e]))[0].is_nan());
    let ei = arr::<i32>(&[2, 0], &[]);
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::Sum, &[1], true), &[&ei])), vec![0, 0]);
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::Prod, &[1], false), &[&ei])), vec![1, 1]);
    let eb = arr::<bool>(&[0], &[]);
    assert_eq!(bools(&eval(reduce_op(ReduceOp::Any, &[0], false), &[&eb])), vec![false]);
    assert_eq!(bools(&eval(reduce_op(ReduceOp::All, &[0], false), &[&eb])), vec![true]);
    // max of an empty axis is refused by the type checker, not computed.
    assert!(run(reduce_op(ReduceOp::Max, &[0], false), &[&e]).is_err());
}

#[test]
fn reductions_over_several_axes_and_keepdims() {
    let x = eval(Op::Arange { start: Scalar::F64(0.0), step: Scalar::F64(1.0), len: 24 }, &[]);
    let x = eval(Op::Reshape(shape(&[2, 3, 4])), &[&x]);
    // sum over axes 0 and 2: for j, sum_{i,k} (12 i + 4 j + k) = 2*4*4j + 4*12 + 2*6 = 32 j + 60.
    let s = eval(reduce_op(ReduceOp::Sum, &[0, 2], true), &[&x]);
    assert_eq!(s.dims(), &[1, 3, 1]);
    assert_eq!(f64s(&s), vec![60.0, 92.0, 124.0]);
    let s = eval(reduce_op(ReduceOp::Sum, &[0, 2], false), &[&x]);
    assert_eq!(s.dims(), &[3]);
    let m = eval(reduce_op(ReduceOp::Mean, &[1], false), &[&x]);
    assert_eq!(m.dims(), &[2, 4]);
    assert_eq!(f64s(&m), vec![4.0, 5.0, 6.0, 7.0, 16.0, 17.0, 18.0, 19.0]);
    let all = eval(reduce_op(ReduceOp::Max, &[0, 1, 2], true), &[&x]);
    assert_eq!((all.dims(), f64s(&all)), (&[1usize, 1, 1][..], vec![23.0]));
    let none = eval(reduce_op(ReduceOp::Sum, &[], false), &[&x]);
    assert_eq!(none.to_bytes(), x.to_bytes());
    // var and std, with and without correction.
    let v = arr(&[4], &[1.0f64, 2.0, 3.0, 4.0]);
    assert_eq!(f64s(&eval(reduce_op(ReduceOp::Var, &[0], false), &[&v])), vec![1.25]);
    let corrected =
        Op::Reduce { op: ReduceOp::Var, axes: [0].into_iter().collect(), keepdims: false, correction: 1 };
    assert_eq!(f64s(&eval(corrected, &[&v])), vec![5.0 / 3.0]);
    assert_eq!(f64s(&eval(reduce_op(ReduceOp::Std, &[0], false), &[&v])), vec![1.25f64.sqrt()]);
    let one = arr(&[1], &[3.0f32]);
    let too_much =
        Op::Reduce { op: ReduceOp::Std, axes: [0].into_iter().collect(), keepdims: false, correction: 2 };
    assert!(f64s(&eval(too_much, &[&one]))[0].is_nan());
    // Any/all per row.
    let b = arr(&[2, 3], &[false, true, false, false, false, false]);
    assert_eq!(bools(&eval(reduce_op(ReduceOp::Any, &[1], false), &[&b])), vec![true, false]);
    assert_eq!(bools(&eval(reduce_op(ReduceOp::All, &[0], false), &[&b])), vec![false, false, false]);
}

#[test]
fn float_sums_accumulate_in_f64() {
    // In f32, 1e8 + 1 rounds back to 1e8; the reference accumulates in f64 and rounds once.
    let x = arr(&[3], &[1e8f32, 1.0, -1e8]);
    assert_eq!(eval(reduce_op(ReduceOp::Sum, &[0], false), &[&x]).typed::<f32>().unwrap(), &[1.0]);
    let m = eval(Op::Matmul, &[&x, &arr(&[3], &[1.0f32, 1.0, 1.0])]);
    assert_eq!(m.typed::<f32>().unwrap(), &[1.0]);
}

#[test]
fn argmax_takes_the_first_extreme() {
    let x = arr(&[2, 3], &[1i32, 3, 3, 3, 0, 2]);
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::ArgMax, &[1], false), &[&x])), vec![1, 0]);
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::ArgMax, &[0], false), &[&x])), vec![1, 0, 0]);
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::ArgMin, &[0], true), &[&x])), vec![0, 1, 1]);
    // All axes: index into the flattened array.
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::ArgMax, &[0, 1], false), &[&x])), vec![1]);
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::ArgMin, &[0, 1], false), &[&x])), vec![4]);
    let k = eval(reduce_op(ReduceOp::ArgMin, &[0, 1], true), &[&x]);
    assert_eq!(k.dims(), &[1, 1]);
    // NaN is the extreme; the first NaN wins.
    let nan = f64::NAN;
    let y = arr(&[5], &[1.0, nan, 9.0, nan, -9.0]);
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::ArgMax, &[0], false), &[&y])), vec![1]);
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::ArgMin, &[0], false), &[&y])), vec![1]);
    let z = arr(&[3], &[nan as f32, 1.0, 2.0]);
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::ArgMax, &[0], false), &[&z])), vec![0]);
    // Scalars: axes [] are all (zero) axes.
    let s = arr(&[], &[5i64]);
    assert_eq!(i64s(&eval(reduce_op(ReduceOp::ArgMax, &[], false), &[&s])), vec![0]);
}

#[test]
fn slicing_with_negative_steps() {
    let x = eval(Op::Arange { start: Scalar::I32(0), step: Scalar::I32(1), len: 10 }, &[]);
    let s = eval(Op::Slice(vec![SliceAxis { start: 8, step: -3, len: 3 }]), &[&x]);
    assert_eq!(s.typed::<i32>().unwrap(), &[8, 5, 2]);
    let x = eval(Op::Arange { start: Scalar::I64(0), step: Scalar::I64(1), len: 12 }, &[]);
    let x = eval(Op::Reshape(shape(&[3, 4])), &[&x]);
    let spec = vec![SliceAxis { start: 2, step: -1, len: 3 }, SliceAxis { start: 1, step: 2, len: 2 }];
    let s = eval(Op::Slice(spec), &[&x]);
    assert_eq!(s.dims(), &[3, 2]);
    assert_eq!(i64s(&s), vec![9, 11, 5, 7, 1, 3]);
    let spec = vec![SliceAxis { start: 0, step: 2, len: 2 }, SliceAxis { start: 3, step: -3, len: 2 }];
    assert_eq!(i64s(&eval(Op::Slice(spec), &[&x])), vec![3, 0, 11, 8]);
    // An axis taking one element may have any step.
    let spec = vec![
        SliceAxis { start: 2, step: isize::MAX, len: 1 },
        SliceAxis { start: 3, step: isize::MIN, len: 1 },
    ];
    assert_eq!(i64s(&eval(Op::Slice(spec), &[&x])), vec![11]);
}

#[test]
fn huge_extents_around_zero_size_dims_do_not_overflow() {
    // The largest extents a shape may hold next to a zero one: their product is at most
    // `Shape::MAX_ELEMENTS` (2^60 - 1); larger ones are refused when the shape is made.
    let m = 1usize << 29;
    let e = arr::<f32>(&[0, 1, 1], &[]);
    let pad = Op::Pad { widths: vec![(0, 0), (m, 0), (m, 0)], value: Scalar::F32(1.0) };
    let p = eval(pad, &[&e]);
    assert_eq!(p.dims(), &[0, m + 1, m + 1]);
    let b = eval(Op::BroadcastTo(shape(&[2, 0, m, m])), &[&e]);
    assert_eq!(b.dims(), &[2, 0, m, m]);
    let f = eval(Op::Flip([0, 1].into_iter().collect()), &[&arr::<i32>(&[m, 0], &[])]);
    assert_eq!(f.dims(), &[m, 0]);
    let s = eval(reduce_op(ReduceOp::Sum, &[0], false), &[&arr::<f64>(&[m, 0], &[])]);
    assert_eq!(s.dims(), &[0]);
}

#[test]
fn broadcasting_in_binary_where_and_clip() {
    let col = arr(&[3, 1], &[0.0f32, 10.0, 20.0]);
    let row = arr(&[4], &[1.0f64, 2.0, 3.0, 4.0]);
    let s = eval(Op::Binary(BinaryOp::Add), &[&col, &row]);
    assert_eq!((s.dtype(), s.dims()), (DType::F64, &[3usize, 4][..]));
    assert_eq!(f64s(&s), vec![1.0, 2.0, 3.0, 4.0, 11.0, 12.0, 13.0, 14.0, 21.0, 22.0, 23.0, 24.0]);
    let lt = eval(Op::Binary(BinaryOp::Lt), &[&row, &arr(&[], &[2.5f32])]);
    assert_eq!(bools(&lt), vec![true, true, false, false]);
    let cond = arr(&[2, 1], &[true, false]);
    let a = arr(&[3], &[1i32, 2, 3]);
    let b = arr(&[], &[-1i64]);
    let w = eval(Op::Where, &[&cond, &a, &b]);
    assert_eq!((w.dtype(), w.dims()), (DType::I64, &[2usize, 3][..]));
    assert_eq!(i64s(&w), vec![1, 2, 3, -1, -1, -1]);
    let x = arr(&[2, 3], &[-5i32, 0, 5, 1, 2, 100]);
    let lo = arr(&[], &[0i32]);
    let hi = arr(&[3], &[3i32, 4, 1]);
    assert_eq!(eval(Op::Clip, &[&x, &lo, &hi]).typed::<i32>().unwrap(), &[0, 0, 1, 1, 2, 1]);
    let xf = arr(&[3], &[f32::NAN, -2.0, 2.0]);
    let c = eval(Op::Clip, &[&xf, &arr(&[], &[-1.0f32]), &arr(&[], &[1.0f32])]);
    let c = c.typed::<f32>().unwrap();
    assert!(c[0].is_nan());
    assert_eq!(&c[1..], &[-1.0, 1.0]);
    let c = f64s(&eval(Op::Clip, &[&arr(&[1], &[0.5f64]), &arr(&[1], &[f64::NAN]), &arr(&[1], &[1.0f64])]));
    assert!(c[0].is_nan());
}

#[test]
fn shape_ops_move_elements() {
    let x = eval(Op::Arange { start: Scalar::I32(0), step: Scalar::I32(1), len: 24 }, &[]);
    let x = eval(Op::Reshape(shape(&[2, 3, 4])), &[&x]);
    // permute: result[a,b,c] = x[b,c,a] for perm [2,0,1] (result dims [4,2,3]).
    let p = eval(Op::PermuteDims([2, 0, 1].into_iter().collect()), &[&x]);
    assert_eq!(p.dims(), &[4, 2, 3]);
    let pv = p.typed::<i32>().unwrap();
    for a in 0..4 {
        for b in 0..2 {
            for c in 0..3 {
                assert_eq!(pv[a * 6 + b * 3 + c], (b * 12 + c * 4 + a) as i32);
            }
        }
    }
    let f = eval(Op::Flip([0, 2].into_iter().collect()), &[&x]);
    let fv = f.typed::<i32>().unwrap();
    assert_eq!(&fv[..4], &[15, 14, 13, 12]);
    assert_eq!(&fv[20..], &[11, 10, 9, 8]);
    let y = arr(&[2, 2], &[1.0f32, 2.0, 3.0, 4.0]);
    let pad = Op::Pad { widths: vec![(1, 0), (0, 2)], value: Scalar::F32(9.0) };
    let pd = eval(pad, &[&y]);
    assert_eq!(pd.dims(), &[3, 4]);
    assert_eq!(f64s(&pd), vec![9.0, 9.0, 9.0, 9.0, 1.0, 2.0, 9.0, 9.0, 3.0, 4.0, 9.0, 9.0]);
    let a = arr(&[2, 1], &[1i32, 2]);
    let b = arr(&[2, 2], &[3i64, 4, 5, 6]);
    let c = eval(Op::Concat(1), &[&a, &b]);
    assert_eq!((c.dtype(), c.dims()), (DType::I64, &[2usize, 3][..]));
    assert_eq!(i64s(&c), vec![1, 3, 4, 2, 5, 6]);
    let c0 = eval(Op::Concat(0), &[&b, &b, &b]);
    assert_eq!(i64s(&c0), vec![3, 4, 5, 6, 3, 4, 5, 6, 3, 4, 5, 6]);
    let u = arr(&[2], &[1.0f32, 2.0]);
    let v = arr(&[2], &[3.0f64, 4.0]);
    let s1 = eval(Op::Stack(1), &[&u, &v]);
    assert_eq!((s1.dtype(), s1.dims()), (DType::F64, &[2usize, 2][..]));
    assert_eq!(f64s(&s1), vec![1.0, 3.0, 2.0, 4.0]);
    let s0 = eval(Op::Stack(0), &[&u, &u, &u]);
    assert_eq!((s0.dims(), f64s(&s0)), (&[3usize, 2][..], vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0]));
    let bc = eval(Op::BroadcastTo(shape(&[2, 2, 3])), &[&arr(&[2, 1], &[true, false])]);
    assert_eq!(bools(&bc), [[true; 3], [false; 3], [true; 3], [false; 3]].concat());
    let e = eval(Op::ExpandDims(1), &[&u]);
    assert_eq!(e.dims(), &[2, 1]);
    let sq = eval(Op::Squeeze([1].into_iter().collect()), &[&e]);
    assert_eq!((sq.dims(), f64s(&sq)), (&[2usize][..], vec![1.0, 2.0]));
    let t = eval(Op::ToDevice(Device::CPU), &[&x]);
    assert_eq!(t.to_bytes(), x.to_bytes());
}

#[test]
fn matmul_follows_the_array_api() {
    // [2,3] @ [3,2]
    let a = arr(&[2, 3], &[1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let b = arr(&[3, 2], &[7.0f64, 8.0, 9.0, 10.0, 11.0, 12.0]);
    let c = eval(Op::Matmul, &[&a, &b]);
    assert_eq!((c.dims(), f64s(&c)), (&[2usize, 2][..], vec![58.0, 64.0, 139.0, 154.0]));
    // 1-D on the left: a row; the axis is dropped.
    let v = arr(&[3], &[1.0f32, 0.0, -1.0]);
    let c = eval(Op::Matmul, &[&v, &b]);
    assert_eq!((c.dtype(), c.dims(), f64s(&c)), (DType::F64, &[2usize][..], vec![-4.0, -4.0]));
    // 1-D on the right: a column.
    let c = eval(Op::Matmul, &[&a, &v]);
    assert_eq!((c.dims(), f64s(&c)), (&[2usize][..], vec![-2.0, -2.0]));
    // 1-D @ 1-D: a scalar.
    let c = eval(Op::Matmul, &[&v, &v]);
    assert_eq!((c.dims(), f64s(&c)), (&[][..], vec![2.0]));
    // Batched with broadcast: [2,1,2,2] @ [3,2,1] -> [2,3,2,1].
    let l = arr(&[2, 1, 2, 2], &[1i32, 0, 0, 1, 2, 0, 0, 2]);
    let r = arr(&[3, 2, 1], &[1i64, 2, 3, 4, 5, 6]);
    let c = eval(Op::Matmul, &[&l, &r]);
    assert_eq!((c.dtype(), c.dims()), (DType::I64, &[2usize, 3, 2, 1][..]));
    assert_eq!(i64s(&c), vec![1, 2, 3, 4, 5, 6, 2, 4, 6, 8, 10, 12]);
    // A batched left operand with a 1-D right operand.
    let c = eval(Op::Matmul, &[&l, &arr(&[2], &[1i32, 1])]);
    assert_eq!((c.dims(), c.typed::<i32>().unwrap()), (&[2usize, 1, 2][..], &[1, 1, 2, 2][..]));
    // Integer products wrap in the dtype.
    let big = arr(&[1, 2], &[i32::MAX, 2]);
    let c = eval(Op::Matmul, &[&big, &arr(&[2, 1], &[2i32, 1])]);
    assert_eq!(c.typed::<i32>().unwrap(), &[i32::MAX.wrapping_mul(2).wrapping_add(2)]);
}

#[test]
fn nonzero_with_a_size_pads_with_fill() {
    let x = arr(&[2, 2], &[0i32, 1, 2, 0]);
    let nz = eval(Op::Nonzero { size: Some(3), fill: -1 }, &[&x]);
    assert_eq!((nz.dims(), i64s(&nz)), (&[2usize, 3][..], vec![0, 1, -1, 1, 0, -1]));
    let nz = eval(Op::Nonzero { size: Some(1), fill: -1 }, &[&x]);
    assert_eq!(i64s(&nz), vec![0, 1]);
    let f = arr(&[4], &[0.0f64, f64::NAN, -0.0, 2.0]);
    assert_eq!(i64s(&eval(Op::Nonzero { size: Some(3), fill: 9 }, &[&f])), vec![1, 3, 9]);
    let b = arr(&[3], &[true, false, true]);
    assert_eq!(i64s(&eval(Op::Nonzero { size: Some(2), fill: 0 }, &[&b])), vec![0, 2]);
}

#[test]
fn cast_and_arange_semantics() {
    let x = arr(&[4], &[f32::NAN, 1e20, -2.7, 3.9]);
    assert_eq!(eval(Op::Cast(DType::I32), &[&x]).typed::<i32>().unwrap(), &[0, i32::MAX, -2, 3]);
    assert_eq!(bools(&eval(Op::Cast(DType::Bool), &[&x])), vec![true, true, true, true]);
    let w = arr(&[2], &[1i64 << 32, (1i64 << 32) + 5]);
    assert_eq!(eval(Op::Cast(DType::I32), &[&w]).typed::<i32>().unwrap(), &[0, 5]);
    let a = eval(Op::Arange { start: Scalar::I32(i32::MAX - 1), step: Scalar::I32(1), len: 3 }, &[]);
    assert_eq!(a.typed::<i32>().unwrap(), &[i32::MAX - 1, i32::MAX, i32::MIN]);
    let a = eval(Op::Arange { start: Scalar::F32(0.1), step: Scalar::F32(0.2), len: 4 }, &[]);
    let want: Vec<f32> =
        (0..4).map(|i| (f64::from(0.1f32) + f64::from(i) * f64::from(0.2f32)) as f32).collect();
    assert_eq!(a.typed::<f32>().unwrap(), want.as_slice());
    let a = eval(Op::Arange { start: Scalar::I64(5), step: Scalar::I64(-2), len: 4 }, &[]);
    assert_eq!(i64s(&a), vec![5, 3, 1, -1]);
}

#[test]
fn bytes_decode_without_alignment_assumptions() {
    let x = arr(&[3], &[1.5f64, -2.0, 1e300]);
    let mut buf = vec![0u8; 1];
    buf.extend(x.to_bytes());
    let s = shape(&[3]);
    let d = Data::from_view(&TensorView { dtype: DType::F64, shape: &s, data: &buf[1..] }).unwrap();
    assert_eq!(d, x);
    let b = Data::from_view(&TensorView { dtype: DType::Bool, shape: &s, data: &[0, 1, 2] }).unwrap();
    assert_eq!(bools(&b), vec![false, true, true]);
    assert_eq!(arr(&[2], &[true, false]).to_bytes(), vec![1, 0]);
    assert!(Data::from_view(&TensorView { dtype: DType::F64, shape: &s, data: &buf }).is_err());
    assert!(Data::new(shape(&[2]), Values::I32(vec![1])).is_err());
}

// ---------------------------------------------------------------------------------------
// The Backend and CompiledKernel contract
// ---------------------------------------------------------------------------------------

#[test]
fn backend_metadata_and_supports() {
    let b = ReferenceBackend;
    assert_eq!(b.name(), "cpu.reference");
    assert_eq!(b.op_set_version(), switchyard_ir::OP_SET_VERSION);
    assert_eq!(b.device_kind(), switchyard_ir::DeviceKind::Cpu);
    assert_eq!(b.priority(), 0);
    assert_eq!(b.max_fused_nodes(), 1);
    assert_eq!(b.version(), env!("CARGO_PKG_VERSION"));
    for op in catalog() {
        for d in DType::ALL {
            assert_eq!(b.precision(&op, d), Tolerance::EXACT);
        }
    }
    let t = TensorType { dtype: DType::F32, shape: shape(&[4]) };
    let inputs = [t.clone()];
    let gpu = Op::ToDevice(Device::gpu(0));
    let q = NodeQuery { op: &gpu, inputs: &inputs, output: &t };
    assert_eq!(
        b.supports(&q),
        Support::no("the reference backend runs on the CPU only; the transfer itself is done by the runtime")
    );
    let cpu = Op::ToDevice(Device::CPU);
    assert!(b.supports(&NodeQuery { op: &cpu, inputs: &inputs, output: &t }).is_yes());
    let ill = Op::Unary(UnaryOp::LogicalNot);
    assert!(!b.supports(&NodeQuery { op: &ill, inputs: &inputs, output: &t }).is_yes());
    // A transfer to a GPU never compiles here.
    let spec = KernelSpec {
        inputs: vec![t.clone()],
        nodes: vec![KernelNode { op: gpu, operands: vec![KernelOperand::Arg(0)], ty: t.clone() }],
        outputs: vec![0],
    };
    assert_eq!(b.compile(&spec).unwrap_err().kind(), LowerErrorKind::Compile);
}

/// `exp(a * b)` and its sum over axis 1, both written out.
fn three_node_spec() -> KernelSpec {
    let t = TensorType { dtype: DType::F32, shape: shape(&[2, 3]) };
    KernelSpec {
        inputs: vec![t.clone(), TensorType { dtype: DType::F32, shape: shape(&[3]) }],
        nodes: vec![
            KernelNode {
                op: Op::Binary(BinaryOp::Mul),
                operands: vec![KernelOperand::Arg(0), KernelOperand::Arg(1)],
                ty: t.clone(),
            },
            KernelNode { op: Op::Unary(UnaryOp::Exp), operands: vec![KernelOperand::Node(0)], ty: t.clone() },
            KernelNode {
                op: reduce_op(ReduceOp::Sum, &[1], false),
                operands: vec![KernelOperand::Node(1)],
                ty: TensorType { dtype: DType::F32, shape: shape(&[2]) },
            },
        ],
        outputs: vec![2, 1],
    }
}

#[test]
fn a_three_node_kernel_runs_in_order() {
    let spec = three_node_spec();
    let kernel = ReferenceBackend.compile(&spec).unwrap();
    let a = arr(&[2, 3], &[0.0f32, 1.0, 2.0, -1.0, 0.5, 0.0]);
    let b = arr(&[3], &[1.0f32, 2.0, 0.5]);
    let outs = run_kernel(&*kernel, &spec, &[&a, &b]).unwrap();
    let prod = eval(Op::Binary(BinaryOp::Mul), &[&a, &b]);
    let exp = eval(Op::Unary(UnaryOp::Exp), &[&prod]);
    let sum = eval(reduce_op(ReduceOp::Sum, &[1], false), &[&exp]);
    assert_eq!(outs[0], sum);
    assert_eq!(outs[1], exp);
    // `exp` as the reference semantics define it (the `libm` crate's, not the platform's).
    let e = |x: f32| f64::from(<f32 as Element>::unary(UnaryOp::Exp, x));
    let want = [((e(0.0) + e(2.0)) + e(1.0)) as f32, ((e(-1.0) + e(1.0)) + e(0.0)) as f32];
    assert_eq!(outs[0].typed::<f32>().unwrap(), &want);
    let code = kernel.code().unwrap();
    assert!(code.contains("%1 = exp() %0 : f32[2,3]"), "{code}");
    // The kernel can run again.
    assert_eq!(run_kernel(&*kernel, &spec, &[&a, &b]).unwrap()[0], sum);
}

#[test]
fn bad_arguments_are_errors_not_panics() {
    let spec = three_node_spec();
    let kernel = ReferenceBackend.compile(&spec).unwrap();
    let a = arr(&[2, 3], &[0.0f32; 6]);
    let b = arr(&[3], &[0.0f32; 3]);
    let a64 = arr(&[2, 3], &[0.0f64; 6]);
    let b4 = arr(&[4], &[0.0f32; 4]);
    for inputs in [vec![&a64, &b], vec![&a, &b4], vec![&a], vec![&a, &b, &b]] {
        let err = run_kernel(&*kernel, &spec, &inputs).unwrap_err();
        assert_eq!(err.kind(), LowerErrorKind::Kernel, "{err}");
    }
    // Right dtype and shape, wrong byte count.
    let s23 = shape(&[2, 3]);
    let s3 = shape(&[3]);
    let s2 = shape(&[2]);
    let short = vec![0u8; 20];
    let ok_b = b.to_bytes();
    let views = [
        TensorView { dtype: DType::F32, shape: &s23, data: &short },
        TensorView { dtype: DType::F32, shape: &s3, data: &ok_b },
    ];
    let (mut o1, mut o2) = (vec![0u8; 8], vec![0u8; 24]);
    let mut outs = [
        TensorViewMut { dtype: DType::F32, shape: &s2, data: &mut o1 },
        TensorViewMut { dtype: DType::F32, shape: &s23, data: &mut o2 },
    ];
    assert!(kernel.run(&views, &mut outs).is_err());
    // Wrong output type.
    let good_a = a.to_bytes();
    let views = [
        TensorView { dtype: DType::F32, shape: &s23, data: &good_a },
        TensorView { dtype: DType::F32, shape: &s3, data: &ok_b },
    ];
    let mut o3 = vec![0u8; 16];
    let mut outs = [
        TensorViewMut { dtype: DType::F64, shape: &s2, data: &mut o3 },
        TensorViewMut { dtype: DType::F32, shape: &s23, data: &mut o2 },
    ];
    assert!(kernel.run(&views, &mut outs).is_err());
    // eval_op refuses ill-typed calls and lying result types.
    let t = TensorType { dtype: DType::F64, shape: shape(&[2, 3]) };
    assert!(eval_op(&Op::Unary(UnaryOp::Exp), &[&a], &t).is_err());
    assert!(eval_op(&Op::Unary(UnaryOp::Exp), &[], &t).is_err());
    assert!(eval_op(&Op::Binary(BinaryOp::Add), &[&a, &arr(&[2], &[1.0f32, 2.0])], &t).is_err());
    assert!(eval_op(&Op::Unary(UnaryOp::Exp), &[&arr(&[1], &[1i32])], &t).is_err());
}

#[test]
fn malformed_specs_do_not_compile() {
    let good = three_node_spec();
    let mut wrong_type = good.clone();
    wrong_type.nodes[2].ty.dtype = DType::F64;
    let mut forward_ref = good.clone();
    forward_ref.nodes[0].operands[0] = KernelOperand::Node(1);
    let mut missing_arg = good.clone();
    missing_arg.nodes[0].operands[1] = KernelOperand::Arg(5);
    let mut bad_output = good.clone();
    bad_output.outputs.push(3);
    let mut input_node = good.clone();
    input_node.nodes[0] = KernelNode {
        op: Op::Input { name: "x".into(), dtype: DType::F32, shape: shape(&[2, 3]) },
        operands: vec![],
        ty: good.nodes[0].ty.clone(),
    };
    for spec in [wrong_type, forward_ref, missing_arg, bad_output, input_node] {
        assert_eq!(ReferenceBackend.compile(&spec).unwrap_err().kind(), LowerErrorKind::Compile);
    }
}
