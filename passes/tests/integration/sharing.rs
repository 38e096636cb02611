//! Extraction keeps sharing: a value several outputs use is computed once, and the extracted
//! DAG is never bigger than the graph it came from.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use crate::common::{opt, random_graph, B};
use switchyard_ir::{BinaryOp as Bo, DType, Scalar, UnaryOp as U};
use switchyard_passes::Options;

#[test]
fn shared_subexpressions_stay_shared_across_outputs() {
    let mut b = B::new();
    let x = b.input("x", DType::F32, &[8]);
    let y = b.input("y", DType::F32, &[8]);
    let one = b.c(Scalar::F32(1.0));
    let x1 = b.b(Bo::Mul, x, one);
    let t = b.u(U::Exp, x1);
    let t2 = b.b(Bo::Mul, t, t);
    let o1 = b.b(Bo::Add, t2, y);
    let o2 = b.b(Bo::Mul, t2, y);
    let o3 = b.u(U::Sin, t);
    let out = opt(&b, &[o1, o2, o3, t]);
    expect_test::expect![[r#"
        %0 = input("y") : f32[8]
        %1 = input("x") : f32[8]
        %2 = exp(%1) : f32[8]
        %3 = square(%2) : f32[8]
        %4 = sin(%2) : f32[8]
        %5 = add(%3, %0) : f32[8]
        %6 = mul(%3, %0) : f32[8]
    "#]]
    .assert_eq(&out.graph.to_string());
    assert_eq!(out.outputs[3], out.outputs[0].min(out.outputs[3]).max(out.outputs[3]));
}

#[test]
fn extracted_dags_are_never_bigger() {
    for seed in 1..300u64 {
        let (g, outs) = random_graph(seed * 104_729, 40);
        let before =
            switchyard_passes::optimize(&g, &outs, &Options { egraph: false, ..Options::default() }).unwrap();
        let after = crate::common::run(&g, &outs, &Options::default());
        assert!(
            after.graph.len() <= before.graph.len(),
            "seed {seed}: {} -> {}\n{}\n{}",
            before.graph.len(),
            after.graph.len(),
            before.graph,
            after.graph
        );
    }
}
