//! Operands of binary ops: tensors, or Python-style weak scalars that take the dtype of
//! the tensor they meet (`x * 2.0` keeps `x`'s float dtype; `int_tensor * 2.0` is an error).

use switchyard_ir::{DType, DTypeKind, IrError, IrErrorKind, Scalar};

use crate::error::Result;
use crate::tensor::Tensor;

/// A literal without a dtype of its own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Literal {
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A bool literal.
    Bool(bool),
}

impl Literal {
    /// The dtype a literal gets when nothing else decides: i64, f64 or bool.
    pub fn default_dtype(self) -> DType {
        match self {
            Literal::Int(_) => DType::I64,
            Literal::Float(_) => DType::F64,
            Literal::Bool(_) => DType::Bool,
        }
    }

    /// The literal as a value of `dtype`, refusing kind changes and values out of range.
    pub fn to_scalar(self, dtype: DType, op: &str) -> std::result::Result<Scalar, IrError> {
        let mismatch = |what: &str| {
            IrError::new(
                IrErrorKind::DTypeMismatch,
                op,
                format!("{what} literal {} cannot combine with a {dtype} operand", self.text()),
            )
        };
        match (self, dtype.kind()) {
            (Literal::Int(v), DTypeKind::Int) => {
                if dtype == DType::I32 {
                    i32::try_from(v).map(Scalar::I32).map_err(|_| {
                        IrError::new(
                            IrErrorKind::Overflow,
                            op,
                            format!("integer literal {v} does not fit in i32"),
                        )
                        .with_hint("cast the tensor to i64 first")
                    })
                } else {
                    Ok(Scalar::I64(v))
                }
            }
            (Literal::Int(v), DTypeKind::Float) => Ok(Scalar::F64(v as f64).cast(dtype)),
            (Literal::Float(v), DTypeKind::Float) => Ok(Scalar::F64(v).cast(dtype)),
            (Literal::Float(_), DTypeKind::Int) => Err(mismatch("float")
                .with_hint(format!("cast the {dtype} operand to a float dtype, e.g. cast(x, dtype=f64)"))),
            (Literal::Bool(b), DTypeKind::Bool) => Ok(Scalar::Bool(b)),
            (Literal::Bool(_), _) => {
                Err(mismatch("bool").with_hint("cast(x, dtype=bool) or compare instead"))
            }
            (_, DTypeKind::Bool) => {
                Err(mismatch("numeric").with_hint("cast the bool operand to a numeric dtype"))
            }
        }
    }

    fn text(self) -> String {
        match self {
            Literal::Int(v) => v.to_string(),
            Literal::Float(v) => Scalar::F64(v).to_string(),
            Literal::Bool(b) => b.to_string(),
        }
    }
}

/// An operand: a tensor or a weak scalar.
#[derive(Clone, Debug)]
pub enum Operand {
    /// A tensor.
    Tensor(Tensor),
    /// A weak scalar.
    Literal(Literal),
}

impl From<Tensor> for Operand {
    fn from(t: Tensor) -> Operand {
        Operand::Tensor(t)
    }
}

impl From<&Tensor> for Operand {
    fn from(t: &Tensor) -> Operand {
        Operand::Tensor(t.clone())
    }
}

impl From<Literal> for Operand {
    fn from(l: Literal) -> Operand {
        Operand::Literal(l)
    }
}

macro_rules! literal_from {
    ($($t:ty => $variant:ident as $conv:ty),*) => {$(
        impl From<$t> for Literal {
            fn from(v: $t) -> Literal {
                Literal::$variant(<$conv>::from(v))
            }
        }
        impl From<$t> for Operand {
            fn from(v: $t) -> Operand {
                Operand::Literal(Literal::from(v))
            }
        }
    )*};
}
literal_from!(f64 => Float as f64, f32 => Float as f64, i64 => Int as i64, i32 => Int as i64, bool => Bool as bool);

/// Values that can stand on either side of an operator: tensors, results of tensor ops,
/// and Rust scalars.
pub trait IntoOperand {
    /// The operand, or the error that an earlier op in the chain produced.
    fn into_operand(self) -> Result<Operand>;
}

impl IntoOperand for Operand {
    fn into_operand(self) -> Result<Operand> {
        Ok(self)
    }
}

impl IntoOperand for Tensor {
    fn into_operand(self) -> Result<Operand> {
        Ok(Operand::Tensor(self))
    }
}

impl IntoOperand for &Tensor {
    fn into_operand(self) -> Result<Operand> {
        Ok(Operand::Tensor(self.clone()))
    }
}

impl IntoOperand for Result<Tensor> {
    fn into_operand(self) -> Result<Operand> {
        self.map(Operand::Tensor)
    }
}

impl IntoOperand for &Result<Tensor> {
    fn into_operand(self) -> Result<Operand> {
        self.clone().map(Operand::Tensor)
    }
}

macro_rules! scalar_operand {
    ($($t:ty),*) => {$(
        impl IntoOperand for $t {
            fn into_operand(self) -> Result<Operand> {
                Ok(Operand::from(self))
            }
        }
    )*};
}
scalar_operand!(f64, f32, i64, i32, bool);
