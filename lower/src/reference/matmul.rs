//! `matmul` with array-API semantics: a 1-D left operand is a row `[1, k]` and a 1-D right
//! operand a column `[k, 1]` (that axis is then absent from the result); batch axes broadcast.
//! Float products accumulate in `f64` from `+0.0`, in order of `k`, and round once; integer
//! products accumulate wrapping in the dtype.

use switchyard_ir::{BinaryOp, Shape, TensorType};

use super::data::{with_dtype, Data, Stored, Values};
use super::index::{broadcast_strides, Offsets};
use super::kernel_error;
use crate::error::LowerError;

/// Sizes of one matrix product `[m, k] @ [k, n]`.
#[derive(Clone, Copy)]
struct Mkn {
    m: usize,
    k: usize,
    n: usize,
}

/// `a @ b`, operands promoted to the result's dtype.
pub fn matmul(a: &Data, b: &Data, out: &TensorType) -> Result<Data, LowerError> {
    let (a, b) = (a.cast_to(out.dtype), b.cast_to(out.dtype));
    let ad: Vec<usize> = match a.dims() {
        [k] => vec![1, *k],
        dims => dims.to_vec(),
    };
    let bd: Vec<usize> = match b.dims() {
        [k] => vec![*k, 1],
        dims => dims.to_vec(),
    };
    if ad.len() < 2 || bd.len() < 2 || ad[ad.len() - 1] != bd[bd.len() - 2] {
        return Err(kernel_error(format!("matmul of {:?} and {:?}", a.dims(), b.dims())));
    }
    let (a_batch, a_mat) = ad.split_at(ad.len() - 2);
    let (b_batch, b_mat) = bd.split_at(bd.len() - 2);
    let size = Mkn { m: a_mat[0], k: a_mat[1], n: b_mat[1] };
    let batch_shape = |dims: &[usize]| Shape::new(dims).map_err(|_| kernel_error("matmul batch overflows"));
    let batch = batch_shape(a_batch)?
        .broadcast(&batch_shape(b_batch)?)
        .map_err(|_| kernel_error("matmul batch dimensions do not broadcast"))?;
    // Walks give each batch entry's matrix number in each operand. (The interpreter never
    // asks for an empty result, so the walk is no longer than the output.)
    let a_walk = Offsets::new(batch.dims(), &broadcast_strides(a_batch, batch.dims()), 0);
    let b_walk = Offsets::new(batch.dims(), &broadcast_strides(b_batch, batch.dims()), 0);
    let pairs: Vec<(usize, usize)> = a_walk.zip(b_walk).collect();
    let values = with_dtype!(out.dtype, |T| products::<T>(&a, &b, &pairs, size)?);
    Data::new(out.shape.clone(), values)
}

/// The products of the matrix pairs `(i, j)` (matrix `i` of `a` times matrix `j` of `b`).
fn products<T: Stored>(a: &Data, b: &Data, pairs: &[(usize, usize)], s: Mkn) -> Result<Values, LowerError> {
    let (x, y) = (a.typed::<T>()?, b.typed::<T>()?);
    let mut out: Vec<T> = Vec::with_capacity(pairs.len() * s.m * s.n);
    for &(ia, ib) in pairs {
        let (x, y) = (&x[ia * s.m * s.k..(ia + 1) * s.m * s.k], &y[ib * s.k * s.n..(ib + 1) * s.k * s.n]);
        for i in 0..s.m {
            let row = &x[i * s.k..(i + 1) * s.k];
            for j in 0..s.n {
                let col = (0..s.k).map(|p| y[p * s.n + j]);
                out.push(if T::DTYPE.is_float() {
                    T::from_f64(row.iter().zip(col).fold(0.0, |acc, (&u, v)| acc + u.to_f64() * v.to_f64()))
                } else {
                    let zero = T::from_i64(0);
                    row.iter().zip(col).fold(zero, |acc, (&u, v)| {
                        T::binary(BinaryOp::Add, acc, T::binary(BinaryOp::Mul, u, v))
                    })
                });
            }
        }
    }
    Ok(T::wrap(out))
}
