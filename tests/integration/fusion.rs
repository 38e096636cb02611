//! Fusion and placement, written as text: each case is an IR graph in its printed form (with
//! its `return` line, read by `IrGraph::parse`), planned for the CPU with the default registry
//! and without the optimizer, and the plan's steps printed one per line as
//! `step backend: node=op ...`. Bless a deliberate change with `UPDATE_EXPECT=1`.

use expect_test::{expect, Expect};
use switchyard::stages::ir::IrGraph;
use switchyard::stages::lower::{build_plan, PlanRequest};
use switchyard::{Device, Engine};

fn check(text: &str, want: Expect) {
    let parsed = IrGraph::parse(text).unwrap();
    let graph = parsed.graph();
    let signature = graph.signature(parsed.outputs());
    let request = PlanRequest {
        graph,
        outputs: parsed.outputs(),
        signature: &signature,
        device: Device::CPU,
        report: Default::default(),
    };
    let plan = build_plan(request, &Engine::default_registry()).unwrap();
    let steps: Vec<String> = plan
        .steps
        .iter()
        .map(|s| {
            let nodes: Vec<String> =
                s.nodes.iter().map(|n| format!("{n}={}", plan.graph[n.index()].op)).collect();
            format!("{} {}: {}", s.id, s.label(), nodes.join(" "))
        })
        .collect();
    want.assert_eq(&(steps.join("\n") + "\n"));
}

#[test]
fn an_elementwise_chain_is_one_kernel_with_its_constants_inlined() {
    check(
        r#"
        %0 = input("x") : f32[16]
        %1 = input("y") : f32[16]
        %2 = full(2.0) : f32[]
        %3 = mul(%0, %2) : f32[16]
        %4 = exp(%3) : f32[16]
        %5 = mul(%4, %1) : f32[16]
        return %5
        "#,
        expect![[r#"
            0 cpu.cranelift: %2=full %3=mul %4=exp %5=mul
        "#]],
    );
}

#[test]
fn a_reduction_absorbs_the_producers_only_it_needs() {
    check(
        r#"
        %0 = input("x") : f32[4,8]
        %1 = mul(%0, %0) : f32[4,8]
        %2 = sum(%1, axes=[1]) : f32[4]
        return %2
        "#,
        expect![[r#"
            0 cpu.cranelift: %1=mul %2=sum
        "#]],
    );
    // The same producer is also an output: it is written once, and the reduction reads it.
    check(
        r#"
        %0 = input("x") : f32[4,8]
        %1 = mul(%0, %0) : f32[4,8]
        %2 = sum(%1, axes=[1]) : f32[4]
        return %1, %2
        "#,
        expect![[r#"
            0 cpu.cranelift: %1=mul
            1 cpu.cranelift: %2=sum
        "#]],
    );
}

#[test]
fn matmul_goes_to_gemm_and_its_epilogue_to_the_jit_and_integers_to_the_reference() {
    // FIXME(issue 14): integer arithmetic should run in the JIT too.
    check(
        r#"
        %0 = input("a") : f32[8,4]
        %1 = input("b") : f32[4,3]
        %2 = input("bias") : f32[3]
        %3 = matmul(%0, %1) : f32[8,3]
        %4 = add(%3, %2) : f32[8,3]
        %5 = input("n") : i32[8,3]
        %6 = add(%5, %5) : i32[8,3]
        return %4, %6
        "#,
        expect![[r#"
            0 cpu.gemm: %3=matmul
            1 cpu.cranelift: %4=add
            2 cpu.reference: %6=add
        "#]],
    );
}

#[test]
fn shape_ops_are_their_own_steps_today() {
    // FIXME(issue 14): views should fold into the consuming kernel; today a transpose is a
    // step of its own on the reference.
    check(
        r#"
        %0 = input("x") : f32[4,8]
        %1 = permute_dims(%0, axes=[1,0]) : f32[8,4]
        %2 = exp(%1) : f32[8,4]
        return %2
        "#,
        expect![[r#"
            0 cpu.reference: %1=permute_dims
            1 cpu.cranelift: %2=exp
        "#]],
    );
}
