//! The cost model hook steers extraction.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use crate::common::B;
use switchyard_ir::{BinaryOp as Bo, DType, Op, Scalar, TensorType, UnaryOp as U};
use switchyard_passes::{optimize_with_cost, CostModel, MemoryTraffic, Options};

/// A target where `square` is very slow (say it has no such instruction).
struct NoSquare;

impl CostModel for NoSquare {
    fn node_cost(&self, op: &Op, out: &TensorType, inputs: &[&TensorType]) -> f64 {
        let base = MemoryTraffic.node_cost(op, out, inputs);
        if *op == Op::Unary(U::Square) {
            base * 100.0
        } else {
            base
        }
    }
}

#[test]
fn a_backend_cost_model_changes_the_choice() {
    let mut b = B::new();
    let x = b.input("x", DType::F32, &[16]);
    let two = b.c(Scalar::F32(2.0));
    let p = b.b(Bo::Pow, x, two);
    let default = optimize_with_cost(&b.g, &[p], &Options::default(), &MemoryTraffic).unwrap();
    assert_eq!(default.graph.to_string(), "%0 = input(\"x\") : f32[16]\n%1 = square(%0) : f32[16]\n");
    let custom = optimize_with_cost(&b.g, &[p], &Options::default(), &NoSquare).unwrap();
    custom.graph.validate().unwrap();
    assert!(!custom.graph.to_string().contains("square"), "{}", custom.graph);
    assert!(custom.report.rules.contains_key("pow-two"), "the rule fired; extraction declined it");
}
