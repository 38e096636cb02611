//! The registry of backends, with per-op overrides.

use std::fmt;
use std::sync::Arc;

use switchyard_ir::{Device, DeviceKind, OP_SET_VERSION};

use crate::backend::Backend;
use crate::device_memory::{DeviceInfo, DeviceMemory};
use crate::error::{LowerError, LowerErrorKind};
use crate::kernel_cache::CacheReport;

/// A registered backend, by its place in its [`Registry`]: what placements and plan steps
/// refer to, so nothing downstream looks a backend up by name. Only meaningful with the
/// registry that issued it ([`Registry::backend`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct BackendId(u32);

impl BackendId {
    /// Its position in the registry's registration order.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for BackendId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "backend#{}", self.0)
    }
}

/// A per-op override: nodes whose op has this name go to this backend first, if it supports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// The op's array-API name (`matmul`).
    pub op: String,
    /// The backend that takes it.
    pub backend: BackendId,
}

/// The backends placement may choose from.
#[derive(Clone, Default)]
pub struct Registry {
    backends: Vec<Arc<dyn Backend>>,
    overrides: Vec<Override>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a backend. Refuses a second backend of the same name, and one built for another
    /// major op-set version (its ops may mean something else).
    pub fn register(&mut self, backend: Arc<dyn Backend>) -> Result<(), LowerError> {
        let v = backend.op_set_version();
        if v.major != OP_SET_VERSION.major {
            return Err(LowerError::new(
                LowerErrorKind::VersionMismatch,
                format!(
                    "backend `{}` was built for op set {v}, but this switchyard has op set {OP_SET_VERSION}; \
                     major versions must match (rebuild the backend against op set {}.x)",
                    backend.name(),
                    OP_SET_VERSION.major
                ),
            ));
        }
        if self.get(backend.name()).is_some() {
            return Err(LowerError::new(
                LowerErrorKind::Registry,
                format!("a backend named `{}` is already registered", backend.name()),
            ));
        }
        if u32::try_from(self.backends.len()).is_err() {
            return Err(LowerError::new(LowerErrorKind::Registry, "too many backends"));
        }
        self.backends.push(backend);
        Ok(())
    }

    /// Routes op `op` (array-API name) to `backend` ahead of priority order.
    pub fn override_op(&mut self, op: &str, backend: &str) -> Result<(), LowerError> {
        let Some(id) = self.id_of(backend) else {
            return Err(LowerError::new(
                LowerErrorKind::Registry,
                format!("cannot override `{op}`: no backend named `{backend}` is registered"),
            ));
        };
        self.overrides.retain(|o| o.op != op);
        self.overrides.push(Override { op: op.to_string(), backend: id });
        Ok(())
    }

    /// The override for an op, if any.
    pub fn override_for(&self, op: &str) -> Option<&Override> {
        self.overrides.iter().find(|o| o.op == op)
    }

    /// The backend with this name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Backend>> {
        self.backends.iter().find(|b| b.name() == name)
    }

    /// The id of the backend with this name.
    pub fn id_of(&self, name: &str) -> Option<BackendId> {
        self.backends.iter().position(|b| b.name() == name).map(|i| BackendId(i as u32))
    }

    /// The backend `id` names, if this registry issued it.
    pub fn backend(&self, id: BackendId) -> Option<&Arc<dyn Backend>> {
        self.backends.get(id.index())
    }

    /// All backends, in registration order.
    pub fn backends(&self) -> &[Arc<dyn Backend>] {
        &self.backends
    }

    /// The backends of a device kind, highest priority first (ties: registration order).
    pub fn for_device(&self, kind: DeviceKind) -> Vec<&Arc<dyn Backend>> {
        self.ids_for_device(kind).into_iter().map(|(_, b)| b).collect()
    }

    /// [`Registry::for_device`] with each backend's id.
    pub fn ids_for_device(&self, kind: DeviceKind) -> Vec<(BackendId, &Arc<dyn Backend>)> {
        let mut v: Vec<(BackendId, &Arc<dyn Backend>)> = self
            .backends
            .iter()
            .enumerate()
            .filter(|(_, b)| b.device_kind() == kind)
            .map(|(i, b)| (BackendId(i as u32), b))
            .collect();
        v.sort_by_key(|(_, b)| std::cmp::Reverse(b.priority()));
        v
    }

    /// The memory of `device`, from the first backend of its kind that offers it; `None`
    /// for the host (and for devices no backend drives).
    pub fn device_memory(&self, device: Device) -> Option<Arc<dyn DeviceMemory>> {
        self.for_device(device.kind).into_iter().find_map(|b| b.device_memory(device.ordinal))
    }

    /// Every device a registered backend can run on (each listed once).
    pub fn devices(&self) -> Vec<DeviceInfo> {
        let mut out: Vec<DeviceInfo> = Vec::new();
        for b in &self.backends {
            for d in b.devices() {
                if !out.iter().any(|o| o.device == d.device) {
                    out.push(d);
                }
            }
        }
        out
    }

    /// The kernel caches of the backends that keep one: what they hold and why lookups missed.
    pub fn kernel_caches(&self) -> Vec<CacheReport> {
        self.backends.iter().filter_map(|b| b.kernel_cache()).collect()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.backends.iter().map(|b| b.name()).collect();
        let overrides: Vec<(&str, &str)> = self
            .overrides
            .iter()
            .map(|o| (o.op.as_str(), self.backend(o.backend).map_or("?", |b| b.name())))
            .collect();
        f.debug_struct("Registry").field("backends", &names).field("overrides", &overrides).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{NodeQuery, Support, Tolerance};
    use crate::kernel::{CompiledKernel, KernelSpec};
    use crate::reference::ReferenceBackend;
    use crate::{build_plan, PlanRequest};
    use switchyard_ir::OptimizerReport as Report;
    use switchyard_ir::{DType, Device, IrGraph, Op, OpSetVersion, Shape, UnaryOp};

    /// A toy backend: runs `exp` only, on the device kind and op set it is given.
    struct Toy {
        name: &'static str,
        kind: DeviceKind,
        version: OpSetVersion,
        priority: i32,
    }

    impl Backend for Toy {
        fn name(&self) -> &str {
            self.name
        }
        fn version(&self) -> &str {
            "0.0.1"
        }
        fn op_set_version(&self) -> OpSetVersion {
            self.version
        }
        fn device_kind(&self) -> DeviceKind {
            self.kind
        }
        fn priority(&self) -> i32 {
            self.priority
        }
        fn supports(&self, node: &NodeQuery<'_>) -> Support {
            match node.op {
                Op::Unary(UnaryOp::Exp) => Support::Yes,
                other => Support::no(format!("{} is not implemented by this toy", other.name())),
            }
        }
        fn precision(&self, _op: &Op, _dtype: DType) -> Tolerance {
            Tolerance::ulps(1)
        }
        fn compile(&self, _kernel: &KernelSpec) -> Result<Arc<dyn CompiledKernel>, LowerError> {
            Err(LowerError::new(LowerErrorKind::Compile, "toy backends do not compile"))
        }
    }

    fn reference_only() -> Registry {
        let mut r = Registry::new();
        r.register(Arc::new(ReferenceBackend)).unwrap();
        r
    }

    fn toy(name: &'static str, kind: DeviceKind, priority: i32) -> Arc<Toy> {
        Arc::new(Toy { name, kind, version: OP_SET_VERSION, priority })
    }

    #[test]
    fn an_incompatible_op_set_is_refused_naming_both_versions() {
        let mut r = reference_only();
        let old = Arc::new(Toy {
            name: "cpu.old",
            kind: DeviceKind::Cpu,
            version: OpSetVersion { major: OP_SET_VERSION.major + 1, minor: 0 },
            priority: 5,
        });
        let e = r.register(old).unwrap_err();
        assert_eq!(e.kind(), LowerErrorKind::VersionMismatch);
        let msg = e.to_string();
        assert!(
            msg.contains("cpu.old") && msg.contains("2.0") && msg.contains(&OP_SET_VERSION.to_string()),
            "{msg}"
        );
        assert_eq!(r.backends().len(), 1);
    }

    #[test]
    fn names_are_unique_and_overrides_need_a_registered_backend() {
        let mut r = reference_only();
        assert_eq!(
            r.register(toy("cpu.reference", DeviceKind::Cpu, 1)).unwrap_err().kind(),
            LowerErrorKind::Registry
        );
        let e = r.override_op("exp", "cpu.fast").unwrap_err();
        assert!(e.to_string().contains("cpu.fast"), "{e}");
    }

    fn exp_graph() -> (IrGraph, Vec<switchyard_ir::NodeId>) {
        let mut g = IrGraph::new();
        let x =
            g.add(Op::Input { name: "x".into(), dtype: DType::F32, shape: Shape::vector(4) }, &[]).unwrap();
        let e = g.add(Op::Unary(UnaryOp::Exp), &[x]).unwrap();
        let s = g.add(Op::Unary(UnaryOp::Sin), &[e]).unwrap();
        (g, vec![s])
    }

    fn plan(
        r: &Registry,
        g: &IrGraph,
        outs: &[switchyard_ir::NodeId],
        device: Device,
    ) -> Result<crate::Plan, LowerError> {
        build_plan(
            PlanRequest { graph: g, outputs: outs, signature: &[], device, report: Report::default() },
            r,
        )
    }

    #[test]
    fn priority_and_overrides_decide_placement_and_the_plan_says_why() {
        let (g, outs) = exp_graph();
        let mut r = reference_only();
        r.register(toy("cpu.toy", DeviceKind::Cpu, 10)).unwrap();
        let p = plan(&r, &g, &outs, Device::CPU).unwrap();
        assert_eq!(p.steps[0].label(), "cpu.toy");
        assert_eq!(p.steps[1].label(), "cpu.reference");
        assert!(p.steps[1].reason.contains("not implemented by this toy"), "{}", p.steps[1].reason);

        let mut r = reference_only();
        r.register(toy("cpu.toy", DeviceKind::Cpu, -10)).unwrap();
        assert_eq!(plan(&r, &g, &outs, Device::CPU).unwrap().steps[0].label(), "cpu.reference");
        r.override_op("exp", "cpu.toy").unwrap();
        let p = plan(&r, &g, &outs, Device::CPU).unwrap();
        assert_eq!(p.steps[0].label(), "cpu.toy");
        assert!(p.steps[0].reason.contains("override"), "{}", p.steps[0].reason);
    }

    #[test]
    fn no_backend_name_is_reserved_a_step_is_a_transfer_by_its_kind() {
        // Before plans were typed, a backend named `transfer` would have been taken for the
        // runtime's copies.
        let (g, outs) = exp_graph();
        let mut r = reference_only();
        r.register(toy("transfer", DeviceKind::Cpu, 10)).unwrap();
        let p = plan(&r, &g, &outs, Device::CPU).unwrap();
        assert_eq!(p.steps[0].label(), "transfer");
        assert_eq!(p.steps[0].backend(), r.id_of("transfer"));
        assert!(p.steps[0].transfer().is_none() && p.steps[0].spec().is_some());
        assert!(matches!(p.steps[0].kind, crate::StepKind::Kernel { .. }));
        assert_eq!(r.backend(p.steps[1].backend().unwrap()).unwrap().name(), "cpu.reference");
    }

    #[test]
    fn a_node_no_backend_of_the_device_supports_lists_every_reason() {
        let (g, outs) = exp_graph();
        let mut r = reference_only();
        r.register(toy("gpu.toy", DeviceKind::Gpu, 1)).unwrap();
        let e = plan(&r, &g, &outs, Device::gpu(0)).unwrap_err();
        assert_eq!(e.kind(), LowerErrorKind::NoBackend);
        let msg = e.to_string();
        assert!(msg.contains("sin(%1)") && msg.contains("gpu.toy: sin is not implemented"), "{msg}");
        // A GPU chain with a CPU-only step: the error names the fix, an explicit transfer.
        assert!(
            msg.contains(
                "fix: `cpu.reference` (cpu device) supports it; move its operands there with `to_device`"
            ),
            "{msg}"
        );
    }

    #[test]
    fn mixing_devices_without_to_device_is_an_error() {
        let mut g = IrGraph::new();
        let x =
            g.add(Op::Input { name: "x".into(), dtype: DType::F32, shape: Shape::vector(4) }, &[]).unwrap();
        let on_gpu = g.add(Op::ToDevice(Device::gpu(0)), &[x]).unwrap();
        let e = g.add(Op::Unary(UnaryOp::Exp), &[on_gpu]).unwrap();
        let mixed = g.add(Op::Binary(switchyard_ir::BinaryOp::Add), &[e, x]).unwrap();
        let mut r = reference_only();
        r.register(toy("gpu.toy", DeviceKind::Gpu, 1)).unwrap();
        let err = plan(&r, &g, &[mixed], Device::CPU).unwrap_err();
        assert_eq!(err.kind(), LowerErrorKind::DeviceBoundary);
        let msg = err.to_string();
        assert!(msg.contains("add(%2, %0)") && msg.contains("to_device"), "{msg}");
        // With an explicit transfer back, the plan has two copies the runtime performs.
        let mut g = IrGraph::new();
        let x =
            g.add(Op::Input { name: "x".into(), dtype: DType::F32, shape: Shape::vector(4) }, &[]).unwrap();
        let on_gpu = g.add(Op::ToDevice(Device::gpu(0)), &[x]).unwrap();
        let e = g.add(Op::Unary(UnaryOp::Exp), &[on_gpu]).unwrap();
        let back = g.add(Op::ToDevice(Device::CPU), &[e]).unwrap();
        let fixed = g.add(Op::Binary(switchyard_ir::BinaryOp::Add), &[back, x]).unwrap();
        let p = plan(&r, &g, &[fixed], Device::CPU).unwrap();
        let copies: Vec<_> = p.steps.iter().filter_map(|k| k.transfer()).collect();
        assert_eq!(copies, vec![(Device::CPU, Device::gpu(0)), (Device::gpu(0), Device::CPU)]);
        // Without any backend for the GPU, the same graph names the missing device.
        let err = plan(&reference_only(), &g, &[fixed], Device::CPU).unwrap_err();
        assert_eq!(err.kind(), LowerErrorKind::Transfer, "{err}");
        assert!(err.to_string().contains("from `cpu` to `gpu:0`, but no backend drives `gpu:0`"), "{err}");
    }
}
