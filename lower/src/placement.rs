//! Placement: which device every node runs on, and which backend of that device runs it.
//! Devices change only at `to_device`; a backend is chosen by override, then priority.

use switchyard_ir::{Category, Device, DeviceKind, IrGraph, NodeId, Op, TensorType};

use crate::backend::{Backend, NodeQuery, Support};
use crate::error::{LowerError, LowerErrorKind};
use crate::registry::{BackendId, Registry};

/// What a plan's text and JSON show in the backend column of an explicit copy. A label only:
/// a step is a transfer because its [`Runner`] says so, and a backend may have any name.
pub const TRANSFER_LABEL: &str = "transfer";

/// Who computes a placed node.
#[derive(Clone, Debug, PartialEq)]
pub enum Runner {
    /// Nobody: an input, or a `to_device` to the device its operand is already on.
    Nothing,
    /// The runtime, as an explicit copy from `from` (a `to_device` between two devices).
    Transfer {
        /// The device the operand is on.
        from: Device,
    },
    /// A kernel of this backend.
    Backend {
        /// The backend, in the registry placement used.
        id: BackendId,
        /// Its name (for display; code looks backends up by `id`).
        name: String,
    },
}

impl Runner {
    /// The backend, for a node a backend runs.
    pub fn backend(&self) -> Option<BackendId> {
        match self {
            Runner::Backend { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The name the plan shows: the backend's, [`TRANSFER_LABEL`] for a copy, none for no work.
    pub fn label(&self) -> Option<&str> {
        match self {
            Runner::Nothing => None,
            Runner::Transfer { .. } => Some(TRANSFER_LABEL),
            Runner::Backend { name, .. } => Some(name),
        }
    }
}

/// Where one node runs and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    /// The node.
    pub node: NodeId,
    /// The device it runs on.
    pub device: Device,
    /// Who computes it.
    pub runner: Runner,
    /// Why that backend: "override", "priority N", or what was skipped and why.
    pub reason: String,
}

/// The JSON form (an API boundary, fields only ever added): `backend` is the runner's label
/// (`null` for no work), `backend_id` its registry position, `transfer_from` a copy's source.
impl serde::Serialize for Placement {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Placement", 6)?;
        st.serialize_field("node", &self.node)?;
        st.serialize_field("device", &self.device)?;
        st.serialize_field("backend", &self.runner.label())?;
        st.serialize_field("reason", &self.reason)?;
        st.serialize_field("backend_id", &self.runner.backend())?;
        let from = match self.runner {
            Runner::Transfer { from } => Some(from),
            _ => None,
        };
        st.serialize_field("transfer_from", &from)?;
        st.end()
    }
}

/// Assigns every node of `graph` a device and a backend for a plan on `target`.
pub fn place(graph: &IrGraph, target: Device, registry: &Registry) -> Result<Vec<Placement>, LowerError> {
    check_listed(target, registry)?;
    let devices = assign_devices(graph, target)?;
    let mut out = Vec::with_capacity(graph.len());
    for (id, node) in graph.nodes() {
        let device = devices[id.index()];
        let op = node.op();
        let no_work = match op {
            Op::Input { .. } => true,
            Op::ToDevice(_) => node.inputs().first().map(|i| devices[i.index()]) == Some(device),
            _ => false,
        };
        if no_work {
            out.push(Placement { node: id, device, runner: Runner::Nothing, reason: "no work".into() });
            continue;
        }
        if let (Op::ToDevice(_), Some(src)) = (op, node.inputs().first()) {
            // A real transfer: the runtime copies, explicitly, because the graph says so.
            let from = devices[src.index()];
            for d in [from, device] {
                if d.kind != DeviceKind::Cpu && registry.for_device(d.kind).is_empty() {
                    return Err(LowerError::new(
                        LowerErrorKind::Transfer,
                        format!(
                            "node {} moves data from `{from}` to `{device}`, but no backend drives `{d}`",
                            graph.display_node(id)
                        ),
                    )
                    .at_node(id));
                }
            }
            out.push(Placement {
                node: id,
                device,
                runner: Runner::Transfer { from },
                reason: format!("to_device: explicit copy {from} -> {device}"),
            });
            continue;
        }
        let inputs: Vec<TensorType> = node.inputs().iter().map(|i| graph.node(*i).ty().clone()).collect();
        let query = NodeQuery { op, inputs: &inputs, output: node.ty() };
        let (runner, reason) = choose_backend(graph, id, device, &query, registry)?;
        out.push(Placement { node: id, device, runner, reason });
    }
    Ok(out)
}

/// A device other than the host must be one that its backends list, when they list any
/// (backends that do not enumerate devices are taken at their word).
fn check_listed(target: Device, registry: &Registry) -> Result<(), LowerError> {
    if target.kind == DeviceKind::Cpu {
        return Ok(());
    }
    let listed: Vec<Device> =
        registry.for_device(target.kind).iter().flat_map(|b| b.devices()).map(|d| d.device).collect();
    if listed.is_empty() || listed.contains(&target) {
        return Ok(());
    }
    let names: Vec<String> = listed.iter().map(|d| format!("`{d}`")).collect();
    Err(LowerError::new(
        LowerErrorKind::UnknownDevice,
        format!("device `{target}` is not available; {} devices here: {}", target.kind, names.join(", ")),
    ))
}

fn choose_backend(
    graph: &IrGraph,
    id: NodeId,
    device: Device,
    query: &NodeQuery<'_>,
    registry: &Registry,
) -> Result<(Runner, String), LowerError> {
    let candidates = registry.ids_for_device(device.kind);
    if candidates.is_empty() {
        return Err(LowerError::new(
            LowerErrorKind::UnknownDevice,
            format!(
                "device `{device}` is not available: no backend is registered for {} devices",
                device.kind
            ),
        ));
    }
    let mut skipped: Vec<String> = Vec::new();
    let runner = |id: BackendId, b: &dyn Backend| Runner::Backend { id, name: b.name().to_string() };
    if let Some(ov) = registry.override_for(query.op.name()) {
        if let Some(b) = registry.backend(ov.backend).filter(|b| b.device_kind() == device.kind) {
            match knows_then_supports(b.as_ref(), query) {
                Support::Yes => {
                    return Ok((runner(ov.backend, b.as_ref()), format!("override for `{}`", ov.op)))
                }
                Support::No(why) => skipped.push(format!("override {}: {why}", b.name())),
            }
        }
    }
    for (id, b) in &candidates {
        match knows_then_supports(b.as_ref(), query) {
            Support::Yes => {
                let mut reason = format!("priority {}", b.priority());
                if !skipped.is_empty() {
                    reason.push_str(&format!(" (skipped {})", skipped.join("; ")));
                }
                return Ok((runner(*id, b.as_ref()), reason));
            }
            Support::No(why) => skipped.push(format!("{}: {why}", b.name())),
        }
    }
    // The fix, where a backend of another device kind could run the node: never a silent
    // copy, but the explicit transfer the graph would need.
    let elsewhere: Vec<String> = registry
        .backends()
        .iter()
        .filter(|b| b.device_kind() != device.kind && knows_then_supports(b.as_ref(), query).is_yes())
        .map(|b| format!("`{}` ({} device)", b.name(), b.device_kind()))
        .collect();
    let fix = match elsewhere.len() {
        0 => String::new(),
        n => format!(
            "\n  fix: {} {} it; move its operands there with `to_device` (and the result back), \
             or plan for that device",
            elsewhere.join(", "),
            if n == 1 { "supports" } else { "support" }
        ),
    };
    Err(LowerError::new(
        LowerErrorKind::NoBackend,
        format!(
            "no backend of device `{device}` supports node {}\n  {}{fix}",
            graph.display_node(id),
            skipped.join("\n  ")
        ),
    )
    .at_node(id))
}

/// A backend's answer, unless it was built for an op set older than the op: then it is not
/// asked (it cannot know what the op means).
fn knows_then_supports(backend: &dyn Backend, query: &NodeQuery<'_>) -> Support {
    let (built, since) = (backend.op_set_version(), query.op.since());
    if !built.knows(since) {
        return Support::no(format!(
            "built for op set {built}; `{}` arrived in op set {since}",
            query.op.name()
        ));
    }
    backend.supports(query)
}

/// The device of every node: inputs on the target, `to_device` on its argument, anything
/// else on the device of its operands, which must agree. Constants (sources without
/// operands) go where their users are.
fn assign_devices(graph: &IrGraph, target: Device) -> Result<Vec<Device>, LowerError> {
    let n = graph.len();
    let mut devices: Vec<Option<Device>> = vec![None; n];
    let is_constant = |id: NodeId| {
        let node = graph.node(id);
        node.op().info().category == Category::Source && !matches!(node.op(), Op::Input { .. })
    };
    for (id, node) in graph.nodes() {
        let device = match node.op() {
            Op::Input { .. } => Some(target),
            Op::ToDevice(d) => Some(*d),
            _ if is_constant(id) => None,
            _ => {
                let mut dev: Option<(Device, NodeId)> = None;
                for &i in node.inputs() {
                    let Some(d) = devices[i.index()] else { continue };
                    match dev {
                        None => dev = Some((d, i)),
                        Some((prev, from)) if prev != d => {
                            return Err(LowerError::new(
                                LowerErrorKind::DeviceBoundary,
                                format!(
                                    "node {} mixes operands on `{prev}` ({from}) and `{d}` ({i}); \
                                     data never moves between devices implicitly\n  \
                                     hint: add to_device(..., {prev}) or to_device(..., {d}) to say where it runs",
                                    graph.display_node(id)
                                ),
                            )
                            .at_node(id))
                        }
                        Some(_) => {}
                    }
                }
                Some(dev.map_or(target, |(d, _)| d))
            }
        };
        devices[id.index()] = device;
    }
    // Constants take the device of their users (constant-only subgraphs: the target).
    for (id, _) in graph.nodes().collect::<Vec<_>>().into_iter().rev() {
        if devices[id.index()].is_none() {
            let user_dev = graph.users(id).iter().find_map(|u| devices[u.index()]);
            devices[id.index()] = Some(user_dev.unwrap_or(target));
        }
    }
    Ok(devices.into_iter().map(|d| d.unwrap_or(target)).collect())
}
