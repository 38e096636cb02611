//! Bounded cost: graphs of every size finish, valid, with the time reported. No timed
//! assertions; run `cargo test -p switchyard-passes --release -- --nocapture` to see times.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use crate::common::{eval, random_graph, ulps, Rng, B};
use switchyard_ir::{BinaryOp as Bo, DType, IrGraph, NodeId, Op, Scalar};
use switchyard_passes::{optimize, Optimized, Options};

fn timed(g: &IrGraph, outs: &[NodeId], options: &Options) -> (Optimized, Duration) {
    let start = Instant::now();
    let out = crate::common::run(g, outs, options);
    (out, start.elapsed())
}

fn same_results(before: (&IrGraph, &[NodeId]), after: (&IrGraph, &[NodeId])) {
    let f = |_: &str, dtype: DType, n: usize| -> Vec<Scalar> {
        let mut rng = Rng::new(n as u64 + 17);
        (0..n).map(|_| crate::common::scalar_of(dtype, (rng.below(400) as f64 - 200.0) / 16.0)).collect()
    };
    let a = eval(before.0, before.1, &f);
    let b = eval(after.0, after.1, &f);
    for (x, y) in a.iter().zip(&b) {
        for (p, q) in x.v.iter().zip(&y.v) {
            assert!(ulps(*p, *q) <= 2, "{p} vs {q}");
        }
    }
}

#[test]
fn small_graphs() {
    let mut times = Vec::new();
    let mut sizes = Vec::new();
    for seed in 1..=200u64 {
        let (g, outs) = random_graph(seed, 6 + seed as usize % 34);
        if g.len() < 5 {
            continue;
        }
        let (out, t) = timed(&g, &outs, &Options::default());
        times.push(t.as_secs_f64() * 1e3);
        sizes.push(g.len());
        assert!(out.graph.len() <= g.len() + 2);
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "small graphs: {} graphs of {}..={} nodes, optimize mean {:.3} ms, median {:.3} ms, max {:.3} ms",
        times.len(),
        sizes.iter().min().unwrap(),
        sizes.iter().max().unwrap(),
        mean,
        times[times.len() / 2],
        times[times.len() - 1]
    );
}

#[test]
fn random_1k_node_graph() {
    for seed in [11u64, 12, 13] {
        let (g, outs) = random_graph(seed, 1400);
        let (out, t) = timed(&g, &outs, &Options::default());
        println!(
            "random graph (seed {seed}): {} nodes -> {} in {:.2} ms (report {:.2} ms); limit: {:?}; {} rewrites",
            g.len(),
            out.graph.len(),
            t.as_secs_f64() * 1e3,
            out.report.elapsed_us / 1e3,
            out.report.limit_hit,
            out.report.rules.iter().filter(|(k, _)| *k != "dce").map(|(_, n)| n).sum::<usize>()
        );
        same_results((&g, &outs), (&out.graph, &out.outputs));
    }
}

#[test]
fn random_10k_node_graph_stays_bounded() {
    let (g, outs) = random_graph(99, 14_000);
    let (out, t) = timed(&g, &outs, &Options::default());
    println!(
        "random graph: {} nodes -> {} in {:.2} ms; limit: {:?}",
        g.len(),
        out.graph.len(),
        t.as_secs_f64() * 1e3,
        out.report.limit_hit
    );
    same_results((&g, &outs), (&out.graph, &out.outputs));
}

/// A 10,000-node elementwise chain with a rewrite opportunity at every step and all of it an
/// output, under tight limits: the limit is hit, the result is still valid and correct.
#[test]
fn chain_of_10k_nodes_under_tight_limits() {
    let (g, outs) = crate::common::chain();
    assert!(g.len() > 9_900);
    for (what, options) in [
        ("default", Options::default()),
        ("node limit 12k", Options { node_limit: 12_000, ..Options::default() }),
        ("1 iteration", Options { iter_limit: 1, ..Options::default() }),
        ("1 ms", Options::default().with_time_limit(Duration::from_millis(1))),
    ] {
        let (out, t) = timed(&g, &outs, &options);
        println!(
            "10k chain, {what}: {} nodes -> {} in {:.2} ms; limit: {:?}",
            g.len(),
            out.graph.len(),
            t.as_secs_f64() * 1e3,
            out.report.limit_hit
        );
        if what != "default" {
            assert!(out.report.limit_hit.is_some(), "{what}: {}", out.report);
        }
        same_results((&g, &outs), (&out.graph, &out.outputs));
    }
}

#[test]
fn no_egraph_option_skips_the_stage() {
    let mut b = B::new();
    let x = b.input("x", DType::F32, &[4]);
    let one = b.c(Scalar::F32(1.0));
    let y = b.b(Bo::Mul, x, one);
    let out = optimize(&b.g, &[y], &Options { egraph: false, ..Options::default() }).unwrap();
    assert_eq!(out.graph.len(), 3);
    let out = optimize(&b.g, &[y], &Options::none()).unwrap();
    assert_eq!(out.graph.len(), 3);
    assert!(out.report.rules.is_empty());
    let _ = Op::Where;
}
