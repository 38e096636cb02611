//! Identities that are false for floats must not rewrite them: each would turn a NaN or an
//! infinity into a number, or flip the sign of a zero. Where the integer version is true,
//! it does rewrite.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use crate::common::{opt, opt_fast, B};
use switchyard_ir::{BinaryOp as Bo, DType, NodeId, Op, Scalar, UnaryOp as U};

/// Builds `f(x)` for an input x of `dtype` and checks the optimized graph still has `nodes`
/// nodes (nothing rewritten away) under the default options.
fn unchanged(dtype: DType, f: impl Fn(&mut B, NodeId) -> NodeId) {
    let mut b = B::new();
    let x = b.input("x", dtype, &[4]);
    let y = f(&mut b, x);
    let before = b.g.len();
    let out = opt(&b, &[y]);
    assert_eq!(out.graph.len(), before, "rewritten:\n{}\nreport: {}", out.graph, out.report);
}

fn folded_to_constant(dtype: DType, f: impl Fn(&mut B, NodeId) -> NodeId) {
    let mut b = B::new();
    let x = b.input("x", dtype, &[4]);
    let y = f(&mut b, x);
    let out = opt(&b, &[y]);
    assert_eq!(out.graph.len(), 1, "{}", out.graph);
    assert!(matches!(out.graph.node(out.outputs[0]).op(), Op::Full { .. }));
}

#[test]
fn x_times_zero() {
    let f = |z: Scalar| {
        move |b: &mut B, x: NodeId| {
            let c = b.c(z);
            b.b(Bo::Mul, x, c)
        }
    };
    unchanged(DType::F32, f(Scalar::F32(0.0)));
    unchanged(DType::F64, f(Scalar::F64(-0.0)));
    folded_to_constant(DType::I32, f(Scalar::I32(0)));
    folded_to_constant(DType::I64, f(Scalar::I64(0)));
}

#[test]
fn x_minus_x() {
    let f = |b: &mut B, x: NodeId| b.b(Bo::Sub, x, x);
    unchanged(DType::F32, f);
    folded_to_constant(DType::I32, f);
}

#[test]
fn x_over_x() {
    unchanged(DType::F32, |b, x| b.b(Bo::Div, x, x));
    // Integer floor_divide(x, x) is 0 for x == 0, so it must not become 1 either.
    unchanged(DType::I32, |b, x| b.b(Bo::FloorDivide, x, x));
}

#[test]
fn exp_of_log_and_log_of_exp() {
    unchanged(DType::F32, |b, x| {
        let l = b.u(U::Log, x);
        b.u(U::Exp, l)
    });
    unchanged(DType::F64, |b, x| {
        let e = b.u(U::Exp, x);
        b.u(U::Log, e)
    });
}

#[test]
fn comparisons_of_x_with_itself() {
    for op in [Bo::Eq, Bo::Ne, Bo::Le, Bo::Lt] {
        unchanged(DType::F32, |b, x| b.b(op, x, x));
        folded_to_constant(DType::I64, |b, x| b.b(op, x, x));
    }
}

#[test]
fn x_plus_positive_zero() {
    // -0.0 + 0.0 is +0.0: only -0.0 is the additive identity of floats.
    unchanged(DType::F32, |b, x| {
        let z = b.c(Scalar::F32(0.0));
        b.b(Bo::Add, x, z)
    });
    // x - (-0.0) turns -0.0 into +0.0.
    unchanged(DType::F32, |b, x| {
        let z = b.c(Scalar::F32(-0.0));
        b.b(Bo::Sub, x, z)
    });
}

#[test]
fn pow_half_is_not_sqrt() {
    unchanged(DType::F32, |b, x| {
        let h = b.c(Scalar::F32(0.5));
        b.b(Bo::Pow, x, h)
    });
}

#[test]
fn sqrt_of_square_and_negated_difference() {
    unchanged(DType::F32, |b, x| {
        let s = b.u(U::Square, x);
        b.u(U::Sqrt, s)
    });
    unchanged(DType::F32, |b, x| {
        let y = b.input("y", DType::F32, &[4]);
        let d = b.b(Bo::Sub, x, y);
        b.u(U::Neg, d)
    });
}

#[test]
fn lossy_cast_chains() {
    // f64 -> f32 rounds, so cast back to f64 is not x.
    unchanged(DType::F64, |b, x| {
        let down = b.op(Op::Cast(DType::F32), &[x]);
        b.op(Op::Cast(DType::F64), &[down])
    });
    // i64 -> i32 wraps.
    unchanged(DType::I64, |b, x| {
        let down = b.op(Op::Cast(DType::I32), &[x]);
        b.op(Op::Cast(DType::I64), &[down])
    });
    // f32 -> i32 truncates.
    unchanged(DType::F32, |b, x| {
        let down = b.op(Op::Cast(DType::I32), &[x]);
        b.op(Op::Cast(DType::F32), &[down])
    });
}

#[test]
fn float_factoring_and_reassociation() {
    unchanged(DType::F32, |b, a| {
        let x = b.input("y", DType::F32, &[4]);
        let y = b.input("z", DType::F32, &[4]);
        let ax = b.b(Bo::Mul, a, x);
        let ay = b.b(Bo::Mul, a, y);
        b.b(Bo::Add, ax, ay)
    });
    unchanged(DType::F32, |b, x| {
        let c1 = b.c(Scalar::F32(0.1));
        let c2 = b.c(Scalar::F32(0.2));
        let s = b.b(Bo::Add, x, c1);
        b.b(Bo::Add, s, c2)
    });
}

#[test]
fn fast_math_does_rewrite_them() {
    let mut b = B::new();
    let x = b.input("x", DType::F32, &[4]);
    let l = b.u(U::Log, x);
    let e = b.u(U::Exp, l);
    let z = b.c(Scalar::F32(0.0));
    let m = b.b(Bo::Mul, e, z);
    let d = b.b(Bo::Sub, x, x);
    let s = b.b(Bo::Add, m, d);
    let out = opt_fast(&b, &[e, s]);
    assert_eq!(out.graph.to_string(), "%0 = input(\"x\") : f32[4]\n%1 = full(0.0) : f32[4]\n");
    for rule in ["exp-log", "mul-zero", "sub-self"] {
        assert!(out.report.rules.contains_key(rule), "{rule}: {}", out.report);
    }
}
