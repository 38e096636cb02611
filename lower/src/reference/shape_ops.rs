//! Shape ops: they move or select elements without arithmetic. Most are a strided walk over
//! the input (see [`Offsets`]); `concat`/`stack` copy contiguous chunks; `pad` scatters the
//! input into a filled result.

use std::borrow::Cow;

use switchyard_ir::{Scalar, SliceAxis, TensorType};

use super::data::{with_dtype, with_values, Data, Stored, Values};
use super::index::{broadcast_strides, row_major_strides, Offsets, Strides};
use super::kernel_error;
use crate::error::LowerError;

/// The input's elements read along a strided walk over the result's shape.
fn gather(x: &Data, walk: Offsets, out: &TensorType) -> Result<Data, LowerError> {
    fn go<T: Stored>(v: &[T], walk: Offsets) -> Values {
        T::wrap(walk.map(|o| v[o]).collect())
    }
    let values = with_values!(x.values(), |v| go(v.as_slice(), walk));
    Data::new(out.shape.clone(), values)
}

/// Same row-major elements under the result's shape: `reshape`, `expand_dims`, `squeeze`,
/// `to_device` on the CPU.
pub fn relabel(x: &Data, out: &TensorType) -> Result<Data, LowerError> {
    x.clone().with_shape(out.shape.clone())
}

/// `permute_dims(perm)`: result axis `i` is input axis `perm[i]`.
pub fn permute_dims(x: &Data, perm: &[usize], out: &TensorType) -> Result<Data, LowerError> {
    let strides = row_major_strides(x.dims());
    let strides: Strides = perm.iter().map(|&p| strides[p]).collect();
    gather(x, Offsets::new(out.shape.dims(), &strides, 0), out)
}

/// `broadcast_to(shape)`.
pub fn broadcast_to(x: &Data, out: &TensorType) -> Result<Data, LowerError> {
    let dims = out.shape.dims();
    gather(x, Offsets::new(dims, &broadcast_strides(x.dims(), dims), 0), out)
}

/// `slice`: element `i` along axis `a` is input element `start_a + i * step_a`.
pub fn slice(x: &Data, spec: &[SliceAxis], out: &TensorType) -> Result<Data, LowerError> {
    if out.shape.numel() == 0 {
        // `start` is meaningless on an empty axis; nothing is read.
        return gather(x, Offsets::new(out.shape.dims(), &row_major_strides(out.shape.dims()), 0), out);
    }
    let own = row_major_strides(x.dims());
    // An axis taking one element never steps (its `step` may be any size).
    let strides: Strides =
        spec.iter().zip(&own).map(|(s, &st)| if s.len > 1 { st * s.step } else { 0 }).collect();
    let base: usize = spec.iter().zip(&own).map(|(s, &st)| s.start * st as usize).sum();
    gather(x, Offsets::new(out.shape.dims(), &strides, base), out)
}

/// `flip(axes)`: reverses the order along each of `axes`.
pub fn flip(x: &Data, axes: &[usize], out: &TensorType) -> Result<Data, LowerError> {
    if x.values().is_empty() {
        return relabel(x, out);
    }
    let mut strides = row_major_strides(x.dims());
    let mut base = 0usize;
    for &a in axes {
        base += (x.dims()[a] - 1) * strides[a] as usize;
        strides[a] = -strides[a];
    }
    gather(x, Offsets::new(x.dims(), &strides, base), out)
}

/// `concat(axis)` and `stack(axis)`: operands promoted to the result's dtype. In row-major
/// order both results are, for each index over the axes before `axis`, the operands' chunks
/// of the axes from `axis` on, one operand after another. (For `stack`, `axis` counts in the
/// result, so the operands' axes before it are the same ones.)
pub fn join(xs: &[&Data], axis: usize, out: &TensorType) -> Result<Data, LowerError> {
    fn go<T: Stored>(parts: &[Cow<'_, Data>], axis: usize, n: usize) -> Result<Values, LowerError> {
        let first = parts.first().ok_or_else(|| kernel_error("concat/stack of no operands"))?;
        let outer: usize = first.dims()[..axis].iter().product();
        let mut out: Vec<T> = Vec::with_capacity(n);
        let chunks: Vec<(&[T], usize)> = parts
            .iter()
            .map(|p| Ok((p.typed::<T>()?, p.dims()[axis..].iter().product())))
            .collect::<Result<_, LowerError>>()?;
        for i in 0..outer {
            for &(v, chunk) in &chunks {
                out.extend_from_slice(&v[i * chunk..(i + 1) * chunk]);
            }
        }
        Ok(T::wrap(out))
    }
    let parts: Vec<Cow<'_, Data>> = xs.iter().map(|x| x.cast_to(out.dtype)).collect();
    let n = out.shape.numel();
    let values = with_dtype!(out.dtype, |T| go::<T>(&parts, axis, n)?);
    Data::new(out.shape.clone(), values)
}

/// `pad(widths, value)`: the input placed at offset `before` on each axis of a result
/// filled with `value`.
pub fn pad(x: &Data, widths: &[(usize, usize)], value: Scalar, out: &TensorType) -> Result<Data, LowerError> {
    fn go<T: Stored>(x: &[T], dims: &[usize], walk: Offsets, value: Scalar, n: usize) -> Values {
        let mut out = vec![T::from_scalar(value); n];
        debug_assert_eq!(dims.iter().product::<usize>(), x.len());
        for (&v, o) in x.iter().zip(walk) {
            out[o] = v;
        }
        T::wrap(out)
    }
    let out_strides = row_major_strides(out.shape.dims());
    // Wrapping: when the input is empty the base is never used and need not be representable.
    let base = widths
        .iter()
        .zip(&out_strides)
        .fold(0usize, |acc, (&(before, _), &st)| acc.wrapping_add(before.wrapping_mul(st as usize)));
    let walk = Offsets::new(x.dims(), &out_strides, base);
    let n = out.shape.numel();
    let values = with_values!(x.values(), |v| go(v.as_slice(), x.dims(), walk, value, n));
    Data::new(out.shape.clone(), values)
}
