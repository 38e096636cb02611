//! The expression language end to end: each construct evaluated on the reference backend.

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
