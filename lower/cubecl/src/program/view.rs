//! Affine views: a kernel argument read by an elementwise node is an affine view of its
//! buffer over the iteration space (`offset + sum(coord[d] * stride[d])`, strides in
//! elements, 0 for a broadcast axis, negative for a flipped or reversed-step axis). Shape ops
//! on arguments (`permute_dims broadcast_to expand_dims squeeze reshape slice flip`) only
//! change the view, so a shape-op kernel is a load through a view and a store.

use switchyard_ir::{Op, Shape};

use super::compile_error;
use switchyard_lower::LowerError;

/// An affine view of kernel argument `arg` over `dims`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct View {
    pub(super) arg: usize,
    pub(super) offset: i64,
    pub(super) dims: Vec<usize>,
    pub(super) strides: Vec<i64>,
}

pub(super) fn row_major(dims: &[usize]) -> Vec<i64> {
    let mut strides = vec![0i64; dims.len()];
    let mut acc = 1i64;
    for (s, &d) in strides.iter_mut().zip(dims).rev() {
        *s = acc;
        acc = acc.saturating_mul(d as i64);
    }
    strides
}

impl View {
    pub(super) fn of_arg(arg: usize, shape: &Shape) -> View {
        View { arg, offset: 0, dims: shape.dims().to_vec(), strides: row_major(shape.dims()) }
    }

    /// Contiguous in row-major order (axes of extent 1 may have any stride).
    fn is_row_major(&self) -> bool {
        let want = row_major(&self.dims);
        self.dims.iter().zip(self.strides.iter().zip(&want)).all(|(&d, (s, w))| d <= 1 || s == w)
    }

    /// The view after shape op `op` whose result has shape `out`.
    pub(super) fn apply(&self, op: &Op, out: &Shape) -> Result<View, LowerError> {
        let mut v = self.clone();
        let odims = out.dims().to_vec();
        match op {
            Op::Reshape(_) => {
                if !self.is_row_major() {
                    return Err(compile_error("reshape of a non-contiguous view is not generated"));
                }
                v.strides = row_major(&odims);
            }
            Op::PermuteDims(perm) => {
                v.strides = perm.iter().map(|&p| self.strides.get(p).copied().unwrap_or(0)).collect();
            }
            Op::BroadcastTo(_) => {
                v.strides = broadcast(&self.dims, &self.strides, &odims);
            }
            Op::ExpandDims(axis) => {
                v.strides.insert((*axis).min(v.strides.len()), 0);
            }
            Op::Squeeze(axes) => {
                v.strides = self
                    .strides
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !axes.contains(i))
                    .map(|(_, &s)| s)
                    .collect();
            }
            Op::Slice(spec) => {
                if out.numel() > 0 {
                    for (a, s) in spec.iter().enumerate() {
                        let st = self.strides.get(a).copied().unwrap_or(0);
                        v.offset += s.start as i64 * st;
                        v.strides[a] = if s.len > 1 { st * s.step as i64 } else { 0 };
                    }
                }
            }
            Op::Flip(axes) => {
                for &a in axes {
                    let (d, st) =
                        (self.dims.get(a).copied().unwrap_or(0), self.strides.get(a).copied().unwrap_or(0));
                    if d > 0 {
                        v.offset += (d as i64 - 1) * st;
                    }
                    v.strides[a] = -st;
                }
            }
            other => return Err(compile_error(format!("{} is not a view", other.name()))),
        }
        v.dims = odims;
        if v.strides.len() != v.dims.len() {
            return Err(compile_error(format!("{}: view rank mismatch", op.name())));
        }
        Ok(v)
    }
}

/// Strides reading `dims` (with `strides`) as broadcast to `out` (right-aligned; missing
/// and extent-1 axes get stride 0).
pub(super) fn broadcast(dims: &[usize], strides: &[i64], out: &[usize]) -> Vec<i64> {
    let lead = out.len().saturating_sub(dims.len());
    (0..out.len())
        .map(|a| match a.checked_sub(lead) {
            Some(i) if dims[i] != 1 => strides[i],
            _ => 0,
        })
        .collect()
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
