//! Origins: for each node of an optimized graph, the nodes of the input graph it stands for.
//! The optimizer renumbers nodes; this is how it says which old node a new one is.
//!
//! Each stage records its own origins (a copy stands for the node it copies, a folded
//! constant for the node whose value it is, an extracted e-node for the original nodes of its
//! e-class), and `Origins::then` chains the stages, so the pipeline's result is in terms of
//! the graph the caller gave.

use smallvec::SmallVec;
use switchyard_ir::NodeId;

/// For every node of an optimized graph (indexed by its id), the nodes of the input graph
/// whose value it computes: sorted by id, without repeats.
///
/// Usually one node. Several when the optimizer proved input nodes equal (`x * 1` and `x`,
/// common subexpressions): the node stands for each. None when a rewrite created a value that
/// no input node computes (the `0.25` of `x / 4 -> x * 0.25`, the inner product of a
/// reassociation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origins {
    of: Vec<SmallVec<[NodeId; 1]>>,
}

impl Origins {
    /// The origins of a graph of `len` nodes that a stage left as it was: each is itself.
    pub(crate) fn identity(len: usize) -> Origins {
        Origins { of: (0..len).map(|i| SmallVec::from_elem(NodeId::from_index(i), 1)).collect() }
    }

    /// Records that node `id` of the graph being built stands for `sources` as well: the next
    /// id starts an entry, an id already recorded (hash-consing handed back a node built
    /// before) gains the sources. Ids are recorded in the order the graph assigns them.
    pub(crate) fn record(&mut self, id: NodeId, sources: impl IntoIterator<Item = NodeId>) {
        if id.index() >= self.of.len() {
            self.of.resize(id.index() + 1, SmallVec::new());
        }
        let entry = &mut self.of[id.index()];
        entry.extend(sources);
        entry.sort_unstable();
        entry.dedup();
    }

    /// The origins through two stages: `self` describes a stage's output in terms of its
    /// input, `later` the next stage's output in terms of this stage's output.
    pub(crate) fn then(&self, later: &Origins) -> Origins {
        let mut out = Origins { of: Vec::with_capacity(later.len()) };
        for (id, mid) in later.iter() {
            out.record(id, mid.iter().flat_map(|&m| self.of(m).iter().copied()));
        }
        out
    }

    /// The input nodes that node `id` of the optimized graph stands for; empty when it stands
    /// for none, or when `id` is not a node of the optimized graph.
    pub fn of(&self, id: NodeId) -> &[NodeId] {
        self.of.get(id.index()).map_or(&[], |o| o.as_slice())
    }

    /// How many nodes the optimized graph has.
    pub fn len(&self) -> usize {
        self.of.len()
    }

    /// True for an empty optimized graph.
    pub fn is_empty(&self) -> bool {
        self.of.is_empty()
    }

    /// Every node of the optimized graph, in id order, with its origins.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, &[NodeId])> + '_ {
        self.of.iter().enumerate().map(|(i, o)| (NodeId::from_index(i), o.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(ix: &[usize]) -> Vec<NodeId> {
        ix.iter().map(|&i| NodeId::from_index(i)).collect()
    }

    #[test]
    fn recording_merges_sorts_and_chains() {
        let mut first = Origins::default();
        first.record(NodeId::from_index(0), ids(&[3]));
        first.record(NodeId::from_index(1), ids(&[5, 1]));
        first.record(NodeId::from_index(1), ids(&[4, 1]));
        assert_eq!(first.of(NodeId::from_index(1)), ids(&[1, 4, 5]).as_slice());
        assert_eq!(first.of(NodeId::from_index(2)), &[] as &[NodeId]);

        let mut second = Origins::default();
        second.record(NodeId::from_index(0), ids(&[1, 0]));
        second.record(NodeId::from_index(1), []);
        let chained = first.then(&second);
        assert_eq!(chained.len(), 2);
        assert_eq!(chained.of(NodeId::from_index(0)), ids(&[1, 3, 4, 5]).as_slice());
        assert!(chained.of(NodeId::from_index(1)).is_empty());
        assert_eq!(Origins::identity(6).then(&chained), chained);
        assert_eq!(chained.then(&Origins::identity(2)), chained);
    }
}
