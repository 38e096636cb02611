//! A backend written outside switchyard's crates, as a third party would: a partial capability
//! set, reasons for what it refuses, and one deliberately wrong claim. The conformance suite
//! must verify the honest claims, fail the wrong one, and the support table must show the
//! reasons.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use switchyard::{
    support_table, Backend, BinaryOp, CompiledKernel, DType, DeviceKind, Engine, KernelSpec, LowerError,
    NodeQuery, Op, OpSetVersion, Registry, Support, TensorView, TensorViewMut, Tolerance, UnaryOp,
    OP_SET_VERSION,
};
use switchyard_conformance::{self as conformance, Verdict};

/// `acme.toy`: neg, abs and add on f32, one node per kernel. Its `abs` is wrong on purpose:
/// it forgets negative zero (`abs(-0.0)` gives `-0.0`).
struct Toy;

impl Backend for Toy {
    fn name(&self) -> &str {
        "acme.toy"
    }
    fn version(&self) -> &str {
        "0.1.0"
    }
    fn op_set_version(&self) -> OpSetVersion {
        OP_SET_VERSION
    }
    fn device_kind(&self) -> DeviceKind {
        DeviceKind::Cpu
    }
    fn priority(&self) -> i32 {
        5
    }
    fn supports(&self, node: &NodeQuery<'_>) -> Support {
        if !matches!(node.op, Op::Unary(UnaryOp::Neg | UnaryOp::Abs) | Op::Binary(BinaryOp::Add)) {
            return Support::no("acme.toy only runs neg, abs and add");
        }
        if node.output.dtype != DType::F32 || node.input_dtypes().any(|d| d != DType::F32) {
            return Support::no("acme.toy: f32 only");
        }
        if node.inputs.iter().any(|t| t.shape != node.output.shape) {
            return Support::no("acme.toy: no broadcasting");
        }
        Support::Yes
    }
    fn precision(&self, _op: &Op, _dtype: DType) -> Tolerance {
        Tolerance::EXACT
    }
    fn compile(&self, spec: &KernelSpec) -> Result<Arc<dyn CompiledKernel>, LowerError> {
        let op = spec.nodes.first().map(|n| n.op.clone());
        match op {
            Some(op) if spec.nodes.len() == 1 => Ok(Arc::new(ToyKernel(op))),
            _ => {
                Err(LowerError::new(switchyard::LowerErrorKind::Compile, "acme.toy runs one node per kernel"))
            }
        }
    }
}

#[derive(Debug)]
struct ToyKernel(Op);

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

impl CompiledKernel for ToyKernel {
    fn run(&self, inputs: &[TensorView<'_>], outputs: &mut [TensorViewMut<'_>]) -> Result<(), LowerError> {
        let bad = || LowerError::new(switchyard::LowerErrorKind::Kernel, "acme.toy: bad arguments");
        let x = f32s(inputs.first().ok_or_else(bad)?.data);
        let y = inputs.get(1).map(|v| f32s(v.data));
        let out = outputs.first_mut().ok_or_else(bad)?;
        let result: Vec<f32> = match (&self.0, &y) {
            (Op::Unary(UnaryOp::Neg), _) => x.iter().map(|v| -v).collect(),
            // The deliberate bug: `-0.0 < 0.0` is false, so -0.0 stays -0.0.
            (Op::Unary(UnaryOp::Abs), _) => x.iter().map(|&v| if v < 0.0 { -v } else { v }).collect(),
            (Op::Binary(BinaryOp::Add), Some(y)) => x.iter().zip(y).map(|(a, b)| a + b).collect(),
            _ => return Err(bad()),
        };
        if out.data.len() != result.len() * 4 {
            return Err(bad());
        }
        for (dst, v) in out.data.chunks_exact_mut(4).zip(result) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }
}

#[test]
fn conformance_fails_the_wrong_claim_and_verifies_the_others() {
    let report = conformance::check(&Toy);
    assert!(!report.is_ok());
    let failed: Vec<(&str, DType)> = report.failed().map(|c| (c.op.as_str(), c.dtype)).collect();
    assert_eq!(failed, vec![("abs", DType::F32)], "{report}");
    match report.verdict("abs", DType::F32) {
        Some(Verdict::Failed { detail, .. }) => {
            assert!(detail.contains("reference 0e0, backend -0e0"), "{detail}")
        }
        other => panic!("abs should have failed, got {other:?}"),
    }
    assert!(report.is_verified("neg", DType::F32), "{report}");
    assert!(report.is_verified("add", DType::F32), "{report}");
    match report.verdict("exp", DType::F32) {
        Some(Verdict::NotClaimed { reason }) => assert_eq!(reason, "acme.toy only runs neg, abs and add"),
        other => panic!("exp is not claimed, got {other:?}"),
    }
    match report.verdict("neg", DType::F64) {
        Some(Verdict::NotClaimed { reason }) => assert_eq!(reason, "acme.toy: f32 only"),
        other => panic!("f64 is not claimed, got {other:?}"),
    }
    let text = report.to_string();
    assert!(text.starts_with("conformance of acme.toy: "), "{text}");
    assert!(text.contains("FAILED abs on f32 (declared exact)"), "{text}");
}

#[test]
fn the_support_table_shows_the_toy_backend_with_its_reasons() {
    let mut registry = Registry::new();
    registry.register(Arc::new(Toy)).unwrap();
    registry.register(Arc::new(switchyard::stages::lower::ReferenceBackend)).unwrap();
    let mut table = support_table(&registry);
    let report = conformance::check(&Toy);
    table.mark_verified(&report.backend, |op, dtype| report.is_verified(op, dtype));
    let md = table.to_markdown();
    assert!(md.contains("acme.toy f32"), "{md}");
    assert!(md.contains("acme.toy only runs neg, abs and add"), "{md}");
    assert!(md.contains("acme.toy: f32 only"), "{md}");
    let row =
        |op: &str| md.lines().find(|l| l.starts_with(&format!("| `{op}` |"))).unwrap_or_default().to_string();
    // Columns: acme.toy bool, i32, i64, f32, f64, then cpu.reference's.
    let cells = |op: &str| row(op).split('|').map(|c| c.trim().to_string()).collect::<Vec<_>>();
    assert_eq!(cells("neg")[5], "yes ✓", "{}", row("neg"));
    assert_eq!(cells("abs")[5], "yes", "the failed claim is not marked verified: {}", row("abs"));
}

/// A registry holding only the toy: nothing else can take what it refuses.
fn toy_only() -> switchyard::Engine {
    let mut registry = Registry::new();
    registry.register(Arc::new(Toy)).unwrap();
    switchyard::Engine::new(registry)
}

#[test]
fn the_no_backend_error_names_the_node_its_expression_text_and_every_reason() {
    use switchyard::prelude::*;
    let g = Graph::with_engine(toy_only());
    let x = g.input("x", DType::F32, &[4]).unwrap();
    let env = [("x".to_string(), x)].into_iter().collect();
    let t = switchyard::expr::build(&g, "-x + exp(x)", &env).unwrap();
    let err = g.plan(&[&t], Device::CPU).unwrap_err().to_string();
    let mut lines = err.lines();
    assert_eq!(
        lines.next(),
        Some("no backend of device `cpu` supports node %1 = exp(%0) : f32[4], from the expression `exp(x)`"),
        "{err}"
    );
    assert_eq!(lines.next().map(str::trim), Some("acme.toy: acme.toy only runs neg, abs and add"), "{err}");
}

#[test]
fn an_override_routes_one_op_to_the_toy_and_the_plan_says_why() {
    use switchyard::prelude::*;
    let mut registry = Engine::default_registry();
    registry.register(Arc::new(Toy)).unwrap();
    registry.override_op("neg", "acme.toy").unwrap();
    let g = Graph::with_engine(switchyard::Engine::new(registry));
    let x = g.input("x", DType::F32, &[4]).unwrap();
    let t = (-&x).unwrap().exp().unwrap();
    let plan = g.plan(&[&t], Device::CPU).unwrap();
    let why: Vec<(&str, &str)> = plan.steps.iter().map(|k| (k.label(), k.reason.as_str())).collect();
    assert_eq!(why[0], ("acme.toy", "override for `neg`"), "{plan}");
    assert_eq!(why[1].0, "cpu.cranelift", "{plan}");
    let text = plan.to_string();
    assert!(text.contains("why:\n  kernel 0 on acme.toy: override for `neg`\n"), "{text}");
    // And it runs: neg on the toy, exp in the JIT.
    let xs = Array::from_vec(&[4], vec![0.0f32, 1.0, -2.0, 3.0]).unwrap();
    let out = t.eval(Device::CPU, &[("x", &xs)]).unwrap().to_vec::<f32>().unwrap();
    let want: Vec<f32> = [0.0f32, 1.0, -2.0, 3.0].iter().map(|v| (-v).exp()).collect();
    for (o, w) in out.iter().zip(&want) {
        assert!((o - w).abs() <= 2.0 * f32::EPSILON * w.abs(), "{out:?} vs {want:?}");
    }
}

/// `acme.broken`: claims `sin` and cannot compile it.
struct Broken;

impl Backend for Broken {
    fn name(&self) -> &str {
        "acme.broken"
    }
    fn version(&self) -> &str {
        "0.1.0"
    }
    fn op_set_version(&self) -> OpSetVersion {
        OP_SET_VERSION
    }
    fn device_kind(&self) -> DeviceKind {
        DeviceKind::Cpu
    }
    fn priority(&self) -> i32 {
        50
    }
    fn supports(&self, node: &NodeQuery<'_>) -> Support {
        match node.op {
            Op::Unary(UnaryOp::Sin) => Support::Yes,
            _ => Support::no("acme.broken only claims sin"),
        }
    }
    fn precision(&self, _op: &Op, _dtype: DType) -> Tolerance {
        Tolerance::EXACT
    }
    fn compile(&self, _spec: &KernelSpec) -> Result<Arc<dyn CompiledKernel>, LowerError> {
        Err(LowerError::new(
            switchyard::LowerErrorKind::Compile,
            "acme.broken: the code generator is missing",
        ))
    }
}

#[test]
fn a_compile_error_keeps_its_kind_and_its_source_through_the_runtime() {
    use std::error::Error as _;
    use switchyard::prelude::*;
    let mut registry = Engine::default_registry();
    registry.register(Arc::new(Broken)).unwrap();
    let g = Graph::with_engine(switchyard::Engine::new(registry));
    let x = g.input("x", DType::F32, &[4]).unwrap();
    let t = x.sin().unwrap();
    let err = g.compile(&[&t], Device::CPU).unwrap_err();
    let switchyard::Error::Runtime(runtime) = &err else { panic!("{err:?}") };
    assert_eq!(runtime.kind(), switchyard::RuntimeErrorKind::Compile, "{err}");
    let lower = runtime.lower().expect("the backend's error is kept");
    assert_eq!(lower.kind(), switchyard::LowerErrorKind::Compile);
    assert_eq!(lower.message(), "acme.broken: the code generator is missing");
    // The chain a caller walks with `source()`: facade error -> runtime error -> backend's.
    let backend_error = err.source().and_then(|r| r.source()).expect("a source chain");
    assert_eq!(backend_error.to_string(), "acme.broken: the code generator is missing");
}
