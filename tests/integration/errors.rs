//! Bad input gets a clean error that names the culprit, never a panic: one test per class.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::HashMap;

use switchyard::prelude::*;
use switchyard::stages::frontend::expr;
use switchyard::{decode_npy, Error, IrErrorKind, LowerErrorKind, RuntimeErrorKind};

fn ir(e: Error) -> (IrErrorKind, String) {
    let msg = e.to_string();
    match e {
        Error::Ir(e) => (e.kind(), msg),
        other => panic!("expected an IR error, got {other:?}"),
    }
}

fn runtime(e: Error) -> (RuntimeErrorKind, String) {
    let msg = e.to_string();
    match e {
        Error::Runtime(e) => (e.kind(), msg),
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn shape_mismatch_in_a_binary_op() {
    let g = Graph::new();
    let a = g.input("a", DType::F32, &[3]).unwrap();
    let b = g.input("b", DType::F32, &[4]).unwrap();
    let (kind, msg) = ir((&a + &b).unwrap_err());
    assert_eq!(kind, IrErrorKind::ShapeMismatch);
    assert!(msg.contains("add") && msg.contains("f32[3]") && msg.contains("f32[4]"), "{msg}");
}

#[test]
fn bad_axis() {
    let g = Graph::new();
    let a = g.input("a", DType::F32, &[3, 4]).unwrap();
    let (kind, msg) = ir(a.sum(2, false).unwrap_err());
    assert_eq!(kind, IrErrorKind::BadAxis);
    assert!(msg.contains("sum") && msg.contains("axis 2"), "{msg}");
    let (kind, _) = ir(a.expand_dims(-4).unwrap_err());
    assert_eq!(kind, IrErrorKind::BadAxis);
    let (kind, msg) = ir(a.squeeze(0).unwrap_err());
    assert_eq!(kind, IrErrorKind::BadAxis);
    assert!(msg.contains("squeeze"), "{msg}");
}

#[test]
fn reshape_to_a_different_element_count() {
    let g = Graph::new();
    let a = g.input("a", DType::F32, &[3, 4]).unwrap();
    let (kind, msg) = ir(a.reshape(&[5, 2]).unwrap_err());
    assert_eq!(kind, IrErrorKind::ReshapeSize);
    assert!(msg.contains("reshape") && msg.contains("12"), "{msg}");
    assert_eq!(ir(a.reshape(&[5, -1]).unwrap_err()).0, IrErrorKind::ReshapeSize);
    assert_eq!(a.reshape(&[2, -1]).unwrap().dims(), &[2, 6]);
}

#[test]
fn matmul_inner_dimension_mismatch() {
    let g = Graph::new();
    let a = g.input("a", DType::F32, &[3, 4]).unwrap();
    let b = g.input("b", DType::F32, &[5, 2]).unwrap();
    let (kind, msg) = ir(a.matmul(&b).unwrap_err());
    assert_eq!(kind, IrErrorKind::MatmulShape);
    assert!(msg.contains("matmul") && msg.contains("4 vs 5"), "{msg}");
}

fn build(source: &str, inputs: &[(&str, DType, &[usize])]) -> Result<Tensor, Error> {
    let g = Graph::new();
    let mut env = HashMap::new();
    for (name, dtype, dims) in inputs {
        env.insert(name.to_string(), g.input(name, *dtype, dims).unwrap());
    }
    expr::build(&g, source, &env)
}

#[test]
fn unknown_function_or_name_in_an_expression_points_at_it() {
    let e = build("exp(z*2)", &[("x", DType::F32, &[2])]).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Expr { .. }));
    assert!(msg.contains("unknown name `z`") && msg.contains("inputs are x"), "{msg}");
    assert!(msg.contains("  exp(z*2)\n      ^"), "{msg}");
    let msg = build("frobnicate(x)", &[("x", DType::F32, &[2])]).unwrap_err().to_string();
    assert!(msg.contains("unknown function `frobnicate`") && msg.contains("^^^^^^^^^^"), "{msg}");
}

#[test]
fn a_type_error_in_an_expression_points_at_the_operator() {
    let msg = build("x + n", &[("x", DType::F32, &[2]), ("n", DType::I32, &[2])]).unwrap_err().to_string();
    assert!(msg.contains("cast") && msg.contains("  x + n\n    ^"), "{msg}");
}

#[test]
fn wrong_dtype_name() {
    let msg = build("cast(x, dtype=f16)", &[("x", DType::F32, &[2])]).unwrap_err().to_string();
    assert!(msg.contains("f16"), "{msg}");
    assert_eq!(DType::parse("float16"), None);
}

fn exe() -> Executable {
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[2]).unwrap();
    let y = g.input("y", DType::F32, &[2]).unwrap();
    g.compile(&[&(&x + &y).unwrap()], Device::CPU).unwrap()
}

#[test]
fn eval_with_a_missing_input() {
    let a = Array::from_vec(&[2], vec![1.0f32, 2.0]).unwrap();
    let (kind, msg) = runtime(exe().run(&[("x", &a)]).map_err(Error::from).unwrap_err());
    assert_eq!(kind, RuntimeErrorKind::MissingInput);
    assert!(msg.contains("`y`"), "{msg}");
}

#[test]
fn eval_with_an_extra_input() {
    let a = Array::from_vec(&[2], vec![1.0f32, 2.0]).unwrap();
    let (kind, msg) =
        runtime(exe().run(&[("x", &a), ("y", &a), ("w", &a)]).map_err(Error::from).unwrap_err());
    assert_eq!(kind, RuntimeErrorKind::UnexpectedInput);
    assert!(msg.contains("`w`"), "{msg}");
}

#[test]
fn eval_with_a_wrong_dtype_or_shape() {
    let a = Array::from_vec(&[2], vec![1.0f32, 2.0]).unwrap();
    let d = Array::from_vec(&[2], vec![1.0f64, 2.0]).unwrap();
    let (kind, msg) = runtime(exe().run(&[("x", &a), ("y", &d)]).map_err(Error::from).unwrap_err());
    assert_eq!(kind, RuntimeErrorKind::DTypeMismatch);
    assert!(msg.contains("`y`") && msg.contains("f64"), "{msg}");
    let s = Array::from_vec(&[3], vec![1.0f32, 2.0, 3.0]).unwrap();
    let (kind, msg) = runtime(exe().run(&[("x", &s), ("y", &a)]).map_err(Error::from).unwrap_err());
    assert_eq!(kind, RuntimeErrorKind::ShapeMismatch);
    assert!(msg.contains("`x`") && msg.contains("[3]"), "{msg}");
}

#[test]
fn element_counts_that_overflow() {
    let g = Graph::new();
    let (kind, msg) = ir(g.input("x", DType::F32, &[usize::MAX, 2]).unwrap_err());
    assert_eq!(kind, IrErrorKind::Overflow);
    assert!(msg.contains("is too large"), "{msg}");
    let a = g.input("a", DType::F32, &[1 << 40]).unwrap();
    let b = g.input("b", DType::F32, &[1 << 40, 1]).unwrap();
    assert_eq!(ir((&a + &b).unwrap_err()).0, IrErrorKind::Overflow);
    assert_eq!(ir(a.pad(&[(usize::MAX, 0)], 0.0).unwrap_err()).0, IrErrorKind::Overflow);
}

#[test]
fn npy_files_that_cannot_be_read() {
    let good = switchyard::encode_npy(&Array::from_vec(&[3], vec![1.0f32, 2.0, 3.0]).unwrap());
    let truncated = &good[..good.len() - 2];
    let e = decode_npy(truncated).unwrap_err();
    assert_eq!(e.kind(), RuntimeErrorKind::Npy);
    assert!(e.to_string().contains("bytes"), "{e}");
    // Same-length replacements inside the header, byte for byte.
    let swap = |from: &str, to: &str| {
        assert_eq!(from.len(), to.len());
        let mut bytes = good.clone();
        let at = bytes.windows(from.len()).position(|w| w == from.as_bytes()).unwrap();
        bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
        bytes
    };
    let big = decode_npy(&swap("'<f4'", "'>f4'")).unwrap_err();
    assert!(big.to_string().contains("big-endian"), "{big}");
    let fortran = decode_npy(&swap("False", "True ")).unwrap_err();
    assert!(fortran.to_string().contains("fortran"), "{fortran}");
    let half = decode_npy(&swap("'<f4'", "'<f2'")).unwrap_err();
    assert!(half.to_string().contains("<f2"), "{half}");
}

#[test]
fn an_unknown_or_absent_device() {
    assert!(Device::parse("tpu").unwrap_err().contains("tpu"));
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[2]).unwrap();
    // Planning refuses a device its backends do not list; where they list none (no GPU
    // here), compiling does.
    let e = x.sqrt().unwrap().compile(Device::gpu(9)).unwrap_err();
    let msg = e.to_string();
    match e {
        Error::Lower(l) => assert_eq!(l.kind(), LowerErrorKind::UnknownDevice),
        Error::Runtime(r) => assert_eq!(r.kind(), switchyard::RuntimeErrorKind::NoDevice),
        other => panic!("{other:?}"),
    }
    assert!(msg.contains("device `gpu:9` is not available"), "{msg}");
}

#[test]
fn tensors_of_two_graphs_do_not_mix() {
    let (g1, g2) = (Graph::new(), Graph::new());
    let a = g1.input("a", DType::F32, &[2]).unwrap();
    let b = g2.input("b", DType::F32, &[2]).unwrap();
    let (kind, msg) = ir((&a + &b).unwrap_err());
    assert_eq!(kind, IrErrorKind::BadInput);
    assert!(msg.contains("different graphs"), "{msg}");
}

#[test]
fn an_input_the_outputs_do_not_use_may_be_left_out_but_is_still_checked() {
    let g = Graph::new();
    let x = g.input("x", DType::F32, &[2]).unwrap();
    let _unused = g.input("u", DType::I64, &[5]).unwrap();
    let exe = g.compile(&[&(&x * 2.0).unwrap()], Device::CPU).unwrap();
    let a = Array::from_vec(&[2], vec![1.0f32, 2.0]).unwrap();
    exe.run(&[("x", &a)]).unwrap();
    let u = Array::from_vec(&[5], vec![0i64; 5]).unwrap();
    assert!(exe.run(&[("x", &a), ("u", &u)]).is_ok());
    let (kind, msg) = runtime(exe.run(&[("x", &a), ("u", &a)]).map_err(Error::from).unwrap_err());
    assert_eq!(kind, RuntimeErrorKind::DTypeMismatch);
    assert!(msg.contains("`u`"), "{msg}");
}

#[test]
fn reducing_huge_axes_of_an_empty_array_does_not_overflow() {
    // Found by the e-graph work: the reduced element count 2^80 overflowed a usize product.
    // Such a shape is now refused when made (a zero extent does not excuse huge ones: the
    // strides of an empty array must stay bounded too); the largest valid ones reduce fine.
    let g = Graph::new();
    assert_eq!(ir(g.input("x", DType::F32, &[0, 1 << 40, 1 << 40]).unwrap_err()).0, IrErrorKind::Overflow);
    let x = g.input("x", DType::F32, &[0, 1 << 30, 1 << 29]).unwrap();
    let m = x.max(AxisSpec::from(vec![1, 2]), false).unwrap();
    assert_eq!(m.dims(), vec![0]);
    let s = x.sum(AxisSpec::from(vec![1, 2]), true).unwrap();
    assert_eq!(s.dims(), vec![0, 1, 1]);
}

/// `stub.gpu`: a GPU backend that plans f32 `add` and `exp` and lists one device, `gpu:0`.
/// The golden cases below fail while planning, so it is never asked to compile.
struct StubGpu;

impl switchyard::Backend for StubGpu {
    fn name(&self) -> &str {
        "stub.gpu"
    }
    fn version(&self) -> &str {
        "0.0.1"
    }
    fn op_set_version(&self) -> switchyard::OpSetVersion {
        switchyard::OP_SET_VERSION
    }
    fn device_kind(&self) -> switchyard::DeviceKind {
        switchyard::DeviceKind::Gpu
    }
    fn priority(&self) -> i32 {
        1
    }
    fn supports(&self, node: &switchyard::NodeQuery<'_>) -> switchyard::Support {
        use switchyard::{BinaryOp, Op, UnaryOp};
        match node.op {
            Op::Binary(BinaryOp::Add) | Op::Unary(UnaryOp::Exp) if node.output.dtype == DType::F32 => {
                switchyard::Support::Yes
            }
            op => switchyard::Support::no(format!("{}: not on stub.gpu", op.name())),
        }
    }
    fn precision(&self, _op: &switchyard::Op, _dtype: DType) -> switchyard::Tolerance {
        switchyard::Tolerance::EXACT
    }
    fn compile(
        &self,
        _kernel: &switchyard::KernelSpec,
    ) -> Result<std::sync::Arc<dyn switchyard::CompiledKernel>, switchyard::LowerError> {
        Err(switchyard::LowerError::new(LowerErrorKind::Compile, "stub.gpu compiles nothing"))
    }
    fn devices(&self) -> Vec<switchyard::DeviceInfo> {
        let device = Device::gpu(0);
        vec![switchyard::DeviceInfo {
            device,
            runtime: "stub".into(),
            adapter: "stub".into(),
            software: true,
        }]
    }
}

/// A graph on an engine of exactly these backends (`stub.gpu` where `gpu` is set), so that
/// planning errors do not depend on the devices of the machine.
fn graph_on(cpu: &[&str], gpu: bool) -> Graph {
    use std::sync::Arc;
    use switchyard::backends::{CraneliftBackend, GemmBackend, ReferenceBackend};
    let mut registry = switchyard::Registry::new();
    for name in cpu {
        let backend: Arc<dyn switchyard::Backend> = match *name {
            "cpu.cranelift" => Arc::new(CraneliftBackend::new()),
            "cpu.gemm" => Arc::new(GemmBackend::new()),
            "cpu.reference" => Arc::new(ReferenceBackend),
            other => panic!("no backend {other}"),
        };
        registry.register(backend).unwrap();
    }
    if gpu {
        registry.register(Arc::new(StubGpu)).unwrap();
    }
    Graph::with_engine(switchyard::Engine::new(registry))
}

/// The cases of [`every_error_renders_as_in_the_golden_file`], rendered: a header line per
/// case, then its whole message.
#[derive(Default)]
struct Golden(String);

impl Golden {
    fn case(&mut self, name: &str, message: impl std::fmt::Display) {
        let message = message.to_string();
        assert!(!message.is_empty(), "{name}: empty message");
        self.0.push_str(&format!("=== {name}\n{message}\n\n"));
    }

    /// The error of `result`, which must have failed.
    fn err<T, E: std::fmt::Display>(&mut self, name: &str, result: Result<T, E>) {
        match result {
            Ok(_) => panic!("{name}: expected an error"),
            Err(e) => self.case(name, e),
        }
    }
}

/// Every class of bad input above (and the planning errors tested with the backends), with
/// its whole message as a user reads it, in one golden file (`golden/errors.txt`;
/// `UPDATE_EXPECT=1` blesses): a change to a message is reviewed as its diff. The engines are
/// built from named backends, so nothing here depends on the machine (no GPU is probed).
#[test]
fn every_error_renders_as_in_the_golden_file() {
    let mut out = Golden::default();

    // Building: ill-typed ops fail when called.
    let g = graph_on(&["cpu.cranelift", "cpu.reference"], false);
    let a3 = g.input("a", DType::F32, &[3]).unwrap();
    let b4 = g.input("b", DType::F32, &[4]).unwrap();
    out.err("shapes that do not broadcast: f32[3] + f32[4]", &a3 + &b4);
    let x = g.input("x", DType::F32, &[2]).unwrap();
    let n = g.input("n", DType::I32, &[2]).unwrap();
    out.err("mixed dtype kinds, with the cast hint: f32[2] + i32[2]", &x + &n);
    out.err("integer true division: i32[2] / i32[2]", &n / &n);
    let m = g.input("m", DType::F32, &[3, 4]).unwrap();
    out.err("an axis past the rank: sum(f32[3, 4], axis=2)", m.sum(2, false));
    out.err("an axis past the rank: expand_dims(f32[3, 4], -4)", m.expand_dims(-4));
    out.err("squeezing an axis that is not 1: squeeze(f32[3, 4], 0)", m.squeeze(0));
    out.err("reshape to another element count: f32[3, 4] -> [5, 2]", m.reshape(&[5, 2]));
    out.err("reshape with -1 that does not divide: f32[3, 4] -> [5, -1]", m.reshape(&[5, -1]));
    let k = g.input("k", DType::F32, &[5, 2]).unwrap();
    out.err("matmul inner dimensions: f32[3, 4] @ f32[5, 2]", m.matmul(&k));
    let other = Graph::new();
    let foreign = other.input("f", DType::F32, &[2]).unwrap();
    out.err("tensors of two graphs", &x + &foreign);

    // Huge shapes: refused when made.
    out.err("an element count past usize: f32[usize::MAX, 2]", g.input("h", DType::F32, &[usize::MAX, 2]));
    out.err(
        "a zero extent does not hide a huge one: f32[0, 2^40, 2^40]",
        g.input("h", DType::F32, &[0, 1 << 40, 1 << 40]),
    );
    let wide = g.input("wide", DType::F32, &[1 << 40]).unwrap();
    let tall = g.input("tall", DType::F32, &[1 << 40, 1]).unwrap();
    out.err("a broadcast past the element limit: f32[2^40] + f32[2^40, 1]", &wide + &tall);
    out.err(
        "a byte count that would wrap: full([2, 2^60 + 1], f64)",
        g.full(&[2, (1 << 60) + 1], 0.0, DType::F64),
    );
    out.err(
        "padding past the element limit: pad(f32[2^40], (usize::MAX, 0))",
        wide.pad(&[(usize::MAX, 0)], 0.0),
    );

    // Eager-only ops: refused in a lazy graph, with the lazy alternative.
    out.err("eager-only: nonzero without size", x.nonzero(None, -1));
    out.err("eager-only: unique_values", x.unique_values());
    out.err("eager-only: unique_counts", x.unique_counts());
    let mask = x.gt(0.0).unwrap();
    out.err("eager-only: boolean_mask", x.boolean_mask(&mask));

    // The expression language: a caret under the culprit.
    let f32x: &[(&str, DType, &[usize])] = &[("x", DType::F32, &[2])];
    out.err("expression: unknown name", build("exp(z*2)", f32x));
    out.err("expression: unknown function", build("frobnicate(x)", f32x));
    out.err(
        "expression: a type error at the operator",
        build("x + n", &[("x", DType::F32, &[2]), ("n", DType::I32, &[2])]),
    );
    out.err("expression: unknown dtype name", build("cast(x, dtype=f16)", f32x));
    out.err("expression: unexpected end", build("exp(x *", f32x));
    out.err("expression: an operator where an operand belongs", build("x + * 2", f32x));
    out.err("expression: an unclosed parenthesis", build("(x + 1", f32x));
    out.err("expression: a stray character", build("x $ 2", f32x));

    // Evaluating: inputs must match the graph.
    let a = Array::from_vec(&[2], vec![1.0f32, 2.0]).unwrap();
    let d = Array::from_vec(&[2], vec![1.0f64, 2.0]).unwrap();
    let s = Array::from_vec(&[3], vec![1.0f32, 2.0, 3.0]).unwrap();
    out.err("eval: a missing input", exe().run(&[("x", &a)]));
    out.err("eval: an unknown input name", exe().run(&[("x", &a), ("y", &a), ("w", &a)]));
    out.err("eval: an input of the wrong dtype", exe().run(&[("x", &a), ("y", &d)]));
    out.err("eval: an input of the wrong shape", exe().run(&[("x", &s), ("y", &a)]));
    let big = g.full(&[1 << 59], 1.0, DType::F64).unwrap();
    out.err("eval: a valid shape that cannot be allocated: f64[2^59]", big.eval(Device::CPU, &[]));

    // Placement: devices change only at to_device, every node needs a backend.
    let gpu = graph_on(&["cpu.cranelift", "cpu.reference"], true);
    let env: HashMap<String, Tensor> =
        ["x", "y"].iter().map(|n| (n.to_string(), gpu.input(n, DType::F32, &[3]).unwrap())).collect();
    let t = expr::build(&gpu, "exp(sin(x) + y)", &env).unwrap();
    out.err("no backend of the device supports a node, with the fix", gpu.plan(&[&t], Device::gpu(0)));
    let (xg, yc) = (env["x"].to_device(Device::gpu(0)).unwrap(), env["y"].clone());
    out.err("a device boundary without to_device", gpu.plan(&[&(&xg + &yc).unwrap()], Device::CPU));
    out.err("a device its backends do not list", gpu.plan(&[&env["x"].exp().unwrap()], Device::gpu(9)));
    let cpu = graph_on(&["cpu.cranelift"], false);
    let i = cpu.input("i", DType::I32, &[3]).unwrap();
    out.err("no backend on the cpu for a dtype", cpu.plan(&[&(&i + &i).unwrap()], Device::CPU));
    let x3 = cpu.input("x", DType::F32, &[3]).unwrap();
    out.err("a device kind without backends", cpu.plan(&[&x3.exp().unwrap()], Device::gpu(0)));
    let moved = x3.to_device(Device::gpu(0)).unwrap().to_device(Device::CPU).unwrap();
    out.err("a transfer to a device no backend drives", cpu.plan(&[&moved], Device::CPU));
    out.err("an unknown device name", Device::parse("tpu"));

    // .npy files.
    let good = switchyard::encode_npy(&Array::from_vec(&[3], vec![1.0f32, 2.0, 3.0]).unwrap());
    let swap = |from: &str, to: &str| {
        let mut bytes = good.clone();
        let at = bytes.windows(from.len()).position(|w| w == from.as_bytes()).unwrap();
        bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
        bytes
    };
    out.err("npy: truncated data", decode_npy(&good[..good.len() - 2]));
    out.err("npy: big-endian", decode_npy(&swap("'<f4'", "'>f4'")));
    out.err("npy: fortran order", decode_npy(&swap("False", "True ")));
    out.err("npy: an unsupported dtype", decode_npy(&swap("'<f4'", "'<f2'")));
    out.err("npy: not an npy file", decode_npy(b"PK\x03\x04 this is a zip"));

    expect_test::expect_file!["golden/errors.txt"].assert_eq(&out.0);
}
