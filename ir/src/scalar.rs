//! Typed scalar values (constants and attribute values).

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::DType;

/// One value of a given dtype. Floats compare and hash by bit pattern, so `NaN == NaN` and
/// `-0.0 != 0.0` here: two constants are the same node only when they are the same bits.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub enum Scalar {
    /// A `bool`.
    Bool(bool),
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
}

impl Scalar {
    /// The dtype of the value.
    pub fn dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::I32(_) => DType::I32,
            Scalar::I64(_) => DType::I64,
            Scalar::F32(_) => DType::F32,
            Scalar::F64(_) => DType::F64,
        }
    }

    /// The value as `f64` (bools give 0 or 1; large `i64` round).
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => f64::from(u8::from(b)),
            Scalar::I32(v) => f64::from(v),
            Scalar::I64(v) => v as f64,
            Scalar::F32(v) => f64::from(v),
            Scalar::F64(v) => v,
        }
    }

    /// The value as `i64`, for integer and bool scalars; `None` for floats.
    pub fn to_i64(self) -> Option<i64> {
        match self {
            Scalar::Bool(b) => Some(i64::from(b)),
            Scalar::I32(v) => Some(i64::from(v)),
            Scalar::I64(v) => Some(v),
            Scalar::F32(_) | Scalar::F64(_) => None,
        }
    }

    /// The value converted to `dtype` with `cast` semantics (see [`crate::elementwise`]).
    pub fn cast(self, dtype: DType) -> Scalar {
        crate::elementwise::cast_scalar(self, dtype)
    }

    /// Zero of a dtype (`false` for bool).
    pub fn zero(dtype: DType) -> Scalar {
        match dtype {
            DType::Bool => Scalar::Bool(false),
            DType::I32 => Scalar::I32(0),
            DType::I64 => Scalar::I64(0),
            DType::F32 => Scalar::F32(0.0),
            DType::F64 => Scalar::F64(0.0),
        }
    }

    /// One of a dtype (`true` for bool).
    pub fn one(dtype: DType) -> Scalar {
        match dtype {
            DType::Bool => Scalar::Bool(true),
            DType::I32 => Scalar::I32(1),
            DType::I64 => Scalar::I64(1),
            DType::F32 => Scalar::F32(1.0),
            DType::F64 => Scalar::F64(1.0),
        }
    }

    fn bits(self) -> (u8, u64) {
        match self {
            Scalar::Bool(b) => (0, u64::from(b)),
            Scalar::I32(v) => (1, v as u32 as u64),
            Scalar::I64(v) => (2, v as u64),
            Scalar::F32(v) => (3, u64::from(v.to_bits())),
            Scalar::F64(v) => (4, v.to_bits()),
        }
    }
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Scalar) -> bool {
        self.bits() == other.bits()
    }
}

impl Eq for Scalar {}

impl Hash for Scalar {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bits().hash(state);
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::I32(v) => write!(f, "{v}"),
            Scalar::I64(v) => write!(f, "{v}"),
            Scalar::F32(v) => fmt_float(f, f64::from(v), &v.to_string(), &format!("{v:e}")),
            Scalar::F64(v) => fmt_float(f, v, &v.to_string(), &format!("{v:e}")),
        }
    }
}

/// Prints a float with its own type's shortest round-trip text (`shortest`, or `exponent`
/// for magnitudes below 1e-4 or from 1e16 up), a `.0` on integral values, and `nan`/`inf`
/// spelled as the expression language reads them.
fn fmt_float(f: &mut fmt::Formatter<'_>, v: f64, shortest: &str, exponent: &str) -> fmt::Result {
    if v.is_nan() {
        f.write_str("nan")
    } else if v.is_infinite() {
        f.write_str(if v > 0.0 { "inf" } else { "-inf" })
    } else if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e16) {
        f.write_str(exponent)
    } else if v == v.trunc() {
        write!(f, "{v:.1}")
    } else {
        f.write_str(shortest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_compare_by_bits() {
        assert_eq!(Scalar::F32(f32::NAN), Scalar::F32(f32::NAN));
        assert_ne!(Scalar::F64(0.0), Scalar::F64(-0.0));
        assert_ne!(Scalar::F32(1.0), Scalar::F64(1.0));
    }

    #[test]
    fn prints_readably() {
        assert_eq!(Scalar::F32(2.0).to_string(), "2.0");
        assert_eq!(Scalar::F64(0.1).to_string(), "0.1");
        assert_eq!(Scalar::F64(f64::NEG_INFINITY).to_string(), "-inf");
        assert_eq!(Scalar::I64(-3).to_string(), "-3");
        assert_eq!(Scalar::F32(2.0604769e-15).to_string(), "2.0604769e-15");
        assert_eq!(Scalar::F64(1e20).to_string(), "1e20");
        assert_eq!(Scalar::F64(-0.0).to_string(), "-0.0");
    }
}
