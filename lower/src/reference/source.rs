//! Source ops: arrays made from attributes alone (`full`, `arange`).

use switchyard_ir::elementwise::Element;
use switchyard_ir::{Scalar, TensorType};

use super::data::{with_dtype, Data, Stored, Values};
use super::kernel_error;
use crate::error::LowerError;

/// `full(value, shape)`: every element is `value` (of the array's dtype).
pub fn full(value: Scalar, out: &TensorType) -> Result<Data, LowerError> {
    let n = out.shape.numel();
    let values = with_dtype!(out.dtype, |T| T::wrap(vec![T::from_scalar(value); n]));
    Data::new(out.shape.clone(), values)
}

/// `arange(start, step, len)`: element `i` is `start + i * step`. Integers wrap; floats are
/// computed in `f64` and rounded once to the dtype.
pub fn arange(start: Scalar, step: Scalar, out: &TensorType) -> Result<Data, LowerError> {
    fn go<T: Stored>(start: Scalar, step: Scalar, len: usize) -> Result<Values, LowerError> {
        let values: Vec<T> = if T::DTYPE.is_float() {
            let (s, d) = (start.to_f64(), step.to_f64());
            (0..len).map(|i| T::from_f64(s + (i as f64) * d)).collect()
        } else {
            let (s, d) = match (start.to_i64(), step.to_i64()) {
                (Some(s), Some(d)) => (s, d),
                _ => return Err(kernel_error("integer arange needs integer start and step")),
            };
            // Wrapping in i64 then narrowing is wrapping in the narrower type: all is modulo 2^n.
            (0..len).map(|i| T::from_i64(s.wrapping_add((i as i64).wrapping_mul(d)))).collect()
        };
        Ok(T::wrap(values))
    }
    let len = out.shape.numel();
    let values = with_dtype!(out.dtype, |T| go::<T>(start, step, len)?);
    Data::new(out.shape.clone(), values)
}
