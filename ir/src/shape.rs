//! Static array shapes and broadcasting.
//!
//! Every size in the engine derives from a [`Shape`], and a `Shape` cannot exist unless its
//! byte count for the widest dtype fits `isize` (see [`Shape::MAX_ELEMENTS`]). Downstream
//! code relies on that: a byte count, a stride or an offset into a buffer of a valid shape
//! never overflows, so it needs no check of its own.

use std::fmt;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// A static shape: one extent per axis. Rank 0 is a scalar; an extent may be 0.
///
/// Invariant (checked by [`Shape::new`], the only way to make one from user sizes): the product
/// of the non-zero extents is at most [`Shape::MAX_ELEMENTS`], so the byte count of an array
/// of this shape in the widest dtype (8 bytes) fits `isize`, and so does every row-major
/// stride and every partial product of extents (zero extents are left out so that strides of
/// an empty array are bounded too, as NumPy does).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "SmallVec<[usize; 4]>")]
pub struct Shape(SmallVec<[usize; 4]>);

/// A shape too large for memory: its byte count in the widest dtype would not fit `isize`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeOverflow {
    /// The offending dims.
    pub dims: Vec<usize>,
}

impl ShapeOverflow {
    /// The product of the non-zero extents, exactly (it may exceed `u64`).
    fn elements(&self) -> u128 {
        self.dims.iter().filter(|&&d| d != 0).fold(1u128, |acc, &d| acc.saturating_mul(d as u128))
    }
}

impl fmt::Display for ShapeOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "shape {:?} is too large: {} elements need {} at 8 bytes each (the widest dtype), \
             more than one address space holds (at most {} elements)",
            self.dims,
            self.elements(),
            ByteCount(self.elements().saturating_mul(8)),
            Shape::MAX_ELEMENTS
        )
    }
}

impl std::error::Error for ShapeOverflow {}

impl TryFrom<SmallVec<[usize; 4]>> for Shape {
    type Error = ShapeOverflow;

    fn try_from(dims: SmallVec<[usize; 4]>) -> Result<Shape, ShapeOverflow> {
        Shape::new(&dims)
    }
}

/// A byte count printed with a binary unit (`12.0 KiB`, `16.0 EiB`); exact below 1 KiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteCount(pub u128);

impl fmt::Display for ByteCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
        let mut v = self.0 as f64;
        let mut unit = 0;
        while v >= 1024.0 && unit + 1 < UNITS.len() {
            v /= 1024.0;
            unit += 1;
        }
        if unit == 0 {
            write!(f, "{} B", self.0)
        } else {
            write!(f, "{v:.1} {}", UNITS[unit])
        }
    }
}

impl Shape {
    /// The most elements a shape may hold (counting non-zero extents): its byte count in the
    /// widest dtype, 8 bytes, must fit `isize`.
    pub const MAX_ELEMENTS: usize = isize::MAX as usize / 8;

    /// A shape from its dims; fails when it is too large (see the type's invariant).
    pub fn new(dims: &[usize]) -> Result<Shape, ShapeOverflow> {
        let mut nonzero = 1usize;
        for &d in dims.iter().filter(|&&d| d != 0) {
            nonzero = match nonzero.checked_mul(d) {
                Some(n) if n <= Shape::MAX_ELEMENTS => n,
                _ => return Err(ShapeOverflow { dims: dims.to_vec() }),
            };
        }
        Ok(Shape(dims.iter().copied().collect()))
    }

    /// The rank-0 shape of a scalar.
    pub fn scalar() -> Shape {
        Shape(SmallVec::new())
    }

    /// A rank-1 shape of a literal extent (for sizes from input, use [`Shape::new`]).
    ///
    /// # Panics
    /// When `n` exceeds [`Shape::MAX_ELEMENTS`].
    pub fn vector(n: usize) -> Shape {
        assert!(n <= Shape::MAX_ELEMENTS, "Shape::vector({n}) exceeds Shape::MAX_ELEMENTS");
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

    /// Number of elements (1 for a scalar); at most [`Shape::MAX_ELEMENTS`].
    pub fn numel(&self) -> usize {
        // Bounded by the invariant: no partial product exceeds MAX_ELEMENTS (or it is 0).
        self.0.iter().product()
    }

    /// The byte count of an array of this shape with elements of `elem_bytes` bytes (at most
    /// 8, the widest dtype); fits `isize` by the invariant.
    pub fn byte_len(&self, elem_bytes: usize) -> usize {
        debug_assert!(elem_bytes <= 8);
        self.numel() * elem_bytes.min(8)
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
    /// The extents agree, but the result is too large (see [`ShapeOverflow`]).
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
    fn shapes_too_large_for_memory_are_refused() {
        assert!(Shape::new(&[usize::MAX, 2]).is_err());
        // 2^61 + 2 elements fit usize, but not at 8 bytes each: the byte count would wrap.
        let err = Shape::new(&[2, (1 << 60) + 1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "shape [2, 1152921504606846977] is too large: 2305843009213693954 elements need 16.0 EiB \
             at 8 bytes each (the widest dtype), more than one address space holds (at most \
             1152921504606846975 elements)"
        );
        assert!(Shape::new(&[Shape::MAX_ELEMENTS]).is_ok());
        assert!(Shape::new(&[Shape::MAX_ELEMENTS + 1]).is_err());
        assert!(Shape::new(&[Shape::MAX_ELEMENTS, 2]).is_err());
        // Zero extents do not hide huge ones: strides must stay bounded.
        assert!(Shape::new(&[usize::MAX, 0]).is_err());
        assert!(Shape::new(&[0, Shape::MAX_ELEMENTS, 2]).is_err());
        let empty = Shape::new(&[0, Shape::MAX_ELEMENTS]).unwrap();
        assert_eq!(empty.numel(), 0);
        // (Its row-major strides, [MAX_ELEMENTS, 1], are checked in lower::layout.)
        assert_eq!(empty.byte_len(8), 0);
    }

    #[test]
    fn deserializing_checks_the_invariant() {
        let ok: Shape = serde_json::from_str("[2,3]").unwrap();
        assert_eq!(ok, s(&[2, 3]));
        assert!(serde_json::from_str::<Shape>("[2,1152921504606846977]").is_err());
    }

    #[test]
    fn byte_counts_print_with_binary_units() {
        assert_eq!(ByteCount(1000).to_string(), "1000 B");
        assert_eq!(ByteCount(400_000_000_000).to_string(), "372.5 GiB");
        assert_eq!(ByteCount(1 << 64).to_string(), "16.0 EiB");
    }

    #[test]
    fn shapes_print_as_lists() {
        // (Row-major strides live in lower::layout, with their tests.)
        assert_eq!(s(&[2, 3, 4]).to_string(), "[2,3,4]");
    }
}
