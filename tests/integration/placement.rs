//! Placement across the default registry's backends: `cpu.gemm` takes matmul, `cpu.cranelift`
//! its fused epilogue, and `cpu.reference` what neither supports, each kernel saying why.

use switchyard::stages::ir::{IrGraph, NodeId, OptimizerReport as Report};
use switchyard::stages::lower::{build_plan, PlanRequest};
use switchyard::{BinaryOp, DType, Device, Engine, Op, Plan, Scalar, Shape};

fn plan(g: &IrGraph, outs: &[NodeId]) -> Plan {
    let req = PlanRequest {
        graph: g,
        outputs: outs,
        signature: &[],
        device: Device::CPU,
        report: Report::default(),
    };
    build_plan(req, &Engine::default_registry()).unwrap()
}

fn input(g: &mut IrGraph, name: &str, dtype: DType, dims: &[usize]) -> NodeId {
    g.add(Op::Input { name: name.into(), dtype, shape: Shape::new(dims).unwrap() }, &[]).unwrap()
}

#[test]
fn matmul_is_placed_on_gemm_and_the_epilogue_on_cranelift() {
    let mut g = IrGraph::new();
    let a = input(&mut g, "a", DType::F32, &[64, 32]);
    let b = input(&mut g, "b", DType::F32, &[32, 16]);
    let bias = input(&mut g, "bias", DType::F32, &[16]);
    let mm = g.add(Op::Matmul, &[a, b]).unwrap();
    let p = plan(&g, &[mm]);
    assert_eq!(p.steps.len(), 1);
    assert_eq!(p.steps[0].label(), "cpu.gemm");
    assert_eq!(p.steps[0].reason, "priority 20");
    let how = p.steps[0].how.as_deref().unwrap_or_default();
    assert!(how.starts_with("gemm 0.19, m x k x n = 64 x 32 x 16"), "{how}");

    // maximum(a @ b + bias, 0): the matmul, then one fused epilogue kernel.
    let biased = g.add(Op::Binary(BinaryOp::Add), &[mm, bias]).unwrap();
    let zero = g.add(Op::Full { value: Scalar::F32(0.0), shape: Shape::scalar() }, &[]).unwrap();
    let relu = g.add(Op::Binary(BinaryOp::Maximum), &[biased, zero]).unwrap();
    let p = plan(&g, &[relu]);
    let backends: Vec<&str> = p.steps.iter().map(|k| k.label()).collect();
    assert_eq!(backends, ["cpu.gemm", "cpu.cranelift"]);
    assert!(p.steps[1].reason.contains("cpu.gemm: cpu.gemm only runs matmul"), "{}", p.steps[1].reason);
}

#[test]
fn unsupported_matmuls_fall_back_to_the_reference_with_gemms_reason() {
    for (da, db, why) in [
        (DType::I64, DType::I64, "cpu.gemm: matmul: i64 not supported by cpu.gemm (f32 and f64 only)"),
        (
            DType::F32,
            DType::F64,
            "cpu.gemm: matmul: mixed operand dtypes (f32 @ f64) not supported by cpu.gemm",
        ),
    ] {
        let mut g = IrGraph::new();
        let a = input(&mut g, "a", da, &[4, 3]);
        let b = input(&mut g, "b", db, &[3]);
        let mm = g.add(Op::Matmul, &[a, b]).unwrap();
        let p = plan(&g, &[mm]);
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].label(), "cpu.reference");
        assert!(p.steps[0].reason.contains(why), "{}", p.steps[0].reason);
    }
}
