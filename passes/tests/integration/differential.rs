//! Random graphs evaluated before and after optimization with the reference semantics: the
//! default rule set must give the same bits (floats within 2 ulp where a `pow` was turned into
//! `square`, `reciprocal` or `exp2`, whose libm results may differ in the last place), NaN
//! stays NaN, infinities stay infinities, signed zeros keep their sign.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use crate::common::{eval, random_graph, scalar_of, ulps, Rng, SPECIAL};
use switchyard_ir::{BinaryOp, DType, Op, Scalar};
use switchyard_passes::Options;

fn inputs(seed: u64) -> impl Fn(&str, DType, usize) -> Vec<Scalar> {
    move |name: &str, dtype: DType, n: usize| {
        let mut rng = Rng::new(seed ^ (name.as_bytes()[0] as u64) << 32);
        (0..n)
            .map(|_| {
                let v = if rng.below(2) == 0 {
                    SPECIAL[rng.below(SPECIAL.len())]
                } else {
                    (rng.below(2000) as f64 - 1000.0) / 64.0
                };
                scalar_of(dtype, v)
            })
            .collect()
    }
}

#[test]
fn default_rules_keep_every_result() {
    let mut fired = std::collections::BTreeMap::new();
    for seed in 1..400u64 {
        let (g, outs) = random_graph(seed * 7919, 24);
        let out = crate::common::run(&g, &outs, &Options::default());
        let has_pow = g.nodes().any(|(_, n)| matches!(n.op(), Op::Binary(BinaryOp::Pow)));
        for (name, n) in &out.report.rules {
            *fired.entry(name.clone()).or_insert(0) += n;
        }
        for k in 0..3u64 {
            let f = inputs(seed * 31 + k);
            let before = eval(&g, &outs, &f);
            let after = eval(&out.graph, &out.outputs, &f);
            for (o, (a, b)) in before.iter().zip(&after).enumerate() {
                assert_eq!(a.dims, b.dims);
                for (i, (x, y)) in a.v.iter().zip(&b.v).enumerate() {
                    let d = ulps(*x, *y);
                    let ok = d == 0 || (has_pow && d <= 2);
                    assert!(
                        ok,
                        "seed {seed}, output {o}, element {i}: {x} before, {y} after\nbefore:\n{g}\nafter:\n{}\nreport: {}",
                        out.graph, out.report
                    );
                }
            }
        }
    }
    println!("rules fired over the random graphs: {fired:?}");
}

/// The harness has teeth: the fast-math rules (off by default) do change some results.
#[test]
fn fast_math_changes_some_results() {
    let mut changed = 0;
    for seed in 1..400u64 {
        let (g, outs) = random_graph(seed * 7919, 24);
        let out = crate::common::run(&g, &outs, &Options::fast_math());
        let f = inputs(seed * 31);
        let before = eval(&g, &outs, &f);
        let after = eval(&out.graph, &out.outputs, &f);
        for (a, b) in before.iter().zip(&after) {
            if a.v.iter().zip(&b.v).any(|(x, y)| ulps(*x, *y) > 2) {
                changed += 1;
            }
        }
    }
    assert!(changed > 0, "fast-math should change some results of these graphs");
}
