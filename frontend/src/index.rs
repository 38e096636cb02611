//! Python/NumPy basic indexing on tensors: integers, slices with steps, `None`, `...`.
//! Lowered to `slice`, then `squeeze` (integer indices) and `expand_dims` (`None`).

use switchyard_ir::{IrError, IrErrorKind, Op, SliceAxis};

use crate::error::Result;
use crate::tensor::Tensor;

/// One item of an index expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    /// A single position (negative from the end); removes the axis.
    At(i64),
    /// `start:stop:step` with Python's defaults and clamping.
    Slice {
        /// First index (default: the start in the direction of `step`).
        start: Option<i64>,
        /// End, exclusive (default: past the end in the direction of `step`).
        stop: Option<i64>,
        /// Step, non-zero (default 1).
        step: Option<i64>,
    },
    /// `None`: inserts an axis of extent 1.
    NewAxis,
    /// `...`: as many full slices as needed.
    Ellipsis,
}

impl Index {
    /// The full slice `:`.
    pub const ALL: Index = Index::Slice { start: None, stop: None, step: None };
}

/// Python's slice normalization for an axis of extent `dim`: (start, step, len).
pub(crate) fn normalize_slice(
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
    dim: usize,
) -> std::result::Result<SliceAxis, IrError> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(IrError::new(IrErrorKind::BadAttribute, "slice", "slice step cannot be zero"));
    }
    let n = dim as i128;
    let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let clamp = |v: Option<i64>, default: i128| -> i128 {
        match v {
            None => default,
            Some(v) => {
                let v = i128::from(v);
                let v = if v < 0 { v + n } else { v };
                v.clamp(lo, hi)
            }
        }
    };
    let (start, stop) =
        if step > 0 { (clamp(start, 0), clamp(stop, n)) } else { (clamp(start, n - 1), clamp(stop, -1)) };
    let step128 = i128::from(step);
    let len = if step > 0 {
        if stop > start {
            (stop - start + step128 - 1) / step128
        } else {
            0
        }
    } else if start > stop {
        (start - stop + (-step128) - 1) / (-step128)
    } else {
        0
    };
    Ok(SliceAxis {
        start: if len == 0 { 0 } else { start as usize },
        step: isize::try_from(step)
            .map_err(|_| IrError::new(IrErrorKind::BadAttribute, "slice", "step too large"))?,
        len: len as usize,
    })
}

impl Tensor {
    /// `self[items]` with NumPy basic-indexing semantics.
    pub fn index(&self, items: &[Index]) -> Result<Tensor> {
        let op = "index";
        let ellipses = items.iter().filter(|i| matches!(i, Index::Ellipsis)).count();
        if ellipses > 1 {
            return Err(IrError::new(
                IrErrorKind::BadAttribute,
                op,
                "an index can only have one ellipsis (...)",
            )
            .into());
        }
        let consumed = items.iter().filter(|i| matches!(i, Index::At(_) | Index::Slice { .. })).count();
        if consumed > self.rank() {
            return Err(IrError::new(
                IrErrorKind::BadAxis,
                op,
                format!("too many indices: {consumed} for {} of rank {}", self.ty(), self.rank()),
            )
            .into());
        }
        // Expand the ellipsis (or pad at the end) to full slices.
        let mut expanded: Vec<Index> = Vec::with_capacity(self.rank() + items.len());
        for item in items {
            if matches!(item, Index::Ellipsis) {
                expanded.extend(std::iter::repeat_n(Index::ALL, self.rank() - consumed));
            } else {
                expanded.push(*item);
            }
        }
        if ellipses == 0 {
            expanded.extend(std::iter::repeat_n(Index::ALL, self.rank() - consumed));
        }
        let mut spec = Vec::with_capacity(self.rank());
        let mut squeeze = Vec::new();
        let mut new_axes = Vec::new();
        let mut axis = 0;
        for (pos, item) in expanded.iter().enumerate() {
            match *item {
                Index::NewAxis => new_axes.push(pos - squeeze.len()),
                Index::At(i) => {
                    let dim = self.dims()[axis];
                    let j = if i < 0 { i + dim as i64 } else { i };
                    if j < 0 || j >= dim as i64 {
                        return Err(IrError::new(
                            IrErrorKind::BadAxis,
                            op,
                            format!("index {i} is out of bounds for axis {axis} with extent {dim}"),
                        )
                        .into());
                    }
                    spec.push(SliceAxis { start: j as usize, step: 1, len: 1 });
                    squeeze.push(axis);
                    axis += 1;
                }
                Index::Slice { start, stop, step } => {
                    spec.push(normalize_slice(start, stop, step, self.dims()[axis])?);
                    axis += 1;
                }
                Index::Ellipsis => {}
            }
        }
        let identity =
            spec.iter().zip(self.dims()).all(|(s, &d)| s.step == 1 && s.len == d && (d == 0 || s.start == 0));
        let mut t = if identity { self.clone() } else { self.graph().add(Op::Slice(spec), &[self])? };
        if !squeeze.is_empty() {
            t = t.graph().clone().add(Op::Squeeze(squeeze.into_iter().collect()), &[&t])?;
        }
        for a in new_axes {
            t = t.graph().clone().add(Op::ExpandDims(a), &[&t])?;
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(start: Option<i64>, stop: Option<i64>, step: Option<i64>, dim: usize) -> (usize, isize, usize) {
        let s = normalize_slice(start, stop, step, dim).unwrap();
        (s.start, s.step, s.len)
    }

    #[test]
    fn slices_follow_python() {
        assert_eq!(norm(Some(1), Some(10), Some(2), 20), (1, 2, 5));
        assert_eq!(norm(None, None, Some(-1), 5), (4, -1, 5));
        assert_eq!(norm(Some(-2), None, None, 5), (3, 1, 2));
        assert_eq!(norm(Some(10), Some(20), None, 5), (0, 1, 0));
        assert_eq!(norm(None, Some(-10), None, 5), (0, 1, 0));
        assert_eq!(norm(Some(3), Some(0), Some(-1), 5), (3, -1, 3));
        assert_eq!(norm(None, None, Some(-2), 5), (4, -2, 3));
        assert_eq!(norm(None, None, None, 0), (0, 1, 0));
        assert!(normalize_slice(None, None, Some(0), 3).is_err());
    }
}
