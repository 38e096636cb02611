//! Shapes too large for memory, and shapes that are valid but cannot be allocated here: every
//! one is a clean error naming the size, through the Rust API and the CLI, never a crash.
//! (Before the `Shape` invariant, `numel * 8` wrapped for 2^61 + 2 elements, a 16-byte buffer
//! passed the kernel argument check and the JIT wrote far past it.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::process::{Command, Output};

use switchyard::prelude::*;
use switchyard::{Error, IrErrorKind, RuntimeErrorKind};

/// 2^60 + 1: twice this many f64 elements is 2^64 + 16 bytes, which wraps to 16 in `usize`.
const WRAPPING: usize = (1 << 60) + 1;

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard")).args(args).env("XDG_RUNTIME_DIR", "/tmp").output().unwrap()
}

/// Runs the CLI and returns its stderr, asserting a clean failure: exit 1, one `error:` line
/// first, no panic.
fn cli_error(args: &[&str]) -> String {
    let out = cli(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{args:?}: {stderr}");
    stderr
}

#[test]
fn a_shape_whose_byte_count_wraps_is_refused_through_the_api() {
    let g = Graph::new();
    let x = g.input("x", DType::F64, &[2, 1]).unwrap();
    let err = g.full(&[2, WRAPPING], 0.0, DType::F64).unwrap_err();
    let msg = err.to_string();
    match err {
        Error::Ir(e) => assert_eq!(e.kind(), IrErrorKind::Overflow),
        other => panic!("expected an IR error, got {other:?}"),
    }
    assert!(msg.contains("[2, 1152921504606846977] is too large") && msg.contains("16.0 EiB"), "{msg}");
    // Nor can broadcasting reach it.
    let big = g.input("big", DType::F64, &[1, 1 << 58]).unwrap();
    assert!((&x + &big).is_ok(), "2^59 elements are a valid shape");
    let bigger = g.input("bigger", DType::F64, &[1, 1 << 59]).unwrap();
    assert!((&x + &bigger).is_err(), "2^60 elements are not");
    let wide = g.input("wide", DType::F64, &[1, WRAPPING]);
    assert!(wide.is_err(), "an input of 2^60 + 1 elements is refused too");
    assert!(x.broadcast_to(&[2, WRAPPING]).is_err());
    assert!(g.input("z", DType::Bool, &[usize::MAX, 0]).is_err(), "a zero extent does not hide a huge one");
}

#[test]
fn a_valid_shape_that_cannot_be_allocated_is_an_out_of_memory_error() {
    let g = Graph::new();
    let z = g.full(&[100_000_000_000], 1.0, DType::F32).unwrap();
    let plan = g.plan(&[&z], Device::CPU).unwrap();
    assert_eq!(plan.peak_memory_bytes, 400_000_000_000);
    let err = z.eval(Device::CPU, &[]).unwrap_err();
    let msg = err.to_string();
    match err {
        Error::Runtime(e) => assert_eq!(e.kind(), RuntimeErrorKind::OutOfMemory, "{msg}"),
        other => panic!("expected a runtime error, got {other:?}"),
    }
    assert!(msg.contains("372.5 GiB") && msg.contains("out of memory"), "{msg}");
    // Memory the reference interpreter cannot have for its intermediates: the same kind.
    let x = g.input("x", DType::F32, &[1]).unwrap();
    let s = x.broadcast_to(&[100_000_000_000]).unwrap().sum(AxisSpec::All, false).unwrap();
    let one = Array::from_vec(&[1], vec![1.0f32]).unwrap();
    match s.eval(Device::CPU, &[("x", &one)]).unwrap_err() {
        Error::Runtime(e) => assert_eq!(e.kind(), RuntimeErrorKind::OutOfMemory, "{e}"),
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn the_cli_reports_each_huge_shape_cleanly() {
    let wrapping = cli_error(&[
        "eval",
        "cast(x[:2, :1], dtype=f64) + zeros((2, 1152921504606846977), dtype=f64)",
        "--input",
        "x=f32[3,4]",
    ]);
    assert!(wrapping.contains("zeros: shape [2, 1152921504606846977] is too large"), "{wrapping}");
    let full = cli_error(&["eval", "x + full((2, 1152921504606846977), 1.0)", "--input", "x=f64[2,1]"]);
    assert!(full.contains("is too large"), "{full}");
    let unallocatable = cli_error(&["eval", "zeros((100000000000,))"]);
    assert!(
        unallocatable.contains("out of memory") && unallocatable.contains("745.1 GiB"),
        "{unallocatable}"
    );
    for (expr, input) in [
        ("zeros((4611686018427387904,))", None),
        ("broadcast_to(x, (2, 1152921504606846977)) + 1.0", Some("x=f32[1]")),
        ("arange(4611686018427387904)", None),
        ("nonzero(x, size=4611686018427387904)", Some("x=f32[3]")),
    ] {
        let mut args = vec!["eval", expr];
        if let Some(i) = input {
            args.extend(["--input", i]);
        }
        let msg = cli_error(&args);
        assert!(msg.contains("is too large"), "{expr}: {msg}");
    }
    // Valid shapes that no machine here can hold: the interpreter and the JIT report it.
    let broadcast = cli_error(&["eval", "sum(broadcast_to(x, (100000000000,)))", "--input", "x=f32[1]"]);
    assert!(broadcast.contains("out of memory"), "{broadcast}");
    let input = cli_error(&["eval", "x + 1", "--input", "x=f32[1152921504606846977]"]);
    assert!(input.contains("is too large"), "{input}");
}

#[test]
fn plans_over_several_huge_buffers_saturate_their_byte_counts() {
    // Each buffer fits `isize`, but three of them exceed u64: the plan's sums saturate
    // instead of wrapping (or panicking in a debug build).
    let g = Graph::new();
    let n = switchyard::Shape::MAX_ELEMENTS;
    let x = g.input("x", DType::F64, &[n]).unwrap();
    let y = g.input("y", DType::F64, &[n]).unwrap();
    let w = g.input("w", DType::F64, &[n]).unwrap();
    let z = ((&x + &y).unwrap() * &w).unwrap();
    let plan = g.plan(&[&z], Device::CPU).unwrap();
    assert_eq!(plan.steps.len(), 1, "{plan}");
    assert_eq!(plan.steps[0].bytes_read, u64::MAX);
    assert_eq!(plan.steps[0].bytes_written, (n * 8) as u64);
    assert!(plan.to_string().contains("kernel"), "the plan still renders");
}

#[test]
fn a_gpu_refuses_a_buffer_larger_than_it_binds() {
    if switchyard::Engine::default_registry().devices().is_empty() {
        eprintln!("skipped: no GPU device here");
        return;
    }
    // 4 GB of f32: cubecl used to panic in its device thread ("can't allocate buffer").
    let msg =
        cli_error(&["eval", "x + zeros((1000000000,), dtype=f32)", "--input", "x=f32[1]", "--device", "gpu"]);
    assert!(msg.contains("f32[1000000000] needs 3.7 GiB on gpu:0, more than its largest buffer"), "{msg}");
}

#[test]
fn a_huge_batch_of_empty_matrices_multiplies_without_walking_it() {
    // Found by the fuzzer: the reference collected one entry per batch matrix (2^40 of them,
    // 16 TiB) before noticing the product had no elements, and the allocation aborted.
    let g = Graph::new();
    let a = g.full(&[1 << 40, 0, 3], 1, DType::I64).unwrap();
    let b = g.full(&[3, 2], 2, DType::I64).unwrap();
    let c = a.matmul(&b).unwrap();
    let out = c.eval(Device::CPU, &[]).unwrap();
    assert_eq!(out.dims(), &[1 << 40, 0, 2]);
    assert!(out.is_empty());
}

#[test]
fn joining_empty_arrays_with_a_huge_extent_takes_no_time() {
    // Found by the fuzzer: concat of two [2^40, 0] arrays walked 2^40 empty rows.
    let g = Graph::new();
    let a = g.full(&[1 << 40, 0], 1.0, DType::F64).unwrap();
    let j = concat(&[&a, &a], 1).unwrap();
    let s = stack(&[&a, &a], 0).unwrap();
    for t in [&j, &s] {
        let out = t.eval(Device::CPU, &[]).unwrap();
        assert_eq!(out.dims(), t.dims());
        assert!(out.is_empty());
    }
}
