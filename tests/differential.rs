//! Differential testing: random well-typed graphs evaluated by the default engine (the JIT
//! where it claims support, the reference elsewhere, fused as planned) and by a
//! reference-only engine must agree: NaN where NaN, the same infinities, and finite values
//! within a tolerance far above the JIT's declared few ulps but far below any real bug.
//! The same random graphs, with special values in the data and identity-prone constants,
//! must also agree with and without optimization on the reference backend.

use std::sync::Arc;

use proptest::prelude::*;
use switchyard::prelude::*;
use switchyard::stages::lower::ReferenceBackend;
use switchyard::{Engine, OptimizerOptions, Registry, TensorResultExt};

/// A random expression over `x: f64[3,5]` and `y: f64[5]`.
#[derive(Clone, Debug)]
enum E {
    X,
    Y,
    Const(f64),
    Unary(u8, Box<E>),
    Binary(u8, Box<E>, Box<E>),
    Reduce(u8, Box<E>),
    Where(Box<E>, Box<E>, Box<E>, Box<E>),
}

fn expr() -> impl Strategy<Value = E> {
    let leaf = prop_oneof![
        Just(E::X),
        Just(E::Y),
        (-4.0f64..4.0).prop_map(E::Const),
        // Constants that identity and strength-reduction rules look for.
        prop::sample::select(vec![0.0, -0.0, 1.0, -1.0, 2.0, 0.5]).prop_map(E::Const),
    ];
    leaf.prop_recursive(5, 24, 3, |inner| {
        prop_oneof![
            (0u8..12, inner.clone()).prop_map(|(o, a)| E::Unary(o, Box::new(a))),
            (0u8..9, inner.clone(), inner.clone()).prop_map(|(o, a, b)| E::Binary(
                o,
                Box::new(a),
                Box::new(b)
            )),
            (0u8..3, inner.clone()).prop_map(|(o, a)| E::Reduce(o, Box::new(a))),
            (inner.clone(), inner.clone(), inner.clone(), inner).prop_map(|(a, b, c, d)| E::Where(
                Box::new(a),
                Box::new(b),
                Box::new(c),
                Box::new(d)
            )),
        ]
    })
}

fn build(e: &E, g: &Graph, x: &Tensor, y: &Tensor) -> switchyard::Result<Tensor> {
    Ok(match e {
        E::X => x.clone(),
        E::Y => y.clone(),
        E::Const(c) => g.scalar(*c, DType::F64)?,
        E::Unary(o, a) => {
            let a = build(a, g, x, y)?;
            match o {
                0 => a.neg(),
                1 => a.abs(),
                2 => a.sqrt(),
                3 => a.clip(-30.0, 30.0).exp(),
                4 => a.floor(),
                5 => a.ceil(),
                6 => a.round(),
                7 => a.square(),
                8 => a.reciprocal(),
                9 => a.sin(),
                10 => a.tanh(),
                _ => a.log(),
            }?
        }
        E::Binary(o, a, b) => {
            let (a, b) = (build(a, g, x, y)?, build(b, g, x, y)?);
            match o {
                0 => &a + &b,
                1 => &a - &b,
                2 => &a * &b,
                3 => &a / &b,
                4 => a.maximum(&b),
                5 => a.minimum(&b),
                6 => a.atan2(&b),
                7 => a.clip(-1.0, 2.0)?.pow(&b.clip(-2.0, 2.0)?),
                _ => a.clip(&b, 1.5),
            }?
        }
        E::Reduce(o, a) => {
            let a = build(a, g, x, y)?;
            let axes = if a.rank() == 0 { AxisSpec::All } else { AxisSpec::from(-1) };
            match o {
                0 => a.sum(axes, true),
                1 => a.max(axes, true),
                _ => a.mean(axes, true),
            }?
        }
        E::Where(c1, c2, a, b) => {
            let cond = build(c1, g, x, y)?.gt(&build(c2, g, x, y)?)?;
            where_(&cond, &build(a, g, x, y)?, &build(b, g, x, y)?)?
        }
    })
}

fn eval(e: &E, engine: Engine, xs: &Array, ys: &Array) -> Array {
    let g = Graph::with_engine(engine);
    let x = g.input("x", DType::F64, &[3, 5]).unwrap();
    let y = g.input("y", DType::F64, &[5]).unwrap();
    let t = build(e, &g, &x, &y).unwrap();
    t.eval(Device::CPU, &[("x", xs), ("y", ys)]).unwrap()
}

/// Inputs with NaN, infinities and signed zeros among ordinary values.
fn data(n: usize) -> impl Strategy<Value = Vec<f64>> {
    let special = prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1.0]);
    proptest::collection::vec(prop_oneof![4 => -3.0f64..3.0, 1 => special], n)
}

fn reference_engine(options: OptimizerOptions) -> Engine {
    let mut reference = Registry::new();
    reference.register(Arc::new(ReferenceBackend)).unwrap();
    Engine::new(reference).with_options(options)
}

fn agree(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs_agree_with_the_reference(
        e in expr(),
        xv in proptest::collection::vec(-3.0f64..3.0, 15),
        yv in proptest::collection::vec(-3.0f64..3.0, 5),
    ) {
        let xs = Array::from_vec(&[3, 5], xv).unwrap();
        let ys = Array::from_vec(&[5], yv).unwrap();
        let mut reference = Registry::new();
        reference.register(Arc::new(ReferenceBackend)).unwrap();
        let want = eval(&e, Engine::new(reference), &xs, &ys);
        let got = eval(&e, Engine::global(), &xs, &ys);
        prop_assert_eq!(want.dims(), got.dims());
        let (w, g) = (want.to_f64_vec(), got.to_f64_vec());
        for k in 0..w.len() {
            prop_assert!(agree(w[k], g[k]), "element {}: reference {} vs default {} for {:?}", k, w[k], g[k], e);
        }
    }

    #[test]
    fn optimization_does_not_change_results_on_the_reference(
        e in expr(),
        xv in data(15),
        yv in data(5),
    ) {
        let xs = Array::from_vec(&[3, 5], xv).unwrap();
        let ys = Array::from_vec(&[5], yv).unwrap();
        let want = eval(&e, reference_engine(OptimizerOptions::none()), &xs, &ys);
        let got = eval(&e, reference_engine(OptimizerOptions::default()), &xs, &ys);
        prop_assert_eq!(want.dims(), got.dims());
        let (w, g) = (want.to_f64_vec(), got.to_f64_vec());
        for k in 0..w.len() {
            prop_assert!(
                agree(w[k], g[k]) && (w[k] != 0.0 || w[k].to_bits() == g[k].to_bits()),
                "element {}: unoptimized {} vs optimized {} for {:?}", k, w[k], g[k], e
            );
        }
    }
}
