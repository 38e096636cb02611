//! `switchyard demo`: a small model-like expression, its plan, its result, and the time
//! each stage took.

use std::io::Write;
use std::time::Instant;

use switchyard::prelude::*;
use switchyard::random_array;

use super::CliResult;

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// Builds a dense layer with ReLU and a row softmax, plans, compiles and runs it, writing
/// the tour to `sink`.
pub fn run(sink: &mut dyn Write) -> CliResult {
    let err = |e: switchyard::Error| e.to_string();
    writeln!(sink, "switchyard demo: a dense layer, ReLU and a row softmax, built lazily.\n")?;
    writeln!(sink, "  h   = maximum(x @ w + b, 0)          x: f32[64,128]  w: f32[128,32]  b: f32[32]")?;
    writeln!(sink, "  out = exp(h - max(h, 1)) / sum(exp(h - max(h, 1)), 1)\n")?;

    let t0 = Instant::now();
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[64, 128]).map_err(err)?;
    let w = g.input("w", DType::F32, &[128, 32]).map_err(err)?;
    let b = g.input("b", DType::F32, &[32]).map_err(err)?;
    let h = (x.matmul(&w).map_err(err)? + &b).maximum(0.0).map_err(err)?;
    let m = h.max(1, true).map_err(err)?;
    let e = (&h - &m).exp().map_err(err)?;
    let out = (&e / e.sum(1, true).map_err(err)?).map_err(err)?;
    let build_ms = ms(t0);

    let t1 = Instant::now();
    let plan = g.plan(&[&out], Device::CPU).map_err(err)?;
    let plan_ms = ms(t1);
    writeln!(sink, "{plan}\n")?;

    let t2 = Instant::now();
    let exe = g.compile_plan(plan).map_err(err)?;
    let compile_ms = ms(t2);

    let xs = random_array(DType::F32, x.shape(), 1);
    let ws = random_array(DType::F32, w.shape(), 2);
    let bs = random_array(DType::F32, b.shape(), 3);
    let t3 = Instant::now();
    let result = exe.run(&[("x", &xs), ("w", &ws), ("b", &bs)]).map_err(|e| e.to_string())?;
    let run_ms = ms(t3);
    let result = result.into_iter().next().ok_or("no result")?;

    let values = result.to_f64_vec();
    let worst_row = values.chunks(32).map(|row| (row.iter().sum::<f64>() - 1.0).abs()).fold(0.0f64, f64::max);
    writeln!(sink, "{}", crate::cli::summarize(&result))?;
    writeln!(sink, "  every row sums to 1 within {worst_row:.1e}\n")?;
    writeln!(sink, "stages:")?;
    writeln!(sink, "  build graph      {build_ms:8.3} ms  ({} nodes)", g.to_ir().len())?;
    writeln!(sink, "  optimize + plan  {plan_ms:8.3} ms")?;
    writeln!(sink, "  compile          {compile_ms:8.3} ms  ({} kernels)", exe.kernel_count())?;
    let mut used: Vec<String> = exe.plan().steps.iter().map(|k| k.label().to_string()).collect();
    used.sort();
    used.dedup();
    writeln!(sink, "  run              {run_ms:8.3} ms  (on {})", used.join(" and "))?;
    writeln!(
        sink,
        "\nTry: switchyard plan 'exp(x*2+1)*y - x' --input x=f32[1024] --input y=f32[1024] --format dot"
    )?;
    Ok(())
}
