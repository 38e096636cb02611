//! Dead-code elimination: rebuild a graph with only the nodes the outputs reach.
//! Always safe: an unreachable node cannot affect an output.

use switchyard_ir::{IrError, IrGraph, NodeId};

use crate::const_fold::ConstFolder;
use crate::{Origins, Report};

/// Copies the reachable nodes into a new graph (ids renumbered, order kept), offering each
/// to `folder` first. Returns the new graph, the outputs' new ids and the origins: a copy
/// stands for the node it copies, a folded constant for the node whose value it is, and a
/// node that hash-consing made of several (equal once their operands were folded) for each.
pub fn rebuild(
    graph: &IrGraph,
    outputs: &[NodeId],
    folder: Option<&ConstFolder>,
    report: &mut Report,
) -> Result<(IrGraph, Vec<NodeId>, Origins), IrError> {
    if let Some(bad) = outputs.iter().find(|o| graph.get(**o).is_none()) {
        return Err(IrError::new(
            switchyard_ir::IrErrorKind::BadInput,
            "optimize",
            format!("output {bad} is not a node of this graph"),
        ));
    }
    let live = graph.reachable(outputs);
    let dropped = graph.len() - live.iter().filter(|&&b| b).count();
    if dropped > 0 {
        *report.rules.entry("dce".to_string()).or_insert(0) += dropped;
    }
    let mut new = IrGraph::new();
    let mut map: Vec<Option<NodeId>> = vec![None; graph.len()];
    let mut origins = Origins::default();
    for (id, node) in graph.nodes() {
        if !live[id.index()] {
            continue;
        }
        let inputs: Vec<NodeId> = node.inputs().iter().filter_map(|i| map[i.index()]).collect();
        let folded = match folder {
            Some(f) => f.fold(&new, node.op(), &inputs, node.ty(), report),
            None => None,
        };
        let new_id = match folded {
            Some(op) => new.add(op, &[])?,
            None => new.add(node.op().clone(), &inputs)?,
        };
        map[id.index()] = Some(new_id);
        origins.record(new_id, [id]);
    }
    let outs = outputs.iter().filter_map(|o| map[o.index()]).collect();
    Ok((new, outs, origins))
}
