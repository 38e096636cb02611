//! Fuzzing on stable Rust: a coverage-free, structure-aware random harness (no nightly, no
//! instrumentation, no extra dependency), run as an ordinary test with a bounded number of
//! cases, and for as long as you like with one command:
//!
//! ```sh
//! SWITCHYARD_FUZZ_CASES=200000 cargo test --release --test integration fuzz:: -- --nocapture
//! ```
//!
//! (`SWITCHYARD_FUZZ_SEED` picks the first seed.) Three targets, each with its own
//! generator of mostly-valid inputs that are then damaged, since a purely random byte string
//! rarely gets past a parser's first check:
//! - the expression language end to end: bytes in, parse, build, plan, and for plans of at
//!   most 1 MiB also eval on the CPU (generated programs, mutated byte-wise and token-wise:
//!   huge and negative numbers, truncations, splices, random bytes, non-UTF-8);
//! - the `.npy` reader: encoded arrays of every dtype, mutated in the header (dims, dtypes,
//!   lengths, quotes) and in the data (truncated, extended, random bytes);
//! - random sequences of Rust API calls on a growing pool of tensors, with random extents
//!   (zero, small, huge, overflowing).
//!
//! A finding is a panic (caught, reported with its seed and input) or an abort (the test
//! process dies, which fails the run). Results are checked where a property is known: a
//! decoded `.npy` re-encodes to the same array, an eval's result has the planned shape.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::common::{declare_inputs, input_data, inputs_read, Programs, Rng};
use switchyard::prelude::*;
use switchyard::stages::frontend::expr;
use switchyard::{decode_npy, encode_npy};

fn cases(default: u64) -> (u64, u64) {
    let n = std::env::var("SWITCHYARD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let seed = std::env::var("SWITCHYARD_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    (n, seed)
}

/// Plans larger than this are planned but not run (a valid 8 GiB zeros is not a finding).
const MAX_EVAL_BYTES: u64 = 1 << 20;

/// Plans with a node of more elements than this are not run either: a reduction of a huge
/// constant needs no memory (the constant is inlined) but takes hours.
const MAX_EVAL_ELEMENTS: usize = 1 << 18;

/// Whether running `plan` is cheap enough for a fuzz case.
fn small(plan: &switchyard::Plan) -> bool {
    plan.peak_memory_bytes <= MAX_EVAL_BYTES
        && plan.graph.iter().all(|n| n.shape.numel() <= MAX_EVAL_ELEMENTS)
}

/// Extents that break naive size arithmetic.
const NASTY_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1152921504606846977",
    "4611686018427387904",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "100000000000",
    "1e308",
    "-0",
    "2147483648",
    "9223372036854775807",
];

const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "::",
    "None",
    "...",
    "@",
    "**",
    "//",
    "%",
    "-",
    "~",
    "&",
    "|",
    "^",
    "==",
    "=",
    "axis=",
    "keepdims=true",
    "dtype=bool",
    "dtype=i64",
    "size=",
    "sum(",
    "reshape(",
    "pad(",
    "nonzero(",
    "zeros(",
    "arange(",
    "full(",
    "concat((",
    "stack((",
    "broadcast_to(",
    "squeeze(",
    "to_device(",
    "'gpu'",
    "cast(",
    "x",
    "a",
    "m",
    "e",
    "\"",
    "\\",
    "\u{0}",
    "é",
    "1e400",
    "nan",
    "inf",
];

/// Damages `text` in one or a few random ways.
fn mutate(rng: &mut Rng, text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = if bytes.is_empty() { 0 } else { rng.below(bytes.len() + 1) };
        match rng.below(7) {
            0 => {
                // Replace a number by a nasty one.
                let digits: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i].is_ascii_digit()).collect();
                if let Some(&i) = digits.get(rng.below(digits.len().max(1))) {
                    let end = (i..bytes.len()).find(|&j| !bytes[j].is_ascii_digit()).unwrap_or(bytes.len());
                    bytes.splice(i..end, rng.pick(NASTY_NUMBERS).bytes());
                }
            }
            1 => {
                bytes.splice(at..at, rng.pick(TOKENS).bytes());
            }
            2 => bytes.truncate(at),
            3 if !bytes.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(bytes.len());
                let start = at.min(end);
                bytes.drain(start..end);
            }
            4 => {
                let b = rng.next_u64() as u8;
                bytes.insert(at, b);
            }
            5 if !bytes.is_empty() => {
                // Duplicate a span (nesting grows, parentheses unbalance).
                let end = (at + rng.below(16)).min(bytes.len());
                let start = at.min(end);
                let span = bytes[start..end].to_vec();
                bytes.splice(end..end, span);
            }
            _ => {
                let i = rng.below(bytes.len().max(1));
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
        }
    }
    bytes
}

/// How far expression cases got: built, planned, evaluated.
static REACHED: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// Parse, build, plan and (when small) eval `source`; any error is fine, a panic is not.
fn expression_end_to_end(source: &str, data: &[(&str, Array)]) {
    let g = Graph::new();
    let env = declare_inputs(&g, source);
    let Ok(t) = expr::build(&g, source, &env) else { return };
    REACHED[0].fetch_add(1, Ordering::Relaxed);
    let Ok(plan) = t.plan(Device::CPU) else { return };
    REACHED[1].fetch_add(1, Ordering::Relaxed);
    if !small(&plan) {
        return;
    }
    REACHED[2].fetch_add(1, Ordering::Relaxed);
    let read = inputs_read(source);
    let bound: Vec<(&str, &Array)> =
        data.iter().filter(|(n, _)| read.contains(n)).map(|(n, a)| (*n, a)).collect();
    if let Ok(out) = t.eval(Device::CPU, &bound) {
        assert_eq!(out.dims(), t.dims(), "the result has the planned shape");
        assert_eq!(out.dtype(), t.dtype());
    }
}

/// Runs `f` on every case, catching panics; fails listing the first few findings.
fn fuzz(target: &str, default_cases: u64, mut case: impl FnMut(u64) -> String) {
    let (n, first) = cases(default_cases);
    let mut findings = Vec::new();
    for seed in first..first + n {
        let mut input = String::new();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            input = case(seed);
        }));
        if outcome.is_err() {
            findings.push(format!("seed {seed}: {input}"));
        }
    }
    eprintln!("fuzz {target}: {n} executions from seed {first}, {} findings", findings.len());
    assert!(findings.is_empty(), "{target}: panics on\n{}", findings.join("\n"));
}

#[test]
fn fuzz_the_expression_language() {
    let data = input_data(&mut Rng::new(7));
    fuzz("expression", 3000, |seed| {
        let mut rng = Rng::new(seed);
        let program = Programs { rng: &mut rng }.program(4).text;
        let bytes = if rng.chance(0.2) { program.into_bytes() } else { mutate(&mut rng, &program) };
        let shown = format!("{:?}", String::from_utf8_lossy(&bytes));
        // Non-UTF-8 input is refused before parsing (the CLI refuses it as a usage error).
        if let Ok(source) = std::str::from_utf8(&bytes) {
            expression_end_to_end(source, &data);
        }
        shown
    });
    let [built, planned, run] = REACHED.each_ref().map(|c| c.load(Ordering::Relaxed));
    eprintln!("fuzz expression: {built} built, {planned} planned, {run} evaluated");
}

#[test]
fn fuzz_the_npy_reader() {
    fuzz("npy", 5000, |seed| {
        let mut rng = Rng::new(seed);
        let data = input_data(&mut rng);
        let (_, array) = &data[rng.below(data.len())];
        let good = encode_npy(array);
        let header_end = good.iter().position(|&b| b == b'\n').unwrap_or(good.len());
        let mut bytes = good.clone();
        match rng.below(4) {
            0 => {
                // Damage the header as text (dims, dtype strings, quotes, lengths).
                let header = String::from_utf8_lossy(&good[..header_end]).into_owned();
                let mut damaged = mutate(&mut rng, &header);
                damaged.extend_from_slice(&good[header_end..]);
                bytes = damaged;
            }
            1 => bytes.truncate(rng.below(good.len() + 1)),
            2 => {
                for _ in 0..rng.below(16) + 1 {
                    bytes.push(rng.next_u64() as u8);
                }
            }
            _ => {
                let i = rng.below(bytes.len());
                bytes[i] = rng.next_u64() as u8;
            }
        }
        if let Ok(decoded) = decode_npy(&bytes) {
            assert_eq!(
                decode_npy(&encode_npy(&decoded)).ok().as_ref(),
                Some(&decoded),
                "re-encodes to itself"
            );
        }
        format!("{} bytes: {:?}", bytes.len(), String::from_utf8_lossy(&bytes[..bytes.len().min(160)]))
    });
}

/// A random extent: mostly small, sometimes zero, huge or overflowing.
fn extent(rng: &mut Rng) -> usize {
    match rng.below(12) {
        0 => 0,
        1 => *rng.pick(&[
            1 << 40,
            1 << 60,
            (1 << 60) + 1,
            1 << 62,
            usize::MAX,
            usize::MAX / 2,
            100_000_000_000,
        ]),
        _ => 1 + rng.below(5),
    }
}

fn dims(rng: &mut Rng) -> Vec<usize> {
    (0..rng.below(4)).map(|_| extent(rng)).collect()
}

/// One random API call on the pool; successful results join it. Returns what it called.
fn api_call(rng: &mut Rng, g: &Graph, pool: &mut Vec<Tensor>) -> String {
    let dtype = *rng.pick(&DType::ALL);
    let pick = |rng: &mut Rng, pool: &[Tensor]| pool[rng.below(pool.len())].clone();
    let (call, result) = match rng.below(16) {
        0 => {
            let d = dims(rng);
            (format!("input({dtype}{d:?})"), g.input(&format!("in{}", pool.len()), dtype, &d))
        }
        1 => {
            let d = dims(rng);
            (format!("full({d:?}, {dtype})"), g.full(&d, 1.5, dtype))
        }
        2 => {
            let n = rng.next_u64() as i64 >> rng.below(64);
            (format!("arange({n})"), g.arange(0i64, n, 1i64, DType::I64))
        }
        _ if pool.is_empty() => return "nothing".into(),
        3 => {
            let (x, y) = (pick(rng, pool), pick(rng, pool));
            (format!("{}{:?} + {}{:?}", x.dtype(), x.dims(), y.dtype(), y.dims()), &x + &y)
        }
        4 => {
            let x = pick(rng, pool);
            let d = dims(rng);
            (format!("broadcast_to({:?}, {d:?})", x.dims()), x.broadcast_to(&d))
        }
        5 => {
            let x = pick(rng, pool);
            let d: Vec<i64> = dims(rng).into_iter().map(|n| n as i64).collect();
            (format!("reshape({:?}, {d:?})", x.dims()), x.reshape(&d))
        }
        6 => {
            let x = pick(rng, pool);
            let w: Vec<(usize, usize)> = x.dims().iter().map(|_| (extent(rng), extent(rng))).collect();
            (format!("pad({:?}, {w:?})", x.dims()), x.pad_zeros(&w))
        }
        7 => {
            let x = pick(rng, pool);
            let size = extent(rng);
            (format!("nonzero({:?}, size={size})", x.dims()), x.nonzero(Some(size), -1))
        }
        8 => {
            let (x, y) = (pick(rng, pool), pick(rng, pool));
            (format!("matmul({:?}, {:?})", x.dims(), y.dims()), x.matmul(&y))
        }
        9 => {
            let (x, y) = (pick(rng, pool), pick(rng, pool));
            let axis = rng.below(4) as i64 - 2;
            (format!("concat({:?}, {:?}, {axis})", x.dims(), y.dims()), concat(&[&x, &y], axis))
        }
        10 => {
            let x = pick(rng, pool);
            let axis = rng.below(5) as i64 - 2;
            (format!("sum({:?}, {axis})", x.dims()), x.sum(axis, rng.chance(0.5)))
        }
        11 => {
            let x = pick(rng, pool);
            (format!("cast({:?}, {dtype})", x.dims()), x.cast(dtype))
        }
        12 => {
            let x = pick(rng, pool);
            let axis = rng.below(5) as i64 - 2;
            (format!("expand_dims({:?}, {axis})", x.dims()), x.expand_dims(axis))
        }
        13 => {
            let (x, y) = (pick(rng, pool), pick(rng, pool));
            (format!("stack({:?}, {:?})", x.dims(), y.dims()), stack(&[&x, &y], 0))
        }
        14 => {
            let x = pick(rng, pool);
            (format!("exp({:?})", x.dims()), x.exp())
        }
        _ => {
            let x = pick(rng, pool);
            let axis = rng.below(3) as i64 - 1;
            (format!("argmax({:?}, {axis})", x.dims()), x.argmax(Some(axis), false))
        }
    };
    let ok = result.is_ok();
    if let Ok(t) = result {
        pool.push(t);
    }
    format!("{call} -> {}", if ok { "ok" } else { "error" })
}

#[test]
fn fuzz_random_api_call_sequences() {
    fuzz("api", 1500, |seed| {
        let mut rng = Rng::new(seed);
        let g = Graph::new();
        let mut pool = Vec::new();
        let mut log = Vec::new();
        for _ in 0..1 + rng.below(12) {
            log.push(api_call(&mut rng, &g, &mut pool));
        }
        if let Some(t) = pool.last() {
            if let Ok(plan) = t.plan(Device::CPU) {
                if small(&plan) && plan.inputs.is_empty() {
                    if let Ok(out) = t.eval(Device::CPU, &[]) {
                        assert_eq!(out.dims(), t.dims());
                    }
                }
            }
        }
        log.join("; ")
    });
}
