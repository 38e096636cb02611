//! Elementwise ops (`unary`, `binary`, `where`, `clip`, `cast`) with array-API broadcasting.
//! The meaning of each op on one element is [`switchyard_ir::elementwise::Element`]'s;
//! operands are first converted to the promoted dtype with `cast` semantics.

use switchyard_ir::elementwise::{is_comparison, is_test};
use switchyard_ir::{BinaryOp, DType, TensorType, UnaryOp};

use super::data::{with_dtype, with_values, Data, Stored, Values};
use super::index::{broadcast_strides, Offsets};
use super::kernel_error;
use crate::error::LowerError;

/// The offsets of the elements of an array of `dims` read broadcast to `out_dims`.
fn broadcast_walk(dims: &[usize], out_dims: &[usize]) -> Offsets {
    Offsets::new(out_dims, &broadcast_strides(dims, out_dims), 0)
}

/// `f` applied to two broadcast operands.
fn map2<A: Copy, B: Copy, R>(
    a: (&[A], &[usize]),
    b: (&[B], &[usize]),
    out_dims: &[usize],
    f: impl Fn(A, B) -> R,
) -> Vec<R> {
    if a.1 == out_dims && b.1 == out_dims {
        return a.0.iter().zip(b.0).map(|(&x, &y)| f(x, y)).collect();
    }
    broadcast_walk(a.1, out_dims).zip(broadcast_walk(b.1, out_dims)).map(|(i, j)| f(a.0[i], b.0[j])).collect()
}

/// `f` applied to three broadcast operands.
fn map3<A: Copy, B: Copy, C: Copy, R>(
    a: (&[A], &[usize]),
    b: (&[B], &[usize]),
    c: (&[C], &[usize]),
    out_dims: &[usize],
    f: impl Fn(A, B, C) -> R,
) -> Vec<R> {
    broadcast_walk(a.1, out_dims)
        .zip(broadcast_walk(b.1, out_dims))
        .zip(broadcast_walk(c.1, out_dims))
        .map(|((i, j), k)| f(a.0[i], b.0[j], c.0[k]))
        .collect()
}

/// A typed operand: its elements and its dims.
fn operand<T: Stored>(d: &Data) -> Result<(&[T], &[usize]), LowerError> {
    Ok((d.typed::<T>()?, d.dims()))
}

/// The promoted dtype of operands of one kind.
fn promoted(operands: &[&Data]) -> Result<DType, LowerError> {
    let mut dtype = operands.first().map(|d| d.dtype()).ok_or_else(|| kernel_error("no operands"))?;
    for d in operands {
        dtype = dtype.promote(d.dtype()).ok_or_else(|| {
            kernel_error(format!("cannot promote {dtype} with {} without a cast", d.dtype()))
        })?;
    }
    Ok(dtype)
}

/// A unary op (`isnan`, `isinf` and `isfinite` give bools).
pub fn unary(op: UnaryOp, x: &Data, out: &TensorType) -> Result<Data, LowerError> {
    fn go<T: Stored>(op: UnaryOp, x: &[T]) -> Values {
        if is_test(op) {
            Values::Bool(x.iter().map(|&v| T::test(op, v)).collect())
        } else {
            T::wrap(x.iter().map(|&v| T::unary(op, v)).collect())
        }
    }
    let values = with_values!(x.values(), |v| go(op, v.as_slice()));
    Data::new(out.shape.clone(), values)
}

/// A binary op on broadcast operands promoted to one dtype (comparisons give bools).
pub fn binary(op: BinaryOp, a: &Data, b: &Data, out: &TensorType) -> Result<Data, LowerError> {
    fn go<T: Stored>(op: BinaryOp, a: &Data, b: &Data, out_dims: &[usize]) -> Result<Values, LowerError> {
        let (x, y) = (operand::<T>(a)?, operand::<T>(b)?);
        Ok(if is_comparison(op) {
            Values::Bool(map2(x, y, out_dims, |u, v| T::compare(op, u, v)))
        } else {
            T::wrap(map2(x, y, out_dims, |u, v| T::binary(op, u, v)))
        })
    }
    let dtype = promoted(&[a, b])?;
    let (a, b) = (a.cast_to(dtype), b.cast_to(dtype));
    let values = with_dtype!(dtype, |T| go::<T>(op, &a, &b, out.shape.dims())?);
    Data::new(out.shape.clone(), values)
}

/// `where(cond, a, b)`: `a` where `cond` is true, else `b`; broadcast, branches promoted.
pub fn select(cond: &Data, a: &Data, b: &Data, out: &TensorType) -> Result<Data, LowerError> {
    fn go<T: Stored>(cond: &Data, a: &Data, b: &Data, out_dims: &[usize]) -> Result<Values, LowerError> {
        let c = operand::<bool>(cond)?;
        let (x, y) = (operand::<T>(a)?, operand::<T>(b)?);
        Ok(T::wrap(map3(c, x, y, out_dims, |c, u, v| if c { u } else { v })))
    }
    let (a, b) = (a.cast_to(out.dtype), b.cast_to(out.dtype));
    let values = with_dtype!(out.dtype, |T| go::<T>(cond, &a, &b, out.shape.dims())?);
    Data::new(out.shape.clone(), values)
}

/// `clip(x, lo, hi) = minimum(maximum(x, lo), hi)`, broadcast, operands promoted.
pub fn clip(x: &Data, lo: &Data, hi: &Data, out: &TensorType) -> Result<Data, LowerError> {
    fn go<T: Stored>(x: &Data, lo: &Data, hi: &Data, out_dims: &[usize]) -> Result<Values, LowerError> {
        let (x, lo, hi) = (operand::<T>(x)?, operand::<T>(lo)?, operand::<T>(hi)?);
        Ok(T::wrap(map3(x, lo, hi, out_dims, switchyard_ir::elementwise::clip::<T>)))
    }
    let (x, lo, hi) = (x.cast_to(out.dtype), lo.cast_to(out.dtype), hi.cast_to(out.dtype));
    let values = with_dtype!(out.dtype, |T| go::<T>(&x, &lo, &hi, out.shape.dims())?);
    Data::new(out.shape.clone(), values)
}

/// `cast(x, dtype)`.
pub fn cast(x: &Data, out: &TensorType) -> Result<Data, LowerError> {
    Data::new(out.shape.clone(), x.values().cast(out.dtype))
}
