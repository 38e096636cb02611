//! The layout algebra every backend shares: row-major and broadcast strides, strided views
//! and how each shape op composes them, and the geometry of a batched `matmul`.
//!
//! A [`StridedView`] reads a row-major buffer as `dims` with element `i` at
//! `offset + sum(i[a] * strides[a])` (strides in elements, negative to walk backwards, 0 to
//! repeat). The shape ops `reshape` (of a contiguous view), `permute_dims`, `broadcast_to`,
//! `expand_dims`, `squeeze`, `slice` (any step) and `flip` are views of their operand: no
//! element moves, so a backend folds them into the index arithmetic of the kernel that
//! consumes them ([`StridedView::apply`]).
//!
//! Sizes: every view here is of a value whose `Shape` was checked when it was made, so its
//! element count, and hence every offset and stride of a view inside it, fits `isize`.

use std::fmt;

use smallvec::{smallvec, SmallVec};
use switchyard_ir::{Op, Shape};

/// Extents, inline up to rank 6.
pub type Dims = SmallVec<[usize; 6]>;
/// Strides in elements, inline up to rank 6; negative strides walk backwards.
pub type Strides = SmallVec<[isize; 6]>;

/// Row-major (C order) strides of `dims`, in elements.
pub fn row_major_strides(dims: &[usize]) -> Strides {
    let mut strides: Strides = smallvec![0; dims.len()];
    let mut acc: isize = 1;
    for (s, &d) in strides.iter_mut().zip(dims).rev() {
        *s = acc;
        // Wrapping only matters past a zero extent (an empty value is never read), or for
        // dims no `Shape` allows.
        acc = acc.wrapping_mul(d as isize);
    }
    strides
}

/// Strides that read `dims` (laid out with `strides`) as broadcast to `out` (aligned at the
/// right; missing and extent-1 axes get stride 0).
pub fn broadcast_strides(dims: &[usize], strides: &[isize], out: &[usize]) -> Strides {
    let lead = out.len().saturating_sub(dims.len());
    (0..out.len())
        .map(|a| match a.checked_sub(lead) {
            Some(i) if dims.get(i).is_some_and(|&d| d != 1) => strides.get(i).copied().unwrap_or(0),
            _ => 0,
        })
        .collect()
}

/// A strided view of a row-major buffer: element `i` of `dims` is at
/// `offset + sum(i[a] * strides[a])`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StridedView {
    /// Where element `[0, 0, ...]` is, in elements from the buffer's start.
    pub offset: isize,
    /// The extents the view shows.
    pub dims: Dims,
    /// One stride per axis, in elements.
    pub strides: Strides,
}

/// Why an op is not a view of its operand (the caller makes it a backend's error or reason).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAView(pub String);

impl fmt::Display for NotAView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotAView {}

impl StridedView {
    /// The whole of a row-major value of `dims`.
    pub fn contiguous(dims: &[usize]) -> StridedView {
        StridedView { offset: 0, dims: dims.iter().copied().collect(), strides: row_major_strides(dims) }
    }

    /// The whole of a row-major value of `shape`.
    pub fn of_shape(shape: &Shape) -> StridedView {
        StridedView::contiguous(shape.dims())
    }

    /// Elements the view shows.
    pub fn numel(&self) -> usize {
        self.dims.iter().product()
    }

    /// Reads its elements in row-major order from consecutive memory starting at `offset`
    /// (axes of extent 1 may have any stride).
    pub fn is_row_major(&self) -> bool {
        let want = row_major_strides(&self.dims);
        self.dims.iter().zip(self.strides.iter().zip(&want)).all(|(&d, (s, w))| d <= 1 || s == w)
    }

    /// The view read as broadcast to `out` (aligned at the right).
    pub fn broadcast_to(&self, out: &[usize]) -> StridedView {
        StridedView {
            offset: self.offset,
            dims: out.iter().copied().collect(),
            strides: broadcast_strides(&self.dims, &self.strides, out),
        }
    }

    /// The view after shape op `op`, whose result has shape `out` (the node was type-checked,
    /// so its attributes fit this view's rank). An op that moves elements (`concat`, `stack`,
    /// `pad`) or a `reshape` of a view that is not row-major is not a view.
    pub fn apply(&self, op: &Op, out: &Shape) -> Result<StridedView, NotAView> {
        let mut v = self.clone();
        let odims: Dims = out.dims().iter().copied().collect();
        match op {
            Op::Reshape(_) => {
                if !self.is_row_major() {
                    return Err(NotAView("reshape of a non-contiguous view".into()));
                }
                v.strides = row_major_strides(&odims);
            }
            Op::PermuteDims(perm) => {
                v.strides = perm.iter().map(|&p| self.strides.get(p).copied().unwrap_or(0)).collect();
            }
            Op::BroadcastTo(_) => v.strides = broadcast_strides(&self.dims, &self.strides, &odims),
            Op::ExpandDims(axis) => v.strides.insert((*axis).min(v.strides.len()), 0),
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
                // An empty result reads nothing (its `start`s are meaningless).
                if out.numel() > 0 {
                    for (a, s) in spec.iter().enumerate() {
                        let st = self.strides.get(a).copied().unwrap_or(0);
                        v.offset += s.start as isize * st;
                        // An axis taking one element never steps (its `step` may be any size).
                        if let Some(slot) = v.strides.get_mut(a) {
                            *slot = if s.len > 1 { st * s.step } else { 0 };
                        }
                    }
                }
            }
            Op::Flip(axes) => {
                for &a in axes {
                    let (d, st) =
                        (self.dims.get(a).copied().unwrap_or(0), self.strides.get(a).copied().unwrap_or(0));
                    if d > 0 {
                        v.offset += (d as isize - 1) * st;
                    }
                    if let Some(slot) = v.strides.get_mut(a) {
                        *slot = -st;
                    }
                }
            }
            other => return Err(NotAView(format!("{} moves elements; it is not a view", other.name()))),
        }
        v.dims = odims;
        if v.strides.len() != v.dims.len() {
            return Err(NotAView(format!("{}: view rank mismatch", op.name())));
        }
        Ok(v)
    }

    /// The offsets of the view's elements, in row-major order of `dims`.
    pub fn offsets(&self) -> impl Iterator<Item = isize> + '_ {
        let n = self.numel();
        let mut index: Dims = smallvec![0; self.dims.len()];
        let mut at = self.offset;
        (0..n).map(move |_| {
            let here = at;
            for a in (0..self.dims.len()).rev() {
                index[a] += 1;
                at += self.strides[a];
                if index[a] < self.dims[a] {
                    break;
                }
                at -= self.strides[a] * self.dims[a] as isize;
                index[a] = 0;
            }
            here
        })
    }
}

/// The geometry of `a @ b` with array-API semantics: a 1-D left operand is a row `[1, k]`
/// and a 1-D right operand a column `[k, 1]` (that axis is then absent from the result);
/// the batch axes (all but the last two) broadcast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatmulGeometry {
    /// Rows of each product.
    pub m: usize,
    /// The contracted extent.
    pub k: usize,
    /// Columns of each product.
    pub n: usize,
    /// The broadcast batch extents of the result.
    pub batch: Dims,
    /// Per batch axis, the step in the left operand's matrix number (0 where it broadcasts).
    pub a_batch_strides: Strides,
    /// Per batch axis, the step in the right operand's matrix number (0 where it broadcasts).
    pub b_batch_strides: Strides,
    /// Matrices of `m * k` in the left operand.
    pub a_matrices: usize,
    /// Matrices of `k * n` in the right operand.
    pub b_matrices: usize,
    /// The result's dims (the batch, then `m` unless `a` is 1-D, then `n` unless `b` is 1-D).
    pub out: Dims,
}

impl MatmulGeometry {
    /// The geometry of `a @ b` for operand dims `a` and `b`, or why they do not multiply.
    pub fn of(a: &[usize], b: &[usize]) -> Result<MatmulGeometry, String> {
        let (a_batch, m, ka) = match a {
            [] => return Err("a 0-D left operand".into()),
            [k] => (&a[..0], 1, *k),
            [batch @ .., m, k] => (batch, *m, *k),
        };
        let (b_batch, kb, n) = match b {
            [] => return Err("a 0-D right operand".into()),
            [k] => (&b[..0], *k, 1),
            [batch @ .., k, n] => (batch, *k, *n),
        };
        if ka != kb {
            return Err(format!("inner dimensions {ka} and {kb} differ"));
        }
        let rank = a_batch.len().max(b_batch.len());
        let dim = |d: &[usize], i: usize| if i + d.len() < rank { 1 } else { d[i + d.len() - rank] };
        let mut batch: Dims = SmallVec::with_capacity(rank);
        for i in 0..rank {
            let (x, y) = (dim(a_batch, i), dim(b_batch, i));
            if x != y && x != 1 && y != 1 {
                return Err(format!("batch dimensions {a_batch:?} and {b_batch:?} that do not broadcast"));
            }
            batch.push(if x == 1 { y } else { x });
        }
        let count = |d: &[usize]| {
            d.iter().try_fold(1usize, |acc, &x| acc.checked_mul(x)).ok_or("sizes beyond the address space")
        };
        let (a_matrices, b_matrices) = (count(a_batch)?, count(b_batch)?);
        let a_batch_strides = broadcast_strides(a_batch, &row_major_strides(a_batch), &batch);
        let b_batch_strides = broadcast_strides(b_batch, &row_major_strides(b_batch), &batch);
        let mut out = batch.clone();
        if a.len() >= 2 {
            out.push(m);
        }
        if b.len() >= 2 {
            out.push(n);
        }
        Ok(MatmulGeometry {
            m,
            k: ka,
            n,
            batch,
            a_batch_strides,
            b_batch_strides,
            a_matrices,
            b_matrices,
            out,
        })
    }

    /// Products computed: the batch's element count.
    pub fn products(&self) -> usize {
        self.batch.iter().product()
    }

    /// For each product, in row-major order of the batch: its left and right matrix numbers.
    pub fn pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let a = StridedView { offset: 0, dims: self.batch.clone(), strides: self.a_batch_strides.clone() };
        let b = StridedView { offset: 0, dims: self.batch.clone(), strides: self.b_batch_strides.clone() };
        // Matrix numbers are non-negative: broadcast strides of row-major batches.
        let (a, b): (Vec<isize>, Vec<isize>) = (a.offsets().collect(), b.offsets().collect());
        a.into_iter().zip(b).map(|(i, j)| (i.unsigned_abs(), j.unsigned_abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_ir::SliceAxis;

    fn shape(d: &[usize]) -> Shape {
        Shape::new(d).unwrap()
    }

    /// The view's elements of `0..n` laid out row-major (each element is its own offset).
    fn read(v: &StridedView) -> Vec<isize> {
        v.offsets().collect()
    }

    #[test]
    fn strides_row_major_and_broadcast() {
        assert_eq!(row_major_strides(&[2, 3, 4]).as_slice(), &[12, 4, 1]);
        assert_eq!(row_major_strides(&[]).as_slice(), &[] as &[isize]);
        // The strides of an empty value stay bounded (the `Shape` invariant bounds the
        // non-zero extents), and a zero extent ends the products.
        let empty = Shape::new(&[0, Shape::MAX_ELEMENTS]).unwrap();
        assert_eq!(row_major_strides(empty.dims()).as_slice(), &[Shape::MAX_ELEMENTS as isize, 1]);
        assert_eq!(broadcast_strides(&[3, 1], &[1, 1], &[2, 3, 4]).as_slice(), &[0, 1, 0]);
    }

    #[test]
    fn shape_ops_compose_as_views() {
        let x = StridedView::contiguous(&[2, 3]);
        assert_eq!(read(&x), [0, 1, 2, 3, 4, 5]);
        let t = x.apply(&Op::PermuteDims(smallvec![1, 0]), &shape(&[3, 2])).unwrap();
        assert_eq!(read(&t), [0, 3, 1, 4, 2, 5]);
        assert!(!t.is_row_major());
        assert!(t.apply(&Op::Reshape(shape(&[6])), &shape(&[6])).is_err());
        let f = t.apply(&Op::Flip(smallvec![0]), &shape(&[3, 2])).unwrap();
        assert_eq!(read(&f), [2, 5, 1, 4, 0, 3]);
        // x[::-1][:, ::2] on a [4, 5] value, then a new leading axis and a broadcast.
        let y = StridedView::contiguous(&[4, 5]);
        let s = y
            .apply(
                &Op::Slice(vec![
                    SliceAxis { start: 3, step: -1, len: 4 },
                    SliceAxis { start: 0, step: 2, len: 3 },
                ]),
                &shape(&[4, 3]),
            )
            .unwrap();
        assert_eq!(read(&s), [15, 17, 19, 10, 12, 14, 5, 7, 9, 0, 2, 4]);
        let e = s.apply(&Op::ExpandDims(0), &shape(&[1, 4, 3])).unwrap();
        let b = e.apply(&Op::BroadcastTo(shape(&[2, 4, 3])), &shape(&[2, 4, 3])).unwrap();
        assert_eq!(read(&b)[..3], [15, 17, 19]);
        assert_eq!(read(&b)[12..15], [15, 17, 19]);
        let q = e.apply(&Op::Squeeze(smallvec![0]), &shape(&[4, 3])).unwrap();
        assert_eq!(q, s);
        assert!(x.apply(&Op::Concat(0), &shape(&[4, 3])).is_err());
        // An empty slice reads nothing and keeps the offset where it was.
        let none = y
            .apply(
                &Op::Slice(vec![
                    SliceAxis { start: 9, step: 1, len: 0 },
                    SliceAxis { start: 0, step: 1, len: 5 },
                ]),
                &shape(&[0, 5]),
            )
            .unwrap();
        assert_eq!(none.offset, 0);
        assert_eq!(read(&none), [] as [isize; 0]);
    }

    #[test]
    fn matmul_geometry_promotes_1d_and_broadcasts_batches() {
        let g = MatmulGeometry::of(&[2, 1, 3, 4], &[5, 4, 6]).unwrap();
        assert_eq!((g.m, g.k, g.n), (3, 4, 6));
        assert_eq!(g.batch.as_slice(), &[2, 5]);
        assert_eq!(g.out.as_slice(), &[2, 5, 3, 6]);
        assert_eq!((g.a_matrices, g.b_matrices, g.products()), (2, 5, 10));
        let pairs: Vec<_> = g.pairs().collect();
        assert_eq!(pairs[..6], [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 0)]);
        let v = MatmulGeometry::of(&[4], &[4]).unwrap();
        assert_eq!((v.m, v.n, v.out.as_slice()), (1, 1, &[] as &[usize]));
        let mv = MatmulGeometry::of(&[3, 4], &[4]).unwrap();
        assert_eq!(mv.out.as_slice(), &[3]);
        assert_eq!(MatmulGeometry::of(&[3, 4], &[5]).unwrap_err(), "inner dimensions 4 and 5 differ");
        assert!(MatmulGeometry::of(&[2, 3, 4], &[3, 4, 5]).unwrap_err().contains("do not broadcast"));
        assert!(MatmulGeometry::of(&[], &[3]).is_err());
    }
}
