//! Extraction of a DAG from the e-graph, keeping sharing across several roots.
//!
//! egg's `Extractor::find_best` builds one tree per root (shared subterms are copied) and
//! sums costs over trees (shared subterms counted once per use, which overflows on big
//! DAGs). Here instead:
//! 1. classes are settled cheapest-first (Knuth's generalization of Dijkstra to the
//!    e-graph's hyper-edges): a class settles once one of its e-nodes has all operands
//!    settled. The settle order is acyclic by construction.
//! 2. in that order each class picks, among its e-nodes whose operands settled earlier, the
//!    one with the lowest *amortized* cost: its own cost plus each operand's cost divided by
//!    the operand's number of users, so a value that is computed anyway looks cheap to share.
//! 3. the classes the roots need are emitted once each, in settle order, through
//!    [`IrGraph::add`], which re-infers and checks every node's type. Each class is returned
//!    with the node it became: what that node stands for.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use egg::Id;
use smallvec::SmallVec;
use switchyard_ir::{IrError, IrErrorKind, IrGraph, NodeId, TensorType};

use super::analysis::SyGraph;
use super::cost::CostModel;

/// An f64 ordered by `total_cmp`, for the heap.
#[derive(Clone, Copy, PartialEq)]
struct Cost(f64);

impl Eq for Cost {}

impl PartialOrd for Cost {
    fn partial_cmp(&self, other: &Cost) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cost {
    fn cmp(&self, other: &Cost) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// One e-node, flattened: its class and distinct operand classes as dense indices.
struct Rec {
    class: usize,
    own: f64,
    children: SmallVec<[usize; 3]>,
}

fn internal(message: String) -> IrError {
    IrError::new(IrErrorKind::BadInput, "optimize", message)
}

/// A DAG taken out of the e-graph by [`extract`].
#[derive(Clone, Debug)]
pub struct Extracted {
    /// The new graph.
    pub graph: IrGraph,
    /// The roots' node ids in it, in the order of the roots.
    pub outputs: Vec<NodeId>,
    /// Each extracted e-class (its canonical id) with the node it became, in the order the
    /// nodes were added: the node stands for what the class holds.
    pub emitted: Vec<(Id, NodeId)>,
}

/// Extracts the cheapest DAG computing `roots` from `egraph` under `model`.
pub fn extract(egraph: &SyGraph, roots: &[Id], model: &dyn CostModel) -> Result<Extracted, IrError> {
    // Dense class indices.
    let mut class_ids: Vec<Id> = egraph.classes().map(|c| c.id).collect();
    class_ids.sort();
    let index_of = |id: Id| class_ids.binary_search(&egraph.find(id)).ok();
    let n = class_ids.len();

    // Flatten e-nodes and their costs.
    let mut recs: Vec<Rec> = Vec::new();
    let mut class_nodes: Vec<SmallVec<[usize; 2]>> = vec![SmallVec::new(); n];
    for (ci, &cid) in class_ids.iter().enumerate() {
        let class = &egraph[cid];
        for node in &class.nodes {
            let mut children: SmallVec<[usize; 3]> = SmallVec::new();
            let mut types: SmallVec<[&TensorType; 3]> = SmallVec::new();
            for &c in node.children.iter() {
                let k = index_of(c).ok_or_else(|| internal(format!("e-class {c} is missing")))?;
                types.push(&egraph[c].data.ty);
                if !children.contains(&k) {
                    children.push(k);
                }
            }
            let own = model.node_cost(&node.op, &class.data.ty, &types);
            let own = if own.is_finite() && own >= 0.0 { own } else { f64::MAX / 4.0 };
            class_nodes[ci].push(recs.len());
            recs.push(Rec { class: ci, own, children });
        }
    }

    // Users of each class, and the e-nodes waiting on it.
    let mut waiting: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (ri, rec) in recs.iter().enumerate() {
        for &c in &rec.children {
            waiting[c].push(ri);
        }
    }

    // 1. Settle classes cheapest-first (tree cost, only used for the order).
    let mut remaining: Vec<usize> = recs.iter().map(|r| r.children.len()).collect();
    let mut tree = vec![f64::INFINITY; n];
    let mut rank = vec![usize::MAX; n];
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut heap: BinaryHeap<Reverse<(Cost, usize)>> = BinaryHeap::new();
    for (ri, rec) in recs.iter().enumerate() {
        if rec.children.is_empty() {
            heap.push(Reverse((Cost(rec.own), ri)));
        }
    }
    while let Some(Reverse((Cost(cost), ri))) = heap.pop() {
        let c = recs[ri].class;
        if rank[c] != usize::MAX {
            continue;
        }
        rank[c] = order.len();
        order.push(c);
        tree[c] = cost;
        for &p in &waiting[c] {
            remaining[p] -= 1;
            if remaining[p] == 0 {
                let rec = &recs[p];
                let total = rec.children.iter().fold(rec.own, |acc, &k| acc + tree[k]);
                heap.push(Reverse((Cost(total), p)));
            }
        }
    }

    // 2. Amortized best e-node per class, in settle order.
    let mut amortized = vec![f64::INFINITY; n];
    let mut best = vec![usize::MAX; n];
    for &c in &order {
        let mut choice: Option<(f64, f64, usize)> = None;
        for &ri in &class_nodes[c] {
            let rec = &recs[ri];
            if rec.children.iter().any(|&k| rank[k] >= rank[c]) {
                continue;
            }
            let cost = rec
                .children
                .iter()
                .fold(rec.own, |acc, &k| acc + amortized[k] / waiting[k].len().max(1) as f64);
            let better = match choice {
                None => true,
                Some((bc, bo, _)) => match cost.total_cmp(&bc) {
                    Ordering::Less => true,
                    Ordering::Equal => rec.own < bo,
                    Ordering::Greater => false,
                },
            };
            if better {
                choice = Some((cost, rec.own, ri));
            }
        }
        if let Some((cost, _, ri)) = choice {
            amortized[c] = cost;
            best[c] = ri;
        }
    }

    // 3. Emit what the roots need, in settle order.
    let root_idx: Vec<usize> = roots
        .iter()
        .map(|&r| index_of(r).ok_or_else(|| internal(format!("root e-class {r} is missing"))))
        .collect::<Result<_, _>>()?;
    let mut needed = vec![false; n];
    let mut stack: Vec<usize> = root_idx.clone();
    while let Some(c) = stack.pop() {
        if needed[c] {
            continue;
        }
        needed[c] = true;
        let ri = best[c];
        if ri == usize::MAX {
            return Err(internal(format!("e-class {} has no extractable e-node", class_ids[c])));
        }
        stack.extend(recs[ri].children.iter().copied());
    }
    let mut graph = IrGraph::new();
    let mut node_of: Vec<Option<NodeId>> = vec![None; n];
    let mut emitted: Vec<(Id, NodeId)> = Vec::new();
    for &c in &order {
        if !needed[c] {
            continue;
        }
        let node =
            &egraph[class_ids[c]].nodes[class_nodes[c].iter().position(|&r| r == best[c]).unwrap_or(0)];
        let mut inputs: SmallVec<[NodeId; 3]> = SmallVec::new();
        for &child in node.children.iter() {
            let k = index_of(child).ok_or_else(|| internal(format!("e-class {child} is missing")))?;
            inputs.push(node_of[k].ok_or_else(|| internal(format!("operand {child} not emitted first")))?);
        }
        let id = graph.add(node.op.clone(), &inputs)?;
        emitted.push((class_ids[c], id));
        node_of[c] = Some(id);
    }
    let outputs = root_idx
        .iter()
        .map(|&c| node_of[c].ok_or_else(|| internal("a root was not emitted".to_string())))
        .collect::<Result<_, _>>()?;
    Ok(Extracted { graph, outputs, emitted })
}
