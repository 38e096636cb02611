//! `Array`: an immutable, typed, host-resident n-dimensional array (inputs and results).

use std::fmt;
use std::sync::Arc;

use switchyard_ir::elementwise::Element;
use switchyard_ir::{DType, Scalar, Shape, TensorType};
use switchyard_lower::TensorView;

use crate::buffer::AlignedBuffer;
use crate::error::{RuntimeError, RuntimeErrorKind};

/// Types that can be the elements of an [`Array`]: `bool, i32, i64, f32, f64`.
pub trait HostElement: Element {
    /// Writes the element's bytes (bool as one byte, 0 or 1), little-endian.
    fn write_le(self, out: &mut Vec<u8>);
    /// Reads an element from its bytes (at least `size_bytes` of them).
    fn read_le(bytes: &[u8]) -> Self;
}

macro_rules! host_number {
    ($t:ty) => {
        impl HostElement for $t {
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn read_le(bytes: &[u8]) -> $t {
                let mut raw = [0u8; std::mem::size_of::<$t>()];
                raw.copy_from_slice(&bytes[..std::mem::size_of::<$t>()]);
                <$t>::from_le_bytes(raw)
            }
        }
    };
}
host_number!(i32);
host_number!(i64);
host_number!(f32);
host_number!(f64);

impl HostElement for bool {
    fn write_le(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
    fn read_le(bytes: &[u8]) -> bool {
        bytes[0] != 0
    }
}

/// An n-dimensional array in host memory: dtype, shape and row-major data in a 64-byte-aligned
/// buffer. Cloning is cheap (the buffer is shared); arrays never change after construction.
///
/// Invariant: the buffer holds exactly `shape.numel() * dtype.size_bytes()` bytes, and bool
/// elements are 0 or 1.
#[derive(Clone)]
pub struct Array {
    dtype: DType,
    shape: Shape,
    data: Arc<AlignedBuffer>,
}

impl Array {
    /// An array from its elements in row-major order.
    pub fn from_vec<T: HostElement>(dims: &[usize], values: Vec<T>) -> Result<Array, RuntimeError> {
        let shape = checked_shape(dims)?;
        if values.len() != shape.numel() {
            return Err(RuntimeError::new(
                RuntimeErrorKind::BadArray,
                format!("{} values do not fill shape {shape} ({} elements)", values.len(), shape.numel()),
            ));
        }
        let mut buffer = AlignedBuffer::zeroed(shape.byte_len(T::DTYPE.size_bytes()))?;
        let mut bytes = Vec::with_capacity(T::DTYPE.size_bytes());
        for (v, out) in values.into_iter().zip(buffer.as_bytes_mut().chunks_exact_mut(T::DTYPE.size_bytes()))
        {
            bytes.clear();
            v.write_le(&mut bytes);
            out.copy_from_slice(&bytes);
        }
        Ok(Array { dtype: T::DTYPE, shape, data: Arc::new(buffer) })
    }

    /// A rank-0 array holding one value.
    pub fn scalar<T: HostElement>(value: T) -> Array {
        let mut bytes = Vec::new();
        value.write_le(&mut bytes);
        let mut buffer = AlignedBuffer::new_small();
        buffer.as_bytes_mut()[..bytes.len()].copy_from_slice(&bytes);
        buffer.truncate(bytes.len());
        Array { dtype: T::DTYPE, shape: Shape::scalar(), data: Arc::new(buffer) }
    }

    /// An array from raw little-endian row-major bytes. Checks the length, and that bool
    /// bytes are 0 or 1.
    pub fn from_bytes(dtype: DType, shape: Shape, bytes: &[u8]) -> Result<Array, RuntimeError> {
        let expected = shape.byte_len(dtype.size_bytes());
        if bytes.len() != expected {
            return Err(RuntimeError::new(
                RuntimeErrorKind::BadArray,
                format!("{dtype}{shape} needs {expected} bytes, got {}", bytes.len()),
            ));
        }
        if dtype == DType::Bool && bytes.iter().any(|&b| b > 1) {
            return Err(RuntimeError::new(RuntimeErrorKind::BadArray, "bool bytes must be 0 or 1"));
        }
        Ok(Array { dtype, shape, data: Arc::new(AlignedBuffer::from_bytes(bytes)?) })
    }

    /// Wraps a buffer the executor filled. The caller guarantees the length invariant.
    pub(crate) fn from_buffer(dtype: DType, shape: Shape, data: AlignedBuffer) -> Array {
        debug_assert_eq!(data.len(), shape.byte_len(dtype.size_bytes()));
        Array { dtype, shape, data: Arc::new(data) }
    }

    /// An array filled with `value` (converted to `dtype` with cast semantics).
    pub fn full(dtype: DType, dims: &[usize], value: Scalar) -> Result<Array, RuntimeError> {
        let shape = checked_shape(dims)?;
        let mut one = Vec::new();
        write_scalar(value.cast(dtype), &mut one);
        let mut buffer = AlignedBuffer::zeroed(shape.byte_len(dtype.size_bytes()))?;
        for out in buffer.as_bytes_mut().chunks_exact_mut(one.len()) {
            out.copy_from_slice(&one);
        }
        Ok(Array { dtype, shape, data: Arc::new(buffer) })
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The dims of the shape.
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// Dtype and shape together.
    pub fn ty(&self) -> TensorType {
        TensorType { dtype: self.dtype, shape: self.shape.clone() }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.numel()
    }

    /// True when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw row-major little-endian bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.data.as_bytes()
    }

    /// A kernel argument view of the array.
    pub fn view(&self) -> TensorView<'_> {
        TensorView { dtype: self.dtype, shape: &self.shape, data: self.data.as_bytes() }
    }

    /// The elements as a `Vec<T>`; fails when `T` is not the array's dtype.
    pub fn to_vec<T: HostElement>(&self) -> Result<Vec<T>, RuntimeError> {
        if T::DTYPE != self.dtype {
            return Err(RuntimeError::new(
                RuntimeErrorKind::DTypeMismatch,
                format!("array is {}, asked for {}", self.dtype, T::DTYPE),
            ));
        }
        Ok(self.as_bytes().chunks_exact(self.dtype.size_bytes()).map(T::read_le).collect())
    }

    /// Element `i` (row-major) as a scalar, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<Scalar> {
        let size = self.dtype.size_bytes();
        let bytes = self.as_bytes().get(i.checked_mul(size)?..i.checked_mul(size)?.checked_add(size)?)?;
        Some(match self.dtype {
            DType::Bool => Scalar::Bool(bool::read_le(bytes)),
            DType::I32 => Scalar::I32(i32::read_le(bytes)),
            DType::I64 => Scalar::I64(i64::read_le(bytes)),
            DType::F32 => Scalar::F32(f32::read_le(bytes)),
            DType::F64 => Scalar::F64(f64::read_le(bytes)),
        })
    }

    /// The elements converted to `f64` (bools as 0/1), for summaries and comparisons.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        (0..self.len()).filter_map(|i| self.get(i)).map(Scalar::to_f64).collect()
    }
}

fn write_scalar(s: Scalar, out: &mut Vec<u8>) {
    match s {
        Scalar::Bool(v) => v.write_le(out),
        Scalar::I32(v) => v.write_le(out),
        Scalar::I64(v) => v.write_le(out),
        Scalar::F32(v) => v.write_le(out),
        Scalar::F64(v) => v.write_le(out),
    }
}

fn checked_shape(dims: &[usize]) -> Result<Shape, RuntimeError> {
    Shape::new(dims).map_err(|e| RuntimeError::new(RuntimeErrorKind::BadArray, e.to_string()))
}

impl PartialEq for Array {
    /// Same dtype, shape and bytes (so NaNs with equal bits are equal).
    fn eq(&self, other: &Array) -> bool {
        self.dtype == other.dtype && self.shape == other.shape && self.as_bytes() == other.as_bytes()
    }
}

/// A one-line summary: `f32[3] [1.0, 2.0, 3.0]`, eliding the middle of long arrays.
impl fmt::Display for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{} [", self.dtype, self.shape)?;
        let n = self.len();
        let show: Vec<usize> = if n <= 8 { (0..n).collect() } else { (0..4).chain(n - 3..n).collect() };
        for (k, &i) in show.iter().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            if n > 8 && k == 4 {
                f.write_str("..., ")?;
            }
            if let Some(v) = self.get(i) {
                write!(f, "{v}")?;
            }
        }
        f.write_str("]")
    }
}

impl fmt::Debug for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_values() {
        let a = Array::from_vec(&[2, 2], vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(a.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(a.to_string(), "f32[2,2] [1.0, 2.0, 3.0, 4.0]");
        assert!(a.to_vec::<f64>().is_err());
        assert!(Array::from_vec(&[3], vec![1i32]).is_err());
        let b = Array::from_vec(&[20], (0..20i64).collect()).unwrap();
        assert_eq!(b.to_string(), "i64[20] [0, 1, 2, 3, ..., 17, 18, 19]");
    }

    #[test]
    fn bool_bytes_are_checked() {
        assert!(Array::from_bytes(DType::Bool, Shape::vector(2), &[0, 2]).is_err());
        assert!(Array::from_bytes(DType::Bool, Shape::vector(2), &[0, 1]).is_ok());
        assert!(Array::from_bytes(DType::F32, Shape::vector(2), &[0; 7]).is_err());
    }
}
