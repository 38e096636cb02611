//! Index math: row-major walks over a shape that track where each element lives in a
//! strided layout. Broadcasting (stride 0), permutation, slicing, flipping (negative
//! strides) and reduction groups are all expressed as such walks. The strides come from the
//! core's layout algebra; how each shape op transforms them is written out here, per op,
//! rather than through `StridedView::apply`, so that the oracle and the backends that use
//! `apply` do not share that code and the conformance suite compares two implementations.

use smallvec::smallvec;

pub use crate::layout::{row_major_strides, Dims, Strides};

/// Strides that read a row-major array of `in_dims` as if broadcast to `out_dims`
/// (aligned at the right; missing and extent-1 axes get stride 0).
pub fn broadcast_strides(in_dims: &[usize], out_dims: &[usize]) -> Strides {
    crate::layout::broadcast_strides(in_dims, &row_major_strides(in_dims), out_dims)
}

/// Walks `dims` in row-major order and yields, for each element, its offset `base + sum(i_a
/// * stride_a)` in a strided layout.
#[derive(Clone, Debug)]
pub struct Offsets {
    dims: Dims,
    strides: Strides,
    counter: Dims,
    base: isize,
    offset: isize,
    numel: usize,
    remaining: usize,
}

impl Offsets {
    /// A walk over `dims` (one stride per axis) starting at offset `base`.
    pub fn new(dims: &[usize], strides: &[isize], base: usize) -> Offsets {
        let numel = dims.iter().product();
        Offsets {
            dims: dims.iter().copied().collect(),
            strides: strides.iter().copied().collect(),
            counter: smallvec![0; dims.len()],
            base: base as isize,
            offset: base as isize,
            numel,
            remaining: numel,
        }
    }

    /// The same walk from its beginning, shifted to start at `base`.
    pub fn restart(&self, base: usize) -> Offsets {
        let mut walk = self.clone();
        walk.counter.iter_mut().for_each(|c| *c = 0);
        walk.base = base as isize;
        walk.offset = walk.base;
        walk.remaining = walk.numel;
        walk
    }

    /// The number of elements the whole walk visits.
    pub fn numel(&self) -> usize {
        self.numel
    }
}

impl Iterator for Offsets {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let current = self.offset as usize;
        if self.remaining > 0 {
            // Odometer step: bump the innermost axis, carrying outwards.
            // (Wrapping arithmetic: in range for every walk with elements; never a panic.)
            for a in (0..self.dims.len()).rev() {
                self.counter[a] += 1;
                self.offset = self.offset.wrapping_add(self.strides[a]);
                if self.counter[a] < self.dims[a] {
                    break;
                }
                self.offset = self.offset.wrapping_sub(self.strides[a].wrapping_mul(self.dims[a] as isize));
                self.counter[a] = 0;
            }
        }
        Some(current)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Offsets {}

/// The groups of a reduction: for each result element, in row-major order of the kept
/// axes, a walk over the reduced elements in row-major order of the reduced axes.
#[derive(Clone, Debug)]
pub struct Groups {
    outer: Offsets,
    inner: Offsets,
}

impl Groups {
    /// The groups of reducing `axes` (sorted, unique, in range) of a row-major array of `dims`.
    pub fn new(dims: &[usize], axes: &[usize]) -> Groups {
        let strides = row_major_strides(dims);
        let pick = |reduced: bool| -> (Dims, Strides) {
            (0..dims.len()).filter(|a| axes.contains(a) == reduced).map(|a| (dims[a], strides[a])).unzip()
        };
        let (kept_dims, kept_strides) = pick(false);
        let (red_dims, red_strides) = pick(true);
        Groups {
            outer: Offsets::new(&kept_dims, &kept_strides, 0),
            inner: Offsets::new(&red_dims, &red_strides, 0),
        }
    }

    /// The number of groups (result elements).
    pub fn count(&self) -> usize {
        self.outer.numel()
    }

    /// The number of elements in every group.
    pub fn group_len(&self) -> usize {
        self.inner.numel()
    }

    /// The groups, each a walk over the offsets of its elements.
    pub fn iter(&self) -> impl Iterator<Item = Offsets> + '_ {
        self.outer.clone().map(|base| self.inner.restart(base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_are_row_major() {
        let all: Vec<usize> = Offsets::new(&[2, 3], &row_major_strides(&[2, 3]), 0).collect();
        assert_eq!(all, vec![0, 1, 2, 3, 4, 5]);
        let transposed: Vec<usize> = Offsets::new(&[3, 2], &[1, 3], 0).collect();
        assert_eq!(transposed, vec![0, 3, 1, 4, 2, 5]);
        let backwards: Vec<usize> = Offsets::new(&[3], &[-2], 5).collect();
        assert_eq!(backwards, vec![5, 3, 1]);
        assert_eq!(Offsets::new(&[], &[], 7).collect::<Vec<_>>(), vec![7]);
        assert_eq!(Offsets::new(&[2, 0], &[0, 1], 0).count(), 0);
    }

    #[test]
    fn broadcast_strides_align_right() {
        assert_eq!(broadcast_strides(&[3, 1], &[2, 3, 4]).as_slice(), &[0, 1, 0]);
        assert_eq!(broadcast_strides(&[], &[2]).as_slice(), &[0]);
    }

    #[test]
    fn groups_visit_reduced_axes_in_order() {
        let g = Groups::new(&[2, 3, 2], &[0, 2]);
        let groups: Vec<Vec<usize>> = g.iter().map(|w| w.collect()).collect();
        assert_eq!(groups, vec![vec![0, 1, 6, 7], vec![2, 3, 8, 9], vec![4, 5, 10, 11]]);
        assert_eq!((g.count(), g.group_len()), (3, 4));
    }
}
