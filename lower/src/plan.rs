//! The `Plan`: steps in order (kernels, each on a backend, and the explicit copies the graph
//! asks for), with the values they read and write, when intermediates die, and the peak
//! memory that implies. Built by [`build_plan`].

use std::collections::HashMap;

use switchyard_ir::OptimizerReport as Report;
use switchyard_ir::{
    DType, Device, InputDecl, IrGraph, NodeId, Op, OpSetVersion, Shape, TensorType, OP_SET_VERSION,
};

use crate::error::LowerError;
use crate::fusion::group;
use crate::kernel::{KernelNode, KernelOperand, KernelSpec};
use crate::placement::{place, Placement, Runner, TRANSFER_LABEL};
use crate::registry::{BackendId, Registry};

/// One value of a plan: the node that computes it and its type (in the JSON, the type's
/// `dtype` and `shape` sit beside `node`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ValueInfo {
    /// The node that computes it.
    pub node: NodeId,
    /// Its dtype and shape.
    #[serde(flatten)]
    pub ty: TensorType,
}

impl ValueInfo {
    /// Size in bytes (it fits `isize`: the `Shape` invariant).
    pub fn bytes(&self) -> u64 {
        self.ty.shape.byte_len(self.ty.dtype.size_bytes()) as u64
    }
}

/// What a step of a plan does.
#[derive(Clone, Debug)]
pub enum StepKind {
    /// A kernel a backend compiles and runs.
    Kernel {
        /// The backend, in the registry the plan was built with.
        backend: BackendId,
        /// Its name, for display (code refers to the backend by `backend`).
        name: String,
        /// What the backend compiles.
        spec: KernelSpec,
    },
    /// An explicit copy between devices (a `to_device` the graph says), which the runtime
    /// performs through the devices' memories; its byte count is the step's `bytes_read`.
    Transfer {
        /// Where the value is.
        from: Device,
        /// Where it goes (the step's `device`).
        to: Device,
    },
}

/// One step of a plan: a kernel or a transfer, with what it reads, writes and frees.
#[derive(Clone, Debug)]
pub struct PlanStep {
    /// Position in the plan.
    pub id: usize,
    /// A kernel on a backend, or a transfer.
    pub kind: StepKind,
    /// The device it runs on (for a transfer: the destination).
    pub device: Device,
    /// The graph nodes it computes, in order.
    pub nodes: Vec<NodeId>,
    /// The values it reads.
    pub inputs: Vec<ValueInfo>,
    /// The values it writes.
    pub outputs: Vec<ValueInfo>,
    /// Bytes read (each input once).
    pub bytes_read: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Estimated time in microseconds, from bytes moved at an assumed 10 GB/s.
    pub est_us: f64,
    /// Values no longer needed after this step; the executor frees them.
    pub frees_after: Vec<NodeId>,
    /// Why this backend was chosen.
    pub reason: String,
    /// How the backend will run it (vector width, chunking), if it says; for a transfer, the copy.
    pub how: Option<String>,
}

impl PlanStep {
    /// The backend of a kernel step.
    pub fn backend(&self) -> Option<BackendId> {
        match &self.kind {
            StepKind::Kernel { backend, .. } => Some(*backend),
            StepKind::Transfer { .. } => None,
        }
    }

    /// What the plan shows in its backend column: the backend's name, or `transfer`.
    pub fn label(&self) -> &str {
        match &self.kind {
            StepKind::Kernel { name, .. } => name,
            StepKind::Transfer { .. } => TRANSFER_LABEL,
        }
    }

    /// What a kernel step's backend compiles.
    pub fn spec(&self) -> Option<&KernelSpec> {
        match &self.kind {
            StepKind::Kernel { spec, .. } => Some(spec),
            StepKind::Transfer { .. } => None,
        }
    }

    /// A transfer step's devices, `(from, to)`.
    pub fn transfer(&self) -> Option<(Device, Device)> {
        match self.kind {
            StepKind::Transfer { from, to } => Some((from, to)),
            StepKind::Kernel { .. } => None,
        }
    }
}

/// The JSON form (an API boundary, fields only ever added): the fields above, with `backend`
/// the step's label, `transfer` a copy's `[from, to]` (else `null`), and, added with the typed
/// plan, `kind` (`"kernel"` or `"transfer"`) and `backend_id`.
impl serde::Serialize for PlanStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("PlanStep", 15)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("backend", self.label())?;
        st.serialize_field("device", &self.device)?;
        st.serialize_field("transfer", &self.transfer())?;
        st.serialize_field("nodes", &self.nodes)?;
        st.serialize_field("inputs", &self.inputs)?;
        st.serialize_field("outputs", &self.outputs)?;
        st.serialize_field("bytes_read", &self.bytes_read)?;
        st.serialize_field("bytes_written", &self.bytes_written)?;
        st.serialize_field("est_us", &self.est_us)?;
        st.serialize_field("frees_after", &self.frees_after)?;
        st.serialize_field("reason", &self.reason)?;
        st.serialize_field("how", &self.how)?;
        let kind = match self.kind {
            StepKind::Kernel { .. } => "kernel",
            StepKind::Transfer { .. } => "transfer",
        };
        st.serialize_field("kind", kind)?;
        st.serialize_field("backend_id", &self.backend())?;
        st.end()
    }
}

/// One node of the optimized graph, as the plan shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PlanNode {
    /// Its id.
    pub node: NodeId,
    /// The op's name.
    pub op: String,
    /// Its operands.
    pub inputs: Vec<NodeId>,
    /// Its dtype.
    pub dtype: DType,
    /// Its shape.
    pub shape: Shape,
    /// The printed form, `%3 = exp(%2) : f32[1024]`.
    pub text: String,
}

/// A graph input the executable takes: its declaration and where it is in the optimized graph.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PlanInput {
    /// The declaration (name, type, whether the outputs need it).
    #[serde(flatten)]
    pub decl: InputDecl,
    /// The input's node in the optimized graph (`None` when the optimizer removed every use).
    pub node: Option<NodeId>,
}

/// Everything that will run, where, in what order, and what it costs.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Plan {
    /// The op set the plan was built with.
    pub op_set_version: OpSetVersion,
    /// The device the plan targets.
    pub device: Device,
    /// The inputs, in declaration order.
    pub inputs: Vec<PlanInput>,
    /// The output values, in the order requested.
    pub outputs: Vec<ValueInfo>,
    /// Steps in execution order: kernels and explicit copies (`kernels` in the JSON).
    #[serde(rename = "kernels")]
    pub steps: Vec<PlanStep>,
    /// Where each node runs and why.
    pub placements: Vec<Placement>,
    /// The most bytes of intermediates and outputs alive at once.
    pub peak_memory_bytes: u64,
    /// What the optimizer did.
    pub optimizer: Report,
    /// The optimized graph, one entry per node in topological order.
    pub graph: Vec<PlanNode>,
    /// Node count of the optimized graph (sizes the executor's value table).
    pub node_count: usize,
    /// For nodes that compute nothing (same-device `to_device`), the node whose value they are.
    pub aliases: Vec<(NodeId, NodeId)>,
}

/// A request to plan: the optimized graph and what it came from.
#[derive(Clone, Debug)]
pub struct PlanRequest<'a> {
    /// The optimized graph.
    pub graph: &'a IrGraph,
    /// Its outputs.
    pub outputs: &'a [NodeId],
    /// The inputs the graph declares (as built, before optimization), each with whether
    /// the outputs depend on it.
    pub signature: &'a [InputDecl],
    /// The target device.
    pub device: Device,
    /// The optimizer's report.
    pub report: Report,
}

/// Places every node, makes one kernel per node that computes something, and schedules frees.
pub fn build_plan(req: PlanRequest<'_>, registry: &Registry) -> Result<Plan, LowerError> {
    let graph = req.graph;
    let placements = place(graph, req.device, registry)?;

    // A node that does no work is an alias of its operand's value.
    let mut value_of: Vec<NodeId> = (0..graph.len()).map(NodeId::from_index).collect();
    let mut aliases = Vec::new();
    for p in &placements {
        let node = graph.node(p.node);
        if p.runner == Runner::Nothing {
            if let (Op::ToDevice(_), Some(&src)) = (node.op(), node.inputs().first()) {
                value_of[p.node.index()] = value_of[src.index()];
                aliases.push((p.node, value_of[src.index()]));
            }
        }
    }
    let info = |id: NodeId| {
        let n = graph.node(id);
        ValueInfo { node: id, ty: n.ty().clone() }
    };

    let groups = group(graph, &placements, registry, req.outputs);
    let mut member_of: Vec<Option<usize>> = vec![None; graph.len()];
    for (k, g) in groups.iter().enumerate() {
        for &m in &g.members {
            member_of[m.index()] = Some(k);
        }
    }
    let is_output = |id: NodeId| req.outputs.iter().any(|&o| value_of[o.index()] == id);
    let mut kernels = Vec::new();
    for (k, g) in groups.iter().enumerate() {
        let mut inputs: Vec<NodeId> = Vec::new();
        let mut nodes: Vec<KernelNode> = Vec::new();
        let mut local: HashMap<NodeId, usize> = HashMap::new();
        let mut order: Vec<NodeId> = g.constants.iter().chain(&g.members).copied().collect();
        order.sort();
        for &id in &order {
            let node = graph.node(id);
            let mut operands = Vec::with_capacity(node.inputs().len());
            for &i in node.inputs() {
                let v = value_of[i.index()];
                let operand = match local.get(&v) {
                    Some(&j) => KernelOperand::Node(j),
                    None => {
                        let pos = inputs.iter().position(|&x| x == v).unwrap_or_else(|| {
                            inputs.push(v);
                            inputs.len() - 1
                        });
                        KernelOperand::Arg(pos)
                    }
                };
                operands.push(operand);
            }
            local.insert(id, nodes.len());
            nodes.push(KernelNode { op: node.op().clone(), operands, ty: node.ty().clone() });
        }
        // Members read by another kernel, or returned, are written out.
        let written: Vec<NodeId> = g
            .members
            .iter()
            .copied()
            .filter(|&m| is_output(m) || graph.users(m).iter().any(|u| member_of[u.index()] != Some(k)))
            .collect();
        let spec = KernelSpec {
            inputs: inputs.iter().map(|&i| graph.node(i).ty().clone()).collect(),
            outputs: written.iter().map(|w| local[w]).collect(),
            nodes,
        };
        let ins: Vec<ValueInfo> = inputs.iter().map(|&i| info(i)).collect();
        let outs: Vec<ValueInfo> = written.iter().map(|&w| info(w)).collect();
        let bytes_read = ins.iter().map(ValueInfo::bytes).fold(0u64, u64::saturating_add);
        let bytes_written = outs.iter().map(ValueInfo::bytes).fold(0u64, u64::saturating_add);
        let first = &placements[g.members[0].index()];
        let reason = first.reason.clone();
        let (kind, how) = match &g.runner {
            Runner::Backend { id, name } => {
                let how = registry.backend(*id).and_then(|b| b.describe_kernel(&spec));
                (StepKind::Kernel { backend: *id, name: name.clone(), spec }, how)
            }
            Runner::Transfer { from } => {
                let how = format!("copy {} {from} -> {}", crate::human_bytes(bytes_read), first.device);
                (StepKind::Transfer { from: *from, to: first.device }, Some(how))
            }
            // Fusion groups only nodes someone computes.
            Runner::Nothing => continue,
        };
        kernels.push(PlanStep {
            id: kernels.len(),
            kind,
            device: first.device,
            nodes: order,
            inputs: ins,
            outputs: outs,
            bytes_read,
            bytes_written,
            est_us: (bytes_read as f64 + bytes_written as f64) / 10_000.0,
            frees_after: Vec::new(),
            reason,
            how,
        });
    }

    let outputs: Vec<ValueInfo> = req.outputs.iter().map(|&o| info(value_of[o.index()])).collect();
    let peak = schedule_frees(graph, &mut kernels, &outputs);
    let inputs = req
        .signature
        .iter()
        .map(|decl| PlanInput { decl: decl.clone(), node: graph.input_named(&decl.name) })
        .collect();
    Ok(Plan {
        op_set_version: OP_SET_VERSION,
        device: req.device,
        inputs,
        outputs,
        steps: kernels,
        placements,
        peak_memory_bytes: peak,
        optimizer: req.report,
        graph: graph
            .nodes()
            .map(|(id, n)| PlanNode {
                node: id,
                op: n.op().name().to_string(),
                inputs: n.inputs().to_vec(),
                dtype: n.dtype(),
                shape: n.shape().clone(),
                text: graph.display_node(id).to_string(),
            })
            .collect(),
        node_count: graph.len(),
        aliases,
    })
}

/// Liveness: frees every kernel-produced value after its last reader (outputs are never
/// freed) and returns the peak bytes of kernel-produced values alive at once.
fn schedule_frees(graph: &IrGraph, kernels: &mut [PlanStep], outputs: &[ValueInfo]) -> u64 {
    let mut last_use: HashMap<NodeId, usize> = HashMap::new();
    let mut produced_at: HashMap<NodeId, usize> = HashMap::new();
    for k in kernels.iter() {
        for v in &k.outputs {
            produced_at.insert(v.node, k.id);
            last_use.insert(v.node, k.id);
        }
        for v in &k.inputs {
            last_use.insert(v.node, k.id);
        }
    }
    let is_output = |n: NodeId| outputs.iter().any(|o| o.node == n);
    for (&node, &last) in &last_use {
        if produced_at.contains_key(&node) && !is_output(node) {
            kernels[last].frees_after.push(node);
        }
    }
    // In u128: each buffer fits `isize` (the `Shape` invariant), but a few of them together
    // may exceed u64; the peak saturates at u64::MAX.
    let bytes = |n: NodeId| {
        let node = graph.node(n);
        node.shape().byte_len(node.dtype().size_bytes()) as u128
    };
    let (mut live, mut peak) = (0u128, 0u128);
    for k in kernels.iter_mut() {
        k.frees_after.sort();
        live += k.outputs.iter().map(|v| bytes(v.node)).sum::<u128>();
        peak = peak.max(live);
        live -= k.frees_after.iter().map(|&n| bytes(n)).sum::<u128>();
    }
    u64::try_from(peak).unwrap_or(u64::MAX)
}
