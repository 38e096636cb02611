//! Concurrency: an `Executable` shared by 8 threads, 8 threads compiling the same graph, and
//! 8 threads building and evaluating graphs of their own all give, bit for bit, what one
//! thread gives; and every benchmark workload (W1..W8) gives the same bits on 1, 2 and 3
//! rayon threads.
//!
//! The workloads have the structure of `src/bench.rs` (same ops, same dtypes, same kinds of
//! kernels: fused elementwise, long-row and per-row reductions, a broadcast outer product, a
//! gemm matmul) on smaller shapes, so that a debug build runs them in seconds; the shapes are
//! still several 64K-element chunks long, so the kernels really split over rayon threads, and
//! W6's product is big enough for `cpu.gemm` to split it over threads.
//!
//! How the thread count is chosen: the engine has no pool of its own. `cpu.cranelift` runs
//! its chunks with `par_iter`/`par_chunks_mut` and `cpu.gemm` passes
//! `rayon::current_num_threads()` to gemm, both of which use the pool of the calling thread:
//! the one installed with `ThreadPool::install`, or rayon's global pool outside any.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use switchyard::prelude::*;
use switchyard::{random_array, Engine, OptimizerOptions, Shape};

/// The workloads' inputs: name and shape, all f32 (like `src/bench.rs`, smaller).
fn input_dims(id: &str) -> Vec<(&'static str, Vec<usize>)> {
    let n = 1usize << 19;
    match id {
        "W1" | "W2" | "W8" => vec![("x", vec![n]), ("y", vec![n])],
        "W3" | "W5" => vec![("a", vec![384, 1024])],
        "W4" => vec![("u", vec![1024]), ("v", vec![768])],
        "W6" => vec![("A", vec![192, 256]), ("B", vec![256, 160]), ("bias", vec![160])],
        "W7" => vec![("x", vec![1024]), ("y", vec![1024])],
        other => panic!("no workload {other}"),
    }
}

/// Builds workload `id` in `g` on the smaller shapes above, with the benchmark's operations.
fn build(id: &str, g: &Graph) -> switchyard::Result<Tensor> {
    let t: Vec<Tensor> = input_dims(id)
        .iter()
        .map(|(name, dims)| g.input(name, DType::F32, dims))
        .collect::<Result<_, _>>()?;
    switchyard::bench::build_over(id, &t)
}

const WORKLOADS: [&str; 8] = ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"];

/// Seeded inputs, as the benchmark makes them (standard normal, seeds 100, 101, ...).
fn inputs(id: &str) -> Vec<(&'static str, Array)> {
    input_dims(id)
        .into_iter()
        .enumerate()
        .map(|(i, (name, dims))| {
            (name, random_array(DType::F32, &Shape::new(&dims).unwrap(), 100 + i as u64))
        })
        .collect()
}

fn bind<'a>(arrays: &'a [(&'static str, Array)]) -> Vec<(&'static str, &'a Array)> {
    arrays.iter().map(|(n, a)| (*n, a)).collect()
}

/// What must be identical: dtype, shape and every byte.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Bits {
    dtype: DType,
    dims: Vec<usize>,
    bytes: Vec<u8>,
}

fn bits(a: &Array) -> Bits {
    Bits { dtype: a.dtype(), dims: a.dims().to_vec(), bytes: a.as_bytes().to_vec() }
}

/// Compiles workload `id` on a fresh graph of `engine` and runs it once.
fn compile_and_run(id: &str, engine: &Engine, arrays: &[(&'static str, Array)]) -> Bits {
    let g = Graph::with_engine(engine.clone());
    let out = build(id, &g).unwrap();
    let exe = g.compile(&[&out], Device::CPU).unwrap();
    let results = exe.run(&bind(arrays)).unwrap();
    assert_eq!(results.len(), 1, "{id}");
    bits(&results[0])
}

/// The one-thread answer for every workload, computed on a pool of one rayon thread.
fn single_threaded(arrays: &[Vec<(&'static str, Array)>]) -> Vec<Bits> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let engine = Engine::new(Engine::default_registry());
    pool.install(|| WORKLOADS.iter().zip(arrays).map(|(id, a)| compile_and_run(id, &engine, a)).collect())
}

fn all_inputs() -> Vec<Vec<(&'static str, Array)>> {
    WORKLOADS.iter().map(|id| inputs(id)).collect()
}

#[test]
fn executables_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Executable>();
    send_sync::<Arc<Executable>>();
    send_sync::<Array>();
    send_sync::<Graph>();
    send_sync::<Engine>();
}

#[test]
fn eight_threads_share_one_executable_and_compile_the_same_graph() {
    let arrays = all_inputs();
    let want = single_threaded(&arrays);
    for ((id, arrays), want) in WORKLOADS.iter().zip(&arrays).zip(&want) {
        // One executable, compiled once, run by 8 threads at the same time (several times each).
        let engine = Engine::global().with_options(OptimizerOptions::default());
        let g = Graph::with_engine(engine.clone());
        let out = build(id, &g).unwrap();
        let exe = Arc::new(g.compile(&[&out], Device::CPU).unwrap());
        let bound = bind(arrays);
        let got: Vec<Vec<Bits>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let (exe, bound) = (Arc::clone(&exe), &bound);
                    s.spawn(move || (0..3).map(|_| bits(&exe.run(bound).unwrap()[0])).collect())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (t, runs) in got.iter().enumerate() {
            for r in runs {
                assert!(r == want, "{id}: thread {t} running the shared executable differs from one thread");
            }
        }

        // 8 threads compiling the same shared graph at the same time (through one engine and
        // its caches, on fresh engines' caches too), each running what it compiled.
        let got: Vec<Bits> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|t| {
                    let (g, out, bound) = (g.clone(), out.clone(), &bound);
                    s.spawn(move || {
                        let exe = if t % 2 == 0 {
                            g.compile(&[&out], Device::CPU).unwrap()
                        } else {
                            let fresh = Engine::global().with_options(OptimizerOptions::default());
                            let g2 = Graph::with_engine(fresh);
                            let out2 = build(id, &g2).unwrap();
                            g2.compile(&[&out2], Device::CPU).unwrap()
                        };
                        bits(&exe.run(bound).unwrap()[0])
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (t, r) in got.iter().enumerate() {
            assert!(r == want, "{id}: thread {t} compiling concurrently differs from one thread");
        }
    }
}

#[test]
fn eight_threads_building_and_evaluating_separate_graphs_agree_with_one() {
    let arrays = all_inputs();
    let want = single_threaded(&arrays);
    let got: Vec<Vec<Bits>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let arrays = &arrays;
                s.spawn(move || {
                    // Each thread walks the workloads in its own order, so different graphs
                    // are planned, compiled and run at the same time.
                    let mut got = vec![None; WORKLOADS.len()];
                    for k in 0..WORKLOADS.len() {
                        let i = (k + t) % WORKLOADS.len();
                        let g = Graph::new();
                        let out = build(WORKLOADS[i], &g).unwrap();
                        got[i] = Some(bits(&out.eval(Device::CPU, &bind(&arrays[i])).unwrap()));
                    }
                    got.into_iter().map(Option::unwrap).collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (t, results) in got.iter().enumerate() {
        for ((id, r), w) in WORKLOADS.iter().zip(results).zip(&want) {
            assert!(r == w, "{id}: thread {t} differs from one thread");
        }
    }
}

#[test]
fn every_workload_gives_the_same_bits_on_1_2_and_3_rayon_threads() {
    let arrays = all_inputs();
    let mut per_count: Vec<Vec<Bits>> = Vec::new();
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        // A fresh engine per count: nothing compiled under another count is reused.
        let engine = Engine::new(Engine::default_registry());
        let results = pool.install(|| {
            assert_eq!(rayon::current_num_threads(), threads);
            WORKLOADS.iter().zip(&arrays).map(|(id, a)| compile_and_run(id, &engine, a)).collect()
        });
        // The kernels see the installed pool: cpu.gemm splits W6's product over its threads.
        let plan = pool.install(|| {
            let g = Graph::with_engine(engine.clone());
            let out = build("W6", &g).unwrap();
            g.plan(&[&out], Device::CPU).unwrap().to_string()
        });
        assert!(plan.contains(&format!("rayon {threads} threads")), "W6 on {threads} threads:\n{plan}");
        per_count.push(results);
    }
    for (threads, results) in [2, 3].iter().zip(&per_count[1..]) {
        for ((id, got), want) in WORKLOADS.iter().zip(results).zip(&per_count[0]) {
            assert!(got == want, "{id}: {threads} rayon threads differ from 1");
        }
    }
    // The results are real numbers, not an all-NaN or empty agreement.
    for (id, r) in WORKLOADS.iter().zip(&per_count[0]) {
        let f: Vec<f32> =
            r.bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        assert!(!f.is_empty() && f.iter().any(|v| v.is_finite() && *v != 0.0), "{id}");
    }
}
