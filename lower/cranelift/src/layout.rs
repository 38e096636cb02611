//! Iteration layout: how a kernel's output index space maps onto its inputs, with adjacent
//! axes collapsed so that contiguous work becomes one long inner loop.

use switchyard_ir::Shape;
use switchyard_lower::layout::{self, row_major_strides};

/// The collapsed iteration space of a kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IterSpace {
    /// Extents of the outer (row) axes, outermost first; the inner axis is separate.
    pub outer: Vec<usize>,
    /// Extent of the innermost axis.
    pub inner: usize,
    /// Per input, its element stride along each outer axis.
    pub outer_strides: Vec<Vec<usize>>,
    /// Per input, its stride along the inner axis: 1, or 0 when broadcast.
    pub inner_strides: Vec<u8>,
}

impl IterSpace {
    /// Number of rows (product of the outer extents).
    pub fn rows(&self) -> usize {
        self.outer.iter().product()
    }

    /// The element offset of each input at the start of row `row`.
    pub fn row_offsets(&self, mut row: usize, offsets: &mut [usize]) {
        offsets.iter_mut().for_each(|o| *o = 0);
        for d in (0..self.outer.len()).rev() {
            let idx = row % self.outer[d];
            row /= self.outer[d];
            for (o, s) in offsets.iter_mut().zip(&self.outer_strides) {
                *o += idx * s[d];
            }
        }
    }
}

/// Element strides of `input` broadcast against `out` (0 along broadcast axes): the core's
/// layout algebra, as the non-negative strides of a row-major value.
fn broadcast_strides(input: &Shape, out: &Shape) -> Vec<usize> {
    let own = row_major_strides(input.dims());
    layout::broadcast_strides(input.dims(), &own, out.dims()).iter().map(|s| s.unsigned_abs()).collect()
}

/// The iteration space of an output shape over inputs broadcast to it.
pub fn iter_space(out: &Shape, inputs: &[Shape]) -> IterSpace {
    iter_space_split(out, inputs, out.rank())
}

/// Like [`iter_space`], but axes `split..` (reduced axes) are never merged with axes before
/// `split`, and the inner axis always comes from them (extent 1 when they are all size 1), so
/// each output row of a reduction is a whole number of consecutive collapsed rows.
pub fn iter_space_split(out: &Shape, inputs: &[Shape], split: usize) -> IterSpace {
    let out_strides: Vec<usize> = row_major_strides(out.dims()).iter().map(|s| s.unsigned_abs()).collect();
    let mut dims: Vec<usize> = Vec::new();
    let mut reduced: Vec<bool> = Vec::new();
    let mut strides: Vec<Vec<usize>> = vec![Vec::new(); inputs.len() + 1];
    let all: Vec<Vec<usize>> = inputs.iter().map(|s| broadcast_strides(s, out)).collect();
    for d in 0..out.rank() {
        if out.dims()[d] == 1 {
            continue;
        }
        dims.push(out.dims()[d]);
        reduced.push(d >= split);
        strides[0].push(out_strides[d]);
        for (i, s) in all.iter().enumerate() {
            strides[i + 1].push(s[d]);
        }
    }
    if split < out.rank() && !reduced.last().copied().unwrap_or(false) {
        // No reduced axis survived (all of extent 1): an inner axis of extent 1.
        dims.push(1);
        reduced.push(true);
        for s in strides.iter_mut() {
            s.push(0);
        }
    }
    // Merge axis d into d+1 when every array walks them as one (and both are on one side of
    // the split).
    let mut d = 0;
    while dims.len() > 1 && d + 1 < dims.len() {
        let mergeable =
            reduced[d] == reduced[d + 1] && strides.iter().all(|s| s[d] == s[d + 1] * dims[d + 1]);
        if mergeable {
            dims[d + 1] *= dims[d];
            dims.remove(d);
            reduced.remove(d);
            for s in strides.iter_mut() {
                s.remove(d);
            }
        } else {
            d += 1;
        }
    }
    let inner = dims.pop().unwrap_or(1);
    let inner_strides = strides[1..].iter().map(|s| s.last().map_or(0, |&x| u8::from(x != 0))).collect();
    let outer_strides = strides[1..].iter().map(|s| s[..dims.len()].to_vec()).collect();
    IterSpace { outer: dims, inner, outer_strides, inner_strides }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(d: &[usize]) -> Shape {
        Shape::new(d).unwrap()
    }

    #[test]
    fn contiguous_work_is_one_row() {
        let sp = iter_space(&s(&[4, 5, 6]), &[s(&[4, 5, 6]), s(&[])]);
        assert_eq!((sp.outer.clone(), sp.inner), (vec![], 120));
        assert_eq!(sp.inner_strides, vec![1, 0]);
    }

    #[test]
    fn outer_products_walk_rows() {
        let sp = iter_space(&s(&[3, 4]), &[s(&[3, 1]), s(&[1, 4])]);
        assert_eq!((sp.outer.clone(), sp.inner), (vec![3], 4));
        assert_eq!(sp.inner_strides, vec![0, 1]);
        assert_eq!(sp.outer_strides, vec![vec![1], vec![0]]);
    }

    #[test]
    fn row_broadcast_keeps_rows() {
        let sp = iter_space(&s(&[2, 3, 4]), &[s(&[2, 3, 4]), s(&[4])]);
        assert_eq!((sp.outer.clone(), sp.inner), (vec![6], 4));
        assert_eq!(sp.outer_strides, vec![vec![4], vec![0]]);
        let sp = iter_space(&s(&[]), &[s(&[])]);
        assert_eq!((sp.outer.clone(), sp.inner), (vec![], 1));
    }

    #[test]
    fn reduced_axes_never_merge_with_row_axes() {
        let sp = iter_space_split(&s(&[8, 16]), &[s(&[8, 16])], 1);
        assert_eq!((sp.outer.clone(), sp.inner), (vec![8], 16));
        let sp = iter_space_split(&s(&[8, 16]), &[s(&[8, 16])], 0);
        assert_eq!((sp.outer.clone(), sp.inner), (vec![], 128));
        // Reducing an axis of extent 1: one element per row.
        let sp = iter_space_split(&s(&[8, 1]), &[s(&[8, 1])], 1);
        assert_eq!((sp.outer.clone(), sp.inner), (vec![8], 1));
        // A broadcast inside the reduced axes splits each row into runs.
        let sp = iter_space_split(&s(&[2, 3, 4]), &[s(&[2, 3, 4]), s(&[3, 1])], 1);
        assert_eq!((sp.outer.clone(), sp.inner), (vec![2, 3], 4));
    }
}
