//! `Executable`: a compiled plan that runs many times, from any thread.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use switchyard_ir::{DType, DeviceKind, NodeId, Shape};
use switchyard_lower::{CompiledKernel, DeviceMemory, DeviceView, Plan, Registry, TensorView, TensorViewMut};

use crate::array::Array;
use crate::buffer::AlignedBuffer;
use crate::device_array::DeviceArray;
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
    kernels: Vec<Arc<dyn CompiledKernel>>,
    /// The plan device's memory, for plans on a device other than the host.
    memory: Option<Arc<dyn DeviceMemory>>,
}

impl Executable {
    /// Compiles every kernel of `plan` with the backend the plan names.
    pub fn compile(plan: Plan, registry: &Registry) -> Result<Executable, RuntimeError> {
        let mut kernels = Vec::with_capacity(plan.kernels.len());
        for k in &plan.kernels {
            let backend = registry.get(&k.backend).ok_or_else(|| {
                RuntimeError::new(
                    RuntimeErrorKind::Kernel,
                    format!("plan names backend `{}`, which is not registered", k.backend),
                )
            })?;
            kernels.push(backend.compile(&k.spec)?);
        }
        let memory = match plan.device.kind {
            DeviceKind::Cpu => None,
            _ => Some(registry.device_memory(plan.device).ok_or_else(|| {
                RuntimeError::new(
                    RuntimeErrorKind::NoDevice,
                    format!("device `{}` is not available: no registered backend drives it", plan.device),
                )
            })?),
        };
        Ok(Executable { plan: Arc::new(plan), kernels, memory })
    }

    /// The memory of the plan's device, for plans on a device other than the host: upload
    /// inputs with [`DeviceArray::upload`] and run them with [`Executable::run_on_device`].
    pub fn device_memory(&self) -> Option<&Arc<dyn DeviceMemory>> {
        self.memory.as_ref()
    }

    /// The plan this executable runs.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The compiled kernels, in plan order.
    pub fn kernels(&self) -> &[Arc<dyn CompiledKernel>] {
        &self.kernels
    }

    /// Runs the plan on named inputs and returns the outputs in the order requested.
    ///
    /// Every input the outputs depend on must be given, with its declared dtype and shape;
    /// anything else is an error naming the input.
    pub fn run(&self, inputs: &[(&str, &Array)]) -> Result<Vec<Array>, RuntimeError> {
        self.run_with_stats(inputs).map(|(outputs, _)| outputs)
    }

    /// [`Executable::run`], also reporting what the run did.
    pub fn run_with_stats(&self, inputs: &[(&str, &Array)]) -> Result<(Vec<Array>, RunStats), RuntimeError> {
        let plan = &*self.plan;
        if self.memory.is_some() {
            return Err(RuntimeError::new(
                RuntimeErrorKind::WrongDevice,
                format!(
                    "this plan runs on `{}` and host arrays never move there implicitly: upload them \
                     with DeviceArray::upload(&array, exe.device_memory()) and call run_on_device",
                    plan.device
                ),
            ));
        }
        let mut values: Vec<Option<Array>> = vec![None; plan.node_count];
        self.bind_inputs(inputs, &mut values)?;
        for &(alias, source) in &plan.aliases {
            values[alias.index()] = values[source.index()].clone();
        }
        let mut stats = RunStats { kernel_us: Vec::with_capacity(self.kernels.len()), peak_live_bytes: 0 };
        let mut live_bytes = 0u64;
        for (k, compiled) in plan.kernels.iter().zip(&self.kernels) {
            let start = Instant::now();
            let mut ins: Vec<TensorView<'_>> = Vec::with_capacity(k.inputs.len());
            for v in &k.inputs {
                ins.push(value(&values, v.node)?.view());
            }
            let mut bufs: Vec<AlignedBuffer> = k
                .outputs
                .iter()
                .map(|v| AlignedBuffer::for_output(v.shape.numel() * v.dtype.size_bytes()))
                .collect();
            {
                let mut outs: Vec<TensorViewMut<'_>> = k
                    .outputs
                    .iter()
                    .zip(bufs.iter_mut())
                    .map(|(v, b)| TensorViewMut { dtype: v.dtype, shape: &v.shape, data: b.as_bytes_mut() })
                    .collect();
                compiled.run(&ins, &mut outs).map_err(|e| {
                    RuntimeError::new(
                        RuntimeErrorKind::Kernel,
                        format!("kernel {} on {}: {e}", k.id, k.backend),
                    )
                })?;
            }
            drop(ins);
            for (v, b) in k.outputs.iter().zip(bufs) {
                live_bytes += b.len() as u64;
                values[v.node.index()] = Some(Array::from_buffer(v.dtype, v.shape.clone(), b));
            }
            stats.peak_live_bytes = stats.peak_live_bytes.max(live_bytes);
            for n in &k.frees_after {
                if let Some(freed) = values[n.index()].take() {
                    live_bytes -= freed.as_bytes().len() as u64;
                }
            }
            stats.kernel_us.push(start.elapsed().as_secs_f64() * 1e6);
        }
        let outputs =
            plan.outputs.iter().map(|o| value(&values, o.node).cloned()).collect::<Result<_, _>>()?;
        Ok((outputs, stats))
    }

    /// Runs the plan on host arrays on any device. A host plan runs directly; a device plan
    /// uploads the inputs, runs on the device and downloads the outputs: the transfers are
    /// what this call asks for, once each way. To keep data on a device between runs, use
    /// [`DeviceArray::upload`] and [`Executable::run_on_device`].
    pub fn run_round_trip(&self, inputs: &[(&str, &Array)]) -> Result<Vec<Array>, RuntimeError> {
        let Some(memory) = &self.memory else { return self.run(inputs) };
        let uploaded: Vec<(&str, DeviceArray)> = inputs
            .iter()
            .map(|&(name, array)| Ok((name, DeviceArray::upload(array, memory)?)))
            .collect::<Result<_, RuntimeError>>()?;
        let bound: Vec<(&str, &DeviceArray)> = uploaded.iter().map(|(n, a)| (*n, a)).collect();
        self.run_on_device(&bound)?.iter().map(DeviceArray::to_host).collect()
    }

    /// Runs the plan on arrays resident on the plan's device; the results stay there.
    /// Every input must be on that device: an array of another device is an error naming
    /// it, never a silent copy.
    pub fn run_on_device(&self, inputs: &[(&str, &DeviceArray)]) -> Result<Vec<DeviceArray>, RuntimeError> {
        let plan = &*self.plan;
        let Some(memory) = &self.memory else {
            return Err(RuntimeError::new(
                RuntimeErrorKind::WrongDevice,
                "this plan runs on the host: pass host arrays to run".to_string(),
            ));
        };
        for &(name, array) in inputs {
            if array.device() != plan.device {
                return Err(RuntimeError::new(
                    RuntimeErrorKind::WrongDevice,
                    format!(
                        "input `{name}` is on `{}` but this plan runs on `{}`; arrays of two devices \
                         never meet implicitly (move it with to_host and upload, or plan for `{}`)",
                        array.device(),
                        plan.device,
                        array.device()
                    ),
                ));
            }
        }
        let mut values: Vec<Option<DeviceArray>> = vec![None; plan.node_count];
        self.bind_inputs(inputs, &mut values)?;
        for &(alias, source) in &plan.aliases {
            values[alias.index()] = values[source.index()].clone();
        }
        for (k, compiled) in plan.kernels.iter().zip(&self.kernels) {
            let mut outs: Vec<DeviceArray> = Vec::with_capacity(k.outputs.len());
            for v in &k.outputs {
                let buffer = memory.alloc(v.dtype, v.shape.numel())?;
                outs.push(DeviceArray::from_buffer(v.dtype, v.shape.clone(), buffer, memory.clone()));
            }
            {
                let mut ins: Vec<DeviceView<'_>> = Vec::with_capacity(k.inputs.len());
                for v in &k.inputs {
                    ins.push(value(&values, v.node)?.view());
                }
                let out_views: Vec<DeviceView<'_>> = outs.iter().map(DeviceArray::view).collect();
                compiled.run_device(&ins, &out_views).map_err(|e| {
                    RuntimeError::new(
                        RuntimeErrorKind::Kernel,
                        format!("kernel {} on {}: {e}", k.id, k.backend),
                    )
                })?;
            }
            for (v, out) in k.outputs.iter().zip(outs) {
                values[v.node.index()] = Some(out);
            }
            for n in &k.frees_after {
                values[n.index()] = None;
            }
        }
        plan.outputs.iter().map(|o| value(&values, o.node).cloned()).collect()
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
                .filter(|i| i.required)
                .map(|i| format!("{}: {}{}", i.name, i.dtype, i.shape))
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
            if !plan.inputs.iter().any(|i| i.name == name) {
                return Err(RuntimeError::new(
                    RuntimeErrorKind::UnexpectedInput,
                    format!(
                        "unexpected input `{name}`: the graph declares no such input; it takes {}",
                        or_none(expected())
                    ),
                ));
            }
        }
        for decl in &plan.inputs {
            let Some(array) = given.get(decl.name.as_str()) else {
                if !decl.required {
                    continue;
                }
                return Err(RuntimeError::new(
                    RuntimeErrorKind::MissingInput,
                    format!(
                        "missing input `{}` ({}{}); the graph takes {}",
                        decl.name,
                        decl.dtype,
                        decl.shape,
                        expected()
                    ),
                ));
            };
            if array.dtype() != decl.dtype {
                return Err(RuntimeError::new(
                    RuntimeErrorKind::DTypeMismatch,
                    format!(
                        "input `{}` is declared {}{} but the array given is {}{}",
                        decl.name,
                        decl.dtype,
                        decl.shape,
                        array.dtype(),
                        array.shape()
                    ),
                ));
            }
            if array.shape() != &decl.shape {
                return Err(RuntimeError::new(
                    RuntimeErrorKind::ShapeMismatch,
                    format!(
                        "input `{}` is declared {}{} but the array given has shape {}",
                        decl.name,
                        decl.dtype,
                        decl.shape,
                        array.shape()
                    ),
                ));
            }
            if let Some(node) = decl.node {
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

impl Bound for Array {
    fn dtype(&self) -> DType {
        Array::dtype(self)
    }
    fn shape(&self) -> &Shape {
        Array::shape(self)
    }
}

impl Bound for DeviceArray {
    fn dtype(&self) -> DType {
        DeviceArray::dtype(self)
    }
    fn shape(&self) -> &Shape {
        DeviceArray::shape(self)
    }
}

fn value<V>(values: &[Option<V>], node: NodeId) -> Result<&V, RuntimeError> {
    values.get(node.index()).and_then(|v| v.as_ref()).ok_or_else(|| {
        RuntimeError::new(
            RuntimeErrorKind::Kernel,
            format!("value {node} is not available when needed (a plan bug)"),
        )
    })
}
