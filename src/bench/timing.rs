//! Timing: median of runs after a warm-up, and the memory-bandwidth triad every figure is
//! compared with, measured in the same run.

use std::time::Instant;

/// The median of `v` (the upper one of an even count; NaN for none).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs `f` once to warm up, then `runs` times: the median and the fastest, in ms.
pub(crate) fn time<F: FnMut()>(runs: usize, mut f: F) -> (f64, f64) {
    f(); // warm-up
    let mut ts = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f();
        ts.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let min = ts.iter().copied().fold(f64::INFINITY, f64::min);
    (median(ts), min)
}

/// STREAM triad `a = b + s*c` over f64 arrays of 2^25 elements on rayon's current pool,
/// best of 5: bytes moved = 3 * 8 * n.
pub fn triad_gbps() -> f64 {
    use rayon::prelude::*;
    let n = 1usize << 25;
    let b = vec![1.0f64; n];
    let c = vec![2.0f64; n];
    let mut a = vec![0.0f64; n];
    let mut best = f64::INFINITY;
    for _ in 0..6 {
        let t = Instant::now();
        a.par_chunks_mut(1 << 16).zip(b.par_chunks(1 << 16)).zip(c.par_chunks(1 << 16)).for_each(
            |((a, b), c)| {
                for i in 0..a.len() {
                    a[i] = b[i] + 3.0 * c[i];
                }
            },
        );
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(&a);
    (3 * 8 * n) as f64 / best / 1e9
}
