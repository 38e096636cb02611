//! The benchmark workloads W1..W8 of `shared/bench/workloads.md`, timed through switchyard,
//! beside the same computations written as eager `ndarray` code, against a memory-bandwidth
//! triad measured in the same run. Used by `switchyard bench` and `cargo bench`.
//!
//! Inputs come from switchyard's seeded generator (standard normal for floats), not NumPy's,
//! so checksums differ from the table in workloads.md; each run instead checks switchyard's
//! result against the eager ndarray result.

use std::time::Instant;

use super::timing::{median, time};

use ndarray::{Array1, Array2, ArrayView1, Axis};

use crate::prelude::*;
use crate::{random_array, Shape};

/// One workload's figures, as `switchyard bench --json` prints them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BenchResult {
    /// `W1` .. `W8`.
    pub workload: String,
    /// The device it ran on (`cpu`, `gpu:0`).
    pub device: String,
    /// Threads in rayon's pool for this run.
    pub threads: usize,
    /// Median time of one call in milliseconds (W7: of one API-path evaluation).
    pub median_ms: f64,
    /// Fastest call in milliseconds.
    pub min_ms: f64,
    /// Effective bandwidth: minimum bytes / median time, in GB/s (1e9 B).
    pub gbps: f64,
    /// The host triad bandwidth measured in this run at the same thread count, GB/s.
    pub triad_gbps: f64,
    /// The host bandwidth floor: minimum bytes / triad rate, in ms (meaningful on the CPU).
    pub floor_ms: f64,
    /// Median time of the eager ndarray version, in ms (single-threaded, idiomatic).
    pub ndarray_ms: f64,
    /// Build + plan + compile + run of a fresh graph, in ms.
    pub first_call_ms: f64,
    /// GFLOP/s, for the FLOP-bound workload (W6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gflops: Option<f64>,
    /// Largest difference from the ndarray result, relative to its largest magnitude.
    pub max_rel_diff: f64,
}

/// Workload ids in order.
pub const WORKLOADS: [&str; 8] = ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"];

struct Spec {
    inputs: Vec<(&'static str, Vec<usize>)>,
    min_bytes: u64,
    flops: Option<f64>,
}

fn spec(id: &str) -> Spec {
    let n24 = 1usize << 24;
    let (inputs, min_bytes, flops) = match id {
        "W1" => (vec![("x", vec![n24]), ("y", vec![n24])], 3 * 4 * n24 as u64, None),
        "W2" => (vec![("x", vec![n24]), ("y", vec![n24])], 2 * 4 * n24 as u64, None),
        "W3" | "W5" => (vec![("a", vec![4096, 4096])], 2 * 4 * 4096 * 4096, None),
        "W4" => (vec![("u", vec![4096]), ("v", vec![4096])], 4 * 4096 * 4096 + 8 * 4096, None),
        "W6" => (
            vec![("A", vec![1024, 1024]), ("B", vec![1024, 1024]), ("bias", vec![1024])],
            4 * (3 * 1024 * 1024 + 1024),
            Some(2.0 * 1024f64.powi(3) + 2.0 * 1024f64.powi(2)),
        ),
        "W7" => (vec![("x", vec![1024]), ("y", vec![1024])], 3 * 4 * 1024, None),
        _ => (vec![("x", vec![1 << 22]), ("y", vec![1 << 22])], 3 * 4 * (1 << 22), None),
    };
    Spec { inputs, min_bytes, flops }
}

/// Builds workload `id` in `g` over its declared inputs.
pub fn build(id: &str, g: &Graph) -> crate::Result<Tensor> {
    let s = spec(id);
    let mut t: Vec<Tensor> = Vec::new();
    for (name, dims) in &s.inputs {
        t.push(g.input(name, DType::F32, dims)?);
    }
    build_over(id, &t)
}

/// The operations of workload `id` over the given inputs, in its order of declaration (the
/// tests run them on smaller shapes than the benchmark's).
pub fn build_over(id: &str, t: &[Tensor]) -> crate::Result<Tensor> {
    match id {
        "W1" | "W7" => ((&t[0] * 2.0)? + 1.0).exp() * &t[1] - &t[0],
        "W2" => (&t[0] - &t[1])?.square()?.sum(AxisSpec::All, false),
        "W3" => {
            let m = t[0].max(1, true)?;
            let e = (&t[0] - &m)?.exp()?;
            &e / e.sum(1, true)?
        }
        "W4" => {
            let u = t[0].expand_dims(1)?;
            let v = t[1].expand_dims(0)?;
            ((&u * &v)? + 0.5)?.tanh()
        }
        "W5" => {
            let a = &t[0];
            let mean = a.mean(1, true)?;
            let d = (a - &mean)?;
            let var = d.square()?.mean(1, true)?;
            &d / (var + 1e-5)?.sqrt()?
        }
        "W6" => (t[0].matmul(&t[1])? + &t[2])?.maximum(0.0),
        _ => {
            let (x, y) = (&t[0], &t[1]);
            let mut v = x.clone();
            for _ in 0..16 {
                v = (((&v * 0.9)? + 0.1)?.sin()? * y)?;
            }
            Ok(v)
        }
    }
}

fn v1(a: &Array) -> Array1<f32> {
    Array1::from(a.to_vec::<f32>().unwrap_or_default())
}

fn v2(a: &Array) -> Array2<f32> {
    let d = a.dims();
    Array2::from_shape_vec((d[0], d[1]), a.to_vec::<f32>().unwrap_or_default())
        .unwrap_or_else(|_| Array2::zeros((0, 0)))
}

/// The workload as idiomatic eager ndarray code (allocating temporaries, like NumPy).
fn eager(id: &str, ins: &[Array]) -> Vec<f32> {
    match id {
        "W1" | "W7" => {
            let (x, y) = (v1(&ins[0]), v1(&ins[1]));
            ((&x * 2.0 + 1.0).mapv(f32::exp) * &y - &x).to_vec()
        }
        "W2" => {
            let (x, y) = (v1(&ins[0]), v1(&ins[1]));
            vec![(&x - &y).mapv(|d| d * d).sum()]
        }
        "W3" => {
            let a = v2(&ins[0]);
            let m = a.map_axis(Axis(1), |r: ArrayView1<f32>| r.fold(f32::NEG_INFINITY, |m, &v| m.max(v)));
            let e = (&a - &m.insert_axis(Axis(1))).mapv(f32::exp);
            let s = e.sum_axis(Axis(1)).insert_axis(Axis(1));
            (&e / &s).into_raw_vec_and_offset().0
        }
        "W4" => {
            let (u, v) = (v1(&ins[0]), v1(&ins[1]));
            let o = (&u.view().insert_axis(Axis(1)) * &v.view().insert_axis(Axis(0)) + 0.5).mapv(f32::tanh);
            o.into_raw_vec_and_offset().0
        }
        "W5" => {
            let a = v2(&ins[0]);
            let n = a.ncols() as f32;
            let mean = (a.sum_axis(Axis(1)) / n).insert_axis(Axis(1));
            let d = &a - &mean;
            let var = (d.mapv(|x| x * x).sum_axis(Axis(1)) / n).insert_axis(Axis(1));
            (&d / &(var + 1e-5).mapv(f32::sqrt)).into_raw_vec_and_offset().0
        }
        "W6" => {
            let (a, b, bias) = (v2(&ins[0]), v2(&ins[1]), v1(&ins[2]));
            let c: Array2<f32> = a.dot(&b) + bias.view().insert_axis(Axis(0));
            c.mapv(|v| v.max(0.0)).into_raw_vec_and_offset().0
        }
        _ => {
            let (x, y) = (v1(&ins[0]), v1(&ins[1]));
            let mut t = x;
            for _ in 0..16 {
                t = (t * 0.9 + 0.1).mapv(f32::sin) * &y;
            }
            t.to_vec()
        }
    }
}

fn rel_diff(got: &[f32], want: &[f32]) -> f64 {
    let scale = want.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs())).max(1e-30);
    got.iter().zip(want).fold(0.0f64, |m, (&g, &w)| m.max((f64::from(g) - f64::from(w)).abs() / scale))
}

/// Runs workload `id` with `runs` timed calls (after warm-up) on rayon's current pool.
pub fn run(id: &str, runs: usize, triad: f64) -> crate::Result<BenchResult> {
    run_on(id, runs, triad, Device::CPU)
}

/// [`run`] on `device`. On a GPU the inputs are uploaded once, each timed call runs on
/// device-resident data and waits for the device to finish; the first call includes the
/// upload, compilation and the download of the result.
pub fn run_on(id: &str, runs: usize, triad: f64, device: Device) -> crate::Result<BenchResult> {
    if device != Device::CPU {
        return run_on_gpu(id, runs, triad, device);
    }
    let s = spec(id);
    let arrays = inputs(&s);
    let bound: Vec<(&str, &Array)> = s.inputs.iter().zip(&arrays).map(|((n, _), a)| (*n, a)).collect();

    let t = Instant::now();
    let g = Graph::new();
    let out = build(id, &g)?;
    let exe = g.compile(&[&out], Device::CPU)?;
    let first = exe.run(&bound)?;
    let first_call_ms = t.elapsed().as_secs_f64() * 1e3;

    let (median_ms, min_ms) = if id == "W7" {
        // 10,000 sequential evaluations through the user-facing path: build, eval, result.
        let calls = 10_000;
        let mut per = Vec::with_capacity(runs);
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            for _ in 0..calls / runs.max(1) {
                let g = Graph::new();
                let r = build(id, &g)?.eval(Device::CPU, &bound)?;
                std::hint::black_box(r);
            }
            per.push(t.elapsed().as_secs_f64() * 1e3 / (calls / runs.max(1)) as f64);
        }
        let min = per.iter().copied().fold(f64::INFINITY, f64::min);
        (median(per), min)
    } else {
        let mut err = None;
        let r = time(runs, || {
            if let Err(e) = exe.run(&bound) {
                err = Some(e);
            }
        });
        if let Some(e) = err {
            return Err(e.into());
        }
        r
    };
    let timing = Timing { median_ms, min_ms, first_call_ms };
    Ok(result(id, Device::CPU, &s, &arrays, first.first(), timing, triad))
}

fn run_on_gpu(id: &str, runs: usize, triad: f64, device: Device) -> crate::Result<BenchResult> {
    use crate::DeviceArray;
    let s = spec(id);
    let arrays = inputs(&s);
    let t = Instant::now();
    let g = Graph::new();
    let out = build(id, &g)?;
    let exe = g.compile(&[&out], device)?;
    let memory = exe.device_memory().cloned().ok_or_else(|| {
        crate::RuntimeError::new(
            crate::RuntimeErrorKind::NoDevice,
            format!("device `{device}` is not available"),
        )
    })?;
    let uploaded: Vec<DeviceArray> =
        arrays.iter().map(|a| DeviceArray::upload(a, &memory)).collect::<std::result::Result<_, _>>()?;
    let bound: Vec<(&str, &DeviceArray)> =
        s.inputs.iter().zip(&uploaded).map(|((n, _), a)| (*n, a)).collect();
    let first = exe.run_on_device(&bound)?;
    let first_host: Vec<Array> =
        first.iter().map(DeviceArray::to_host).collect::<std::result::Result<_, _>>()?;
    let first_call_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut err: Option<crate::Error> = None;
    let (median_ms, min_ms) = time(runs, || {
        let r = exe.run_on_device(&bound).map_err(crate::Error::from).and_then(|o| {
            memory.sync().map_err(|e| crate::Error::from(crate::RuntimeError::from(e)))?;
            Ok(o)
        });
        if let Err(e) = r {
            err = Some(e);
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let timing = Timing { median_ms, min_ms, first_call_ms };
    Ok(result(id, device, &s, &arrays, first_host.first(), timing, triad))
}

/// The workload's seeded inputs.
fn inputs(s: &Spec) -> Vec<Array> {
    s.inputs
        .iter()
        .enumerate()
        .map(|(i, (_, dims))| random_array(DType::F32, &Shape::new(dims).unwrap_or_default(), 100 + i as u64))
        .collect()
}

/// What a run measured of switchyard itself.
struct Timing {
    median_ms: f64,
    min_ms: f64,
    first_call_ms: f64,
}

/// The figures of one run: switchyard's timing, the eager ndarray baseline timed on the
/// same inputs, and how far switchyard's result `got` is from it.
fn result(
    id: &str,
    device: Device,
    s: &Spec,
    arrays: &[Array],
    got: Option<&Array>,
    t: Timing,
    triad: f64,
) -> BenchResult {
    let (ndarray_ms, _) = time(3, || {
        std::hint::black_box(eager(id, arrays));
    });
    let want = eager(id, arrays);
    let got = got.map(|a| a.to_vec::<f32>().unwrap_or_default()).unwrap_or_default();
    let bytes = s.min_bytes as f64;
    BenchResult {
        workload: id.to_string(),
        device: device.to_string(),
        threads: rayon::current_num_threads(),
        median_ms: t.median_ms,
        min_ms: t.min_ms,
        gbps: bytes / (t.median_ms * 1e6),
        triad_gbps: triad,
        floor_ms: bytes / (triad * 1e6),
        ndarray_ms,
        first_call_ms: t.first_call_ms,
        gflops: s.flops.map(|f| f / (t.median_ms * 1e6)),
        max_rel_diff: rel_diff(&got, &want),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_builds_with_the_documented_shape() {
        for id in WORKLOADS {
            let g = Graph::new();
            let t = build(id, &g).unwrap();
            let dims: Vec<usize> = match id {
                "W1" => vec![1 << 24],
                "W2" => vec![],
                "W3" | "W4" | "W5" => vec![4096, 4096],
                "W6" => vec![1024, 1024],
                "W7" => vec![1024],
                _ => vec![1 << 22],
            };
            assert_eq!(t.dims(), &dims[..], "{id}");
            assert_eq!(t.dtype(), DType::F32);
        }
    }

    #[test]
    fn the_eager_baseline_computes_the_same_function() {
        // W1 on a tiny input through both paths.
        let x = Array::from_vec(&[3], vec![0.5f32, -1.0, 2.0]).unwrap();
        let y = Array::from_vec(&[3], vec![1.0f32, 2.0, -3.0]).unwrap();
        let want = eager("W1", &[x.clone(), y.clone()]);
        let g = Graph::new();
        let (xt, yt) = (g.input("x", DType::F32, &[3]).unwrap(), g.input("y", DType::F32, &[3]).unwrap());
        let t = (((&xt * 2.0).unwrap() + 1.0).exp() * &yt - &xt).unwrap();
        let got = t.eval(Device::CPU, &[("x", &x), ("y", &y)]).unwrap().to_vec::<f32>().unwrap();
        assert!(rel_diff(&got, &want) < 1e-6);
    }
}
