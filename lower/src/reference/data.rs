//! Owned, typed array data: what the reference interpreter computes on. Decoded from a
//! kernel argument's little-endian bytes one element at a time (no alignment assumptions)
//! and encoded back into an output view.

use std::borrow::Cow;

use switchyard_ir::elementwise::Element;
use switchyard_ir::{DType, Shape, TensorType};

use super::kernel_error;
use crate::error::LowerError;
use crate::kernel::{TensorView, TensorViewMut};

/// The elements of an array, one vector per dtype.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// `bool` elements.
    Bool(Vec<bool>),
    /// `i32` elements.
    I32(Vec<i32>),
    /// `i64` elements.
    I64(Vec<i64>),
    /// `f32` elements.
    F32(Vec<f32>),
    /// `f64` elements.
    F64(Vec<f64>),
}

/// Runs `$body` with `$v` bound to the typed vector inside a [`Values`] (by value or by
/// reference, as `$values` is).
macro_rules! with_values {
    ($values:expr, |$v:ident| $body:expr) => {
        match $values {
            $crate::reference::data::Values::Bool($v) => $body,
            $crate::reference::data::Values::I32($v) => $body,
            $crate::reference::data::Values::I64($v) => $body,
            $crate::reference::data::Values::F32($v) => $body,
            $crate::reference::data::Values::F64($v) => $body,
        }
    };
}

/// Runs `$body` with the type name `$t` standing for the Rust element type of `$dtype`.
macro_rules! with_dtype {
    ($dtype:expr, |$t:ident| $body:expr) => {
        match $dtype {
            switchyard_ir::DType::Bool => {
                type $t = bool;
                $body
            }
            switchyard_ir::DType::I32 => {
                type $t = i32;
                $body
            }
            switchyard_ir::DType::I64 => {
                type $t = i64;
                $body
            }
            switchyard_ir::DType::F32 => {
                type $t = f32;
                $body
            }
            switchyard_ir::DType::F64 => {
                type $t = f64;
                $body
            }
        }
    };
}

pub(crate) use {with_dtype, with_values};

impl Values {
    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        match self {
            Values::Bool(_) => DType::Bool,
            Values::I32(_) => DType::I32,
            Values::I64(_) => DType::I64,
            Values::F32(_) => DType::F32,
            Values::F64(_) => DType::F64,
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        with_values!(self, |v| v.len())
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements converted to `dtype` with `cast` semantics.
    pub fn cast(&self, dtype: DType) -> Values {
        fn go<S: Stored, D: Stored>(v: &[S]) -> Values {
            D::wrap(v.iter().map(|&x| D::from_scalar(x.to_scalar())).collect())
        }
        with_values!(self, |v| with_dtype!(dtype, |D| go::<_, D>(v.as_slice())))
    }
}

/// A Rust element type the interpreter stores: an [`Element`] that can be wrapped in
/// [`Values`], read from and written to little-endian bytes, and converted to the
/// accumulator types with `as` (the same conversions `cast` makes).
pub trait Stored: Element {
    /// Wraps a vector of this type.
    fn wrap(values: Vec<Self>) -> Values;
    /// The typed elements, when `values` holds this type.
    fn slice(values: &Values) -> Option<&[Self]>;
    /// Decodes little-endian bytes (the length is a multiple of the element size).
    fn decode(bytes: &[u8]) -> Vec<Self>;
    /// Encodes into little-endian bytes (`out` holds exactly `values.len()` elements).
    fn encode(values: &[Self], out: &mut [u8]);
    /// The value as `f64` (bools: 0 or 1).
    fn to_f64(self) -> f64;
    /// The value as `i64` (floats truncate and saturate; bools: 0 or 1).
    fn to_i64(self) -> i64;
    /// An `f64` rounded (or truncated, for integers) to this type, as `cast` does.
    fn from_f64(x: f64) -> Self;
    /// An `i64` converted to this type, as `cast` does (integers wrap).
    fn from_i64(x: i64) -> Self;
}

macro_rules! numeric_stored {
    ($t:ty, $variant:ident, $size:literal) => {
        impl Stored for $t {
            fn wrap(values: Vec<$t>) -> Values {
                Values::$variant(values)
            }

            fn slice(values: &Values) -> Option<&[$t]> {
                match values {
                    Values::$variant(v) => Some(v),
                    _ => None,
                }
            }

            fn decode(bytes: &[u8]) -> Vec<$t> {
                let (chunks, _) = bytes.as_chunks::<$size>();
                chunks.iter().map(|c| <$t>::from_le_bytes(*c)).collect()
            }

            fn encode(values: &[$t], out: &mut [u8]) {
                let (chunks, _) = out.as_chunks_mut::<$size>();
                for (c, v) in chunks.iter_mut().zip(values) {
                    *c = v.to_le_bytes();
                }
            }

            fn to_f64(self) -> f64 {
                self as f64
            }

            fn to_i64(self) -> i64 {
                self as i64
            }

            fn from_f64(x: f64) -> $t {
                x as $t
            }

            fn from_i64(x: i64) -> $t {
                x as $t
            }
        }
    };
}

numeric_stored!(i32, I32, 4);
numeric_stored!(i64, I64, 8);
numeric_stored!(f32, F32, 4);
numeric_stored!(f64, F64, 8);

impl Stored for bool {
    fn wrap(values: Vec<bool>) -> Values {
        Values::Bool(values)
    }

    fn slice(values: &Values) -> Option<&[bool]> {
        match values {
            Values::Bool(v) => Some(v),
            _ => None,
        }
    }

    fn decode(bytes: &[u8]) -> Vec<bool> {
        bytes.iter().map(|&b| b != 0).collect()
    }

    fn encode(values: &[bool], out: &mut [u8]) {
        for (o, &v) in out.iter_mut().zip(values) {
            *o = u8::from(v);
        }
    }

    fn to_f64(self) -> f64 {
        f64::from(u8::from(self))
    }

    fn to_i64(self) -> i64 {
        i64::from(self)
    }

    fn from_f64(x: f64) -> bool {
        x != 0.0
    }

    fn from_i64(x: i64) -> bool {
        x != 0
    }
}

/// An array: a shape and its row-major elements.
///
/// Invariant: the element count equals the shape's (checked by [`Data::new`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Data {
    shape: Shape,
    values: Values,
}

impl Data {
    /// An array from a shape and its elements; fails when the counts differ.
    pub fn new(shape: Shape, values: Values) -> Result<Data, LowerError> {
        if shape.numel() != values.len() {
            return Err(kernel_error(format!(
                "{} {} elements do not fill shape {shape} ({} elements)",
                values.len(),
                values.dtype(),
                shape.numel()
            )));
        }
        Ok(Data { shape, values })
    }

    /// An array of `ty` with no elements (its shape has a zero extent).
    pub fn empty(ty: &TensorType) -> Result<Data, LowerError> {
        let values = with_dtype!(ty.dtype, |T| <T as Stored>::wrap(Vec::new()));
        Data::new(ty.shape.clone(), values)
    }

    /// Decodes a kernel argument (its byte length must match its dtype and shape).
    pub fn from_view(view: &TensorView<'_>) -> Result<Data, LowerError> {
        let expected = view.shape.numel().checked_mul(view.dtype.size_bytes());
        if expected != Some(view.data.len()) {
            return Err(kernel_error(format!(
                "argument {}{} has {} bytes",
                view.dtype,
                view.shape,
                view.data.len()
            )));
        }
        let values = with_dtype!(view.dtype, |T| T::wrap(T::decode(view.data)));
        Data::new(view.shape.clone(), values)
    }

    /// Encodes into an output view of the same dtype and shape.
    pub fn write_into(&self, out: &mut TensorViewMut<'_>) -> Result<(), LowerError> {
        let bytes = self.shape.numel().checked_mul(self.dtype().size_bytes());
        if out.dtype != self.dtype() || out.shape != &self.shape || bytes != Some(out.data.len()) {
            return Err(kernel_error(format!(
                "cannot write {}{} into an output of {}{} with {} bytes",
                self.dtype(),
                self.shape,
                out.dtype,
                out.shape,
                out.data.len()
            )));
        }
        with_values!(&self.values, |v| Stored::encode(v.as_slice(), out.data));
        Ok(())
    }

    /// The little-endian bytes of the elements (bools as 0 or 1), as a kernel argument holds them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.values.len() * self.dtype().size_bytes()];
        with_values!(&self.values, |v| Stored::encode(v.as_slice(), &mut out));
        out
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The extents, outermost first.
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.values.dtype()
    }

    /// The elements.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// The elements, consuming the array.
    pub fn into_values(self) -> Values {
        self.values
    }

    /// The elements as a slice of `T`; an error when the dtype is another.
    pub fn typed<T: Stored>(&self) -> Result<&[T], LowerError> {
        T::slice(&self.values).ok_or_else(|| {
            kernel_error(format!("expected {} elements, found {}", T::DTYPE, self.values.dtype()))
        })
    }

    /// The array converted to `dtype` (`cast` semantics); borrowed when it already has it.
    pub fn cast_to(&self, dtype: DType) -> Cow<'_, Data> {
        if self.dtype() == dtype {
            Cow::Borrowed(self)
        } else {
            Cow::Owned(Data { shape: self.shape.clone(), values: self.values.cast(dtype) })
        }
    }

    /// The same elements under another shape of the same element count.
    pub fn with_shape(self, shape: Shape) -> Result<Data, LowerError> {
        Data::new(shape, self.values)
    }
}
