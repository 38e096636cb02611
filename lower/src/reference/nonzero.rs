//! `nonzero(x, size, fill)`: the indices of the first `size` non-zero elements (row-major
//! order), as an `i64[rank, size]` array whose column `j` is the multi-index of the `j`-th
//! one; columns past the last non-zero element hold `fill`. Non-zero means `x != 0`, so NaN
//! counts and `-0.0` does not; for bools, `true`.

use switchyard_ir::TensorType;

use super::data::{with_values, Data, Stored, Values};
use crate::error::LowerError;

/// Flat row-major positions of the first `size` non-zero elements.
fn first_nonzero<T: Stored>(x: &[T], size: usize) -> Vec<usize> {
    let zero = T::from_i64(0);
    x.iter().enumerate().filter(|&(_, &v)| v != zero).map(|(i, _)| i).take(size).collect()
}

/// `nonzero` with a static `size`.
pub fn nonzero(x: &Data, size: usize, fill: i64, out: &TensorType) -> Result<Data, LowerError> {
    let dims = x.dims();
    let mut indices = vec![fill; dims.len() * size];
    let found = with_values!(x.values(), |v| first_nonzero(v.as_slice(), size));
    for (j, flat) in found.into_iter().enumerate() {
        let mut rest = flat;
        for (d, &extent) in dims.iter().enumerate().rev() {
            indices[d * size + j] = (rest % extent) as i64;
            rest /= extent;
        }
    }
    Data::new(out.shape.clone(), Values::I64(indices))
}
