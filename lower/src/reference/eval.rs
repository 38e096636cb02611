//! One op on owned data: the interpreter's dispatch. Every call re-checks the op against its
//! operands with the IR's type checker first, so the index math below never sees a shape or
//! attribute that could send it out of bounds.

use switchyard_ir::{infer, DeviceKind, Op, TensorType};

use super::data::Data;
use super::{elementwise, kernel_error, matmul, nonzero, reduce, shape_ops, source};
use crate::error::LowerError;

/// Evaluates `op` on `inputs`, producing a value of type `out_ty`.
///
/// Fails (never panics) when the op is ill-typed for these operands, when `out_ty` is not the
/// type the IR infers, or when the op is not one a kernel computes: graph inputs (bound by the
/// runtime), transfers to another device, and eager-only ops.
pub fn eval_op(op: &Op, inputs: &[&Data], out_ty: &TensorType) -> Result<Data, LowerError> {
    let types: Vec<TensorType> =
        inputs.iter().map(|d| TensorType { dtype: d.dtype(), shape: d.shape().clone() }).collect();
    let type_refs: Vec<&TensorType> = types.iter().collect();
    let inferred = infer(op, &type_refs).map_err(|e| kernel_error(format!("cannot evaluate {op}: {e}")))?;
    if &inferred != out_ty {
        return Err(kernel_error(format!("{op} gives {inferred}, but the kernel expects {out_ty}")));
    }
    let arg = |i: usize| -> Result<&Data, LowerError> {
        inputs.get(i).copied().ok_or_else(|| kernel_error(format!("{op} is missing operand {i}")))
    };
    let result = match op {
        Op::Input { name, .. } => {
            return Err(kernel_error(format!(
                "input `{name}` is bound by the runtime; no kernel computes it"
            )))
        }
        Op::Full { value, .. } => source::full(*value, out_ty)?,
        Op::Arange { start, step, .. } => source::arange(*start, *step, out_ty)?,
        Op::Unary(u) => elementwise::unary(*u, arg(0)?, out_ty)?,
        Op::Binary(b) => elementwise::binary(*b, arg(0)?, arg(1)?, out_ty)?,
        Op::Where => elementwise::select(arg(0)?, arg(1)?, arg(2)?, out_ty)?,
        Op::Cast(_) => elementwise::cast(arg(0)?, out_ty)?,
        Op::Clip => elementwise::clip(arg(0)?, arg(1)?, arg(2)?, out_ty)?,
        Op::Reduce { op: r, axes, correction, .. } => reduce::reduce(*r, axes, *correction, arg(0)?, out_ty)?,
        Op::Reshape(_) | Op::ExpandDims(_) | Op::Squeeze(_) => shape_ops::relabel(arg(0)?, out_ty)?,
        Op::PermuteDims(perm) => shape_ops::permute_dims(arg(0)?, perm, out_ty)?,
        Op::BroadcastTo(_) => shape_ops::broadcast_to(arg(0)?, out_ty)?,
        Op::Slice(spec) => shape_ops::slice(arg(0)?, spec, out_ty)?,
        Op::Concat(axis) | Op::Stack(axis) => shape_ops::join(inputs, *axis, out_ty)?,
        Op::Flip(axes) => shape_ops::flip(arg(0)?, axes, out_ty)?,
        Op::Pad { widths, value } => shape_ops::pad(arg(0)?, widths, *value, out_ty)?,
        Op::Matmul => matmul::matmul(arg(0)?, arg(1)?, out_ty)?,
        Op::ToDevice(d) => {
            if d.kind != DeviceKind::Cpu {
                return Err(kernel_error(format!(
                    "to_device({d}): the reference backend runs on the CPU only; the runtime does transfers"
                )));
            }
            shape_ops::relabel(arg(0)?, out_ty)?
        }
        Op::Nonzero { size: Some(size), fill } => nonzero::nonzero(arg(0)?, *size, *fill, out_ty)?,
        Op::Nonzero { size: None, .. } | Op::UniqueValues | Op::UniqueCounts | Op::BooleanMask => {
            return Err(kernel_error(format!("{op} is eager-only: rejected when the graph is built")))
        }
    };
    if result.dtype() != out_ty.dtype || result.shape() != &out_ty.shape {
        return Err(kernel_error(format!(
            "internal error: {op} produced {}{}, expected {out_ty}",
            result.dtype(),
            result.shape()
        )));
    }
    Ok(result)
}
