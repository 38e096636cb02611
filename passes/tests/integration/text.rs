//! Optimizer tests as text: a graph in the printed IR form, its outputs named by a `return`
//! line (the syntax `switchyard_ir::IrGraph::parse` reads), goes through the optimizer; what
//! comes out is a comment line naming the rules that fired, then the optimized graph printed
//! the same way, compared with the expectation. Two forms of the same check:
//!
//! - inline, `check(input, expect![[...]])`, as rust-analyzer writes its tests;
//! - golden files, as Cranelift's filetests: each `text/*.sy` file is one case, the input
//!   graph, then a blank line, a line `# optimized:` and the expected output. A line
//!   `# options: fast_math` in the input turns the fast-math rules on. A new case needs only
//!   its input: blessing appends the rest.
//!
//! When a change of output is intended, bless it and review the diff:
//! `UPDATE_EXPECT=1 cargo test -p switchyard-passes --test integration text::` rewrites the
//! inline expectations and the files.

use std::path::{Path, PathBuf};

use expect_test::{expect, expect_file, Expect};
use switchyard_ir::IrGraph;
use switchyard_passes::Options;

use crate::common::run;

/// The line between a golden file's input and its expected output.
const SEPARATOR: &str = "# optimized:";

/// The rules that fired and the optimized graph with its outputs, for the graph in `input`.
fn optimized(input: &str, options: &Options) -> String {
    let parsed = IrGraph::parse(input).unwrap_or_else(|e| panic!("{e}\n{input}"));
    assert!(!parsed.outputs().is_empty(), "a case names its outputs with a `return` line:\n{input}");
    let out = run(parsed.graph(), parsed.outputs(), options);
    let rules: Vec<&str> = out.report.rules.keys().map(String::as_str).collect();
    let rules = if rules.is_empty() { "none".to_string() } else { rules.join(", ") };
    let text = format!("# rules: {rules}\n{}", out.graph.display_with_outputs(&out.outputs));
    IrGraph::parse(&text).unwrap_or_else(|e| panic!("the optimized graph does not parse back: {e}\n{text}"));
    text
}

/// Optimizes the graph in `input` with the default options and compares the result.
fn check(input: &str, expect: Expect) {
    expect.assert_eq(&optimized(input, &Options::default()));
}

#[test]
fn mul_one() {
    check(
        r#"
        %0 = input("x") : f32[4]
        %1 = full(1.0) : f32[]
        %2 = mul(%1, %0) : f32[4]
        %3 = exp(%2) : f32[4]
        return %3
        "#,
        expect![[r#"
            # rules: mul-one
            %0 = input("x") : f32[4]
            %1 = exp(%0) : f32[4]
            return %1
        "#]],
    );
}

/// `x + (-0.0)` is `x` for every float (`-0.0 + 0.0` is `0.0`, so `+ 0.0` is not); for
/// integers any zero goes.
#[test]
fn add_zero_only_with_minus_zero_for_floats() {
    check(
        r#"
        %0 = input("x") : f32[4]
        %1 = full(-0.0) : f32[]
        %2 = add(%0, %1) : f32[4]
        return %2
        "#,
        expect![[r##"
            # rules: add-zero
            %0 = input("x") : f32[4]
            return %0
        "##]],
    );
    check(
        r#"
        %0 = input("x") : f32[4]
        %1 = full(0.0) : f32[]
        %2 = add(%0, %1) : f32[4]
        return %2
        "#,
        expect![[r##"
            # rules: none
            %0 = input("x") : f32[4]
            %1 = full(0.0) : f32[]
            %2 = add(%0, %1) : f32[4]
            return %2
        "##]],
    );
    check(
        r#"
        %0 = input("k") : i32[4]
        %1 = full(0) : i32[]
        %2 = add(%1, %0) : i32[4]
        return %2
        "#,
        expect![[r##"
            # rules: add-zero, fold-constants-int
            %0 = input("k") : i32[4]
            return %0
        "##]],
    );
}

#[test]
fn where_of_a_negated_condition_swaps_its_branches() {
    check(
        r#"
        %0 = input("x") : f32[4]
        %1 = input("y") : f32[4]
        %2 = input("p") : bool[4]
        %3 = logical_not(%2) : bool[4]
        %4 = where(%3, %0, %1) : f32[4]
        %5 = where(%2, %4, %4) : f32[4]
        return %5
        "#,
        expect![[r##"
            # rules: where-not, where-same
            %0 = input("x") : f32[4]
            %1 = input("y") : f32[4]
            %2 = input("p") : bool[4]
            %3 = where(%2, %1, %0) : f32[4]
            return %3
        "##]],
    );
}

/// Two outputs: both comparisons of `k` with itself become constants.
#[test]
fn integer_self_comparisons() {
    check(
        r#"
        %0 = input("k") : i32[4]
        %1 = eq(%0, %0) : bool[4]
        %2 = lt(%0, %0) : bool[4]
        return %1, %2
        "#,
        expect![[r#"
            # rules: self-compare
            %0 = full(true) : bool[4]
            %1 = full(false) : bool[4]
            return %0, %1
        "#]],
    );
}

#[test]
fn slice_of_a_slice_is_one_slice() {
    check(
        r#"
        %0 = input("x") : f32[10]
        %1 = slice(%0, [1+2*i<4]) : f32[4]
        %2 = slice(%1, [3+-1*i<3]) : f32[3]
        return %2
        "#,
        expect![[r##"
            # rules: slice-slice
            %0 = input("x") : f32[10]
            %1 = slice(%0, [7+-2*i<3]) : f32[3]
            return %1
        "##]],
    );
}

/// Division by a power of two becomes a multiplication, but not by 2^-149, the smallest f32,
/// whose reciprocal is not an f32.
#[test]
fn division_by_powers_of_two() {
    check(
        r#"
        %0 = input("x") : f32[4]
        %1 = full(4.0) : f32[]
        %2 = div(%0, %1) : f32[4]
        return %2
        "#,
        expect![[r##"
            # rules: div-pow2
            %0 = input("x") : f32[4]
            %1 = full(0.25) : f32[]
            %2 = mul(%0, %1) : f32[4]
            return %2
        "##]],
    );
    check(
        r#"
        %0 = input("x") : f32[4]
        %1 = full(1e-45) : f32[]
        %2 = div(%0, %1) : f32[4]
        return %2
        "#,
        expect![[r##"
            # rules: none
            %0 = input("x") : f32[4]
            %1 = full(1e-45) : f32[]
            %2 = div(%0, %1) : f32[4]
            return %2
        "##]],
    );
}

/// The options a golden file asks for.
fn options_of(input: &str) -> Options {
    let mut options = Options::default();
    for line in input.lines() {
        if let Some(names) = line.trim().strip_prefix("# options:") {
            for name in names.split(',').map(str::trim) {
                match name {
                    "fast_math" => options.fast_math = true,
                    other => panic!("unknown option `{other}` in `{line}`"),
                }
            }
        }
    }
    options
}

#[test]
fn golden_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/text");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "sy"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    for path in cases {
        let text = std::fs::read_to_string(&path).unwrap().replace("\r\n", "\n");
        let input = match text.split_once(&format!("\n{SEPARATOR}\n")) {
            Some((input, _expected)) => input.trim_end(),
            None => text.trim_end(),
        };
        let actual = format!("{input}\n\n{SEPARATOR}\n{}", optimized(input, &options_of(input)));
        expect_file![path].assert_eq(&actual);
    }
}
