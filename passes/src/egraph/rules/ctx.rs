//! What a rule sees and may do: read the analysis facts of e-classes, look at their e-nodes,
//! and add new e-nodes, each type-checked before it enters the e-graph.

use egg::Id;
use smallvec::SmallVec;
use switchyard_ir::{infer, BinaryOp, DType, Op, Scalar, Shape, TensorType, UnaryOp};

use crate::egraph::analysis::SyGraph;
use crate::egraph::lang::SyNode;

/// A rule's handle on the e-graph.
pub struct Ctx<'a> {
    /// The e-graph being rewritten.
    pub egraph: &'a mut SyGraph,
}

impl Ctx<'_> {
    /// The dtype and shape of class `id`.
    pub fn ty(&self, id: Id) -> &TensorType {
        &self.egraph[id].data.ty
    }

    /// The dtype of class `id`.
    pub fn dtype(&self, id: Id) -> DType {
        self.egraph[id].data.ty.dtype
    }

    /// The value of every element of class `id`, when it is a constant.
    pub fn value(&self, id: Id) -> Option<Scalar> {
        self.egraph[id].data.value
    }

    /// True when class `id` is a constant whose value satisfies `pred`.
    pub fn is_const(&self, id: Id, pred: impl Fn(Scalar) -> bool) -> bool {
        self.value(id).is_some_and(pred)
    }

    /// True when `a` and `b` are the same class.
    pub fn same(&self, a: Id, b: Id) -> bool {
        self.egraph.find(a) == self.egraph.find(b)
    }

    /// The e-nodes of class `id` whose op satisfies `pred` (cloned).
    pub fn nodes_where(&self, id: Id, pred: impl Fn(&Op) -> bool) -> SmallVec<[SyNode; 2]> {
        self.egraph[id].nodes.iter().filter(|n| pred(&n.op)).cloned().collect()
    }

    /// The operand of the first e-node `op(x)` in class `id`.
    pub fn unary_child(&self, id: Id, op: UnaryOp) -> Option<Id> {
        self.egraph[id].nodes.iter().find(|n| n.op == Op::Unary(op)).map(|n| n.children[0])
    }

    /// The operands of the first e-node `op(a, b)` in class `id`.
    pub fn binary_children(&self, id: Id, op: BinaryOp) -> Option<(Id, Id)> {
        self.egraph[id].nodes.iter().find(|n| n.op == Op::Binary(op)).map(|n| (n.children[0], n.children[1]))
    }

    /// Adds `op` over `children` if it is well typed (by the IR's own rules); `None` if not.
    pub fn add(&mut self, op: Op, children: &[Id]) -> Option<Id> {
        let ok = {
            let types: SmallVec<[&TensorType; 3]> =
                children.iter().map(|&c| &self.egraph[c].data.ty).collect();
            infer(&op, &types).is_ok()
        };
        ok.then(|| self.egraph.add(SyNode::new(op, children)))
    }

    /// Adds `op(x)`.
    pub fn unary(&mut self, op: UnaryOp, x: Id) -> Option<Id> {
        self.add(Op::Unary(op), &[x])
    }

    /// Adds `op(a, b)`.
    pub fn binary(&mut self, op: BinaryOp, a: Id, b: Id) -> Option<Id> {
        self.add(Op::Binary(op), &[a, b])
    }

    /// Adds the constant `value` of `shape` (cast to `dtype`).
    pub fn full(&mut self, value: Scalar, dtype: DType, shape: Shape) -> Id {
        self.egraph.add(SyNode::leaf(Op::Full { value: value.cast(dtype), shape }))
    }

    /// A constant of `value` with the type of class `like`.
    pub fn full_like(&mut self, value: Scalar, like: Id) -> Id {
        let ty = self.ty(like).clone();
        self.full(value, ty.dtype, ty.shape)
    }

    /// Class `id` as a value of type `ty`: widened within its kind (`cast`) and broadcast
    /// (`broadcast_to`) as a binary op would promote and broadcast it. `None` when that is
    /// not a promotion or broadcast (a narrowing, a kind change, incompatible shapes).
    pub fn coerce(&mut self, id: Id, ty: &TensorType) -> Option<Id> {
        let mut id = id;
        let have = self.ty(id).clone();
        if have.dtype != ty.dtype {
            if have.dtype.promote(ty.dtype) != Some(ty.dtype) {
                return None;
            }
            id = self.add(Op::Cast(ty.dtype), &[id])?;
        }
        if have.shape != ty.shape {
            if !have.shape.broadcasts_to(&ty.shape) {
                return None;
            }
            id = self.add(Op::BroadcastTo(ty.shape.clone()), &[id])?;
        }
        Some(id)
    }
}

/// True for a numeric constant equal to 1.
pub fn is_one(s: Scalar) -> bool {
    s.dtype().is_numeric() && s.to_f64() == 1.0
}

/// True for a numeric constant equal to `v` (either zero when `v` is 0).
pub fn is_num(s: Scalar, v: f64) -> bool {
    s.dtype().is_numeric() && s.to_f64() == v
}

/// True for an integer 0 or a float `+0.0`.
pub fn is_pos_zero(s: Scalar) -> bool {
    s.dtype().is_numeric() && s.to_f64().to_bits() == 0
}

/// True for an integer 0 or a float `-0.0`: the zero that `x + z == x` holds for.
pub fn is_additive_identity(s: Scalar) -> bool {
    match s.dtype() {
        DType::F32 | DType::F64 => s.to_f64().to_bits() == (-0.0f64).to_bits(),
        DType::I32 | DType::I64 => s.to_f64() == 0.0,
        DType::Bool => false,
    }
}

/// True for a bool constant equal to `b`.
pub fn is_bool(s: Scalar, b: bool) -> bool {
    s == Scalar::Bool(b)
}
