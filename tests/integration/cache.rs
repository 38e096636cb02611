//! Caching: rebuilding the same expression reuses the compiled executable (no optimize, plan
//! or compile); a different shape, constant or device does not, and results stay right.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use switchyard::prelude::*;
use switchyard::Engine;

fn w1(engine: &Engine, n: usize, c: f64) -> (Graph, Tensor) {
    let g = Graph::with_engine(engine.clone());
    let x = g.input("x", DType::F32, &[n]).unwrap();
    let y = g.input("y", DType::F32, &[n]).unwrap();
    let t = (((&x * c).unwrap() + 1.0).exp() * &y - &x).unwrap();
    (g, t)
}

fn inputs(n: usize) -> (Array, Array) {
    let x = Array::from_vec(&[n], (0..n).map(|i| i as f32 / n as f32).collect()).unwrap();
    let y = Array::from_vec(&[n], vec![1.0f32; n]).unwrap();
    (x, y)
}

#[test]
fn rebuilding_the_same_graph_hits_the_executable_cache() {
    let engine = Engine::new(Engine::default_registry());
    let (xs, ys) = inputs(64);
    let mut results = Vec::new();
    for _ in 0..3 {
        let (_, t) = w1(&engine, 64, 2.0);
        results.push(t.eval(Device::CPU, &[("x", &xs), ("y", &ys)]).unwrap());
    }
    assert_eq!(engine.executable_cache_stats(), (2, 1));
    assert!(results.windows(2).all(|w| w[0] == w[1]));

    // Another constant or size is another graph: a miss, and the right answer.
    let (_, t) = w1(&engine, 64, 3.0);
    let out = t.eval(Device::CPU, &[("x", &xs), ("y", &ys)]).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(engine.executable_cache_stats(), (2, 2));
    let x = xs.to_vec::<f32>().unwrap();
    for (o, xi) in out.iter().zip(&x) {
        assert!((o - ((xi * 3.0 + 1.0).exp() - xi)).abs() <= 1e-5 * o.abs().max(1.0));
    }
    let (x2, y2) = inputs(65);
    let (_, t) = w1(&engine, 65, 2.0);
    t.eval(Device::CPU, &[("x", &x2), ("y", &y2)]).unwrap();
    assert_eq!(engine.executable_cache_stats(), (2, 3));
}

#[test]
fn extra_unrelated_nodes_do_not_change_the_key() {
    let engine = Engine::new(Engine::default_registry());
    let (xs, ys) = inputs(8);
    let (_, t) = w1(&engine, 8, 2.0);
    t.eval(Device::CPU, &[("x", &xs), ("y", &ys)]).unwrap();
    let (g, t) = w1(&engine, 8, 2.0);
    let x = g.input("x", DType::F32, &[8]).unwrap();
    let _unrelated = x.sin().unwrap();
    t.eval(Device::CPU, &[("x", &xs), ("y", &ys)]).unwrap();
    assert_eq!(engine.executable_cache_stats(), (1, 1));
}

#[test]
fn the_kernel_cache_lists_its_entries_and_explains_each_miss() {
    let engine = Engine::new(Engine::default_registry());
    let (xs, ys) = inputs(64);
    // Another size and another constant reuse the kernel: hits, not misses.
    for (n, c) in [(64, 2.0), (64, 3.0)] {
        let (_, t) = w1(&engine, n, c);
        t.eval(Device::CPU, &[("x", &xs), ("y", &ys)]).unwrap();
    }
    let caches = engine.kernel_caches();
    let jit = caches.iter().find(|c| c.backend == "cpu.cranelift").expect("the JIT keeps a cache");
    assert_eq!((jit.misses, jit.hits, jit.entries.len()), (1, 1, 1), "{jit}");
    assert_eq!(jit.recent_misses[0].reason, "cold cache");

    // y broadcast along the loop: same ops, another broadcast pattern, and the miss says so.
    let g = Graph::with_engine(engine.clone());
    let x = g.input("x", DType::F32, &[64]).unwrap();
    let y = g.input("y", DType::F32, &[1]).unwrap();
    let t = (((&x * 2.0).unwrap() + 1.0).exp() * &y - &x).unwrap();
    let y1 = Array::from_vec(&[1], vec![1.0f32]).unwrap();
    t.eval(Device::CPU, &[("x", &xs), ("y", &y1)]).unwrap();
    let caches = engine.kernel_caches();
    let jit = caches.iter().find(|c| c.backend == "cpu.cranelift").unwrap();
    assert_eq!(jit.misses, 2, "{jit}");
    let reason = &jit.recent_misses[1].reason;
    assert!(reason.contains("in broadcast pattern: [walk, bcast] here, [walk, walk] cached"), "{reason}");
}
