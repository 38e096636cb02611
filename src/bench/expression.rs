//! A user's own expression, timed like the workloads: `switchyard bench 'EXPR' --input
//! NAME=SPEC ...`. The effective bandwidth counts the minimum bytes any implementation must
//! move (each input the result depends on read once, the result written once), so the ratio
//! to the same-run triad says how far the expression is from memory speed.

use std::time::Instant;

use super::timing::time;
use crate::prelude::*;
use crate::{DeviceArray, Error, RuntimeError, RuntimeErrorKind};

/// One expression's figures, as `switchyard bench 'EXPR' --json` prints them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ExpressionResult {
    /// The expression as given.
    pub expr: String,
    /// The device it ran on (`cpu`, `gpu:0`).
    pub device: String,
    /// Threads in rayon's pool for this run.
    pub threads: usize,
    /// Median time of one call in milliseconds.
    pub median_ms: f64,
    /// Fastest call in milliseconds.
    pub min_ms: f64,
    /// The minimum bytes: each input the result depends on once, plus the result.
    pub min_bytes: u64,
    /// Effective bandwidth: minimum bytes / median time, in GB/s (1e9 B).
    pub gbps: f64,
    /// The host triad bandwidth measured in this run at the same thread count, GB/s.
    pub triad_gbps: f64,
    /// The host bandwidth floor: minimum bytes / triad rate, in ms (meaningful on the CPU).
    pub floor_ms: f64,
    /// Plan + compile + first run of the expression, in ms (the kernel caches may be warm).
    pub first_call_ms: f64,
    /// Kernel steps in the plan.
    pub kernels: usize,
    /// Of those, the steps on `cpu.reference`, the interpreter (not a fast path).
    pub interpreted: usize,
}

/// Times `out` (built in `g`) on `device` over the `inputs` it is bound to: a warm-up, then
/// `runs` calls (on a GPU, on inputs uploaded once, each call waiting for the device).
pub fn run_expression(
    expr: &str,
    g: &Graph,
    out: &Tensor,
    inputs: &[(&str, &Array)],
    runs: usize,
    triad: f64,
    device: Device,
) -> crate::Result<ExpressionResult> {
    let t = Instant::now();
    let exe = g.compile(&[out], device)?;
    let plan = exe.plan();
    let min_bytes = plan
        .inputs
        .iter()
        .filter(|i| i.decl.required)
        .map(|i| i.decl.ty.shape.byte_len(i.decl.ty.dtype.size_bytes()) as u64)
        .chain(plan.outputs.iter().map(|o| o.bytes()))
        .fold(0u64, u64::saturating_add);
    let kernels = plan.steps.iter().filter(|s| s.backend().is_some()).count();
    let interpreted = plan.steps.iter().filter(|s| s.label() == "cpu.reference").count();
    let mut failure: Option<Error> = None;
    let (median_ms, min_ms, first_call_ms) = if device == Device::CPU {
        exe.run(inputs)?;
        let first_call_ms = t.elapsed().as_secs_f64() * 1e3;
        let (median, min) = time(runs, || {
            if let Err(e) = exe.run(inputs) {
                failure = Some(e.into());
            }
        });
        (median, min, first_call_ms)
    } else {
        let memory = exe.device_memory().cloned().ok_or_else(|| {
            RuntimeError::new(RuntimeErrorKind::NoDevice, format!("device `{device}` is not available"))
        })?;
        let uploaded: Vec<(&str, DeviceArray)> = inputs
            .iter()
            .map(|&(n, a)| DeviceArray::upload(a, &memory).map(|d| (n, d)))
            .collect::<std::result::Result<_, _>>()?;
        let bound: Vec<(&str, &DeviceArray)> = uploaded.iter().map(|(n, a)| (*n, a)).collect();
        let run = || -> crate::Result<()> {
            exe.run_on_device(&bound)?;
            memory.sync().map_err(RuntimeError::from)?;
            Ok(())
        };
        run()?;
        let first_call_ms = t.elapsed().as_secs_f64() * 1e3;
        let (median, min) = time(runs, || {
            if let Err(e) = run() {
                failure = Some(e);
            }
        });
        (median, min, first_call_ms)
    };
    if let Some(e) = failure {
        return Err(e);
    }
    let bytes = min_bytes as f64;
    Ok(ExpressionResult {
        expr: expr.to_string(),
        device: device.to_string(),
        threads: rayon::current_num_threads(),
        median_ms,
        min_ms,
        min_bytes,
        gbps: bytes / (median_ms * 1e6),
        triad_gbps: triad,
        floor_ms: bytes / (triad * 1e6),
        first_call_ms,
        kernels,
        interpreted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expression_is_timed_and_its_minimum_bytes_counted() {
        let g = Graph::new();
        let x = g.input("x", DType::F32, &[256]).unwrap();
        let _unused = g.input("u", DType::F64, &[1 << 10]).unwrap();
        let y = (x.exp().unwrap() * 2.0).unwrap();
        let xs = Array::from_vec(&[256], vec![0.5f32; 256]).unwrap();
        let r = run_expression("exp(x) * 2", &g, &y, &[("x", &xs)], 3, 10.0, Device::CPU).unwrap();
        // x read once, the result written once; the unused input does not count.
        assert_eq!(r.min_bytes, 2 * 4 * 256);
        assert_eq!((r.kernels, r.interpreted), (1, 0));
        assert!(r.median_ms >= r.min_ms && r.min_ms > 0.0, "{r:?}");
        assert!((r.floor_ms - 2048.0 / 10e6).abs() < 1e-12, "{r:?}");
    }
}
