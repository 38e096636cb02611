//! The e-graph language: one e-node is an IR [`Op`] (with all its attributes: axes, shapes,
//! slices, cast dtype, constant values, input names) applied to child e-classes. Reusing
//! [`Op`] itself means every op of the catalog, present and future, is in the language.

use std::cmp::Ordering;
use std::fmt;

use egg::{Id, Language};
use smallvec::SmallVec;
use switchyard_ir::{Op, Scalar};

/// One e-node: an op and its operand e-classes, in operand order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SyNode {
    /// The operation with its attributes.
    pub op: Op,
    /// Operand e-classes.
    pub children: SmallVec<[Id; 3]>,
}

impl SyNode {
    /// An e-node of `op` over `children`.
    pub fn new(op: Op, children: &[Id]) -> SyNode {
        SyNode { op, children: children.iter().copied().collect() }
    }

    /// A leaf e-node (no operands).
    pub fn leaf(op: Op) -> SyNode {
        SyNode { op, children: SmallVec::new() }
    }
}

/// The kind of an op without its attributes, except that unary, binary and reduce ops are
/// told apart by which one they are: rules look e-classes up by it.
pub fn discriminant(op: &Op) -> u16 {
    let (variant, sub): (u16, u16) = match op {
        Op::Input { .. } => (0, 0),
        Op::Full { .. } => (1, 0),
        Op::Arange { .. } => (2, 0),
        Op::Unary(u) => (3, *u as u16),
        Op::Binary(b) => (4, *b as u16),
        Op::Where => (5, 0),
        Op::Cast(_) => (6, 0),
        Op::Clip => (7, 0),
        Op::Reduce { op, .. } => (8, *op as u16),
        Op::Reshape(_) => (9, 0),
        Op::PermuteDims(_) => (10, 0),
        Op::BroadcastTo(_) => (11, 0),
        Op::ExpandDims(_) => (12, 0),
        Op::Squeeze(_) => (13, 0),
        Op::Slice(_) => (14, 0),
        Op::Concat(_) => (15, 0),
        Op::Stack(_) => (16, 0),
        Op::Flip(_) => (17, 0),
        Op::Pad { .. } => (18, 0),
        Op::Matmul => (19, 0),
        Op::ToDevice(_) => (20, 0),
        Op::Nonzero { .. } => (21, 0),
        Op::UniqueValues => (22, 0),
        Op::UniqueCounts => (23, 0),
        Op::BooleanMask => (24, 0),
    };
    variant * 64 + sub
}

/// A total order on scalars consistent with their bitwise equality.
fn scalar_key(s: &Scalar) -> (u8, u64) {
    match *s {
        Scalar::Bool(b) => (0, u64::from(b)),
        Scalar::I32(v) => (1, u64::from(v as u32)),
        Scalar::I64(v) => (2, v as u64),
        Scalar::F32(v) => (3, u64::from(v.to_bits())),
        Scalar::F64(v) => (4, v.to_bits()),
    }
}

/// Orders two ops of one discriminant by their attributes (consistent with `==`).
fn cmp_attrs(a: &Op, b: &Op) -> Ordering {
    use Op as O;
    match (a, b) {
        (O::Input { name: n1, dtype: d1, shape: s1 }, O::Input { name: n2, dtype: d2, shape: s2 }) => {
            (n1, d1, s1.dims()).cmp(&(n2, d2, s2.dims()))
        }
        (O::Full { value: v1, shape: s1 }, O::Full { value: v2, shape: s2 }) => {
            (scalar_key(v1), s1.dims()).cmp(&(scalar_key(v2), s2.dims()))
        }
        (O::Arange { start: a1, step: b1, len: l1 }, O::Arange { start: a2, step: b2, len: l2 }) => {
            (scalar_key(a1), scalar_key(b1), l1).cmp(&(scalar_key(a2), scalar_key(b2), l2))
        }
        (O::Cast(d1), O::Cast(d2)) => d1.cmp(d2),
        (
            O::Reduce { op: o1, axes: a1, keepdims: k1, correction: c1 },
            O::Reduce { op: o2, axes: a2, keepdims: k2, correction: c2 },
        ) => (o1, a1.as_slice(), k1, c1).cmp(&(o2, a2.as_slice(), k2, c2)),
        (O::Reshape(s1), O::Reshape(s2)) | (O::BroadcastTo(s1), O::BroadcastTo(s2)) => {
            s1.dims().cmp(s2.dims())
        }
        (O::PermuteDims(a1), O::PermuteDims(a2))
        | (O::Squeeze(a1), O::Squeeze(a2))
        | (O::Flip(a1), O::Flip(a2)) => a1.as_slice().cmp(a2.as_slice()),
        (O::ExpandDims(a1), O::ExpandDims(a2))
        | (O::Concat(a1), O::Concat(a2))
        | (O::Stack(a1), O::Stack(a2)) => a1.cmp(a2),
        (O::Slice(s1), O::Slice(s2)) => {
            let k1 = s1.iter().map(|s| (s.start, s.step, s.len));
            let k2 = s2.iter().map(|s| (s.start, s.step, s.len));
            k1.cmp(k2)
        }
        (O::Pad { widths: w1, value: v1 }, O::Pad { widths: w2, value: v2 }) => {
            (w1, scalar_key(v1)).cmp(&(w2, scalar_key(v2)))
        }
        (O::ToDevice(d1), O::ToDevice(d2)) => d1.cmp(d2),
        (O::Nonzero { size: s1, fill: f1 }, O::Nonzero { size: s2, fill: f2 }) => (s1, f1).cmp(&(s2, f2)),
        // Attribute-free ops, or the same unary/binary op (the discriminant told them apart).
        _ => Ordering::Equal,
    }
}

impl PartialOrd for SyNode {
    fn partial_cmp(&self, other: &SyNode) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Discriminant first (egg's e-matching relies on nodes of one discriminant being
/// contiguous), then attributes, then operands.
impl Ord for SyNode {
    fn cmp(&self, other: &SyNode) -> Ordering {
        discriminant(&self.op)
            .cmp(&discriminant(&other.op))
            .then_with(|| cmp_attrs(&self.op, &other.op))
            .then_with(|| self.children.as_slice().cmp(other.children.as_slice()))
    }
}

impl Language for SyNode {
    type Discriminant = u16;

    fn discriminant(&self) -> u16 {
        discriminant(&self.op)
    }

    fn matches(&self, other: &SyNode) -> bool {
        self.op == other.op && self.children.len() == other.children.len()
    }

    fn children(&self) -> &[Id] {
        &self.children
    }

    fn children_mut(&mut self) -> &mut [Id] {
        &mut self.children
    }
}

/// Prints the op as the IR does (`sum(axes=[1])`); operands are not shown.
impl fmt::Display for SyNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.op, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_ir::{catalog, BinaryOp, Shape};

    #[test]
    fn order_agrees_with_equality_over_the_catalog() {
        let ops = catalog();
        for a in &ops {
            for b in &ops {
                let (x, y) = (SyNode::leaf(a.clone()), SyNode::leaf(b.clone()));
                assert_eq!(x.cmp(&y) == Ordering::Equal, x == y, "{a} vs {b}");
                assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
            }
        }
        let z = SyNode::leaf(Op::Full { value: Scalar::F32(0.0), shape: Shape::scalar() });
        let nz = SyNode::leaf(Op::Full { value: Scalar::F32(-0.0), shape: Shape::scalar() });
        assert_ne!(z.cmp(&nz), Ordering::Equal);
        let add = SyNode::new(Op::Binary(BinaryOp::Add), &[Id::from(0), Id::from(1)]);
        let mul = SyNode::new(Op::Binary(BinaryOp::Mul), &[Id::from(0), Id::from(1)]);
        assert_ne!(add.discriminant(), mul.discriminant());
    }
}
