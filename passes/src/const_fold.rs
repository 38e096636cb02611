//! Constant folding: an elementwise or layout op whose operands are all `full` constants is
//! itself a `full` constant. Safe: the value is computed with the reference semantics
//! ([`switchyard_ir::elementwise`]), so it is the value every backend must produce.

use switchyard_ir::elementwise::{binary_scalar, clip_scalar, unary_scalar};
use switchyard_ir::{BinaryOp, IrGraph, NodeId, Op, ReduceOp, Scalar, TensorType};

use crate::Report;

/// Folds ops over constants into constants.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConstFolder;

impl ConstFolder {
    /// The constant that `op` over `inputs` (ids in `graph`) evaluates to, if it can be
    /// folded. `ty` is the node's inferred type.
    pub fn fold(
        &self,
        graph: &IrGraph,
        op: &Op,
        inputs: &[NodeId],
        ty: &TensorType,
        report: &mut Report,
    ) -> Option<Op> {
        if inputs.is_empty() {
            return None;
        }
        let mut values = Vec::with_capacity(inputs.len());
        let mut types = Vec::with_capacity(inputs.len());
        for &i in inputs {
            let node = graph.node(i);
            match node.op() {
                Op::Full { value, .. } => values.push(*value),
                _ => return None,
            }
            types.push(node.ty());
        }
        let value = fold_values(op, &values, &types, ty)?;
        report.fired("const_fold");
        Some(Op::Full { value, shape: ty.shape.clone() })
    }
}

/// The value of `op` applied to operands that are each filled with one value (`values`, of
/// types `inputs`), when the result is again one value: elementwise ops (computed with
/// [`switchyard_ir::elementwise`]), layout ops, and the reductions whose result is exact
/// (`max`/`min`/`any`/`all` of copies of one value, integer `sum`/`prod`). Float `sum`, `mean`
/// and the like are not folded: adding `n` copies is not `n * v` in floating point.
pub fn fold_values(op: &Op, values: &[Scalar], inputs: &[&TensorType], ty: &TensorType) -> Option<Scalar> {
    if values.is_empty() || values.len() != inputs.len() {
        return None;
    }
    let value = match op {
        Op::Unary(u) => unary_scalar(*u, values[0]),
        Op::Binary(b) => binary_scalar(*b, values[0], *values.get(1)?),
        Op::Cast(d) => values[0].cast(*d),
        Op::Where => match values.get(..3)? {
            [Scalar::Bool(true), a, _] => a.cast(ty.dtype),
            [Scalar::Bool(false), _, b] => b.cast(ty.dtype),
            _ => return None,
        },
        Op::Clip => clip_scalar(values[0], *values.get(1)?, *values.get(2)?),
        // Layout ops move elements; every element of a constant is the same value.
        Op::Reshape(_)
        | Op::PermuteDims(_)
        | Op::BroadcastTo(_)
        | Op::ExpandDims(_)
        | Op::Squeeze(_)
        | Op::Slice(_)
        | Op::Flip(_)
        | Op::ToDevice(_) => values[0],
        Op::Concat(_) | Op::Stack(_) if values.iter().all(|v| *v == values[0]) => values[0],
        Op::Pad { value, .. } if *value == values[0] => values[0],
        Op::Reduce { op: r, axes, .. } => {
            // Checked: with a zero extent elsewhere the reduced extents may exceed usize.
            let dims = inputs[0].shape.dims();
            let count = axes.iter().try_fold(1usize, |acc, &a| acc.checked_mul(*dims.get(a)?))?;
            fold_reduce(*r, values[0], count)?
        }
        _ => return None,
    };
    // Binary ops on mixed dtypes of one kind compute in the promoted dtype already;
    // make sure the constant carries exactly the node's dtype.
    Some(value.cast(ty.dtype))
}

/// A reduction of `count` copies of `v`, when it is exact.
fn fold_reduce(r: ReduceOp, v: Scalar, count: usize) -> Option<Scalar> {
    match r {
        ReduceOp::Max | ReduceOp::Min | ReduceOp::Any | ReduceOp::All if count > 0 => Some(v),
        ReduceOp::Any if count == 0 => Some(Scalar::Bool(false)),
        ReduceOp::All if count == 0 => Some(Scalar::Bool(true)),
        // Integer sum and product wrap in i64, so they are exact modulo 2^64.
        ReduceOp::Sum if v.dtype().is_int() => {
            let n = i64::try_from(count).ok()?;
            Some(Scalar::I64(v.to_i64()?.wrapping_mul(n)))
        }
        ReduceOp::Prod if v.dtype().is_int() => {
            let n = i64::try_from(count).ok()?;
            Some(binary_scalar(BinaryOp::Pow, Scalar::I64(v.to_i64()?), Scalar::I64(n)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{optimize, Options};
    use expect_test::expect;
    use switchyard_ir::{DType, Shape, UnaryOp};

    #[test]
    fn folds_scalar_subgraphs_and_drops_dead_nodes() {
        let mut g = IrGraph::new();
        let x =
            g.add(Op::Input { name: "x".into(), dtype: DType::F32, shape: Shape::vector(4) }, &[]).unwrap();
        let two = g.add(Op::Full { value: Scalar::F32(2.0), shape: Shape::scalar() }, &[]).unwrap();
        let three = g.add(Op::Full { value: Scalar::F32(3.0), shape: Shape::scalar() }, &[]).unwrap();
        let six = g.add(Op::Binary(BinaryOp::Mul), &[two, three]).unwrap();
        let e = g.add(Op::Unary(UnaryOp::Exp), &[six]).unwrap();
        let _dead = g.add(Op::Unary(UnaryOp::Sin), &[x]).unwrap();
        let y = g.add(Op::Binary(BinaryOp::Mul), &[x, e]).unwrap();
        let out = optimize(&g, &[y], &Options::default()).unwrap();
        out.graph.validate().unwrap();
        expect![[r#"
            %0 = input("x") : f32[4]
            %1 = full(403.4288) : f32[]
            %2 = mul(%0, %1) : f32[4]
        "#]]
        .assert_eq(&out.graph.to_string());
        assert_eq!(out.report.rules.get("const_fold"), Some(&2));
        assert_eq!(out.report.rules.get("dce"), Some(&1));
        assert_eq!((out.report.nodes_before, out.report.nodes_after), (7, 3));
    }

    #[test]
    fn folding_keeps_nan() {
        let mut g = IrGraph::new();
        let neg = g.add(Op::Full { value: Scalar::F64(-1.0), shape: Shape::vector(3) }, &[]).unwrap();
        let s = g.add(Op::Unary(UnaryOp::Sqrt), &[neg]).unwrap();
        let out = optimize(&g, &[s], &Options::default()).unwrap();
        match out.graph.node(out.outputs[0]).op() {
            Op::Full { value: Scalar::F64(v), shape } => {
                assert!(v.is_nan());
                assert_eq!(shape, &Shape::vector(3));
            }
            other => panic!("not folded: {other:?}"),
        }
    }

    #[test]
    fn no_opt_only_drops_dead_nodes() {
        let mut g = IrGraph::new();
        let a = g.add(Op::Full { value: Scalar::I32(2), shape: Shape::scalar() }, &[]).unwrap();
        let b = g.add(Op::Unary(UnaryOp::Neg), &[a]).unwrap();
        let out = optimize(&g, &[b], &Options::none()).unwrap();
        assert_eq!(out.graph.len(), 2);
        assert!(out.report.rules.is_empty());
    }
}
