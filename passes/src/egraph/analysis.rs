//! The e-class analysis: every e-class knows its dtype and shape (inferred by
//! [`switchyard_ir::infer`], the IR's own typing rules) and, when all its elements are one
//! known value, that value. Classes with a known value are folded to a `full` constant and
//! pruned to it, which keeps constant arithmetic from growing the e-graph.

use egg::{Analysis, DidMerge, EGraph, Id};
use smallvec::SmallVec;
use switchyard_ir::{infer, DType, Op, Scalar, Shape, TensorType};

use super::lang::SyNode;
use crate::const_fold::fold_values;

/// The e-graph type of the optimizer.
pub type SyGraph = EGraph<SyNode, TypeAnalysis>;

/// What is known about an e-class.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    /// The dtype and shape every e-node of the class has.
    pub ty: TensorType,
    /// The value of every element, when the class is a constant.
    pub value: Option<Scalar>,
}

/// The analysis state: whether to fold, what folding did, and whether anything went wrong.
#[derive(Debug, Default)]
pub struct TypeAnalysis {
    /// Fold classes whose operands are constants (otherwise only `full` nodes have values).
    pub fold: bool,
    /// Fast-math rules are on: they may equate different constants (`x * 0` with `-0.0`),
    /// so merging two values is not an inconsistency (one is kept).
    pub fast_math: bool,
    /// Constants created by folding inside the e-graph.
    pub folded: usize,
    /// The first inconsistency seen (an ill-typed e-node, or two classes with different
    /// types or values merged): a rule is wrong, and the e-graph's result must not be used.
    pub conflict: Option<String>,
    /// Rule results refused because their type differed from the matched class's (a rule
    /// bug caught before it could do harm).
    pub rejected: usize,
}

impl TypeAnalysis {
    /// An analysis that folds constants when `fold` is true.
    pub fn new(fold: bool) -> TypeAnalysis {
        TypeAnalysis { fold, ..TypeAnalysis::default() }
    }
}

fn same_value(a: Scalar, b: Scalar) -> bool {
    let nan = |s: Scalar| s.dtype().is_float() && s.to_f64().is_nan();
    a == b || (a.dtype() == b.dtype() && nan(a) && nan(b))
}

impl Analysis<SyNode> for TypeAnalysis {
    type Data = Facts;

    fn make(egraph: &mut SyGraph, enode: &SyNode, _id: Id) -> Facts {
        let (ty, value) = {
            let data: SmallVec<[&Facts; 3]> = enode.children.iter().map(|&c| &egraph[c].data).collect();
            let types: SmallVec<[&TensorType; 3]> = data.iter().map(|d| &d.ty).collect();
            let ty = infer(&enode.op, &types);
            let value = match (&enode.op, &ty) {
                (Op::Full { value, .. }, _) => Some(*value),
                (_, Ok(ty)) if egraph.analysis.fold && !data.is_empty() => {
                    let values: Option<SmallVec<[Scalar; 3]>> = data.iter().map(|d| d.value).collect();
                    values.and_then(|v| fold_values(&enode.op, &v, &types, ty))
                }
                _ => None,
            };
            (ty, value)
        };
        match ty {
            Ok(ty) => Facts { ty, value },
            Err(e) => {
                egraph.analysis.conflict.get_or_insert_with(|| format!("ill-typed e-node {enode}: {e}"));
                Facts { ty: TensorType { dtype: DType::Bool, shape: Shape::scalar() }, value: None }
            }
        }
    }

    fn merge(&mut self, a: &mut Facts, b: Facts) -> DidMerge {
        if a.ty != b.ty {
            self.conflict.get_or_insert_with(|| format!("merged classes of types {} and {}", a.ty, b.ty));
        }
        let a_changed = match (a.value, b.value) {
            (None, Some(v)) => {
                a.value = Some(v);
                true
            }
            (Some(x), Some(y)) if !same_value(x, y) && !self.fast_math => {
                self.conflict.get_or_insert_with(|| format!("merged constants {x} and {y}"));
                false
            }
            _ => false,
        };
        let b_changed = a.value.is_some() && b.value.is_none();
        DidMerge(a_changed, b_changed)
    }

    fn modify(egraph: &mut SyGraph, id: Id) {
        let (value, shape) = match &egraph[id].data {
            Facts { value: Some(v), ty } => (*v, ty.shape.clone()),
            _ => return,
        };
        let node = SyNode::leaf(Op::Full { value, shape });
        if egraph.lookup(node.clone()).is_none() {
            egraph.analysis.folded += 1;
        }
        let c = egraph.add(node);
        egraph.union(id, c);
        // The class is that constant; its other e-nodes can only cost more.
        egraph[id].nodes.retain(|n| n.children.is_empty());
    }
}
