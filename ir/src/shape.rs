//! Static array shapes and broadcasting.

use std::fmt;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// A static shape: one extent per axis. Rank 0 is a scalar; an extent may be 0.
///
/// Invariant: the element count fits in `usize` (checked by [`Shape::new`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Shape(SmallVec<[usize; 4]>);

/// The element count of a shape overflows `usize`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeOverflow {
    /// The offending dims.
    pub dims: Vec<usize>,
}

impl Shape {
    /// A shape from its dims; fails when the element count overflows `usize`.
    pub fn new(dims: &[usize]) -> Result<Shape, ShapeOverflow> {
        dims.iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| ShapeOverflow { dims: dims.to_vec() })?;
        Ok(Shape(dims.iter().copied().collect()))
    }

    /// The rank-0 shape of a scalar.
    pub fn scalar() -> Shape {
        Shape(SmallVec::new())
    }

    /// A rank-1 shape.
    pub fn vector(n: usize) -> Shape {
        Shape(smallvec::smallvec![n])
    }

    /// The extents, outermost first.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of axes.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (1 for a scalar). Cannot overflow: checked at construction.
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// Row-major (C order) strides in elements.
    pub fn strides(&self) -> SmallVec<[usize; 4]> {
        let mut strides: SmallVec<[usize; 4]> = smallvec::smallvec![0; self.rank()];
        let mut acc = 1usize;
        for (s, &d) in strides.iter_mut().zip(self.0.iter()).rev() {
            *s = acc;
            acc *= d;
        }
        strides
    }

    /// The array-API broadcast of two shapes (aligned at the right; 1 stretches), or the
    /// first axis (counted from the left of the result) where they disagree.
    pub fn broadcast(&self, other: &Shape) -> Result<Shape, BroadcastError> {
        let rank = self.rank().max(other.rank());
        let mut dims: SmallVec<[usize; 4]> = SmallVec::with_capacity(rank);
        for i in 0..rank {
            let a = dim_from_right(self, rank - 1 - i);
            let b = dim_from_right(other, rank - 1 - i);
            let d = match (a, b) {
                (x, y) if x == y => x,
                (1, y) => y,
                (x, 1) => x,
                (x, y) => return Err(BroadcastError { axis: i, lhs: x, rhs: y, overflow: false }),
            };
            dims.push(d);
        }
        // Each operand's count fits, but the broadcast of the two may not ([2^40] with [2^40, 1]).
        Shape::new(&dims).map_err(|_| BroadcastError { axis: 0, lhs: 0, rhs: 0, overflow: true })
    }

    /// True when `self` can be broadcast to `target` (NumPy's `broadcast_to` rule).
    pub fn broadcasts_to(&self, target: &Shape) -> bool {
        if self.rank() > target.rank() {
            return false;
        }
        let offset = target.rank() - self.rank();
        self.0.iter().enumerate().all(|(i, &d)| d == 1 || d == target.0[i + offset])
    }
}

fn dim_from_right(shape: &Shape, from_right: usize) -> usize {
    if from_right < shape.rank() {
        shape.0[shape.rank() - 1 - from_right]
    } else {
        1
    }
}

/// Two shapes that cannot be broadcast together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BroadcastError {
    /// Axis of the broadcast result where the extents disagree.
    pub axis: usize,
    /// Extent of the left operand on that axis.
    pub lhs: usize,
    /// Extent of the right operand on that axis.
    pub rhs: usize,
    /// The extents agree, but the element count of the result overflows `usize`.
    pub overflow: bool,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(d: &[usize]) -> Shape {
        Shape::new(d).unwrap()
    }

    #[test]
    fn broadcasting_follows_the_array_api() {
        assert_eq!(s(&[3, 1]).broadcast(&s(&[4])).unwrap(), s(&[3, 4]));
        assert_eq!(s(&[]).broadcast(&s(&[2, 2])).unwrap(), s(&[2, 2]));
        assert_eq!(s(&[0, 1]).broadcast(&s(&[1, 5])).unwrap(), s(&[0, 5]));
        let err = s(&[3]).broadcast(&s(&[4])).unwrap_err();
        assert_eq!((err.lhs, err.rhs), (3, 4));
    }

    #[test]
    fn overflowing_element_count_is_refused() {
        assert!(Shape::new(&[usize::MAX, 2]).is_err());
        assert!(Shape::new(&[usize::MAX, 0]).is_ok());
    }

    #[test]
    fn strides_are_row_major() {
        assert_eq!(s(&[2, 3, 4]).strides().as_slice(), &[12, 4, 1]);
        assert_eq!(s(&[2, 3, 4]).to_string(), "[2,3,4]");
    }
}
