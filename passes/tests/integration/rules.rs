//! One test per rule: "this expression rewrites to this one" (the printed optimized graph),
//! and the report names the rule.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use crate::common::{opt, opt_fast, B};
use expect_test::{expect, Expect};
use switchyard_ir::{
    BinaryOp as Bo, DType, NodeId, Op, ReduceOp as R, Scalar, Shape, SliceAxis, UnaryOp as U,
};
use switchyard_passes::Optimized;

const F32: DType = DType::F32;
const I32: DType = DType::I32;

fn check(out: &Optimized, rule: &str, expect: Expect) {
    assert!(out.report.rules.contains_key(rule), "{rule} did not fire: {}", out.report);
    expect.assert_eq(&out.graph.to_string());
}

fn x4(b: &mut B) -> NodeId {
    b.input("x", F32, &[4])
}

#[test]
fn mul_one() {
    let mut b = B::new();
    let x = x4(&mut b);
    let one = b.c(Scalar::F32(1.0));
    let y = b.b(Bo::Mul, one, x);
    let z = b.u(U::Exp, y);
    check(
        &opt(&b, &[z]),
        "mul-one",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = exp(%0) : f32[4]
    "#]],
    );
}

/// The rule fires (x promoted and broadcast equals the product), but extraction keeps the
/// single `mul`: `cast` + `broadcast_to` would be two materialized nodes instead of one.
#[test]
fn mul_one_promotes_and_broadcasts() {
    let mut b = B::new();
    let x = x4(&mut b);
    let one = b.cs(Scalar::F64(1.0), &[2, 4]);
    let y = b.b(Bo::Mul, x, one);
    check(
        &opt(&b, &[y]),
        "mul-one",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = full(1.0) : f64[2,4]
        %2 = mul(%0, %1) : f64[2,4]
    "#]],
    );
}

#[test]
fn add_zero_only_with_minus_zero_for_floats() {
    let mut b = B::new();
    let x = x4(&mut b);
    let z = b.c(Scalar::F32(-0.0));
    let y = b.b(Bo::Add, x, z);
    check(
        &opt(&b, &[y]),
        "add-zero",
        expect![[r#"
        %0 = input("x") : f32[4]
    "#]],
    );
    let mut b = B::new();
    let k = b.input("k", I32, &[4]);
    let z = b.c(Scalar::I32(0));
    let y = b.b(Bo::Add, z, k);
    check(
        &opt(&b, &[y]),
        "add-zero",
        expect![[r#"
        %0 = input("k") : i32[4]
    "#]],
    );
}

#[test]
fn sub_zero_div_one_pow_one() {
    let mut b = B::new();
    let x = x4(&mut b);
    let zero = b.c(Scalar::F32(0.0));
    let one = b.c(Scalar::F32(1.0));
    let s = b.b(Bo::Sub, x, zero);
    let d = b.b(Bo::Div, s, one);
    let p = b.b(Bo::Pow, d, one);
    let out = opt(&b, &[p]);
    for rule in ["sub-zero", "div-one", "pow-one"] {
        assert!(out.report.rules.contains_key(rule), "{rule}: {}", out.report);
    }
    expect![[r#"
        %0 = input("x") : f32[4]
    "#]]
    .assert_eq(&out.graph.to_string());
}

#[test]
fn neg_neg_and_not_not() {
    let mut b = B::new();
    let x = x4(&mut b);
    let n1 = b.u(U::Neg, x);
    let n2 = b.u(U::Neg, n1);
    let y = b.u(U::Exp, n2);
    check(
        &opt(&b, &[y]),
        "neg-neg",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = exp(%0) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let p = b.input("p", DType::Bool, &[4]);
    let n1 = b.u(U::LogicalNot, p);
    let n2 = b.u(U::LogicalNot, n1);
    check(
        &opt(&b, &[n2]),
        "not-not",
        expect![[r#"
        %0 = input("p") : bool[4]
    "#]],
    );
}

#[test]
fn floordiv_one_for_ints() {
    let mut b = B::new();
    let k = b.input("k", I32, &[4]);
    let one = b.c(Scalar::I32(1));
    let y = b.b(Bo::FloorDivide, k, one);
    check(
        &opt(&b, &[y]),
        "floordiv-one",
        expect![[r#"
        %0 = input("k") : i32[4]
    "#]],
    );
}

#[test]
fn rounding_rules() {
    let mut b = B::new();
    let x = x4(&mut b);
    let f = b.u(U::Floor, x);
    let r = b.u(U::Round, f);
    let a = b.u(U::Abs, r);
    let a2 = b.u(U::Abs, a);
    check(
        &opt(&b, &[a2]),
        "idempotent",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = floor(%0) : f32[4]
        %2 = abs(%1) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let k = b.input("k", I32, &[4]);
    let f = b.u(U::Floor, k);
    check(
        &opt(&b, &[f]),
        "round-int",
        expect![[r#"
        %0 = input("k") : i32[4]
    "#]],
    );
}

#[test]
fn even_functions_drop_negation() {
    let mut b = B::new();
    let x = x4(&mut b);
    let n = b.u(U::Neg, x);
    let s = b.u(U::Square, n);
    check(
        &opt(&b, &[s]),
        "even-neg",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = square(%0) : f32[4]
    "#]],
    );
}

#[test]
fn max_self_and_bool_rules() {
    let mut b = B::new();
    let x = x4(&mut b);
    let m = b.b(Bo::Maximum, x, x);
    check(
        &opt(&b, &[m]),
        "max-self",
        expect![[r#"
        %0 = input("x") : f32[4]
    "#]],
    );
    let mut b = B::new();
    let p = b.input("p", DType::Bool, &[4]);
    let t = b.c(Scalar::Bool(true));
    let a = b.b(Bo::LogicalAnd, p, t);
    let o = b.b(Bo::LogicalOr, a, a);
    let x = b.b(Bo::LogicalXor, o, t);
    check(
        &opt(&b, &[x]),
        "bool-const",
        expect![[r#"
        %0 = input("p") : bool[4]
        %1 = logical_not(%0) : bool[4]
    "#]],
    );
}

#[test]
fn cast_same_and_lossless_chains() {
    let mut b = B::new();
    let x = x4(&mut b);
    let up = b.op(Op::Cast(DType::F64), &[x]);
    let down = b.op(Op::Cast(F32), &[up]);
    let e = b.u(U::Exp, down);
    check(
        &opt(&b, &[e]),
        "cast-chain",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = exp(%0) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let k = b.input("k", I32, &[4]);
    let wide = b.op(Op::Cast(DType::I64), &[k]);
    let f = b.op(Op::Cast(DType::F32), &[wide]);
    check(
        &opt(&b, &[f]),
        "cast-chain",
        expect![[r#"
        %0 = input("k") : i32[4]
        %1 = cast(%0, dtype=f32) : f32[4]
    "#]],
    );
}

#[test]
fn where_rules() {
    let mut b = B::new();
    let x = x4(&mut b);
    let y = b.input("y", F32, &[4]);
    let t = b.c(Scalar::Bool(false));
    let w = b.op(Op::Where, &[t, x, y]);
    check(
        &opt(&b, &[w]),
        "where-const",
        expect![[r#"
        %0 = input("y") : f32[4]
    "#]],
    );
    let mut b = B::new();
    let x = x4(&mut b);
    let y = b.input("y", F32, &[4]);
    let p = b.input("p", DType::Bool, &[4]);
    let np = b.u(U::LogicalNot, p);
    let w = b.op(Op::Where, &[np, x, y]);
    let w2 = b.op(Op::Where, &[p, w, w]);
    check(
        &opt(&b, &[w2]),
        "where-not",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = input("y") : f32[4]
        %2 = input("p") : bool[4]
        %3 = where(%2, %1, %0) : f32[4]
    "#]],
    );
}

#[test]
fn sign_rules() {
    let mut b = B::new();
    let x = x4(&mut b);
    let y = b.input("y", F32, &[4]);
    let ny = b.u(U::Neg, y);
    let s = b.b(Bo::Add, x, ny);
    check(
        &opt(&b, &[s]),
        "add-neg",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = input("y") : f32[4]
        %2 = sub(%0, %1) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let x = x4(&mut b);
    let y = b.input("y", F32, &[4]);
    let ny = b.u(U::Neg, y);
    let s = b.b(Bo::Sub, x, ny);
    check(
        &opt(&b, &[s]),
        "sub-neg",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = input("y") : f32[4]
        %2 = add(%0, %1) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let x = x4(&mut b);
    let y = b.input("y", F32, &[4]);
    let nx = b.u(U::Neg, x);
    let ny = b.u(U::Neg, y);
    let p = b.b(Bo::Div, nx, ny);
    check(
        &opt(&b, &[p]),
        "neg-neg-product",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = input("y") : f32[4]
        %2 = div(%0, %1) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let x = x4(&mut b);
    let m1 = b.c(Scalar::F32(-1.0));
    let p = b.b(Bo::Mul, x, m1);
    check(
        &opt(&b, &[p]),
        "mul-minus-one",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = neg(%0) : f32[4]
    "#]],
    );
}

#[test]
fn integer_algebra() {
    let mut b = B::new();
    let k = b.input("k", I32, &[4]);
    let j = b.input("j", I32, &[4]);
    let zero = b.c(Scalar::I32(0));
    let z = b.b(Bo::Mul, k, zero);
    let d = b.b(Bo::Sub, j, j);
    let s = b.b(Bo::Add, z, d);
    check(
        &opt(&b, &[s]),
        "mul-zero-int",
        expect![[r#"
        %0 = full(0) : i32[4]
    "#]],
    );
    let mut b = B::new();
    let k = b.input("k", I32, &[4]);
    let e = b.b(Bo::Eq, k, k);
    let l = b.b(Bo::Lt, k, k);
    check(
        &opt(&b, &[e, l]),
        "self-compare",
        expect![[r#"
        %0 = full(true) : bool[4]
        %1 = full(false) : bool[4]
    "#]],
    );
    let mut b = B::new();
    let k = b.input("k", I32, &[4]);
    let j = b.input("j", I32, &[4]);
    let s = b.b(Bo::Sub, k, j);
    let n = b.u(U::Neg, s);
    check(
        &opt(&b, &[n]),
        "neg-sub-int",
        expect![[r#"
        %0 = input("k") : i32[4]
        %1 = input("j") : i32[4]
        %2 = sub(%1, %0) : i32[4]
    "#]],
    );
}

#[test]
fn integer_factoring_and_constant_reassociation() {
    let mut b = B::new();
    let a = b.input("a", I32, &[4]);
    let x = b.input("x", I32, &[4]);
    let y = b.input("y", I32, &[4]);
    let ax = b.b(Bo::Mul, a, x);
    let ya = b.b(Bo::Mul, y, a);
    let s = b.b(Bo::Add, ax, ya);
    check(
        &opt(&b, &[s]),
        "factor-int",
        expect![[r#"
        %0 = input("a") : i32[4]
        %1 = input("x") : i32[4]
        %2 = input("y") : i32[4]
        %3 = add(%1, %2) : i32[4]
        %4 = mul(%0, %3) : i32[4]
    "#]],
    );
    let mut b = B::new();
    let x = b.input("x", I32, &[4]);
    let c1 = b.c(Scalar::I32(3));
    let c2 = b.c(Scalar::I32(4));
    let s1 = b.b(Bo::Add, x, c1);
    let s2 = b.b(Bo::Add, c2, s1);
    check(
        &opt(&b, &[s2]),
        "fold-constants-int",
        expect![[r#"
        %0 = input("x") : i32[4]
        %1 = full(7) : i32[]
        %2 = add(%0, %1) : i32[4]
    "#]],
    );
}

#[test]
fn strength_reduction() {
    let mut b = B::new();
    let x = x4(&mut b);
    let two = b.c(Scalar::F32(2.0));
    let p = b.b(Bo::Pow, x, two);
    check(
        &opt(&b, &[p]),
        "pow-two",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = square(%0) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let x = x4(&mut b);
    let zero = b.c(Scalar::F32(0.0));
    let p = b.b(Bo::Pow, x, zero);
    check(
        &opt(&b, &[p]),
        "pow-zero",
        expect![[r#"
        %0 = full(1.0) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let x = x4(&mut b);
    let m1 = b.c(Scalar::F32(-1.0));
    let p = b.b(Bo::Pow, x, m1);
    check(
        &opt(&b, &[p]),
        "pow-minus-one",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = reciprocal(%0) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let x = x4(&mut b);
    let four = b.c(Scalar::F32(4.0));
    let d = b.b(Bo::Div, x, four);
    check(
        &opt(&b, &[d]),
        "div-pow2",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = full(0.25) : f32[]
        %2 = mul(%0, %1) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let x = x4(&mut b);
    let one = b.c(Scalar::F32(1.0));
    let d = b.b(Bo::Div, one, x);
    check(
        &opt(&b, &[d]),
        "recip-form",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = reciprocal(%0) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let x = x4(&mut b);
    let m = b.b(Bo::Mul, x, x);
    check(
        &opt(&b, &[m]),
        "mul-self",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = square(%0) : f32[4]
    "#]],
    );
}

#[test]
fn division_by_a_non_power_of_two_stays() {
    let mut b = B::new();
    let x = x4(&mut b);
    let three = b.c(Scalar::F32(3.0));
    let d = b.b(Bo::Div, x, three);
    let out = opt(&b, &[d]);
    assert!(!out.report.rules.contains_key("div-pow2"));
    expect![[r#"
        %0 = input("x") : f32[4]
        %1 = full(3.0) : f32[]
        %2 = div(%0, %1) : f32[4]
    "#]]
    .assert_eq(&out.graph.to_string());
    // 2^-149 is the smallest f32; its reciprocal 2^149 is not representable.
    let mut b = B::new();
    let x = x4(&mut b);
    let tiny = b.c(Scalar::F32(f32::from_bits(1)));
    let d = b.b(Bo::Div, x, tiny);
    assert!(!opt(&b, &[d]).report.rules.contains_key("div-pow2"));
}

#[test]
fn sigmoid_and_exp2_forms() {
    let mut b = B::new();
    let x = x4(&mut b);
    let one = b.c(Scalar::F32(1.0));
    let n = b.u(U::Neg, x);
    let e = b.u(U::Exp, n);
    let d = b.b(Bo::Add, e, one);
    let s = b.b(Bo::Div, one, d);
    check(
        &opt(&b, &[s]),
        "sigmoid-form",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = sigmoid(%0) : f32[4]
    "#]],
    );
    let mut b = B::new();
    let x = x4(&mut b);
    let two = b.c(Scalar::F32(2.0));
    let p = b.b(Bo::Pow, two, x);
    check(
        &opt(&b, &[p]),
        "exp2-form",
        expect![[r#"
        %0 = input("x") : f32[4]
        %1 = exp2(%0) : f32[4]
    "#]],
    );
}

#[test]
fn reductions_of_broadcasts() {
    let mut b = B::new();
    let x = b.input("x", F32, &[3, 1]);
    let bc = b.op(Op::BroadcastTo(Shape::new(&[2, 3, 5]).unwrap()), &[x]);
    let m = b.reduce(R::Max, &[0, 2], false, bc);
    check(
        &opt(&b, &[m]),
        "extreme-of-broadcast",
        expect![[r#"
        %0 = input("x") : f32[3,1]
        %1 = reshape(%0, shape=[3]) : f32[3]
    "#]],
    );
    let mut b = B::new();
    let x = b.input("x", F32, &[3, 1]);
    let bc = b.op(Op::BroadcastTo(Shape::new(&[3, 5]).unwrap()), &[x]);
    let m = b.reduce(R::Min, &[1], true, bc);
    check(
        &opt(&b, &[m]),
        "extreme-of-broadcast",
        expect![[r#"
        %0 = input("x") : f32[3,1]
    "#]],
    );
    let mut b = B::new();
    let k = b.input("k", I32, &[3]);
    let bc = b.op(Op::BroadcastTo(Shape::new(&[4, 3]).unwrap()), &[k]);
    let s = b.reduce(R::Sum, &[0], false, bc);
    check(
        &opt(&b, &[s]),
        "sum-of-broadcast-int",
        expect![[r#"
        %0 = input("k") : i32[3]
        %1 = full(4) : i64[]
        %2 = cast(%0, dtype=i64) : i64[3]
        %3 = mul(%2, %1) : i64[3]
    "#]],
    );
}

#[test]
fn float_sum_of_broadcast_stays_by_default() {
    let mut b = B::new();
    let x = b.input("x", F32, &[3]);
    let bc = b.op(Op::BroadcastTo(Shape::new(&[4, 3]).unwrap()), &[x]);
    let s = b.reduce(R::Sum, &[0], false, bc);
    let out = opt(&b, &[s]);
    assert_eq!(out.graph.len(), 3, "{}", out.graph);
    check(
        &opt_fast(&b, &[s]),
        "sum-of-broadcast",
        expect![[r#"
        %0 = input("x") : f32[3]
        %1 = full(4.0) : f32[]
        %2 = mul(%0, %1) : f32[3]
    "#]],
    );
}

#[test]
fn reductions_of_reductions() {
    let mut b = B::new();
    let x = b.input("x", F32, &[2, 3, 4]);
    let m1 = b.reduce(R::Max, &[1], false, x);
    let m2 = b.reduce(R::Max, &[1], false, m1);
    check(
        &opt(&b, &[m2]),
        "reduce-reduce",
        expect![[r#"
        %0 = input("x") : f32[2,3,4]
        %1 = max(%0, axes=[1,2]) : f32[2]
    "#]],
    );
    // Float sums are not merged: the order of additions would change.
    let mut b = B::new();
    let x = b.input("x", F32, &[2, 3, 4]);
    let s1 = b.reduce(R::Sum, &[1], false, x);
    let s2 = b.reduce(R::Sum, &[1], false, s1);
    assert!(!opt(&b, &[s2]).report.rules.contains_key("reduce-reduce"));
}

#[test]
fn layout_chains() {
    let mut b = B::new();
    let x = b.input("x", F32, &[2, 3, 4]);
    let p = b.op(Op::PermuteDims([2, 0, 1].into_iter().collect()), &[x]);
    let q = b.op(Op::PermuteDims([1, 2, 0].into_iter().collect()), &[p]);
    let e = b.u(U::Exp, q);
    check(
        &opt(&b, &[e]),
        "permute-permute",
        expect![[r#"
        %0 = input("x") : f32[2,3,4]
        %1 = exp(%0) : f32[2,3,4]
    "#]],
    );
    let mut b = B::new();
    let x = b.input("x", F32, &[2, 3, 4]);
    let r = b.op(Op::Reshape(Shape::new(&[6, 4]).unwrap()), &[x]);
    let e = b.op(Op::ExpandDims(0), &[r]);
    let r2 = b.op(Op::Reshape(Shape::new(&[24]).unwrap()), &[e]);
    check(
        &opt(&b, &[r2]),
        "reshape-chain",
        expect![[r#"
        %0 = input("x") : f32[2,3,4]
        %1 = reshape(%0, shape=[24]) : f32[24]
    "#]],
    );
    let mut b = B::new();
    let x = b.input("x", F32, &[3]);
    let b1 = b.op(Op::BroadcastTo(Shape::new(&[2, 3]).unwrap()), &[x]);
    let b2 = b.op(Op::BroadcastTo(Shape::new(&[5, 2, 3]).unwrap()), &[b1]);
    check(
        &opt(&b, &[b2]),
        "broadcast-chain",
        expect![[r#"
        %0 = input("x") : f32[3]
        %1 = broadcast_to(%0, shape=[5,2,3]) : f32[5,2,3]
    "#]],
    );
    let mut b = B::new();
    let x = b.input("x", F32, &[2, 3]);
    let f1 = b.op(Op::Flip([0, 1].into_iter().collect()), &[x]);
    let f2 = b.op(Op::Flip([1].into_iter().collect()), &[f1]);
    check(
        &opt(&b, &[f2]),
        "flip-flip",
        expect![[r#"
        %0 = input("x") : f32[2,3]
        %1 = flip(%0, axes=[0]) : f32[2,3]
    "#]],
    );
    let mut b = B::new();
    let x = b.input("x", F32, &[10]);
    let s1 = b.op(Op::Slice(vec![SliceAxis { start: 1, step: 2, len: 4 }]), &[x]);
    let s2 = b.op(Op::Slice(vec![SliceAxis { start: 3, step: -1, len: 3 }]), &[s1]);
    check(
        &opt(&b, &[s2]),
        "slice-slice",
        expect![[r#"
        %0 = input("x") : f32[10]
        %1 = slice(%0, [7+-2*i<3]) : f32[3]
    "#]],
    );
    let mut b = B::new();
    let x = b.input("x", F32, &[2, 3]);
    let r = b.op(Op::Reshape(Shape::new(&[2, 3]).unwrap()), &[x]);
    let e = b.u(U::Exp, r);
    check(
        &opt(&b, &[e]),
        "layout-identity",
        expect![[r#"
        %0 = input("x") : f32[2,3]
        %1 = exp(%0) : f32[2,3]
    "#]],
    );
    let mut b = B::new();
    let x = b.input("x", F32, &[3]);
    let bc = b.op(Op::BroadcastTo(Shape::new(&[1000, 3]).unwrap()), &[x]);
    let e = b.u(U::Exp, bc);
    check(
        &opt(&b, &[e]),
        "unary-through-broadcast",
        expect![[r#"
        %0 = input("x") : f32[3]
        %1 = exp(%0) : f32[3]
        %2 = broadcast_to(%1, shape=[1000,3]) : f32[1000,3]
    "#]],
    );
}

#[test]
fn constant_folding_in_the_egraph() {
    // x*0 for ints makes the product a constant, which the analysis then folds further.
    let mut b = B::new();
    let k = b.input("k", I32, &[4]);
    let zero = b.c(Scalar::I32(0));
    let three = b.c(Scalar::I32(3));
    let z = b.b(Bo::Mul, k, zero);
    let s = b.b(Bo::Add, z, three);
    let t = b.b(Bo::Mul, s, three);
    check(
        &opt(&b, &[t]),
        "const_fold",
        expect![[r#"
        %0 = full(9) : i32[4]
    "#]],
    );
}
