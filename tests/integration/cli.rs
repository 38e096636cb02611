//! The `switchyard` binary end to end: every command, output formats, and clean errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use switchyard::{read_npy, write_npy, Array};

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard")).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a command that must fail cleanly: exit code 1, `error: ...` on stderr, no panic.
fn fails(args: &[&str]) -> String {
    let o = switchyard(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "stdout: {}\nstderr: {err}", stdout(&o));
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    err
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchyard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn save(path: &Path, a: &Array) -> String {
    write_npy(path, a).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn eval_reads_npy_and_writes_the_result() {
    let xs: Vec<f32> = (0..100).map(|i| (i as f32 - 50.0) / 25.0).collect();
    let ys: Vec<f32> = (0..100).map(|i| (i as f32) / 100.0 - 0.3).collect();
    let x = save(&tmp("x.npy"), &Array::from_vec(&[100], xs.clone()).unwrap());
    let y = save(&tmp("y.npy"), &Array::from_vec(&[100], ys.clone()).unwrap());
    let out = tmp("out.npy");
    let o = switchyard(&[
        "eval",
        "exp(x*2+1)*y - x",
        "--input",
        &format!("x={x}"),
        "--input",
        &format!("y={y}"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("result: f32[100]"), "{}", stdout(&o));
    let got = read_npy(&out).unwrap().to_vec::<f32>().unwrap();
    for i in 0..100 {
        // f32 arithmetic in the same order NumPy uses, against an f64 reference: within f32 rounding.
        let want = (f64::from(xs[i]) * 2.0 + 1.0).exp() * f64::from(ys[i]) - f64::from(xs[i]);
        let err = (f64::from(got[i]) - want).abs();
        assert!(err <= 4.0 * f64::from(f32::EPSILON) * want.abs().max(1.0), "{i}: {} vs {want}", got[i]);
    }
}

#[test]
fn eval_fills_typed_inputs_with_seeded_random_data() {
    let a = stdout(&switchyard(&["eval", "sum(x)", "--input", "x=f64[1000]", "--seed", "3"]));
    let b = stdout(&switchyard(&["eval", "sum(x)", "--input", "x=f64[1000]", "--seed", "3"]));
    let c = stdout(&switchyard(&["eval", "sum(x)", "--input", "x=f64[1000]", "--seed", "4"]));
    assert!(a.starts_with("result: f64[]"), "{a}");
    assert_eq!(a, b);
    assert_ne!(a, c);
    let ints = stdout(&switchyard(&["eval", "n * 2", "--input", "n=i32[5]"]));
    assert!(ints.starts_with("result: i32[5]"), "{ints}");
}

#[test]
fn plan_prints_text_json_and_dot() {
    let args = ["plan", "exp(x*2+1)*y - x", "--input", "x=f32[4096,4096]", "--input", "y=f32[4096,4096]"];
    let text = switchyard(&args);
    assert!(text.status.success(), "{}", stderr(&text));
    // The whole W1 expression fuses into one JIT kernel.
    assert!(
        stdout(&text).contains("1 kernel(s)") && stdout(&text).contains("cpu.cranelift"),
        "{}",
        stdout(&text)
    );

    let json = switchyard(&[&args[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("plan JSON parses");
    assert_eq!(v["device"]["kind"], "cpu");
    assert!(v["kernels"].as_array().is_some_and(|k| !k.is_empty()));
    assert!(v["peak_memory_bytes"].as_u64().is_some());

    let dot = switchyard(&[&args[..], &["--format", "dot"]].concat());
    let dot_text = stdout(&dot);
    assert!(dot_text.starts_with("digraph plan {"), "{dot_text}");
    render_with_graphviz(&dot_text);
}

/// Renders DOT with Graphviz when it is installed; CI sets SWITCHYARD_REQUIRE_DOT=1 so a
/// missing Graphviz fails there instead of skipping.
fn render_with_graphviz(dot: &str) {
    use std::io::Write;
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("SWITCHYARD_REQUIRE_DOT").is_none(),
                "graphviz `dot` is required here: {e}"
            );
            eprintln!("skipping the Graphviz render check: `dot` is not installed ({e})");
            return;
        }
    };
    child.stdin.take().unwrap().write_all(dot.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dot failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
}

#[test]
fn plan_code_shows_the_generated_kernel() {
    let o =
        switchyard(&["plan", "exp(x*2+1)*y - x", "--input", "x=f32[100]", "--input", "y=f32[100]", "--code"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("; kernel 0 on cpu.cranelift") && text.contains("f32x4"), "{text}");
}

#[test]
fn plan_explain_cache_shows_entries_and_why_each_kernel_missed() {
    // Two kernels of one structure but another dtype: the second misses on the dtype.
    let args = ["plan", "exp(x) + exp(y)", "--input", "x=f32[8]", "--input", "y=f64[8]", "--explain-cache"];
    let o = switchyard(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("kernel cache of cpu.cranelift:"), "{text}");
    assert!(text.contains("cached  f32 exp, inputs [walk]"), "{text}");
    assert!(text.contains("missed  f32 exp, inputs [walk]: cold cache"), "{text}");
    assert!(text.contains("in dtype: f64 here, f32 cached"), "{text}");
    // As JSON: the plan and the caches in one object.
    let o = switchyard(&[&args[..], &["--format", "json"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["plan"]["kernels"].is_array(), "{v}");
    let caches = v["kernel_caches"].as_array().unwrap();
    assert!(caches.iter().any(|c| c["backend"] == "cpu.cranelift" && c["misses"] == 2), "{v}");
}

#[test]
fn a_missing_gpu_is_a_clean_error() {
    for cmd in ["eval", "plan"] {
        let e = fails(&[cmd, "x + 1", "--input", "x=f32[3]", "--device", "gpu:7"]);
        assert!(
            e.contains("device `gpu:7` not found:") && e.contains("`switchyard devices` lists them"),
            "{e}"
        );
    }
    let e = fails(&["bench", "--workload", "W1", "--device", "gpu:7", "--runs", "1"]);
    assert!(e.contains("device `gpu:7` not found:"), "{e}");
}

#[test]
fn nonzero_without_size_fails_naming_the_alternative() {
    let err = fails(&["eval", "nonzero(x)", "--input", "x=f32[10]"]);
    assert!(err.contains("nonzero") && err.contains("size="), "{err}");
    let ok = switchyard(&["eval", "nonzero(x > 0, size=3)", "--input", "x=f32[10]"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("i64[1,3]"), "{}", stdout(&ok));
}

#[test]
fn errors_are_clean_and_name_the_culprit() {
    let err = fails(&["eval", "exp(z)", "--input", "x=f32[3]"]);
    assert!(err.contains("unknown name `z`") && err.contains('^'), "{err}");
    let err = fails(&["eval", "x + ", "--input", "x=f32[3]"]);
    assert!(err.contains('^'), "{err}");
    let err = fails(&["eval", "x", "--input", "x=f16[3]"]);
    assert!(err.contains("f16"), "{err}");
    let err = fails(&["eval", "x", "--input", "x=/nonexistent/x.npy"]);
    assert!(err.contains("/nonexistent/x.npy"), "{err}");
    let err = fails(&["eval", "x", "--input", "x=f32[3]", "--device", "tpu"]);
    assert!(err.contains("tpu"), "{err}");
    let err = fails(&["eval", "x * 2", "--input", "x=f32[3]", "--device", "gpu:9"]);
    assert!(err.contains("gpu:9"), "{err}");
    let err = fails(&["eval", "x", "--input", "x=f64[1000000000000]"]);
    assert!(err.contains("refusing"), "{err}");
    let bad = tmp("bad.npy");
    std::fs::write(&bad, b"not numpy").unwrap();
    let err = fails(&["eval", "x", "--input", &format!("x={}", bad.display())]);
    assert!(err.contains("not a .npy file"), "{err}");
}

#[test]
fn support_table_devices_and_demo_run() {
    let md = switchyard(&["support-table"]);
    assert!(md.status.success());
    let md = stdout(&md);
    assert!(md.contains("| `exp` |") && md.contains("cpu.reference f32"), "{md}");
    let json = switchyard(&["support-table", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(v["rows"].as_array().is_some_and(|r| r.len() > 60));

    let devices = stdout(&switchyard(&["devices"]));
    assert!(devices.contains("cpu.reference"), "{devices}");
    // A GPU device is listed with its adapter, or its absence is said (this build has gpu.cubecl).
    assert!(devices.contains("gpu:0: ") || devices.contains("gpu: no device found"), "{devices}");

    let demo = switchyard(&["demo"]);
    assert!(demo.status.success(), "{}", stderr(&demo));
    let text = stdout(&demo);
    assert!(text.contains("every row sums to 1") && text.contains("compile"), "{text}");
}

/// Runs the binary with its stdout connected to `stdout`, capturing stderr.
fn switchyard_with_stdout(args: &[&std::ffi::OsStr], stdout: std::process::Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(std::ffi::OsString::from).collect()
}

/// A pipe whose read end is already closed: the first write into it fails with EPIPE.
fn closed_pipe() -> std::process::Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

fn no_panic(err: &str) {
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
}

#[test]
fn a_broken_pipe_on_stdout_ends_quietly_with_exit_0() {
    let cases: [&[&str]; 7] = [
        &["eval", "x * 2", "--input", "x=f32[1000]"],
        &["plan", "exp(x*2+1)*y - x", "--input", "x=f32[64]", "--input", "y=f32[64]", "--code"],
        &["support-table"],
        &["devices"],
        &["demo"],
        &["bench", "--workload", "W7", "--runs", "1"],
        &["--help"],
    ];
    for args in cases {
        let args = os(args);
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let o = switchyard_with_stdout(&refs, closed_pipe());
        let err = stderr(&o);
        no_panic(&err);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        // (A Vulkan loader probing for GPUs may complain on stderr; switchyard says nothing.)
        assert!(!err.contains("cannot write") && !err.contains("Broken pipe"), "{args:?}: {err}");
    }
    // The shell form of the issue: the reader exits before switchyard writes.
    let sh = Command::new("sh")
        .arg("-c")
        .arg("\"$0\" eval 'x * 2' --input 'x=f32[1000]' | true")
        .arg(env!("CARGO_BIN_EXE_switchyard"))
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let err = stderr(&sh);
    no_panic(&err);
    assert!(!err.contains("cannot write") && !err.contains("Broken pipe"), "{err}");
}

#[test]
fn a_failed_write_to_stdout_is_an_error_with_exit_1() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipping: no /dev/full here");
        return;
    }
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    for args in [
        &["eval", "x * 2", "--input", "x=f32[1000]"][..],
        &["support-table", "--format", "json"],
        &["devices"],
        &["--version"],
    ] {
        let args = os(args);
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let o = switchyard_with_stdout(&refs, full().into());
        let err = stderr(&o);
        no_panic(&err);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        let line = "\nerror: cannot write the output: No space left on device";
        assert!(format!("\n{err}").contains(line), "{args:?}: {err}");
    }
    // With stderr unwritable too, a failing command still exits 1 without a panic.
    let o = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["eval", "exp(z)", "--input", "x=f32[3]"])
        .stdout(full())
        .stderr(full())
        .status()
        .unwrap();
    assert_eq!(o.code(), Some(1));
}

/// A usage error: exit code 2 and clap's `error: ...` (with the usage or a pointer to `--help`)
/// on stderr, nothing on stdout.
fn usage_error(args: &[&std::ffi::OsStr]) -> String {
    let o = switchyard_with_stdout(args, std::process::Stdio::piped());
    let err = stderr(&o);
    no_panic(&err);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.starts_with("error: ") && (err.contains("Usage:") || err.contains("--help")),
        "{args:?}: {err}"
    );
    assert!(o.stdout.is_empty(), "{args:?}: {}", stdout(&o));
    err
}

#[test]
fn usage_errors_exit_2_and_every_other_error_exits_1() {
    let args = os(&["eval", "-x", "--input", "x=f32[3]"]);
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let err = usage_error(&refs);
    assert!(err.contains("'-x'") && err.contains("--"), "{err}");
    // After `--` the same expression is fine.
    let ok = switchyard(&["eval", "--input", "x=f32[3]", "--seed", "1", "--", "-x"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).starts_with("result: f32[3]"), "{}", stdout(&ok));

    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bad = std::ffi::OsStr::from_bytes(b"x\xff * 2");
        let input = std::ffi::OsStr::new("--input");
        let err = usage_error(&[std::ffi::OsStr::new("eval"), bad, input, std::ffi::OsStr::new("x=f32[3]")]);
        assert!(err.contains("invalid UTF-8"), "{err}");
    }
    for args in [&["frobnicate"][..], &["eval"], &["plan", "x", "--format", "svg"], &["bench", "--runs", "x"]]
    {
        let args = os(args);
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        usage_error(&refs);
    }
    // No command at all: clap's help, on stderr, as a usage error.
    let o = switchyard(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("Usage: switchyard <COMMAND>") && o.stdout.is_empty(), "{}", stderr(&o));
    // Errors found after the command line parsed are exit 1 (see `fails`).
    fails(&["bench", "--runs", "0"]);
    fails(&["eval", "x", "--input", "x=f16[3]"]);
}

#[test]
fn help_and_version_print_to_stdout_and_exit_0() {
    for args in [&["--help"][..], &["eval", "--help"], &["-h"]] {
        let o = switchyard(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).contains("Usage: switchyard"), "{}", stdout(&o));
        assert!(o.stderr.is_empty(), "{}", stderr(&o));
    }
    let o = switchyard(&["--version"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("switchyard {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn clip_with_one_bound_and_pad_of_bools_from_the_command_line() {
    let x = save(&tmp("clip.npy"), &Array::from_vec(&[4], vec![-2.0f32, 0.5, 3.0, -0.25]).unwrap());
    let out = tmp("clip_out.npy");
    for (source, want) in [
        // np.clip(x, 0, None), np.clip(x, min=0), np.clip(x, None, 1), np.clip(x, max=1)
        ("clip(x, 0, None)", [0.0f32, 0.5, 3.0, 0.0]),
        ("clip(x, min=0)", [0.0, 0.5, 3.0, 0.0]),
        ("clip(x, None, 1)", [-2.0, 0.5, 1.0, -0.25]),
        ("clip(x, max=1)", [-2.0, 0.5, 1.0, -0.25]),
    ] {
        let o = switchyard(&["eval", source, "--input", &format!("x={x}"), "--out", out.to_str().unwrap()]);
        assert!(o.status.success(), "{source}: {}", stderr(&o));
        assert_eq!(read_npy(&out).unwrap().to_vec::<f32>().unwrap(), want, "{source}");
    }
    let b = save(&tmp("pad_b.npy"), &Array::from_vec(&[2], vec![true, false]).unwrap());
    let o = switchyard(&["eval", "pad(b, 1)", "--input", &format!("b={b}"), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // np.pad(np.array([True, False]), 1)
    assert_eq!(read_npy(&out).unwrap().to_vec::<bool>().unwrap(), [false, true, false, false]);
}

#[test]
fn bench_times_a_users_own_expression() {
    let o = switchyard(&[
        "bench",
        "where(x > 0, x, 0.01 * x) + y",
        "--input",
        "x=f32[1000]",
        "--input",
        "y=f32[1000]",
        "--runs",
        "2",
        "--threads",
        "1",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["expr"], "where(x > 0, x, 0.01 * x) + y");
    assert_eq!(v["min_bytes"], 3 * 4 * 1000, "two inputs read once, one result written once: {v}");
    assert_eq!(v["threads"], 1);
    assert!(v["median_ms"].as_f64().unwrap() > 0.0 && v["floor_ms"].as_f64().unwrap() > 0.0, "{v}");
    // FIXME(issue 14): comparisons and `where` still run on the interpreter.
    assert!(v["interpreted"].as_u64().unwrap() >= 1, "{v}");
    let text = stdout(&switchyard(&["bench", "exp(x)", "--input", "x=f32[64]", "--runs", "1"]));
    assert!(text.contains("x floor") && text.contains("1 kernel(s)\n"), "{text}");
    // An expression and a workload at once, or inputs without an expression, are usage errors.
    let e = fails(&["bench", "exp(x)", "--input", "x=f32[4]", "--workload", "W1"]);
    assert!(e.contains("either an expression or --workload"), "{e}");
    let e = fails(&["bench", "--input", "x=f32[4]"]);
    assert!(e.contains("--input needs an expression"), "{e}");
    let e = fails(&["bench", "exp(z)", "--input", "x=f32[4]", "--runs", "1"]);
    assert!(e.contains("unknown name `z`"), "{e}");
}
