//! Fusion: connected elementwise nodes placed on one fusing backend become one kernel.
//!
//! Rules (each keeps the kernel order a valid schedule):
//! - A node joins the group of one of its operands when both are elementwise, on the same
//!   backend, produce the same shape, and the group is below the backend's size limit.
//! - Every operand from outside the group must have a smaller id than the group's first node,
//!   so it is computed before the group runs and cannot depend on it (no cycles).
//! - A `full` constant used by a group is copied into it (no memory traffic); it is
//!   materialized as its own kernel only if something else needs it as a value.
//! - A member whose value is used outside its group, or is an output, is written out once.
//! - A reduction joins the group of its operand when every member of that group is needed
//!   only inside it (so nothing but the reduced value is written), and closes the group.
//!
//! Kernels run in order of their first node, which is a topological order under these rules.

use std::collections::HashSet;

use switchyard_ir::{Category, IrGraph, NodeId, Op};

use crate::placement::{Placement, Runner};
use crate::registry::Registry;

/// The nodes of one kernel: `members` compute values, `constants` are inlined `full` nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Who runs it (a backend, or the runtime for an explicit copy).
    pub runner: Runner,
    /// Ends in a reduction: nothing more may join.
    pub closed: bool,
    /// Computing nodes, in id order.
    pub members: Vec<NodeId>,
    /// Inlined constants, in id order.
    pub constants: Vec<NodeId>,
}

impl Group {
    /// An empty, open group run by `runner`.
    fn new(runner: Runner) -> Group {
        Group { runner, closed: false, members: Vec::new(), constants: Vec::new() }
    }
}

fn is_constant(graph: &IrGraph, id: NodeId) -> bool {
    matches!(graph.node(id).op(), Op::Full { .. })
}

/// Groups the placed nodes of `graph` into kernels, in execution order.
pub fn group(
    graph: &IrGraph,
    placements: &[Placement],
    registry: &Registry,
    outputs: &[NodeId],
) -> Vec<Group> {
    let n = graph.len();
    let backend_of = |id: NodeId| match &placements[id.index()].runner {
        Runner::Nothing => None,
        runner => Some(runner),
    };
    let limit = |runner: &Runner| {
        runner.backend().and_then(|b| registry.backend(b)).map_or(1, |b| b.max_fused_nodes().max(1))
    };
    let fusible = |id: NodeId| {
        let node = graph.node(id);
        node.op().info().category == Category::Elementwise && backend_of(id).is_some_and(|b| limit(b) > 1)
    };

    let mut group_of: Vec<Option<usize>> = vec![None; n];
    let mut groups: Vec<Group> = Vec::new();
    for (id, node) in graph.nodes() {
        let Some(backend) = backend_of(id) else { continue };
        if is_constant(graph, id)
            && graph.users(id).iter().all(|&u| fusible(u) && backend_of(u) == Some(backend))
        {
            // Only inlined into its users' groups (added below).
            continue;
        }
        let mut joined = None;
        let is_reduce = matches!(node.op(), Op::Reduce { .. });
        if is_reduce && backend_of(id).is_some_and(|b| limit(b) > 1) {
            if let Some(&op) = node.inputs().first() {
                if let Some(g) = group_of[op.index()] {
                    let grp = &groups[g];
                    let private = grp.members.iter().all(|&m| {
                        !outputs.contains(&m)
                            && graph.users(m).iter().all(|&u| u == id || group_of[u.index()] == Some(g))
                    });
                    let ok = !grp.closed
                        && grp.runner == *backend
                        && grp.members.len() < limit(backend)
                        && grp.members.iter().all(|&m| fusible(m))
                        && private;
                    if ok {
                        joined = Some(g);
                    }
                }
            }
        }
        if !is_reduce && fusible(id) {
            for &op in node.inputs() {
                let Some(g) = group_of[op.index()] else { continue };
                let grp = &groups[g];
                let first = grp.members[0];
                let ok = !grp.closed
                    && grp.runner == *backend
                    && grp.members.len() < limit(backend)
                    && fusible(op)
                    && graph.node(op).shape() == node.shape()
                    && node.inputs().iter().all(|&i| {
                        group_of[i.index()] == Some(g)
                            || i < first
                            || (is_constant(graph, i) && backend_of(i) == Some(backend))
                    });
                if ok {
                    joined = Some(g);
                    break;
                }
            }
        }
        let g = match joined {
            Some(g) => g,
            None => {
                groups.push(Group::new(backend.clone()));
                groups.len() - 1
            }
        };
        groups[g].members.push(id);
        groups[g].closed |= is_reduce;
        group_of[id.index()] = Some(g);
    }
    // Inline the constants each group reads.
    for grp in &mut groups {
        if grp.members.iter().all(|&m| !fusible(m)) {
            continue;
        }
        let mut consts: HashSet<NodeId> = HashSet::new();
        for &m in &grp.members {
            for &i in graph.node(m).inputs() {
                if is_constant(graph, i) && backend_of(i) == Some(&grp.runner) {
                    consts.insert(i);
                }
            }
        }
        grp.constants = consts.into_iter().collect();
        grp.constants.sort();
    }
    // A constant that was skipped above but is an output still needs its own kernel.
    for &o in outputs {
        if let (None, Some(b)) = (group_of[o.index()], backend_of(o)) {
            group_of[o.index()] = Some(groups.len());
            groups.push(Group { members: vec![o], ..Group::new(b.clone()) });
        }
    }
    groups.sort_by_key(|g| g.members[0]);
    groups
}
