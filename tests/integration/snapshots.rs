//! Snapshot tests of printed IR and plans (expect-test: run with UPDATE_EXPECT=1 to bless a
//! deliberate change, then review the diff).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use expect_test::expect;
use switchyard::prelude::*;

/// Plans print the optimizer's wall time; mask it so snapshots are stable.
fn mask_time(text: &str) -> String {
    text.lines()
        .map(|l| match (l.find(" nodes in "), l.find(" ms")) {
            (Some(a), Some(b)) if b > a => format!("{} nodes in <t>{}", &l[..a], &l[b..]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn printed_ir() {
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[1024]).unwrap();
    let y = g.input("y", DType::F32, &[1024]).unwrap();
    let _ = (((&x * 2.0).unwrap() + 1.0).exp() * &y - &x).unwrap();
    let s = x.reshape(&[32, 32]).unwrap().sum(-1, true).unwrap();
    let _ = s.index(&[switchyard::Index::Slice { start: None, stop: None, step: Some(-2) }]).unwrap();
    expect![[r#"
        %0 = input("x") : f32[1024]
        %1 = input("y") : f32[1024]
        %2 = full(2.0) : f32[]
        %3 = mul(%0, %2) : f32[1024]
        %4 = full(1.0) : f32[]
        %5 = add(%3, %4) : f32[1024]
        %6 = exp(%5) : f32[1024]
        %7 = mul(%6, %1) : f32[1024]
        %8 = sub(%7, %0) : f32[1024]
        %9 = reshape(%0, shape=[32,32]) : f32[32,32]
        %10 = sum(%9, axes=[1], keepdims=true) : f32[32,1]
        %11 = slice(%10, [31+-2*i<16, 0+1*i<1]) : f32[16,1]
    "#]]
    .assert_eq(&g.to_string());
}

#[test]
fn printed_plan() {
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[4, 8]).unwrap();
    let m = x.max(1, true).unwrap();
    let e = (&x - &m).exp().unwrap();
    let out = (&e / e.sum(1, true).unwrap()).unwrap();
    let plan = g.plan(&[&out], Device::CPU).unwrap();
    expect![[r#"
        plan for cpu (op set 1.0): 4 kernel(s), peak memory 272 B
        inputs: x: f32[4,8]
        optimizer: 6 -> 6 nodes in <t> ms; no rewrites
        graph:
          %0 = input("x") : f32[4,8]
          %1 = max(%0, axes=[1], keepdims=true) : f32[4,1]
          %2 = sub(%0, %1) : f32[4,8]
          %3 = exp(%2) : f32[4,8]
          %4 = sum(%3, axes=[1], keepdims=true) : f32[4,1]
          %5 = div(%3, %4) : f32[4,8]
        kernels:
          # backend       nodes         reads writes frees how
          0 cpu.cranelift %1=max        128 B 16 B   -     f32x4 reduction, fixed-order partials, 64K-element chunks on rayon
          1 cpu.cranelift %2=sub %3=exp 144 B 128 B  %1    f32x4 loop, 4 vectors per iteration, 64K-element chunks on rayon
          2 cpu.cranelift %4=sum        128 B 16 B   -     f32x4 reduction, fixed-order partials, 64K-element chunks on rayon
          3 cpu.cranelift %5=div        144 B 128 B  %3 %4 f32x4 loop, 4 vectors per iteration, 64K-element chunks on rayon
        why:
          kernels 0 1 2 3 on cpu.cranelift: priority 10 (skipped cpu.gemm: cpu.gemm only runs matmul)
        outputs: %5:f32[4,8]"#]]
    .assert_eq(&mask_time(&plan.to_string()));
}

/// A plan's JSON with the optimizer's wall time (the one value that varies) set to 0.
pub fn stable_json(plan: &Plan) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    v["optimizer"]["elapsed_us"] = serde_json::json!(0.0);
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

/// The plan JSON is an API boundary for tools (ARCHITECTURE.md): its fields are only ever
/// added. This golden file locks the whole document for a plan with a matmul on `cpu.gemm`,
/// a fused reduction on `cpu.cranelift` and steps on `cpu.reference`. (The transfer steps'
/// form is locked by `device_resident::the_plan_json_of_transfers_is_locked`.)
#[test]
fn plan_json() {
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[4, 8]).unwrap();
    let y = g.input("y", DType::F32, &[4, 8]).unwrap();
    let a = g.input("a", DType::F32, &[4, 3]).unwrap();
    let b = g.input("b", DType::F32, &[3, 5]).unwrap();
    let s = ((((&x * 2.0).unwrap() + 1.0).exp() * &y - &x).unwrap()).sum(1, false).unwrap();
    let mm = a.matmul(&b).unwrap().sum(1, false).unwrap();
    let out = (&s + &mm).unwrap();
    let plan = g.plan(&[&out], Device::CPU).unwrap();
    expect_test::expect_file!["golden/plan_cpu.json"].assert_eq(&stable_json(&plan));
}
