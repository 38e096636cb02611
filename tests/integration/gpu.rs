//! The GPU end to end, through the command line: `switchyard eval EXPR --device gpu` agrees
//! with `--device cpu` on the W1..W5 expressions, gives NumPy's IEEE answers where a driver
//! could simplify the fused arithmetic, and a GPU chain with a CPU-only step is a clean error
//! naming the node and the fix.
//!
//! Without a GPU (no Vulkan driver, no CUDA) these tests say why and pass; with
//! `SWITCHYARD_REQUIRE_GPU=1` (set by `.ci/run`, which installs Mesa's software Vulkan
//! driver) a missing GPU fails them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::path::PathBuf;
use std::process::{Command, Output};

use switchyard::{read_npy, write_npy, Array, Engine};

fn gpu_here() -> bool {
    let devices = Engine::default_registry().devices();
    if !devices.is_empty() {
        return true;
    }
    let required = std::env::var("SWITCHYARD_REQUIRE_GPU").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "SWITCHYARD_REQUIRE_GPU=1 but no GPU device was found (is a Vulkan driver installed?)"
    );
    eprintln!("skipped: no GPU device here (install mesa-vulkan-drivers for a software one)");
    false
}

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard")).args(args).output().expect("the binary runs")
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("switchyard-gpu-{}-{name}", std::process::id()))
}

/// Evaluates `expr` on `device` with seeded inputs and returns the result's values.
fn eval(expr: &str, inputs: &[&str], device: &str) -> Vec<f64> {
    let out = tmp(&format!("{}-{}.npy", device.replace(':', "_"), expr.len()));
    let mut args = vec!["eval", expr, "--device", device, "--seed", "3"];
    for i in inputs {
        args.extend(["--input", i]);
    }
    let out_s = out.to_string_lossy().to_string();
    args.extend(["--out", &out_s]);
    let o = switchyard(&args);
    assert!(o.status.success(), "{expr} on {device}: {}", String::from_utf8_lossy(&o.stderr));
    let a = read_npy(&out).expect("the result file");
    let _ = std::fs::remove_file(&out);
    a.to_f64_vec()
}

/// The W1..W5 formulas of the benchmark at test sizes.
const WORKLOADS: [(&str, &str, &[&str]); 5] = [
    ("W1", "exp(x*2+1)*y - x", &["x=f32[4099]", "y=f32[4099]"]),
    ("W2", "sum(square(x - y))", &["x=f32[5000]", "y=f32[5000]"]),
    (
        "W3",
        "exp(a - max(a, axis=1, keepdims=true)) / sum(exp(a - max(a, axis=1, keepdims=true)), axis=1, keepdims=true)",
        &["a=f32[33,257]"],
    ),
    ("W4", "tanh(u[:, None] * v[None, :] + 0.5)", &["u=f32[67]", "v=f32[129]"]),
    (
        "W5",
        "(a - mean(a, axis=1, keepdims=true)) / sqrt(mean(square(a - mean(a, axis=1, keepdims=true)), axis=1, keepdims=true) + 1e-5)",
        &["a=f32[31,300]"],
    ),
];

#[test]
fn eval_on_the_gpu_matches_the_cpu_on_w1_to_w5() {
    if !gpu_here() {
        return;
    }
    for (id, expr, inputs) in WORKLOADS {
        let cpu = eval(expr, inputs, "cpu");
        let gpu = eval(expr, inputs, "gpu");
        assert_eq!(cpu.len(), gpu.len(), "{id}");
        // Within a few f32 ulps of the result's scale: the GPU's exp/tanh/sqrt are within
        // their declared ulps, and sums add in another order.
        let scale = cpu.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-30);
        for (k, (c, g)) in cpu.iter().zip(&gpu).enumerate() {
            assert!(
                (c - g).abs() <= 4e-6 * scale + 8.0 * f64::from(f32::EPSILON) * c.abs(),
                "{id} element {k}: cpu {c}, gpu {g}"
            );
        }
    }
}

/// Evaluates `expr` on the GPU over the f32 vectors `inputs` (written as `.npy` files);
/// the result's values.
fn eval_f32(expr: &str, inputs: &[(&str, &[f32])]) -> Vec<f32> {
    let mut args = vec!["eval".to_string(), expr.to_string(), "--device".into(), "gpu".into()];
    let mut files = Vec::new();
    for (name, values) in inputs {
        let path = tmp(&format!("ieee-{name}-{}.npy", expr.len()));
        let array = Array::from_vec(&[values.len()], values.to_vec()).expect("an f32 vector");
        write_npy(&path, &array).expect("the input file");
        args.extend(["--input".to_string(), format!("{name}={}", path.display())]);
        files.push(path);
    }
    let out = tmp(&format!("ieee-out-{}.npy", expr.len()));
    args.extend(["--out".to_string(), out.to_string_lossy().to_string()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = switchyard(&refs);
    assert!(o.status.success(), "{expr}: {}", String::from_utf8_lossy(&o.stderr));
    let result = read_npy(&out).expect("the result file").to_vec::<f32>().expect("f32 values");
    for f in files.iter().chain([&out]) {
        let _ = std::fs::remove_file(f);
    }
    result
}

#[test]
fn the_gpu_keeps_ieee_semantics_in_fused_arithmetic_as_numpy_does() {
    if !gpu_here() {
        return;
    }
    // The driver may not fold `a - a` to 0: infinities and NaN give NaN (NumPy: [nan, nan,
    // nan, 0]).
    let got = eval_f32("(a - a)", &[("a", &[f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1.5])]);
    assert!(got[..3].iter().all(|v| v.is_nan()), "{got:?}");
    assert_eq!(got[3].to_bits(), 0f32.to_bits(), "{got:?}");
    // Nor reassociate `(a + b) - b` to `a`: each op rounds (NumPy: [0, 0.0010000467, 0]).
    let got = eval_f32("(a + b) - b", &[("a", &[1e-8, 1e-3, 3.0]), ("b", &[1.0, 1.0, 1e8])]);
    let want = [0.0f32, (1e-3f32 + 1.0) - 1.0, 0.0];
    assert_eq!(got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want.map(f32::to_bits), "{got:?}");
    assert_eq!(want[1], 0.001_000_046_7, "NumPy's value");
    // Nor merge `a + b` with `b + a` (and so their difference with 0) or drop the sign of
    // zero in `-0 + 0`.
    let inf = [f32::INFINITY, 1.0, -0.0];
    let got = eval_f32("(a * 2 + b) - (b + a * 2)", &[("a", &inf), ("b", &[f32::NEG_INFINITY, 2.0, -0.0])]);
    assert!(got[0].is_nan() && got[1] == 0.0, "{got:?}");
    let got = eval_f32("a * 1 + 0", &[("a", &[-0.0, 0.0, f32::NAN])]);
    assert_eq!(got[0].to_bits(), 0f32.to_bits(), "-0 + 0 is +0: {got:?}");
    assert!(got[2].is_nan(), "{got:?}");
}

#[test]
fn joins_on_the_gpu_match_the_cpu_exactly() {
    if !gpu_here() {
        return;
    }
    let cases: [(&str, &[&str]); 3] = [
        ("pad(concat((x, y), axis=1), ((1, 0), (0, 2)), value=7)", &["x=f32[5,3]", "y=f32[5,4]"]),
        ("stack((x, transpose(y), x * 2), axis=1)", &["x=f32[6,4]", "y=f32[4,6]"]),
        ("concat((i, j, i), axis=0)", &["i=i32[3,2]", "j=i32[0,2]"]),
    ];
    for (expr, inputs) in cases {
        assert_eq!(eval(expr, inputs, "gpu"), eval(expr, inputs, "cpu"), "{expr}");
    }
}

#[test]
fn a_gpu_chain_with_a_cpu_only_step_is_an_error_naming_the_node_and_to_device() {
    if !gpu_here() {
        return;
    }
    // i64 arithmetic runs nowhere on the GPU (wgpu has no portable 64-bit integers).
    let o = switchyard(&[
        "plan",
        "exp(cast(x + y, dtype=f32))",
        "--input",
        "x=i64[8]",
        "--input",
        "y=i64[8]",
        "--device",
        "gpu",
    ]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no backend of device `gpu:0` supports node"), "{err}");
    assert!(err.contains("from the expression `x + y`"), "{err}");
    assert!(err.contains("gpu.cubecl:"), "{err}");
    assert!(err.contains("move its operands there with `to_device`"), "{err}");
}

#[test]
fn plans_on_the_gpu_show_the_generated_kernel_source_and_the_kernel_cache() {
    if !gpu_here() {
        return;
    }
    let o = switchyard(&[
        "plan",
        "exp(x*2+1)*y - x",
        "--input",
        "x=f32[100]",
        "--input",
        "y=f32[100]",
        "--device",
        "gpu",
        "--code",
        "--explain-cache",
    ]);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("; kernel 0 on gpu.cubecl"), "{text}");
    assert!(text.contains("@compute"), "the generated WGSL: {text}");
    assert!(text.contains("kernel cache of gpu.cubecl:"), "{text}");
}

#[test]
fn devices_and_bench_work_on_the_gpu() {
    if !gpu_here() {
        return;
    }
    let o = switchyard(&["devices"]);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success() && text.contains("gpu:0: ") && text.contains("gpu.cubecl"), "{text}");
    let o = switchyard(&["bench", "--workload", "W2", "--device", "gpu", "--runs", "1", "--json"]);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON line");
    assert_eq!(r["device"], "gpu:0", "{r}");
    // W2 is a sum of 2^24 squares: the eager ndarray baseline sums in f32 and is itself off by
    // about 1e-3 relative; the GPU sum is compensated.
    assert!(r["max_rel_diff"].as_f64().is_some_and(|d| d < 1e-2), "{r}");
}
