//! `Executable`: a compiled plan that runs many times, from any thread.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use switchyard_ir::{ByteCount, DType, Device, DeviceKind, NodeId, Shape};
use switchyard_lower::{
    CompiledKernel, DeviceMemory, DeviceView, LowerError, Plan, PlanStep, Registry, StepKind, TensorView,
    TensorViewMut,
};

use crate::array::Array;
use crate::buffer::AlignedBuffer;
use crate::device_array::{DeviceArray, Resident};
use crate::error::{RuntimeError, RuntimeErrorKind};

/// What one run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStats {
    /// Wall time of each kernel, in microseconds, in plan order.
    pub kernel_us: Vec<f64>,
    /// The most bytes of kernel-produced values held at once (compare with the plan's
    /// `peak_memory_bytes`: they agree when intermediates are freed as planned).
    pub peak_live_bytes: u64,
}

/// A plan with every kernel compiled. Immutable, `Send + Sync`: run it from many threads.
#[derive(Clone, Debug)]
pub struct Executable {
    plan: Arc<Plan>,
    /// One per plan step: its compiled kernel, or `None` for a transfer (the runtime copies).
    kernels: Vec<Option<Arc<dyn CompiledKernel>>>,
    /// The memory of every device other than the host that the plan touches.
    memories: Vec<(Device, Arc<dyn DeviceMemory>)>,
}

impl Executable {
    /// Compiles every kernel of `plan` with the backend the plan names, and finds the memory
    /// of every device the plan runs on or copies to. `registry` must be the one the plan was
    /// built with (a step's backend id is checked against its name).
    pub fn compile(plan: Plan, registry: &Registry) -> Result<Executable, RuntimeError> {
        let mut kernels: Vec<Option<Arc<dyn CompiledKernel>>> = Vec::with_capacity(plan.steps.len());
        let mut devices: Vec<Device> = vec![plan.device];
        for k in &plan.steps {
            devices.push(k.device);
            match &k.kind {
                StepKind::Transfer { from, .. } => {
                    devices.push(*from);
                    kernels.push(None);
                }
                StepKind::Kernel { backend, name, spec } => {
                    let backend =
                        registry.backend(*backend).filter(|b| b.name() == name).ok_or_else(|| {
                            RuntimeError::new(
                                RuntimeErrorKind::Kernel,
                                format!(
                                    "plan names backend `{name}`, which is not registered in this registry \
                                 (compile a plan with the registry that built it)"
                                ),
                            )
                        })?;
                    kernels.push(Some(backend.compile(spec)?));
                }
            }
        }
        devices.sort();
        devices.dedup();
        let mut memories = Vec::new();
        for d in devices.into_iter().filter(|d| d.kind != DeviceKind::Cpu) {
            let memory = registry.device_memory(d).ok_or_else(|| {
                RuntimeError::new(
                    RuntimeErrorKind::NoDevice,
                    format!(
                        "device `{d}` is not available: no registered backend has it (no {} device here?)",
                        d.kind
                    ),
                )
            })?;
            memories.push((d, memory));
        }
        Ok(Executable { plan: Arc::new(plan), kernels, memories })
    }

    /// The memory of the plan's device, for plans on a device other than the host: upload
    /// inputs with [`DeviceArray::upload`] and run them with [`Executable::run_on_device`].
    pub fn device_memory(&self) -> Option<&Arc<dyn DeviceMemory>> {
        self.memory_of(self.plan.device)
    }

    fn memory_of(&self, device: Device) -> Option<&Arc<dyn DeviceMemory>> {
        self.memories.iter().find(|(d, _)| *d == device).map(|(_, m)| m)
    }

    /// The plan this executable runs.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The compiled kernel of plan step `step`; `None` for a transfer (the runtime performs
    /// it) or a step the plan does not have.
    pub fn kernel(&self, step: usize) -> Option<&Arc<dyn CompiledKernel>> {
        self.kernels.get(step).and_then(Option::as_ref)
    }

    /// How many of the plan's steps are compiled kernels (the rest are transfers).
    pub fn kernel_count(&self) -> usize {
        self.kernels.iter().flatten().count()
    }

    /// Runs a plan for the host on named host arrays and returns the outputs in the order
    /// requested.
    ///
    /// Every input the outputs depend on must be given, with its declared dtype and shape;
    /// anything else is an error naming the input. A plan for another device, or one whose
    /// outputs end on a device, is an error: see [`Executable::run_resident`].
    pub fn run(&self, inputs: &[(&str, &Array)]) -> Result<Vec<Array>, RuntimeError> {
        self.run_with_stats(inputs).map(|(outputs, _)| outputs)
    }

    /// [`Executable::run`], also reporting what the run did.
    pub fn run_with_stats(&self, inputs: &[(&str, &Array)]) -> Result<(Vec<Array>, RunStats), RuntimeError> {
        let plan = &*self.plan;
        if plan.device.kind != DeviceKind::Cpu {
            return Err(RuntimeError::new(
                RuntimeErrorKind::WrongDevice,
                format!(
                    "this plan runs on `{}` and host arrays never move there implicitly: upload them \
                     with DeviceArray::upload(&array, exe.device_memory()) and call run_on_device \
                     (or run_round_trip, which uploads and downloads as its name says)",
                    plan.device
                ),
            ));
        }
        let resident: Vec<(&str, Resident)> =
            inputs.iter().map(|&(n, a)| (n, Resident::Host(a.clone()))).collect();
        let (outputs, stats) = self.execute(&resident)?;
        let outputs = outputs
            .into_iter()
            .zip(&plan.outputs)
            .map(|(v, o)| match v {
                Resident::Host(a) => Ok(a),
                Resident::Device(d) => Err(RuntimeError::new(
                    RuntimeErrorKind::WrongDevice,
                    format!(
                        "output {} ends on `{}`; it stays there unless asked: use run_resident, or \
                         end the graph with to_device(..., cpu)",
                        o.node,
                        d.device()
                    ),
                )),
            })
            .collect::<Result<_, _>>()?;
        Ok((outputs, stats))
    }

    /// Runs the plan on host arrays on any device. A host plan runs directly; a device plan
    /// uploads the inputs, runs on the device and downloads the outputs: the transfers are
    /// what this call asks for, once each way. To keep data on a device between runs, use
    /// [`DeviceArray::upload`] and [`Executable::run_on_device`].
    pub fn run_round_trip(&self, inputs: &[(&str, &Array)]) -> Result<Vec<Array>, RuntimeError> {
        let resident: Vec<(&str, Resident)> = match self.device_memory() {
            None => inputs.iter().map(|&(n, a)| (n, Resident::Host(a.clone()))).collect(),
            Some(memory) => inputs
                .iter()
                .map(|&(n, a)| Ok((n, Resident::Device(DeviceArray::upload(a, memory)?))))
                .collect::<Result<_, RuntimeError>>()?,
        };
        // (A plan for a device compiles only with that device's memory: `compile` checked.)
        self.execute(&resident)?.0.iter().map(Resident::to_host).collect()
    }

    /// Runs the plan on arrays resident on the plan's device; the results stay where the
    /// plan leaves them (on a device unless the graph moves them with `to_device`). Every
    /// input must be on the plan's device: an array of another device is an error naming
    /// it, never a silent copy.
    pub fn run_on_device(&self, inputs: &[(&str, &DeviceArray)]) -> Result<Vec<DeviceArray>, RuntimeError> {
        let plan = &*self.plan;
        if plan.device.kind == DeviceKind::Cpu {
            return Err(RuntimeError::new(
                RuntimeErrorKind::WrongDevice,
                "this plan runs on the host: pass host arrays to run".to_string(),
            ));
        }
        let resident: Vec<(&str, Resident)> =
            inputs.iter().map(|&(n, a)| (n, Resident::Device(a.clone()))).collect();
        self.execute(&resident)?
            .0
            .into_iter()
            .zip(&plan.outputs)
            .map(|(v, o)| match v {
                Resident::Device(d) => Ok(d),
                Resident::Host(_) => Err(RuntimeError::new(
                    RuntimeErrorKind::WrongDevice,
                    format!(
                        "output {} ends on the host (the graph moves it there); use run_resident",
                        o.node
                    ),
                )),
            })
            .collect()
    }

    /// The general form: inputs wherever they are (each must be on the plan's device),
    /// outputs wherever the plan leaves them.
    pub fn run_resident(&self, inputs: &[(&str, Resident)]) -> Result<Vec<Resident>, RuntimeError> {
        self.execute(inputs).map(|(outputs, _)| outputs)
    }

    /// Binds the inputs, runs every step in order (kernels on their device, copies where the
    /// graph says `to_device`), frees intermediates as planned.
    fn execute(&self, inputs: &[(&str, Resident)]) -> Result<(Vec<Resident>, RunStats), RuntimeError> {
        let plan = &*self.plan;
        for (name, v) in inputs {
            if v.device() != plan.device {
                return Err(RuntimeError::new(
                    RuntimeErrorKind::WrongDevice,
                    format!(
                        "input `{name}` is on `{}` but this plan runs on `{}`; arrays of two devices \
                         never meet implicitly (move it with to_host and upload, or plan for `{}`)",
                        v.device(),
                        plan.device,
                        v.device()
                    ),
                ));
            }
        }
        let refs: Vec<(&str, &Resident)> = inputs.iter().map(|(n, v)| (*n, v)).collect();
        let mut values: Vec<Option<Resident>> = vec![None; plan.node_count];
        self.bind_inputs(&refs, &mut values)?;
        for &(alias, source) in &plan.aliases {
            values[alias.index()] = values[source.index()].clone();
        }
        let mut stats = RunStats { kernel_us: Vec::with_capacity(self.kernels.len()), peak_live_bytes: 0 };
        let mut live_bytes = 0u64;
        for (k, compiled) in plan.steps.iter().zip(&self.kernels) {
            let start = Instant::now();
            let produced: Vec<Resident> = match (&k.kind, compiled) {
                (StepKind::Transfer { to, .. }, _) => {
                    let src = k.inputs.first().ok_or_else(|| plan_bug("a transfer without an operand"))?;
                    vec![self.transfer(value(&values, src.node)?, *to)?]
                }
                (StepKind::Kernel { .. }, Some(c)) if k.device.kind == DeviceKind::Cpu => {
                    self.run_host_kernel(k, c.as_ref(), &values)?
                }
                (StepKind::Kernel { .. }, Some(c)) => self.run_device_kernel(k, c.as_ref(), &values)?,
                (StepKind::Kernel { .. }, None) => return Err(plan_bug("a kernel step was not compiled")),
            };
            for (v, out) in k.outputs.iter().zip(produced) {
                live_bytes += v.bytes();
                values[v.node.index()] = Some(out);
            }
            stats.peak_live_bytes = stats.peak_live_bytes.max(live_bytes);
            for n in &k.frees_after {
                if let Some(freed) = values[n.index()].take() {
                    live_bytes -= (freed.shape().numel() * freed.dtype().size_bytes()) as u64;
                }
            }
            stats.kernel_us.push(start.elapsed().as_secs_f64() * 1e6);
        }
        let outputs =
            plan.outputs.iter().map(|o| value(&values, o.node).cloned()).collect::<Result<_, _>>()?;
        Ok((outputs, stats))
    }

    /// An explicit copy of `v` to `to` (the graph's `to_device`).
    fn transfer(&self, v: &Resident, to: Device) -> Result<Resident, RuntimeError> {
        let memory = |d: Device| {
            self.memory_of(d).ok_or_else(|| {
                RuntimeError::new(RuntimeErrorKind::NoDevice, format!("device `{d}` is not available"))
            })
        };
        Ok(match (v, to.kind) {
            (Resident::Host(a), DeviceKind::Cpu) => Resident::Host(a.clone()),
            (Resident::Host(a), _) => Resident::Device(DeviceArray::upload(a, memory(to)?)?),
            (Resident::Device(d), DeviceKind::Cpu) => Resident::Host(d.to_host()?),
            (Resident::Device(d), _) => Resident::Device(DeviceArray::upload(&d.to_host()?, memory(to)?)?),
        })
    }

    fn run_host_kernel(
        &self,
        k: &PlanStep,
        compiled: &dyn CompiledKernel,
        values: &[Option<Resident>],
    ) -> Result<Vec<Resident>, RuntimeError> {
        let mut ins: Vec<TensorView<'_>> = Vec::with_capacity(k.inputs.len());
        for v in &k.inputs {
            match value(values, v.node)? {
                Resident::Host(a) => ins.push(a.view()),
                Resident::Device(d) => {
                    return Err(plan_bug(&format!("host kernel {} reads {} on {}", k.id, v.node, d.device())))
                }
            }
        }
        let mut bufs: Vec<AlignedBuffer> = k
            .outputs
            .iter()
            .map(|v| {
                AlignedBuffer::for_output(v.ty.shape.byte_len(v.ty.dtype.size_bytes())).map_err(|e| {
                    RuntimeError::new(
                        RuntimeErrorKind::OutOfMemory,
                        format!(
                            "kernel {} cannot have its output {} ({}): {e}; the plan's peak memory is {}",
                            k.id,
                            v.node,
                            v.ty,
                            ByteCount(u128::from(self.plan.peak_memory_bytes))
                        ),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        {
            let mut outs: Vec<TensorViewMut<'_>> = k
                .outputs
                .iter()
                .zip(bufs.iter_mut())
                .map(|(v, b)| TensorViewMut { dtype: v.ty.dtype, shape: &v.ty.shape, data: b.as_bytes_mut() })
                .collect();
            compiled.run(&ins, &mut outs).map_err(|e| kernel_failed(k, e))?;
        }
        Ok(k.outputs
            .iter()
            .zip(bufs)
            .map(|(v, b)| Resident::Host(Array::from_buffer(v.ty.dtype, v.ty.shape.clone(), b)))
            .collect())
    }

    fn run_device_kernel(
        &self,
        k: &PlanStep,
        compiled: &dyn CompiledKernel,
        values: &[Option<Resident>],
    ) -> Result<Vec<Resident>, RuntimeError> {
        let memory = self.memory_of(k.device).ok_or_else(|| {
            RuntimeError::new(RuntimeErrorKind::NoDevice, format!("device `{}` is not available", k.device))
        })?;
        let mut outs: Vec<DeviceArray> = Vec::with_capacity(k.outputs.len());
        for v in &k.outputs {
            let buffer = memory.alloc(v.ty.dtype, v.ty.shape.numel())?;
            outs.push(DeviceArray::from_buffer(v.ty.dtype, v.ty.shape.clone(), buffer, memory.clone()));
        }
        let mut ins: Vec<DeviceView<'_>> = Vec::with_capacity(k.inputs.len());
        for v in &k.inputs {
            match value(values, v.node)? {
                Resident::Device(d) if d.device() == k.device => ins.push(d.view()),
                other => {
                    return Err(plan_bug(&format!(
                        "kernel {} on {} reads {} on {}",
                        k.id,
                        k.device,
                        v.node,
                        other.device()
                    )))
                }
            }
        }
        let out_views: Vec<DeviceView<'_>> = outs.iter().map(DeviceArray::view).collect();
        compiled.run_device(&ins, &out_views).map_err(|e| kernel_failed(k, e))?;
        Ok(outs.into_iter().map(Resident::Device).collect())
    }

    fn bind_inputs<V: Bound>(
        &self,
        inputs: &[(&str, &V)],
        values: &mut [Option<V>],
    ) -> Result<(), RuntimeError> {
        let plan = &*self.plan;
        let expected = || {
            plan.inputs
                .iter()
                .filter(|i| i.decl.required)
                .map(|i| format!("{}: {}", i.decl.name, i.decl.ty))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut given: HashMap<&str, &V> = HashMap::new();
        for &(name, array) in inputs {
            if given.insert(name, array).is_some() {
                return Err(RuntimeError::new(
                    RuntimeErrorKind::UnexpectedInput,
                    format!("input `{name}` is given twice"),
                ));
            }
            if !plan.inputs.iter().any(|i| i.decl.name == name) {
                return Err(RuntimeError::new(
                    RuntimeErrorKind::UnexpectedInput,
                    format!(
                        "unexpected input `{name}`: the graph declares no such input; it takes {}",
                        or_none(expected())
                    ),
                ));
            }
        }
        for input in &plan.inputs {
            let decl = &input.decl;
            let Some(array) = given.get(decl.name.as_str()) else {
                if !decl.required {
                    continue;
                }
                return Err(RuntimeError::new(
                    RuntimeErrorKind::MissingInput,
                    format!("missing input `{}` ({}); the graph takes {}", decl.name, decl.ty, expected()),
                ));
            };
            if array.dtype() != decl.ty.dtype {
                return Err(RuntimeError::new(
                    RuntimeErrorKind::DTypeMismatch,
                    format!(
                        "input `{}` is declared {} but the array given is {}{}",
                        decl.name,
                        decl.ty,
                        array.dtype(),
                        array.shape()
                    ),
                ));
            }
            if array.shape() != &decl.ty.shape {
                return Err(RuntimeError::new(
                    RuntimeErrorKind::ShapeMismatch,
                    format!(
                        "input `{}` is declared {} but the array given has shape {}",
                        decl.name,
                        decl.ty,
                        array.shape()
                    ),
                ));
            }
            if let Some(node) = input.node {
                if let Some(slot) = values.get_mut(node.index()) {
                    *slot = Some((*array).clone());
                }
            }
        }
        Ok(())
    }
}

fn or_none(s: String) -> String {
    if s.is_empty() {
        "no inputs".to_string()
    } else {
        s
    }
}

/// What binding an input needs to know of an array, wherever it lives.
trait Bound: Clone {
    fn dtype(&self) -> DType;
    fn shape(&self) -> &Shape;
}

impl Bound for Resident {
    fn dtype(&self) -> DType {
        Resident::dtype(self)
    }
    fn shape(&self) -> &Shape {
        Resident::shape(self)
    }
}

fn plan_bug(what: &str) -> RuntimeError {
    RuntimeError::new(RuntimeErrorKind::Kernel, format!("{what} (a plan bug)"))
}

fn kernel_failed(k: &PlanStep, e: LowerError) -> RuntimeError {
    RuntimeError::from_lower(format!("kernel {} on {}: {e}", k.id, k.label()), e)
}

fn value<V>(values: &[Option<V>], node: NodeId) -> Result<&V, RuntimeError> {
    values.get(node.index()).and_then(|v| v.as_ref()).ok_or_else(|| {
        RuntimeError::new(
            RuntimeErrorKind::Kernel,
            format!("value {node} is not available when needed (a plan bug)"),
        )
    })
}
