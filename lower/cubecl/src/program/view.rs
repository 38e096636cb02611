//! Affine views: a kernel argument read by an elementwise node is an affine view of its
//! buffer over the iteration space (`offset + sum(coord[d] * stride[d])`, strides in
//! elements, 0 for a broadcast axis, negative for a flipped or reversed-step axis). Shape ops
//! on arguments (`permute_dims broadcast_to expand_dims squeeze reshape slice flip`) only
//! change the view, so a shape-op kernel is a load through a view and a store.

use switchyard_ir::{Op, Shape};
use switchyard_lower::layout::StridedView;
use switchyard_lower::LowerError;

use super::compile_error;

/// An affine view of kernel argument `arg`: the core's [`StridedView`] of its buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct View {
    pub(super) arg: usize,
    pub(super) at: StridedView,
}

impl View {
    pub(super) fn of_arg(arg: usize, shape: &Shape) -> View {
        View { arg, at: StridedView::of_shape(shape) }
    }

    /// The view after shape op `op` whose result has shape `out` (the core's view algebra;
    /// what it cannot view, such as a reshape of a non-contiguous view, is not generated).
    pub(super) fn apply(&self, op: &Op, out: &Shape) -> Result<View, LowerError> {
        let at = self.at.apply(op, out).map_err(|e| compile_error(format!("{e}: not generated")))?;
        Ok(View { arg: self.arg, at })
    }
}

/// Whether `op` only changes how an argument is viewed.
pub fn is_view_op(op: &Op) -> bool {
    matches!(
        op,
        Op::Reshape(_)
            | Op::PermuteDims(_)
            | Op::BroadcastTo(_)
            | Op::ExpandDims(_)
            | Op::Squeeze(_)
            | Op::Slice(_)
            | Op::Flip(_)
    )
}

/// Whether `op` joins arguments (`concat`, `stack`, `pad`): read through windows of views.
pub fn is_join_op(op: &Op) -> bool {
    matches!(op, Op::Concat(_) | Op::Stack(_) | Op::Pad { .. })
}
