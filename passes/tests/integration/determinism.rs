//! Deterministic plans: the default budget is counted in e-nodes and iterations, so the same
//! graph always optimizes to the same graph, however loaded the machine is; a wall-clock
//! limit is only there when asked for, and then it still stops the optimizer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use crate::common::{chain, random_graph};
use switchyard_ir::{IrGraph, NodeId};
use switchyard_passes::{Optimized, Options, DEFAULT_ITER_LIMIT, DEFAULT_NODE_LIMIT};

/// What must not change between two runs: the printed graph, the outputs, the rules that
/// fired and the limit that stopped the optimizer (not the elapsed time).
fn fingerprint(out: &Optimized) -> (String, Vec<NodeId>, String, Option<String>) {
    (
        out.graph.to_string(),
        out.outputs.clone(),
        format!("{:?}", out.report.rules),
        out.report.limit_hit.clone(),
    )
}

#[test]
fn the_default_budget_is_nodes_and_iterations_not_time() {
    let o = Options::default();
    assert_eq!(o.time_limit, None);
    assert_eq!((o.node_limit, o.iter_limit), (DEFAULT_NODE_LIMIT, DEFAULT_ITER_LIMIT));
    assert_eq!(Options::fast_math().time_limit, None);
    assert_eq!(Options::none().time_limit, None);
    let timed = Options::default().with_time_limit(Duration::from_millis(5));
    assert_eq!(timed.time_limit, Some(Duration::from_millis(5)));
    assert_ne!(timed, Options::default(), "the time limit is part of the cache key");
}

type Build = Box<dyn Fn() -> (IrGraph, Vec<NodeId>)>;

#[test]
fn the_same_graph_optimizes_to_the_identical_graph() {
    let mut cases: Vec<(String, Build, Options)> = Vec::new();
    for (seed, n) in [(3u64, 40usize), (11, 1400), (99, 14_000)] {
        cases.push((
            format!("random graph {seed} of {n}"),
            Box::new(move || random_graph(seed, n)),
            Options::default(),
        ));
    }
    cases.push(("chain".into(), Box::new(chain), Options::default()));
    // Stopped by the node limit in the middle of an iteration: still the same cut.
    let tight = Options { node_limit: 12_000, ..Options::default() };
    cases.push(("chain, node limit".into(), Box::new(chain), tight));
    cases.push((
        "chain, 1 iteration".into(),
        Box::new(chain),
        Options { iter_limit: 1, ..Options::default() },
    ));
    for (what, build, options) in &cases {
        let (g, outs) = build();
        let first = fingerprint(&crate::common::run(&g, &outs, options));
        let again = fingerprint(&crate::common::run(&g, &outs, options));
        assert_eq!(first, again, "{what}: optimized twice");
        if what.contains("limit") || what.contains("iteration") {
            assert!(first.3.is_some(), "{what}: a limit should have stopped it");
        }
        // On a graph built again from scratch, and on a machine made busy by other
        // optimizations running at the same time: how long it takes does not change the result.
        let (rebuilt, rebuilt_outs) = build();
        let busy: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..3)
                .map(|i| {
                    let (graph, outs) = if i == 0 { (&rebuilt, &rebuilt_outs) } else { (&g, &outs) };
                    s.spawn(move || fingerprint(&crate::common::run(graph, outs, options)))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (i, r) in busy.iter().enumerate() {
            assert_eq!(&first, r, "{what}: run {i} under load");
        }
    }
}

#[test]
fn a_time_limit_still_stops_the_optimizer() {
    let (g, outs) = chain();
    let out = crate::common::run(&g, &outs, &Options::default().with_time_limit(Duration::ZERO));
    let limit = out.report.limit_hit.clone().unwrap_or_default();
    assert!(limit.starts_with("time limit ("), "{}", out.report);
    assert!(limit.contains("> 0ns"), "the report names the limit: {limit}");
    assert!(out.report.to_string().contains("stopped by time limit"), "{}", out.report);
    // Without it, the same graph runs to a work limit or saturation instead.
    let full = crate::common::run(&g, &outs, &Options::default());
    assert!(!full.report.limit_hit.unwrap_or_default().starts_with("time limit"));
}
