//! The expression language end to end: each construct evaluated on the reference backend.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::HashMap;

use switchyard::prelude::*;
use switchyard::stages::frontend::expr;

struct Case {
    g: Graph,
    env: expr::Env,
    arrays: Vec<(String, Array)>,
}

impl Case {
    fn new() -> Case {
        Case { g: Graph::new(), env: HashMap::new(), arrays: Vec::new() }
    }

    fn input(mut self, name: &str, a: Array) -> Case {
        let t = self.g.input(name, a.dtype(), a.dims()).unwrap();
        self.env.insert(name.to_string(), t);
        self.arrays.push((name.to_string(), a));
        self
    }

    fn eval(&self, source: &str) -> Array {
        let t = expr::build(&self.g, source, &self.env).unwrap_or_else(|e| panic!("{source}: {e}"));
        let bound: Vec<(&str, &Array)> = self.arrays.iter().map(|(n, a)| (n.as_str(), a)).collect();
        t.eval(Device::CPU, &bound).unwrap_or_else(|e| panic!("{source}: {e}"))
    }

    fn err(&self, source: &str) -> String {
        expr::build(&self.g, source, &self.env).map(|_| ()).unwrap_err().to_string()
    }
}

fn f32s(dims: &[usize], v: &[f32]) -> Array {
    Array::from_vec(dims, v.to_vec()).unwrap()
}

fn m23() -> Array {
    f32s(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
}

#[test]
fn arithmetic_precedence_and_weak_literals() {
    let c = Case::new().input("x", f32s(&[3], &[1.0, 2.0, 3.0]));
    assert_eq!(c.eval("x*2+1").to_vec::<f32>().unwrap(), vec![3.0, 5.0, 7.0]);
    assert_eq!(c.eval("-x**2").to_vec::<f32>().unwrap(), vec![-1.0, -4.0, -9.0]);
    assert_eq!(c.eval("x ** -1 * 6").to_vec::<f32>().unwrap(), vec![6.0, 3.0, 2.0]);
    assert_eq!(c.eval("2 * 3 + x").to_vec::<f32>().unwrap(), vec![7.0, 8.0, 9.0]);
    assert_eq!(c.eval("x // 2").to_vec::<f32>().unwrap(), vec![0.0, 1.0, 1.0]);
    assert_eq!(c.eval("-x % 2").to_vec::<f32>().unwrap(), vec![1.0, 0.0, 1.0]);
    assert_eq!(c.eval("exp(x*0)").dtype(), DType::F32);
    assert_eq!(c.eval("1 + 2").to_vec::<i64>().unwrap(), vec![3]);
}

#[test]
fn calls_with_keywords() {
    let c = Case::new().input("a", m23());
    assert_eq!(c.eval("sum(a, axis=1, keepdims=true)").dims(), &[2, 1]);
    assert_eq!(c.eval("sum(a, axis=1, keepdims=true)").to_vec::<f32>().unwrap(), vec![6.0, 15.0]);
    assert_eq!(c.eval("max(a, axis=(0, 1))").to_vec::<f32>().unwrap(), vec![6.0]);
    assert_eq!(c.eval("cast(a, dtype=f64)").dtype(), DType::F64);
    assert_eq!(c.eval("reshape(a, (3, 2))").dims(), &[3, 2]);
    assert_eq!(c.eval("reshape(a, (-1,))").dims(), &[6]);
    assert_eq!(c.eval("var(a, axis=1, correction=1)").to_vec::<f32>().unwrap(), vec![1.0, 1.0]);
    assert_eq!(c.eval("argmax(a)").to_vec::<i64>().unwrap(), vec![5]);
    assert_eq!(c.eval("clip(a, 2, 5)").to_vec::<f32>().unwrap(), vec![2.0, 2.0, 3.0, 4.0, 5.0, 5.0]);
    assert_eq!(c.eval("where(a > 3, a, 0)").to_vec::<f32>().unwrap(), vec![0.0, 0.0, 0.0, 4.0, 5.0, 6.0]);
    assert_eq!(c.eval("where(a > 3, 1.0, 0.0)").dtype(), DType::F64);
    assert_eq!(c.eval("transpose(a)").dims(), &[3, 2]);
    assert_eq!(c.eval("concat((a, a), axis=0)").dims(), &[4, 3]);
    assert_eq!(c.eval("stack((a, a), axis=-1)").dims(), &[2, 3, 2]);
    assert_eq!(c.eval("pad(a, ((0, 0), (1, 1)), value=-1)").dims(), &[2, 5]);
    assert_eq!(c.eval("flip(a, axis=1)").to_vec::<f32>().unwrap(), vec![3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
    assert_eq!(c.eval("arange(0, 5)").to_vec::<i64>().unwrap(), vec![0, 1, 2, 3, 4]);
    assert_eq!(
        c.eval("arange(1.0, 2.0, 0.25, dtype=f32)").to_vec::<f32>().unwrap(),
        vec![1.0, 1.25, 1.5, 1.75]
    );
    assert_eq!(c.eval("zeros((2, 2), dtype=i32)").to_vec::<i32>().unwrap(), vec![0; 4]);
    assert_eq!(c.eval("to_device(a, \"cpu\") * 1").dims(), &[2, 3]);
}

#[test]
fn matmul_operator() {
    let c = Case::new().input("a", m23()).input("b", f32s(&[3, 1], &[1.0, 0.0, -1.0]));
    assert_eq!(c.eval("a @ b").to_vec::<f32>().unwrap(), vec![-2.0, -2.0]);
    assert_eq!(c.eval("matmul(a, b)").dims(), &[2, 1]);
}

#[test]
fn indexing_and_slicing() {
    let x: Vec<f32> = (0..12).map(|i| i as f32).collect();
    let c = Case::new().input("x", f32s(&[12], &x)).input("a", m23());
    assert_eq!(c.eval("x[1:10:2]").to_vec::<f32>().unwrap(), vec![1.0, 3.0, 5.0, 7.0, 9.0]);
    assert_eq!(c.eval("x[::-3]").to_vec::<f32>().unwrap(), vec![11.0, 8.0, 5.0, 2.0]);
    assert_eq!(c.eval("x[-1]").to_vec::<f32>().unwrap(), vec![11.0]);
    assert_eq!(c.eval("x[:, None]").dims(), &[12, 1]);
    assert_eq!(c.eval("x[None]").dims(), &[1, 12]);
    assert_eq!(c.eval("a[..., 0]").to_vec::<f32>().unwrap(), vec![1.0, 4.0]);
    assert_eq!(c.eval("a[1]").to_vec::<f32>().unwrap(), vec![4.0, 5.0, 6.0]);
    assert_eq!(c.eval("a[:, 1:]").to_vec::<f32>().unwrap(), vec![2.0, 3.0, 5.0, 6.0]);
    assert_eq!(c.eval("a[::-1, ::2]").to_vec::<f32>().unwrap(), vec![4.0, 6.0, 1.0, 3.0]);
    assert!(c.err("x[12]").contains("out of bounds"));
    assert!(c.err("a[0, 0, 0]").contains("too many indices"));
    let mask = c.err("x[x > 3]");
    assert!(mask.contains("boolean_mask") && mask.contains("where"), "{mask}");
}

#[test]
fn bool_operators() {
    let c = Case::new().input("x", f32s(&[4], &[-1.0, 0.0, 1.0, 2.0]));
    let b = |s: &str| c.eval(s).to_vec::<bool>().unwrap();
    assert_eq!(b("(x > 0) & (x < 2)"), vec![false, false, true, false]);
    assert_eq!(b("(x < 0) | (x > 1)"), vec![true, false, false, true]);
    assert_eq!(b("(x >= 0) ^ (x >= 1)"), vec![false, true, false, false]);
    assert_eq!(b("~(x == 0)"), vec![true, false, true, true]);
    assert_eq!(b("isnan(x / 0)"), vec![false, true, false, false]);
    // Python precedence: `&` binds tighter than `>`, so this is x > (0 & x) and a type error.
    let e = c.err("x > 0 & x");
    assert!(e.contains("logical_and"), "{e}");
}

#[test]
fn errors_point_at_their_source() {
    let c = Case::new()
        .input("x", f32s(&[2], &[1.0, 2.0]))
        .input("n", Array::from_vec(&[2], vec![1i32, 2]).unwrap());
    let e = c.err("sum(x, axis=3)");
    assert!(e.contains("axis 3") && e.contains("^^^^^^^^^^^^^^"), "{e}");
    let e = c.err("sum(x, axes=1)");
    assert!(e.contains("no argument `axes`"), "{e}");
    let e = c.err("exp(n)");
    assert!(e.contains("cast") && e.contains("float"), "{e}");
    let e = c.err("n * 2.5");
    assert!(e.contains("cast"), "{e}");
    let e = c.err("a < b < c");
    assert!(e.contains("chained"), "{e}");
    let e = c.err("reshape(x, (3,))");
    assert!(e.contains("reshape") && e.contains('^'), "{e}");
    let e = c.err("nonzero(x)");
    assert!(e.contains("size="), "{e}");
    let e = c.err("(x,)");
    assert!(e.contains("tuple"), "{e}");
}

/// NaN-aware comparison of f32 results: the `Debug` text (NaN prints as `NaN`).
fn f32_text(a: &Array) -> String {
    format!("{:?}", a.to_vec::<f32>().unwrap())
}

#[test]
fn clip_takes_either_bound_or_neither() {
    let c = Case::new()
        .input("x", f32s(&[4], &[-2.0, f32::NAN, 0.5, 3.0]))
        .input("lo", f32s(&[4], &[-3.0, 0.0, 1.0, 0.0]))
        .input("n", Array::from_vec(&[3], vec![-5i32, 0, 7]).unwrap());
    // x = np.array([-2, nan, 0.5, 3], dtype=np.float32)
    // np.clip(x, 0, None), np.clip(x, min=0) -> [0, nan, 0.5, 3]
    assert_eq!(f32_text(&c.eval("clip(x, 0, None)")), "[0.0, NaN, 0.5, 3.0]");
    assert_eq!(f32_text(&c.eval("clip(x, min=0)")), "[0.0, NaN, 0.5, 3.0]");
    // np.clip(x, None, 1), np.clip(x, max=1) -> [-2, nan, 0.5, 1]
    assert_eq!(f32_text(&c.eval("clip(x, None, 1)")), "[-2.0, NaN, 0.5, 1.0]");
    assert_eq!(f32_text(&c.eval("clip(x, max=1)")), "[-2.0, NaN, 0.5, 1.0]");
    assert_eq!(c.eval("clip(x, min=0)").dtype(), DType::F32);
    // An array bound: np.clip(x, lo, None) with lo = [-3, 0, 1, 0] -> [-2, nan, 1, 3]
    assert_eq!(f32_text(&c.eval("clip(x, lo)")), "[-2.0, NaN, 1.0, 3.0]");
    // Neither bound: the elements of x (array API), np.clip(x, None, None) in NumPy 2.1+.
    assert_eq!(f32_text(&c.eval("clip(x)")), "[-2.0, NaN, 0.5, 3.0]");
    assert_eq!(f32_text(&c.eval("clip(x, None, None)")), "[-2.0, NaN, 0.5, 3.0]");
    // Both bounds still work; a NaN bound gives NaN, as in NumPy.
    assert_eq!(f32_text(&c.eval("clip(x, 0, 1)")), "[0.0, NaN, 0.5, 1.0]");
    assert_eq!(f32_text(&c.eval("clip(x, nan, None)")), "[NaN, NaN, NaN, NaN]");
    // Integers keep their dtype: np.clip(np.array([-5, 0, 7], np.int32), -1, None) -> int32 [-1, 0, 7]
    let ints = c.eval("clip(n, -1, None)");
    assert_eq!(ints.dtype(), DType::I32);
    assert_eq!(ints.to_vec::<i32>().unwrap(), vec![-1, 0, 7]);
    assert_eq!(c.eval("clip(n, max=3)").to_vec::<i32>().unwrap(), vec![-5, 0, 3]);
    // Bools are refused whichever bounds are given; an int tensor with a float bound too.
    let e = c.err("clip(x > 0)");
    assert!(e.contains("clip") && e.contains("numeric"), "{e}");
    let e = c.err("clip(x > 0, max=1)");
    assert!(e.contains("bool"), "{e}");
    let e = c.err("clip(n, 0.5)");
    assert!(e.contains("cast"), "{e}");
    let e = c.err("clip(x, 0, None, 1)");
    assert!(e.contains("too many"), "{e}");
}

#[test]
fn pad_defaults_to_the_zero_of_the_dtype() {
    let c = Case::new()
        .input("b", Array::from_vec(&[2], vec![true, false]).unwrap())
        .input("m", Array::from_vec(&[1, 2], vec![true, true]).unwrap())
        .input("n", Array::from_vec(&[2], vec![-5i32, 7]).unwrap())
        .input("x", f32s(&[2], &[1.5, -2.0]));
    let bools = |s: &str| {
        let a = c.eval(s);
        assert_eq!(a.dtype(), DType::Bool, "{s}");
        a.to_vec::<bool>().unwrap()
    };
    // np.pad(np.array([True, False]), 1) -> [False, True, False, False]
    assert_eq!(bools("pad(b, 1)"), vec![false, true, false, false]);
    // np.pad(b, 1, constant_values=True) -> [True, True, False, True]
    assert_eq!(bools("pad(b, 1, value=true)"), vec![true, true, false, true]);
    // np.pad(np.ones((1, 2), bool), ((1, 0), (0, 1))) -> [[F, F, F], [T, T, F]]
    let padded = c.eval("pad(m, ((1, 0), (0, 1)))");
    assert_eq!(padded.dims(), &[2, 3]);
    assert_eq!(padded.to_vec::<bool>().unwrap(), vec![false, false, false, true, true, false]);
    // np.pad(np.array([-5, 7], np.int32), (1, 2)) -> int32 [0, -5, 7, 0, 0]
    let ints = c.eval("pad(n, (1, 2))");
    assert_eq!(ints.dtype(), DType::I32);
    assert_eq!(ints.to_vec::<i32>().unwrap(), vec![0, -5, 7, 0, 0]);
    // np.pad(np.array([1.5, -2], np.float32), 1) -> float32 [0, 1.5, -2, 0]
    assert_eq!(c.eval("pad(x, 1)").to_vec::<f32>().unwrap(), vec![0.0, 1.5, -2.0, 0.0]);
    // A value of another kind than the array is still refused.
    let e = c.err("pad(b, 1, value=0)");
    assert!(e.contains("bool"), "{e}");
}
