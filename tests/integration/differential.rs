//! Differential testing: random well-typed graphs evaluated by the default engine (the JIT
//! where it claims support, the reference elsewhere, fused as planned) and by a
//! reference-only engine must agree: NaN where NaN, the same infinities, and finite values
//! within a tolerance far above the JIT's declared few ulps but far below any real bug.
//! The same random graphs, with special values in the data and identity-prone constants,
//! must also agree with and without optimization on the reference backend.
//!
//! `random_programs_agree_on_every_backend` is the scaled run: random programs in the
//! expression language over every dtype (bool, i32, i64, f32, f64), broadcasting, zero-size
//! and rank-0 inputs, shape ops (reshape, permute, slices with steps, flip, expand, squeeze,
//! broadcast, pad, concat, stack), reductions over any set of axes, casts, `where` and matmul,
//! on the default CPU engine and on the GPU where one is present, against the unoptimized
//! reference. `SWITCHYARD_DIFFERENTIAL_CASES=N` sets the number of programs (default 400)
//! and `SWITCHYARD_DIFFERENTIAL_SEED` the first seed; a failure prints the program text and
//! its seed, to replay with `switchyard eval`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use crate::common::{declare_inputs, input_data, inputs_read, Gen, Programs, Rng};
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

/// Compares one output element by element: equal values (NaN where NaN; the sign of a zero
/// is left to the conformance suite, since `maximum(-0, 0)` may give either) when every
/// backend must compute the program exactly (`exact`), else equal infinities and finite
/// values within `rtol` of the larger magnitude (at least 1).
fn compare(want: &Array, got: &Array, exact: bool, rtol: f64) -> Result<(), String> {
    compare_at_scale(want, got, exact, rtol, 1.0)
}

/// [`compare`], with finite values within `rtol` of the larger of their magnitudes and `scale`.
fn compare_at_scale(want: &Array, got: &Array, exact: bool, rtol: f64, scale: f64) -> Result<(), String> {
    if want.dims() != got.dims() || want.dtype() != got.dtype() {
        return Err(format!("type: {}{:?} vs {}{:?}", want.dtype(), want.dims(), got.dtype(), got.dims()));
    }
    let (w, g) = (want.to_f64_vec(), got.to_f64_vec());
    for (k, (&a, &b)) in w.iter().zip(&g).enumerate() {
        let same = if a.is_nan() || b.is_nan() {
            a.is_nan() && b.is_nan()
        } else if exact || a.is_infinite() || b.is_infinite() {
            a == b
        } else {
            (a - b).abs() <= rtol * a.abs().max(b.abs()).max(scale)
        };
        if !same {
            return Err(format!("element {k}: reference {a:e} vs {b:e}"));
        }
    }
    Ok(())
}

/// The largest finite magnitude among the values of `text`'s subexpressions (each call and
/// parenthesized operation), computed on the reference: a few ulps of an intermediate that
/// large is what a later `sin` or subtraction turns into absolute error.
fn intermediate_magnitude(text: &str, data: &[(&'static str, Array)]) -> f64 {
    let bytes = text.as_bytes();
    let mut largest = 0.0f64;
    for (open, _) in text.match_indices('(') {
        let mut depth = 0usize;
        let Some(close) = (open..bytes.len()).find(|&i| {
            match bytes[i] {
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            depth == 0
        }) else {
            continue;
        };
        let start =
            text[..open].rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
        let part = &text[start..=close];
        if let Ok(Ok(v)) = run_on(reference_engine(OptimizerOptions::none()), Device::CPU, part, data) {
            if matches!(v.dtype(), DType::F32 | DType::F64) {
                largest =
                    v.to_f64_vec().into_iter().filter(|x| x.is_finite()).fold(largest, |m, x| m.max(x.abs()));
            }
        }
    }
    largest
}

/// The relative tolerance of an inexact program: f32's where f32 arithmetic is involved.
fn tolerance(text: &str) -> f64 {
    let f32_inputs = inputs_read(text)
        .iter()
        .any(|n| crate::common::INPUTS.iter().any(|i| i.0 == *n && i.1 == DType::F32));
    if f32_inputs || text.contains("f32") {
        2e-4
    } else {
        1e-9
    }
}

/// The same data with every float scaled by `1 + u * delta`, `u` in [-1, 1] (the rest as is).
fn perturbed(data: &[(&'static str, Array)], seed: u64) -> Vec<(&'static str, Array)> {
    let mut rng = Rng::new(seed ^ 0x5EED);
    data.iter()
        .map(|(name, a)| {
            let mut jitter = |delta: f64| 1.0 + (rng.next_unit() * 2.0 - 1.0) * delta;
            let b = match a.dtype() {
                DType::F32 => Array::from_vec(
                    a.dims(),
                    a.to_vec::<f32>()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|v| (f64::from(v) * jitter(1e-5)) as f32)
                        .collect(),
                ),
                DType::F64 => Array::from_vec(
                    a.dims(),
                    a.to_vec::<f64>().unwrap_or_default().into_iter().map(|v| v * jitter(1e-11)).collect(),
                ),
                _ => Ok(a.clone()),
            };
            (*name, b.unwrap_or_else(|_| a.clone()))
        })
        .collect()
}

/// The outcome of one backend on one program.
enum Outcome {
    Agreed,
    /// The plan was refused (an op or dtype the device does not run).
    Unsupported,
    /// The results differ, but so does the reference's own when the inputs move by a few ulps.
    IllConditioned,
}

fn run_on(
    engine: Engine,
    device: Device,
    text: &str,
    data: &[(&str, Array)],
) -> Result<Result<Array, String>, String> {
    let g = Graph::with_engine(engine);
    let env = declare_inputs(&g, text);
    let t = switchyard::stages::frontend::expr::build(&g, text, &env).map_err(|e| e.to_string())?;
    let read = inputs_read(text);
    if device != Device::CPU
        && data.iter().any(|(n, a)| read.contains(n) && matches!(a.dtype(), DType::F64 | DType::I64))
    {
        // gpu.cubecl on wgpu stores neither (it says so when asked to upload them).
        return Ok(Err("inputs the device cannot hold".into()));
    }
    let exe = match g.compile(&[&t], device) {
        Ok(exe) => exe,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let needed: Vec<(&str, &Array)> =
        data.iter().filter(|(n, _)| read.contains(n)).map(|(n, a)| (*n, a)).collect();
    let run = if device == Device::CPU { exe.run(&needed) } else { exe.run_round_trip(&needed) };
    let mut out = run.map_err(|e| format!("run failed: {e}"))?;
    out.pop().map(Ok).ok_or_else(|| "no output".to_string())
}

/// Whether `got` agrees with the reference's `want` for `program` (the mismatch otherwise).
/// Exact programs must agree value for value. An inexact one agrees within its tolerance at
/// the scale of its largest intermediate (a few ulps of an intermediate of 3,000 are what a
/// later `sin` turns into absolute error); past that it is ill-conditioned, counted apart, when
/// - the reference's own result moves that much when the inputs move by a few ulps
///   (cancellation, sums of huge terms: no tolerance can judge it);
/// - its values come near f32's overflow, where a backend may sum in f32 (cpu.gemm, within its
///   declared precision relative to the sum of |terms|) while the reference sums in f64;
/// - it meets a singularity (a log or division of a sum that cancels exactly in one order and
///   not in another): a non-finite result on one side only. NaN and infinity semantics are
///   checked bit for bit by the exact programs and per op by the conformance suite.
fn judge(
    program: &Gen,
    want: &Array,
    got: &Array,
    data: &[(&'static str, Array)],
    seed: u64,
) -> Result<Outcome, String> {
    let rtol = tolerance(&program.text);
    let mismatch = match compare(want, got, program.exact, rtol) {
        Ok(()) => return Ok(Outcome::Agreed),
        Err(e) if program.exact => return Err(e),
        Err(e) => e,
    };
    let magnitude = intermediate_magnitude(&program.text, data);
    if compare_at_scale(want, got, false, rtol, magnitude.max(1.0)).is_ok() {
        return Ok(Outcome::Agreed);
    }
    let (w, g) = (want.to_f64_vec(), got.to_f64_vec());
    let singular = w.iter().zip(&g).any(|(a, b)| {
        a.is_finite() != b.is_finite() || a.is_nan() != b.is_nan() || a.is_infinite() && a != b
    });
    let near_overflow = magnitude >= 1e18 || w.iter().any(|v| v.is_finite() && v.abs() >= 1e30);
    let moved = || match run_on(
        reference_engine(OptimizerOptions::none()),
        Device::CPU,
        &program.text,
        &perturbed(data, seed),
    ) {
        Ok(Ok(w2)) => compare(want, &w2, false, rtol).is_err(),
        _ => false,
    };
    if singular || near_overflow || moved() {
        Ok(Outcome::IllConditioned)
    } else {
        Err(mismatch)
    }
}

#[test]
fn random_programs_agree_on_every_backend() {
    let cases: u64 =
        std::env::var("SWITCHYARD_DIFFERENTIAL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let first: u64 =
        std::env::var("SWITCHYARD_DIFFERENTIAL_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let gpus = Engine::default_registry().devices();
    let mut devices = vec![Device::CPU];
    devices.extend(gpus.iter().map(|d| d.device));
    let (mut built, mut refused) = (0u64, 0u64);
    let mut agreed = vec![0u64; devices.len()];
    let mut unsupported = vec![0u64; devices.len()];
    let mut ill_conditioned = vec![0u64; devices.len()];
    for seed in first..first + cases {
        let mut rng = Rng::new(seed);
        let program = Programs { rng: &mut rng }.program(4);
        let data = input_data(&mut rng);
        let want = match run_on(reference_engine(OptimizerOptions::none()), Device::CPU, &program.text, &data)
        {
            Err(_) => {
                refused += 1; // ill-typed: refused when built (the same on every engine)
                continue;
            }
            Ok(Err(e)) => panic!("seed {seed}: the reference cannot plan `{}`: {e}", program.text),
            Ok(Ok(want)) => want,
        };
        built += 1;
        for (slot, &device) in devices.iter().enumerate() {
            let outcome = match run_on(Engine::global(), device, &program.text, &data) {
                Err(e) => panic!(
                    "seed {seed} on {device}: `{}` built on the reference but not here: {e}",
                    program.text
                ),
                Ok(Err(_)) if device != Device::CPU => Outcome::Unsupported,
                Ok(Err(e)) => panic!("seed {seed} on {device}: cannot plan `{}`: {e}", program.text),
                Ok(Ok(got)) => match judge(&program, &want, &got, &data, seed) {
                    Ok(outcome) => outcome,
                    Err(e) => {
                        panic!("seed {seed} on {device}: `{}` (exact: {}): {e}", program.text, program.exact)
                    }
                },
            };
            match outcome {
                Outcome::Agreed => agreed[slot] += 1,
                Outcome::Unsupported => unsupported[slot] += 1,
                Outcome::IllConditioned => ill_conditioned[slot] += 1,
            }
        }
    }
    eprintln!(
        "differential: {cases} programs from seed {first}: {built} built, {refused} refused as ill-typed"
    );
    for (slot, device) in devices.iter().enumerate() {
        eprintln!(
            "  {device}: {} agreed with the reference, {} ill-conditioned (skipped), {} not supported there",
            agreed[slot], ill_conditioned[slot], unsupported[slot]
        );
    }
    assert!(built * 2 > cases, "most generated programs must be well typed ({built} of {cases})");
    assert_eq!(agreed[0] + ill_conditioned[0], built, "the CPU runs every program");
    assert!(
        ill_conditioned[0] * 20 <= built,
        "few programs are ill-conditioned ({} of {built})",
        ill_conditioned[0]
    );
}
