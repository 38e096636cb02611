//! The graph: hash-consed, typed nodes stored on petgraph, always in topological order.

use std::collections::HashMap;
use std::fmt;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use smallvec::SmallVec;

use crate::error::{IrError, IrErrorKind as K};
use crate::op::Op;
use crate::typing::{infer, TensorType};
use crate::{DType, Shape};

/// The id of a node in one [`IrGraph`]. Ids grow in insertion order, which is a topological
/// order: a node's inputs always have smaller ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct NodeId(u32);

impl NodeId {
    /// The position of the node in insertion order.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The id of the node at position `index`. Only meaningful for a graph that has one.
    pub fn from_index(index: usize) -> NodeId {
        NodeId(index as u32)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// Inputs of a node, in operand order.
pub type NodeInputs = SmallVec<[NodeId; 3]>;

/// One node: an op applied to earlier nodes, with its inferred type. Immutable once added.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    op: Op,
    inputs: NodeInputs,
    ty: TensorType,
}

impl Node {
    /// The operation.
    pub fn op(&self) -> &Op {
        &self.op
    }

    /// The operands, in order.
    pub fn inputs(&self) -> &[NodeId] {
        &self.inputs
    }

    /// The inferred dtype and shape.
    pub fn ty(&self) -> &TensorType {
        &self.ty
    }

    /// The inferred dtype.
    pub fn dtype(&self) -> DType {
        self.ty.dtype
    }

    /// The inferred shape.
    pub fn shape(&self) -> &Shape {
        &self.ty.shape
    }
}

/// A typed, shape-checked graph of array operations.
///
/// Invariants: every node was type-checked by [`infer`] when added; identical
/// `(op, inputs)` pairs are one node (hash-consing); input names are unique.
#[derive(Clone, Default)]
pub struct IrGraph {
    graph: DiGraph<Node, u32, u32>,
    dedup: HashMap<(Op, NodeInputs), NodeId>,
    input_names: HashMap<String, NodeId>,
}

impl IrGraph {
    /// An empty graph.
    pub fn new() -> IrGraph {
        IrGraph::default()
    }

    /// Adds `op` applied to `inputs`, type-checking it; returns the existing node when an
    /// identical one is already present.
    pub fn add(&mut self, op: Op, inputs: &[NodeId]) -> Result<NodeId, IrError> {
        let key_inputs: NodeInputs = inputs.iter().copied().collect();
        if let Some(&id) = self.dedup.get(&(op.clone(), key_inputs.clone())) {
            return Ok(id);
        }
        let mut types: SmallVec<[&TensorType; 3]> = SmallVec::new();
        for &i in inputs {
            let node = self.graph.node_weight(NodeIndex::new(i.index())).ok_or_else(|| {
                IrError::new(K::BadInput, op.name(), format!("input {i} is not a node of this graph"))
            })?;
            types.push(&node.ty);
        }
        let ty = infer(&op, &types)?;
        drop(types);
        if let Op::Input { name, .. } = &op {
            if let Some(&prev) = self.input_names.get(name) {
                let prev_ty = &self.node(prev).ty;
                return Err(IrError::new(
                    K::InputRedeclared,
                    "input",
                    format!("input `{name}` is declared as {prev_ty} and again as {ty}"),
                )
                .with_hint("give each input one name and one type"));
            }
        }
        if self.graph.node_count() >= u32::MAX as usize - 1 {
            return Err(IrError::new(K::Overflow, op.name(), "graph has too many nodes"));
        }
        let idx = self.graph.add_node(Node { op: op.clone(), inputs: key_inputs.clone(), ty });
        let id = NodeId(idx.index() as u32);
        for (pos, &i) in inputs.iter().enumerate() {
            self.graph.add_edge(NodeIndex::new(i.index()), idx, pos as u32);
        }
        if let Op::Input { name, .. } = &op {
            self.input_names.insert(name.clone(), id);
        }
        self.dedup.insert((op, key_inputs), id);
        Ok(id)
    }

    /// The node with this id. Panics only if the id is not of this graph, which the frontend
    /// rules out (ids come from `add`).
    pub fn node(&self, id: NodeId) -> &Node {
        &self.graph[NodeIndex::new(id.index())]
    }

    /// The node with this id, or `None` if there is none.
    pub fn get(&self, id: NodeId) -> Option<&Node> {
        self.graph.node_weight(NodeIndex::new(id.index()))
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// True when the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Which nodes `outputs` depend on (themselves included), indexed by node id. Ids that
    /// name no node of this graph are ignored.
    pub fn reachable(&self, outputs: &[NodeId]) -> Vec<bool> {
        let mut live = vec![false; self.len()];
        let mut stack: Vec<NodeId> = outputs.to_vec();
        while let Some(id) = stack.pop() {
            if let Some(flag) = live.get_mut(id.index()) {
                if !*flag {
                    *flag = true;
                    stack.extend_from_slice(self.node(id).inputs());
                }
            }
        }
        live
    }

    /// All nodes in topological (insertion) order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.graph.node_indices().map(|i| (NodeId(i.index() as u32), &self.graph[i]))
    }

    /// The nodes that use `id` as an operand (each once, in id order).
    pub fn users(&self, id: NodeId) -> Vec<NodeId> {
        let mut users: Vec<NodeId> = self
            .graph
            .edges_directed(NodeIndex::new(id.index()), Direction::Outgoing)
            .map(|e| NodeId(e.target().index() as u32))
            .collect();
        users.sort();
        users.dedup();
        users
    }

    /// The input node declared under `name`.
    pub fn input_named(&self, name: &str) -> Option<NodeId> {
        self.input_names.get(name).copied()
    }

    /// All input nodes, in declaration order.
    pub fn inputs(&self) -> Vec<NodeId> {
        let mut ids: Vec<NodeId> = self.input_names.values().copied().collect();
        ids.sort();
        ids
    }

    /// Re-checks every invariant: types re-inferred from inputs, inputs earlier than their
    /// users, edges matching operands. For tests and for passes that build graphs.
    pub fn validate(&self) -> Result<(), IrError> {
        for (id, node) in self.nodes() {
            let mut types = Vec::with_capacity(node.inputs.len());
            for &i in node.inputs.iter() {
                if i >= id {
                    return Err(IrError::new(
                        K::BadInput,
                        node.op.name(),
                        format!("{id} uses later node {i}"),
                    ));
                }
                types.push(&self.node(i).ty);
            }
            let ty = infer(&node.op, &types)?;
            if ty != node.ty {
                return Err(IrError::new(
                    K::BadInput,
                    node.op.name(),
                    format!("{id} is recorded as {} but infers as {ty}", node.ty),
                ));
            }
            let edges = self.graph.edges_directed(NodeIndex::new(id.index()), Direction::Incoming).count();
            if edges != node.inputs.len() {
                return Err(IrError::new(K::BadInput, node.op.name(), format!("{id} has {edges} edges")));
            }
        }
        Ok(())
    }

    /// Formats one node as `%3 = exp(%2) : f32[1024]`.
    pub fn fmt_node(&self, id: NodeId, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let node = self.node(id);
        write!(f, "{id} = {}(", node.op.name())?;
        let mut first = true;
        for i in node.inputs.iter() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{i}")?;
        }
        let mut attrs = String::new();
        {
            use fmt::Write;
            let _ = write!(attrs, "{}", OpAttrs(&node.op));
        }
        if !attrs.is_empty() {
            if !first {
                f.write_str(", ")?;
            }
            f.write_str(&attrs)?;
        }
        write!(f, ") : {}", node.ty)
    }

    /// A printable view of one node.
    pub fn display_node(&self, id: NodeId) -> impl fmt::Display + '_ {
        NodeDisplay { graph: self, id }
    }
}

struct OpAttrs<'a>(&'a Op);

impl fmt::Display for OpAttrs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_attrs(f)
    }
}

struct NodeDisplay<'a> {
    graph: &'a IrGraph,
    id: NodeId,
}

impl fmt::Display for NodeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.graph.fmt_node(self.id, f)
    }
}

/// One line per node, in topological order.
impl fmt::Display for IrGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (id, _) in self.nodes() {
            self.fmt_node(id, f)?;
            f.write_str("\n")?;
        }
        Ok(())
    }
}

impl fmt::Debug for IrGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{BinaryOp, ReduceOp, UnaryOp};
    use crate::Scalar;
    use expect_test::expect;

    fn input(g: &mut IrGraph, name: &str, dims: &[usize]) -> NodeId {
        g.add(Op::Input { name: name.into(), dtype: DType::F32, shape: Shape::new(dims).unwrap() }, &[])
            .unwrap()
    }

    #[test]
    fn identical_nodes_are_hash_consed() {
        let mut g = IrGraph::new();
        let x = input(&mut g, "x", &[4]);
        let a = g.add(Op::Unary(UnaryOp::Exp), &[x]).unwrap();
        let b = g.add(Op::Unary(UnaryOp::Exp), &[x]).unwrap();
        assert_eq!(a, b);
        let c1 = g.add(Op::Full { value: Scalar::F32(0.0), shape: Shape::scalar() }, &[]).unwrap();
        let c2 = g.add(Op::Full { value: Scalar::F32(-0.0), shape: Shape::scalar() }, &[]).unwrap();
        assert_ne!(c1, c2, "-0.0 and 0.0 are different constants");
        assert_eq!(g.len(), 4);
        assert_eq!(g.users(x), vec![a]);
        assert_eq!(input(&mut g, "x", &[4]), x, "the same declaration is the same node");
    }

    #[test]
    fn reachable_marks_what_the_outputs_depend_on() {
        let mut g = IrGraph::new();
        let x = input(&mut g, "x", &[4]);
        let y = input(&mut g, "y", &[4]);
        let e = g.add(Op::Unary(UnaryOp::Exp), &[x]).unwrap();
        let unused = g.add(Op::Unary(UnaryOp::Neg), &[y]).unwrap();
        assert_eq!(g.reachable(&[e]), vec![true, false, true, false]);
        assert_eq!(g.reachable(&[e, unused]), vec![true; 4]);
        assert_eq!(g.reachable(&[NodeId(99)]), vec![false; 4], "foreign ids are ignored");
    }

    #[test]
    fn an_input_redeclared_with_another_type_is_refused() {
        let mut g = IrGraph::new();
        input(&mut g, "x", &[4]);
        let e = g
            .add(Op::Input { name: "x".into(), dtype: DType::F64, shape: Shape::vector(4) }, &[])
            .unwrap_err();
        assert_eq!(e.kind(), K::InputRedeclared);
        assert!(e.to_string().contains("f32[4]") && e.to_string().contains("f64[4]"), "{e}");
    }

    #[test]
    fn bad_inputs_and_eager_ops_are_refused() {
        let mut g = IrGraph::new();
        let x = input(&mut g, "x", &[4]);
        assert_eq!(g.add(Op::Unary(UnaryOp::Exp), &[NodeId(9)]).unwrap_err().kind(), K::BadInput);
        assert_eq!(g.add(Op::Binary(BinaryOp::Add), &[x]).unwrap_err().kind(), K::BadInput);
        let e = g.add(Op::UniqueValues, &[x]).unwrap_err();
        assert_eq!(e.kind(), K::NotLazy);
        assert!(e.hint().is_some_and(|h| h.contains("eagerly")));
        assert_eq!(g.len(), 1, "failed adds leave no trace");
    }

    #[test]
    fn validation_accepts_what_add_built_and_printing_is_one_line_per_node() {
        let mut g = IrGraph::new();
        let x = input(&mut g, "x", &[2, 3]);
        let e = g.add(Op::Unary(UnaryOp::Exp), &[x]).unwrap();
        let s = g
            .add(
                Op::Reduce {
                    op: ReduceOp::Sum,
                    axes: smallvec::smallvec![1],
                    keepdims: false,
                    correction: 0,
                },
                &[e],
            )
            .unwrap();
        g.add(Op::Cast(DType::F64), &[s]).unwrap();
        g.validate().unwrap();
        expect![[r#"
            %0 = input("x") : f32[2,3]
            %1 = exp(%0) : f32[2,3]
            %2 = sum(%1, axes=[1]) : f32[2]
            %3 = cast(%2, dtype=f64) : f64[2]
        "#]]
        .assert_eq(&g.to_string());
    }
}
