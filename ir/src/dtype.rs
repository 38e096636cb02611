//! Element types and the promotion rules between them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The element type of an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// Booleans, stored as one byte holding 0 or 1.
    Bool,
    /// 32-bit two's-complement integers.
    I32,
    /// 64-bit two's-complement integers.
    I64,
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary64.
    F64,
}

/// The kind of a dtype: promotion happens within a kind, never across kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DTypeKind {
    /// `bool`.
    Bool,
    /// `i32`, `i64`.
    Int,
    /// `f32`, `f64`.
    Float,
}

impl fmt::Display for DTypeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DTypeKind::Bool => "bool",
            DTypeKind::Int => "integer",
            DTypeKind::Float => "floating-point",
        })
    }
}

impl DType {
    /// Every dtype, in a fixed order (used by tables and tests).
    pub const ALL: [DType; 5] = [DType::Bool, DType::I32, DType::I64, DType::F32, DType::F64];

    /// The short name used in printed IR and on the command line (`f32`).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }

    /// Parses `f32`/`float32`, `i64`/`int64`, `bool`, ...; `None` for anything else.
    pub fn parse(name: &str) -> Option<DType> {
        Some(match name {
            "bool" => DType::Bool,
            "i32" | "int32" => DType::I32,
            "i64" | "int64" => DType::I64,
            "f32" | "float32" => DType::F32,
            "f64" | "float64" => DType::F64,
            _ => return None,
        })
    }

    /// Size of one element in bytes.
    pub fn size_bytes(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    /// The kind this dtype belongs to.
    pub fn kind(self) -> DTypeKind {
        match self {
            DType::Bool => DTypeKind::Bool,
            DType::I32 | DType::I64 => DTypeKind::Int,
            DType::F32 | DType::F64 => DTypeKind::Float,
        }
    }

    /// True for `f32` and `f64`.
    pub fn is_float(self) -> bool {
        self.kind() == DTypeKind::Float
    }

    /// True for `i32` and `i64`.
    pub fn is_int(self) -> bool {
        self.kind() == DTypeKind::Int
    }

    /// True for integer and floating-point dtypes (not `bool`).
    pub fn is_numeric(self) -> bool {
        self.kind() != DTypeKind::Bool
    }

    /// Array-API promotion within one kind (`i32` with `i64` gives `i64`).
    /// `None` when the kinds differ: that needs an explicit `cast`.
    pub fn promote(self, other: DType) -> Option<DType> {
        if self.kind() != other.kind() {
            return None;
        }
        Some(if self.size_bytes() >= other.size_bytes() { self } else { other })
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_stays_within_a_kind() {
        assert_eq!(DType::I32.promote(DType::I64), Some(DType::I64));
        assert_eq!(DType::F64.promote(DType::F32), Some(DType::F64));
        assert_eq!(DType::Bool.promote(DType::Bool), Some(DType::Bool));
        assert_eq!(DType::I32.promote(DType::F32), None);
        assert_eq!(DType::Bool.promote(DType::I32), None);
    }

    #[test]
    fn names_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::parse(d.name()), Some(d));
        }
        assert_eq!(DType::parse("float32"), Some(DType::F32));
        assert_eq!(DType::parse("f16"), None);
    }
}
