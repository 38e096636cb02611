//! Device-resident arrays, on a stand-in device: `fake.gpu` keeps "device memory" in host
//! vectors and counts every transfer, so these tests run everywhere and can prove that data
//! is uploaded once, stays on the device between runs, and never moves implicitly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use switchyard::prelude::*;
use switchyard::{
    Backend, BinaryOp, CompiledKernel, DeviceArray, DeviceBuffer, DeviceKind, DeviceMemory, DeviceView,
    Engine, KernelSpec, LowerError, LowerErrorKind, NodeQuery, Op, OpSetVersion, Registry, RuntimeErrorKind,
    Support, TensorView, TensorViewMut, Tolerance, UnaryOp, OP_SET_VERSION,
};

/// Bytes "on the device".
type Cells = Mutex<Vec<u8>>;

#[derive(Debug, Default)]
struct Counters {
    uploads: AtomicUsize,
    downloads: AtomicUsize,
}

#[derive(Debug)]
struct FakeMemory {
    device: Device,
    counters: Arc<Counters>,
}

impl DeviceMemory for FakeMemory {
    fn device(&self) -> Device {
        self.device
    }
    fn alloc(&self, dtype: DType, numel: usize) -> Result<DeviceBuffer, LowerError> {
        let len = numel * dtype.size_bytes();
        Ok(DeviceBuffer::new(self.device, len, Arc::new(Mutex::new(vec![0u8; len]))))
    }
    fn upload(&self, _dtype: DType, bytes: &[u8]) -> Result<DeviceBuffer, LowerError> {
        self.counters.uploads.fetch_add(1, Ordering::SeqCst);
        Ok(DeviceBuffer::new(self.device, bytes.len(), Arc::new(Mutex::new(bytes.to_vec()))))
    }
    fn download(&self, _dtype: DType, buffer: &DeviceBuffer) -> Result<Vec<u8>, LowerError> {
        if buffer.device() != self.device {
            return Err(switchyard::stages::lower::foreign_buffer(self.device, buffer));
        }
        self.counters.downloads.fetch_add(1, Ordering::SeqCst);
        Ok(cells(buffer)?.lock().unwrap().clone())
    }
}

fn cells(b: &DeviceBuffer) -> Result<&Cells, LowerError> {
    b.handle::<Cells>().ok_or_else(|| LowerError::new(LowerErrorKind::Kernel, "not a fake.gpu buffer"))
}

/// `fake.gpu`: f32 add, mul and exp, one node per kernel, on two fake GPUs.
struct FakeGpu {
    counters: Arc<Counters>,
}

impl Backend for FakeGpu {
    fn name(&self) -> &str {
        "fake.gpu"
    }
    fn version(&self) -> &str {
        "0.0.1"
    }
    fn op_set_version(&self) -> OpSetVersion {
        OP_SET_VERSION
    }
    fn device_kind(&self) -> DeviceKind {
        DeviceKind::Gpu
    }
    fn priority(&self) -> i32 {
        1
    }
    fn supports(&self, node: &NodeQuery<'_>) -> Support {
        let ok_op = matches!(node.op, Op::Binary(BinaryOp::Add | BinaryOp::Mul) | Op::Unary(UnaryOp::Exp));
        if !ok_op {
            return Support::no(format!("{}: not on fake.gpu", node.op.name()));
        }
        if node.output.dtype != DType::F32 || node.inputs.iter().any(|t| t.shape != node.output.shape) {
            return Support::no("fake.gpu: f32 without broadcasting only");
        }
        Support::Yes
    }
    fn precision(&self, _op: &Op, _dtype: DType) -> Tolerance {
        Tolerance::ulps(1)
    }
    fn compile(&self, spec: &KernelSpec) -> Result<Arc<dyn CompiledKernel>, LowerError> {
        match spec.nodes.as_slice() {
            [n] => Ok(Arc::new(FakeKernel(n.op.clone()))),
            _ => Err(LowerError::new(LowerErrorKind::Compile, "one node per kernel")),
        }
    }
    fn device_memory(&self, ordinal: u32) -> Option<Arc<dyn DeviceMemory>> {
        (ordinal < 2).then(|| {
            Arc::new(FakeMemory { device: Device::gpu(ordinal), counters: self.counters.clone() })
                as Arc<dyn DeviceMemory>
        })
    }
}

#[derive(Debug)]
struct FakeKernel(Op);

fn floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

impl CompiledKernel for FakeKernel {
    fn run(&self, _: &[TensorView<'_>], _: &mut [TensorViewMut<'_>]) -> Result<(), LowerError> {
        Err(LowerError::new(LowerErrorKind::Kernel, "fake.gpu kernels run on device memory"))
    }
    fn run_device(&self, inputs: &[DeviceView<'_>], outputs: &[DeviceView<'_>]) -> Result<(), LowerError> {
        let args: Vec<Vec<f32>> =
            inputs.iter().map(|v| Ok(floats(&cells(v.buffer)?.lock().unwrap()))).collect::<Result<_, _>>()?;
        let result: Vec<f32> = match (&self.0, args.as_slice()) {
            (Op::Unary(UnaryOp::Exp), [x]) => x.iter().map(|v| v.exp()).collect(),
            (Op::Binary(BinaryOp::Add), [x, y]) => x.iter().zip(y).map(|(a, b)| a + b).collect(),
            (Op::Binary(BinaryOp::Mul), [x, y]) => x.iter().zip(y).map(|(a, b)| a * b).collect(),
            _ => return Err(LowerError::new(LowerErrorKind::Kernel, "bad arguments")),
        };
        let out = outputs.first().ok_or_else(|| LowerError::new(LowerErrorKind::Kernel, "no output"))?;
        let mut cells = cells(out.buffer)?.lock().unwrap();
        cells.clear();
        cells.extend(result.iter().flat_map(|v| v.to_le_bytes()));
        Ok(())
    }
}

/// The CPU built-ins and `fake.gpu` as the only GPU backend.
fn engine() -> (Engine, Arc<Counters>) {
    use switchyard::backends::{CraneliftBackend, GemmBackend, ReferenceBackend};
    let counters = Arc::new(Counters::default());
    let mut registry = Registry::new();
    registry.register(Arc::new(GemmBackend::new())).unwrap();
    registry.register(Arc::new(CraneliftBackend::new())).unwrap();
    registry.register(Arc::new(ReferenceBackend)).unwrap();
    registry.register(Arc::new(FakeGpu { counters: counters.clone() })).unwrap();
    (Engine::new(registry), counters)
}

fn xy(g: &Graph) -> (Tensor, Tensor) {
    (g.input("x", DType::F32, &[3]).unwrap(), g.input("y", DType::F32, &[3]).unwrap())
}

#[test]
fn arrays_upload_once_and_results_stay_on_the_device_until_asked_for() {
    let (engine, counters) = engine();
    let g = Graph::with_engine(engine);
    let (x, y) = xy(&g);
    let t = (x.exp().unwrap() * &y).unwrap();
    let exe = g.compile(&[&t], Device::gpu(0)).unwrap();
    let memory = exe.device_memory().expect("a GPU plan has device memory").clone();
    let xs = DeviceArray::upload(&Array::from_vec(&[3], vec![0.0f32, 1.0, 2.0]).unwrap(), &memory).unwrap();
    let ys = DeviceArray::upload(&Array::from_vec(&[3], vec![1.0f32, 2.0, 3.0]).unwrap(), &memory).unwrap();
    let mut last = None;
    for _ in 0..3 {
        let out = exe.run_on_device(&[("x", &xs), ("y", &ys)]).unwrap();
        assert_eq!(out[0].device(), Device::gpu(0));
        last = out.into_iter().next();
    }
    assert_eq!(counters.uploads.load(Ordering::SeqCst), 2, "uploaded once each");
    assert_eq!(counters.downloads.load(Ordering::SeqCst), 0, "nothing came back unasked");
    let host = last.unwrap().to_host().unwrap().to_vec::<f32>().unwrap();
    assert_eq!(host, vec![1.0, 1f32.exp() * 2.0, 2f32.exp() * 3.0]);
    assert_eq!(counters.downloads.load(Ordering::SeqCst), 1);
}

#[test]
fn arrays_of_another_device_or_the_host_are_errors_never_copies() {
    let (engine, counters) = engine();
    let g = Graph::with_engine(engine);
    let (x, y) = xy(&g);
    let t = (&x + &y).unwrap();
    let exe = g.compile(&[&t], Device::gpu(0)).unwrap();
    let gpu1 = FakeGpu { counters: counters.clone() }.device_memory(1).unwrap();
    let host = Array::from_vec(&[3], vec![1.0f32; 3]).unwrap();
    let on0 = DeviceArray::upload(&host, exe.device_memory().unwrap()).unwrap();
    let on1 = DeviceArray::upload(&host, &gpu1).unwrap();
    let e = exe.run_on_device(&[("x", &on0), ("y", &on1)]).unwrap_err();
    assert_eq!(e.kind(), RuntimeErrorKind::WrongDevice);
    assert!(e.to_string().starts_with("input `y` is on `gpu:1` but this plan runs on `gpu:0`"), "{e}");
    let e = exe.run(&[("x", &host), ("y", &host)]).unwrap_err();
    assert_eq!(e.kind(), RuntimeErrorKind::WrongDevice);
    assert!(e.to_string().contains("host arrays never move there implicitly"), "{e}");
    assert_eq!(counters.downloads.load(Ordering::SeqCst), 0);
}

#[test]
fn eval_on_a_device_is_one_explicit_round_trip() {
    let (engine, counters) = engine();
    let g = Graph::with_engine(engine);
    let (x, y) = xy(&g);
    let t = (&x * &y).unwrap();
    let xs = Array::from_vec(&[3], vec![1.0f32, 2.0, 3.0]).unwrap();
    let out = t.eval(Device::gpu(0), &[("x", &xs), ("y", &xs)]).unwrap();
    assert_eq!(out.to_vec::<f32>().unwrap(), vec![1.0, 4.0, 9.0]);
    assert_eq!(counters.uploads.load(Ordering::SeqCst), 2);
    assert_eq!(counters.downloads.load(Ordering::SeqCst), 1);
}

#[test]
fn a_gpu_chain_with_a_cpu_only_step_names_the_node_and_suggests_to_device() {
    let (engine, _) = engine();
    let g = Graph::with_engine(engine);
    let (x, y) = xy(&g);
    let env = [("x".to_string(), x), ("y".to_string(), y)].into_iter().collect();
    let t = switchyard::expr::build(&g, "exp(sin(x) + y)", &env).unwrap();
    let e = g.plan(&[&t], Device::gpu(0)).unwrap_err().to_string();
    assert!(
        e.starts_with(
            "no backend of device `gpu:0` supports node %2 = sin(%0) : f32[3], from the expression `sin(x)`"
        ),
        "{e}"
    );
    assert!(e.contains("fake.gpu: sin: not on fake.gpu"), "{e}");
    assert!(
        e.contains(
            "fix: `cpu.cranelift` (cpu device), `cpu.reference` (cpu device) support it; \
             move its operands there with `to_device`"
        ),
        "{e}"
    );
}

#[test]
fn the_conformance_suite_runs_device_backends_on_their_device() {
    let backend = FakeGpu { counters: Arc::new(Counters::default()) };
    let report = switchyard_conformance::check(&backend);
    assert!(report.is_ok(), "{report}");
    for op in ["add", "mul", "exp"] {
        assert!(report.is_verified(op, DType::F32), "{op}: {report}");
    }
    assert!(backend.counters.uploads.load(Ordering::SeqCst) > 0, "the cases went through device memory");
}

#[test]
fn to_device_nodes_are_explicit_copies_in_the_plan_with_their_byte_counts() {
    let (engine, counters) = engine();
    let g = Graph::with_engine(engine);
    let (x, y) = xy(&g);
    // Host inputs; the sum runs on the GPU; the result comes back, all because the graph says so.
    let on_gpu = (x.to_device(Device::gpu(0)).unwrap() + y.to_device(Device::gpu(0)).unwrap()).unwrap();
    let back = on_gpu.exp().unwrap().to_device(Device::CPU).unwrap().sin().unwrap();
    let plan = g.plan(&[&back], Device::CPU).unwrap();
    let transfers: Vec<_> = plan.steps.iter().filter(|k| k.transfer().is_some()).collect();
    assert_eq!(transfers.len(), 3, "{plan}");
    assert_eq!(transfers[0].transfer(), Some((Device::CPU, Device::gpu(0))), "{plan}");
    assert_eq!(transfers[0].how.as_deref(), Some("copy 12 B cpu -> gpu:0"), "{plan}");
    assert_eq!(transfers[2].how.as_deref(), Some("copy 12 B gpu:0 -> cpu"), "{plan}");
    assert!(transfers.iter().all(|k| k.backend().is_none() && k.spec().is_none()), "{plan}");
    assert!(plan.to_string().contains("to_device: explicit copy cpu -> gpu:0"), "{plan}");

    let exe = g.compile(&[&back], Device::CPU).unwrap();
    let xs = Array::from_vec(&[3], vec![0.0f32, 1.0, 2.0]).unwrap();
    let out = exe.run(&[("x", &xs), ("y", &xs)]).unwrap()[0].to_vec::<f32>().unwrap();
    let want: Vec<f32> = [0.0f32, 2.0, 4.0].iter().map(|v| v.exp().sin()).collect();
    for (o, w) in out.iter().zip(&want) {
        assert!((o - w).abs() <= 4.0 * f32::EPSILON, "{out:?} vs {want:?}");
    }
    assert_eq!(counters.uploads.load(Ordering::SeqCst), 2, "one upload per to_device of an input");
    assert_eq!(counters.downloads.load(Ordering::SeqCst), 1, "one download for the to_device(cpu)");

    // A graph that ends on the GPU keeps its result there: `run` refuses to hand it back silently.
    let g2 = Graph::with_engine(g.engine().clone());
    let (x2, _) = xy(&g2);
    let stays = x2.to_device(Device::gpu(0)).unwrap().exp().unwrap();
    let exe = g2.compile(&[&stays], Device::CPU).unwrap();
    let e = exe.run(&[("x", &xs)]).unwrap_err();
    assert!(e.to_string().contains("ends on `gpu:0`; it stays there unless asked"), "{e}");
    let resident = exe.run_resident(&[("x", switchyard::Resident::Host(xs.clone()))]).unwrap();
    assert_eq!(resident[0].device(), Device::gpu(0));
}

/// The JSON form of transfer steps and their placements, locked like
/// `snapshots::plan_json` (fields are only ever added).
#[test]
fn the_plan_json_of_transfers_is_locked() {
    let (engine, _) = engine();
    let g = Graph::with_engine(engine);
    let (x, y) = xy(&g);
    let on_gpu = (x.to_device(Device::gpu(0)).unwrap() + y.to_device(Device::gpu(0)).unwrap()).unwrap();
    let back = on_gpu.exp().unwrap().to_device(Device::CPU).unwrap().sin().unwrap();
    let plan = g.plan(&[&back], Device::CPU).unwrap();
    expect_test::expect_file!["golden/plan_transfers.json"].assert_eq(&crate::snapshots::stable_json(&plan));
}
