//! The semantics DESIGN.md promises, checked end to end through the public API on the
//! reference backend: promotion, weak scalars, integer rules, NaN, empty arrays, axes, slicing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use switchyard::prelude::*;
use switchyard::{Error, Index, IrErrorKind, Operand};

fn run(t: &Tensor, inputs: &[(&str, &Array)]) -> Array {
    t.eval(Device::CPU, inputs).unwrap()
}

fn f32s(dims: &[usize], v: Vec<f32>) -> Array {
    Array::from_vec(dims, v).unwrap()
}

fn ir_kind(e: Error) -> IrErrorKind {
    match e {
        Error::Ir(e) => e.kind(),
        other => panic!("expected an IR error, got {other:?}"),
    }
}

#[test]
fn broadcasting_and_promotion_follow_the_array_api() {
    let g = Graph::new();
    let a = g.input("a", DType::F32, &[3, 1]).unwrap();
    let b = g.input("b", DType::F64, &[4]).unwrap();
    let c = (&a + &b).unwrap();
    assert_eq!((c.dtype(), c.dims()), (DType::F64, &[3usize, 4][..]));
    let av = f32s(&[3, 1], vec![1.0, 2.0, 3.0]);
    let bv = Array::from_vec(&[4], vec![10.0f64, 20.0, 30.0, 40.0]).unwrap();
    let out = run(&c, &[("a", &av), ("b", &bv)]).to_vec::<f64>().unwrap();
    assert_eq!(out[..4], [11.0, 21.0, 31.0, 41.0]);
    assert_eq!(out[8..], [13.0, 23.0, 33.0, 43.0]);

    let i = g.input("i", DType::I32, &[2]).unwrap();
    let j = g.input("j", DType::I64, &[2]).unwrap();
    assert_eq!((&i * &j).unwrap().dtype(), DType::I64);
}

#[test]
fn weak_scalars_keep_the_tensor_dtype() {
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[2]).unwrap();
    assert_eq!((&x * 2.0).unwrap().dtype(), DType::F32);
    assert_eq!(((&x * 2).unwrap() + 1).unwrap().dtype(), DType::F32);
    assert_eq!(x.gt(0).unwrap().dtype(), DType::Bool);
    let n = g.input("n", DType::I32, &[2]).unwrap();
    assert_eq!((&n * 2).unwrap().dtype(), DType::I32);
    let e = (&n * 2.0).unwrap_err();
    assert!(e.to_string().contains("cast"), "{e}");
    assert_eq!(ir_kind(e), IrErrorKind::DTypeMismatch);
    // A literal that does not fit the tensor's dtype is refused, not wrapped.
    assert_eq!(ir_kind((&n + 3_000_000_000i64).unwrap_err()), IrErrorKind::Overflow);
}

#[test]
fn mixing_int_and_float_tensors_needs_a_cast() {
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[2]).unwrap();
    let n = g.input("n", DType::I64, &[2]).unwrap();
    let e = (&x + &n).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("add") && msg.contains("cast"), "{msg}");
    assert_eq!(ir_kind(e), IrErrorKind::DTypeMismatch);
    let fixed = (&x + n.cast(DType::F32).unwrap()).unwrap();
    assert_eq!(fixed.dtype(), DType::F32);
    let b = g.input("b", DType::Bool, &[2]).unwrap();
    assert_eq!(ir_kind((&b + &b).unwrap_err()), IrErrorKind::DTypeMismatch);
}

#[test]
fn sum_of_int32_is_int64_and_mean_of_ints_is_an_error() {
    let g = Graph::new();
    let n = g.input("n", DType::I32, &[3]).unwrap();
    let s = n.sum(AxisSpec::All, false).unwrap();
    assert_eq!(s.dtype(), DType::I64);
    let nv = Array::from_vec(&[3], vec![i32::MAX, i32::MAX, 2]).unwrap();
    assert_eq!(run(&s, &[("n", &nv)]).to_vec::<i64>().unwrap(), vec![2 * i64::from(i32::MAX) + 2]);
    let e = n.mean(AxisSpec::All, false).unwrap_err();
    assert!(e.to_string().contains("mean"), "{e}");
    assert_eq!(ir_kind(e), IrErrorKind::DTypeMismatch);
}

#[test]
fn integer_division_by_zero_is_zero_and_overflow_wraps() {
    let g = Graph::new();
    let a = g.input("a", DType::I32, &[4]).unwrap();
    let b = g.input("b", DType::I32, &[4]).unwrap();
    let av = Array::from_vec(&[4], vec![7, -7, i32::MAX, i32::MIN]).unwrap();
    let bv = Array::from_vec(&[4], vec![0, 2, 0, -1]).unwrap();
    let q = a.floor_divide(&b).unwrap();
    let r = a.remainder(&b).unwrap();
    let s = (&a + 1).unwrap();
    let exe = g.compile(&[&q, &r, &s], Device::CPU).unwrap();
    let out = exe.run(&[("a", &av), ("b", &bv)]).unwrap();
    assert_eq!(out[0].to_vec::<i32>().unwrap(), vec![0, -4, 0, i32::MIN]);
    assert_eq!(out[1].to_vec::<i32>().unwrap(), vec![0, 1, 0, 0]);
    assert_eq!(out[2].to_vec::<i32>().unwrap(), vec![8, -6, i32::MIN, i32::MIN + 1]);
    // Integer `/` is refused with a hint to use floor_divide.
    let e = (&a / &b).unwrap_err();
    assert!(e.to_string().contains("floor_divide"), "{e}");
}

#[test]
fn maximum_max_and_min_propagate_nan() {
    let g = Graph::new();
    let x = g.input("x", DType::F64, &[3]).unwrap();
    let xv = Array::from_vec(&[3], vec![1.0, f64::NAN, 3.0]).unwrap();
    let m = x.maximum(2.0).unwrap();
    let mx = x.max(AxisSpec::All, false).unwrap();
    let mn = x.min(AxisSpec::All, false).unwrap();
    let out = g.compile(&[&m, &mx, &mn], Device::CPU).unwrap().run(&[("x", &xv)]).unwrap();
    let m = out[0].to_vec::<f64>().unwrap();
    assert_eq!(m[0], 2.0);
    assert!(m[1].is_nan());
    assert_eq!(m[2], 3.0);
    assert!(out[1].to_vec::<f64>().unwrap()[0].is_nan());
    assert!(out[2].to_vec::<f64>().unwrap()[0].is_nan());
}

#[test]
fn zero_size_dims_work_everywhere() {
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[0, 3]).unwrap();
    let xv = f32s(&[0, 3], vec![]);
    let s = x.sum(AxisSpec::All, false).unwrap();
    assert_eq!(run(&s, &[("x", &xv)]).to_vec::<f32>().unwrap(), vec![0.0]);
    let e = ((&x * 2.0).unwrap().exp().unwrap() + 1.0).unwrap();
    assert_eq!(run(&e, &[("x", &xv)]).dims(), &[0, 3]);
    let cols = x.sum(0, false).unwrap();
    assert_eq!(run(&cols, &[("x", &xv)]).to_vec::<f32>().unwrap(), vec![0.0; 3]);
    // max over zero elements has no identity: refused when built.
    assert_eq!(ir_kind(x.max(AxisSpec::All, false).unwrap_err()), IrErrorKind::EmptyReduction);
    assert_eq!(ir_kind(x.argmax(None, false).unwrap_err()), IrErrorKind::EmptyReduction);
    // ... but max along the non-empty axis of an empty array is an empty result.
    assert_eq!(run(&x.max(1, false).unwrap(), &[("x", &xv)]).dims(), &[0]);
}

#[test]
fn reductions_over_several_and_negative_axes_with_keepdims() {
    let g = Graph::new();
    let x = g.input("x", DType::F64, &[2, 3, 4]).unwrap();
    let xv = Array::from_vec(&[2, 3, 4], (0..24).map(f64::from).collect()).unwrap();
    let s = x.sum([0, -1], false).unwrap();
    assert_eq!(s.dims(), &[3]);
    // sum over i and k of (12 i + 4 j + k) = 2*(4*4j + 6) + 4*12 = 32 j + 60
    assert_eq!(run(&s, &[("x", &xv)]).to_vec::<f64>().unwrap(), vec![60.0, 92.0, 124.0]);
    let k = x.mean([-1, 1], true).unwrap();
    assert_eq!(k.dims(), &[2, 1, 1]);
    assert_eq!(run(&k, &[("x", &xv)]).to_vec::<f64>().unwrap(), vec![5.5, 17.5]);
    assert_eq!(ir_kind(x.sum([0, -3], false).unwrap_err()), IrErrorKind::BadAxis);
    assert_eq!(ir_kind(x.sum(3, false).unwrap_err()), IrErrorKind::BadAxis);
}

#[test]
fn slicing_with_negative_steps() {
    let g = Graph::new();
    let x = g.input("x", DType::I64, &[6]).unwrap();
    let xv = Array::from_vec(&[6], (0..6i64).collect()).unwrap();
    let rev = x.index(&[Index::Slice { start: None, stop: None, step: Some(-1) }]).unwrap();
    assert_eq!(run(&rev, &[("x", &xv)]).to_vec::<i64>().unwrap(), vec![5, 4, 3, 2, 1, 0]);
    let odd = x.index(&[Index::Slice { start: Some(-1), stop: Some(0), step: Some(-2) }]).unwrap();
    assert_eq!(run(&odd, &[("x", &xv)]).to_vec::<i64>().unwrap(), vec![5, 3, 1]);
    let at = x.index(&[Index::At(-2)]).unwrap();
    assert_eq!(at.dims(), &[] as &[usize]);
    assert_eq!(run(&at, &[("x", &xv)]).to_vec::<i64>().unwrap(), vec![4]);
    let col = x.index(&[Index::ALL, Index::NewAxis]).unwrap();
    assert_eq!(col.dims(), &[6, 1]);
}

#[test]
fn data_dependent_ops_are_refused_at_build_with_the_lazy_alternative() {
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[5]).unwrap();
    let e = x.nonzero(None, -1).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("nonzero") && msg.contains("size="), "{msg}");
    assert_eq!(ir_kind(e), IrErrorKind::NotLazy);
    for e in [x.unique_values().unwrap_err(), x.unique_counts().unwrap_err()] {
        assert_eq!(ir_kind(e), IrErrorKind::NotLazy);
    }
    let mask = x.gt(0.0).unwrap();
    let e = x.boolean_mask(&mask).unwrap_err();
    assert!(e.to_string().contains("where"), "{e}");
    // The lazy form works.
    let nz = x.nonzero(Some(4), -1).unwrap();
    assert_eq!((nz.dtype(), nz.dims()), (DType::I64, &[1usize, 4][..]));
    let xv = f32s(&[5], vec![0.0, 2.0, 0.0, -1.0, 0.0]);
    assert_eq!(run(&nz, &[("x", &xv)]).to_vec::<i64>().unwrap(), vec![1, 3, -1, -1]);
}

#[test]
fn the_design_chain_reads_as_documented() {
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[3]).unwrap();
    let y = g.input("y", DType::F32, &[3]).unwrap();
    let z = (((&x * 2.0).unwrap() + 1.0).exp() * &y - &x).unwrap();
    let xv = f32s(&[3], vec![0.0, 0.5, -1.0]);
    let yv = f32s(&[3], vec![1.0, 2.0, 3.0]);
    let got = run(&z, &[("x", &xv), ("y", &yv)]).to_vec::<f32>().unwrap();
    let (xs, ys) = (xv.to_vec::<f32>().unwrap(), yv.to_vec::<f32>().unwrap());
    for ((g, xi), yi) in got.iter().zip(xs).zip(ys) {
        assert_eq!(*g, (xi * 2.0 + 1.0).exp() * yi - xi);
    }
    // An error stops the chain at the op that caused it.
    let n = g.input("n", DType::I32, &[3]).unwrap();
    let e = ((&n * 2.5).exp() * &y - &x).unwrap_err();
    assert!(e.to_string().starts_with("mul"), "{e}");
}

#[test]
fn executables_are_send_sync_and_rerunnable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Executable>();
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[2]).unwrap();
    let exe = g.compile(&[&x.sqrt().unwrap()], Device::CPU).unwrap();
    let exe = std::sync::Arc::new(exe);
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let exe = exe.clone();
            std::thread::spawn(move || {
                let v = f32s(&[2], vec![4.0 * i as f32, 9.0]);
                exe.run(&[("x", &v)]).unwrap()[0].to_vec::<f32>().unwrap()
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), vec![2.0 * (i as f32).sqrt(), 3.0]);
    }
}

#[test]
fn intermediates_are_freed_after_their_last_use() {
    let g = Graph::new();
    let x = g.input("x", DType::F64, &[256]).unwrap();
    // A chain: each intermediate dies as soon as the next op has read it.
    let mut t = x.clone();
    for _ in 0..6 {
        t = (&t * 1.5).unwrap().sin().unwrap();
    }
    let exe = g.compile(&[&t], Device::CPU).unwrap();
    let xv = Array::from_vec(&[256], vec![0.25f64; 256]).unwrap();
    let (_, stats) = exe.run_with_stats(&[("x", &xv)]).unwrap();
    assert_eq!(stats.kernel_us.len(), exe.plan().steps.len());
    assert_eq!(stats.peak_live_bytes, exe.plan().peak_memory_bytes);
    // 12 kernels of 2 KiB each, but never more than two arrays (plus the scalar) alive.
    assert!(stats.peak_live_bytes <= 2 * 2048 + 8, "{}", stats.peak_live_bytes);
}

#[test]
fn methods_chain_on_results() {
    use switchyard::TensorResultExt;
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[2, 3]).unwrap();
    let t = (&x * 2.0).sum(1, true).maximum(1).cast(DType::F64).unwrap();
    assert_eq!((t.dtype(), t.dims()), (DType::F64, &[2usize, 1][..]));
    let e = (&x * 2.0).sum(5, true).exp().unwrap_err();
    assert!(e.to_string().starts_with("sum"), "{e}");
}

#[test]
fn clip_bounds_are_optional_and_pad_zeros_fits_the_dtype() {
    let g = Graph::new();
    let x = g.input("x", DType::F64, &[4]).unwrap();
    let xv = Array::from_vec(&[4], vec![-2.0, f64::NAN, 0.5, 3.0]).unwrap();
    let lo = x.clip_min(0.0).unwrap();
    let hi = x.clip_max(1.0).unwrap();
    let both = x.clip(0.0, 1.0).unwrap();
    let opt = x.clip_bounds(None, Some(Operand::from(1.0))).unwrap();
    let out = g.compile(&[&lo, &hi, &both, &opt], Device::CPU).unwrap().run(&[("x", &xv)]).unwrap();
    let text: Vec<String> = out.iter().map(|a| format!("{:?}", a.to_vec::<f64>().unwrap())).collect();
    // NumPy: np.clip(x, 0, None), np.clip(x, None, 1), np.clip(x, 0, 1), np.clip(x, None, 1)
    assert_eq!(text[0], "[0.0, NaN, 0.5, 3.0]");
    assert_eq!(text[1], "[-2.0, NaN, 0.5, 1.0]");
    assert_eq!(text[2], "[0.0, NaN, 0.5, 1.0]");
    assert_eq!(text[3], text[1]);
    // No bounds: x itself; bools are not clipped either way.
    assert_eq!(x.clip_bounds(None, None).unwrap(), x);
    let b = g.input("b", DType::Bool, &[2]).unwrap();
    assert_eq!(ir_kind(b.clip_bounds(None, None).unwrap_err()), IrErrorKind::DTypeMismatch);
    assert_eq!(ir_kind(b.clip_min(&b).unwrap_err()), IrErrorKind::DTypeMismatch);

    // np.pad(np.array([True, False]), 1) pads with False.
    let bv = Array::from_vec(&[2], vec![true, false]).unwrap();
    let pz = b.pad_zeros(&[(1, 1)]).unwrap();
    let pt = b.pad(&[(0, 1)], true).unwrap();
    let out = g.compile(&[&pz, &pt], Device::CPU).unwrap().run(&[("b", &bv)]).unwrap();
    assert_eq!(out[0].to_vec::<bool>().unwrap(), vec![false, true, false, false]);
    assert_eq!(out[1].to_vec::<bool>().unwrap(), vec![true, false, true]);
}
