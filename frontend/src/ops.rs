//! Rust operators on tensors (`+ - * / -x`) and the [`TensorResultExt`] trait that lets
//! methods chain on `Result<Tensor>`.
//!
//! Rust's orphan rule forbids `impl Add<f64> for Result<Tensor>` (neither type is ours), so
//! a scalar cannot follow a `Result` directly: write `((&x * 2.0)? + 1.0)`. Everything else
//! chains: `(((&x * 2.0)? + 1.0).exp() * &y - &x)?`.

use std::ops::{Add, Div, Mul, Neg, Sub};

use switchyard_ir::BinaryOp;

use crate::error::Result;
use crate::operand::IntoOperand;
use crate::tensor::{binary, Tensor};

fn apply(op: BinaryOp, lhs: impl IntoOperand, rhs: impl IntoOperand) -> Result<Tensor> {
    binary(op, lhs.into_operand()?, rhs.into_operand()?)
}

macro_rules! operator {
    ($Trait:ident, $method:ident, $op:expr) => {
        impl<R: IntoOperand> $Trait<R> for Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: R) -> Result<Tensor> {
                apply($op, self, rhs)
            }
        }
        impl<R: IntoOperand> $Trait<R> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: R) -> Result<Tensor> {
                apply($op, self, rhs)
            }
        }
        impl $Trait<Tensor> for Result<Tensor> {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                apply($op, self, rhs)
            }
        }
        impl $Trait<&Tensor> for Result<Tensor> {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                apply($op, self, rhs)
            }
        }
        operator!(@scalar $Trait, $method, $op, f64, f32, i64, i32);
    };
    (@scalar $Trait:ident, $method:ident, $op:expr, $($t:ty),*) => {$(
        impl $Trait<Tensor> for $t {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                apply($op, self, rhs)
            }
        }
        impl $Trait<&Tensor> for $t {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                apply($op, self, rhs)
            }
        }
    )*};
}

operator!(Add, add, BinaryOp::Add);
operator!(Sub, sub, BinaryOp::Sub);
operator!(Mul, mul, BinaryOp::Mul);
operator!(Div, div, BinaryOp::Div);

impl Neg for Tensor {
    type Output = Result<Tensor>;
    fn neg(self) -> Result<Tensor> {
        Tensor::neg(&self)
    }
}

impl Neg for &Tensor {
    type Output = Result<Tensor>;
    fn neg(self) -> Result<Tensor> {
        Tensor::neg(self)
    }
}

macro_rules! result_methods {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("`Tensor::", stringify!($name), "` on a result; an earlier error passes through.")]
        fn $name(self) -> Result<Tensor>;
    )*};
}

macro_rules! result_impls {
    ($($name:ident),* $(,)?) => {$(
        fn $name(self) -> Result<Tensor> {
            self.and_then(|t| t.$name())
        }
    )*};
}

/// Tensor methods on `Result<Tensor>`, so a chain of ops needs one `?` at the end.
pub trait TensorResultExt {
    result_methods!(
        neg,
        abs,
        sign,
        sqrt,
        exp,
        exp2,
        expm1,
        log,
        log2,
        log1p,
        sin,
        cos,
        tan,
        tanh,
        sigmoid,
        floor,
        ceil,
        round,
        reciprocal,
        square,
        logical_not,
        isnan,
        isinf,
        isfinite,
        transpose
    );
    /// `Tensor::cast` on a result.
    fn cast(self, dtype: switchyard_ir::DType) -> Result<Tensor>;
    /// `Tensor::sum` on a result.
    fn sum(self, axes: impl Into<crate::AxisSpec>, keepdims: bool) -> Result<Tensor>;
    /// `Tensor::mean` on a result.
    fn mean(self, axes: impl Into<crate::AxisSpec>, keepdims: bool) -> Result<Tensor>;
    /// `Tensor::max` on a result.
    fn max(self, axes: impl Into<crate::AxisSpec>, keepdims: bool) -> Result<Tensor>;
    /// `Tensor::matmul` on a result.
    fn matmul(self, rhs: &Tensor) -> Result<Tensor>;
    /// `Tensor::maximum` on a result.
    fn maximum(self, rhs: impl IntoOperand) -> Result<Tensor>;
}

impl TensorResultExt for Result<Tensor> {
    result_impls!(
        neg,
        abs,
        sign,
        sqrt,
        exp,
        exp2,
        expm1,
        log,
        log2,
        log1p,
        sin,
        cos,
        tan,
        tanh,
        sigmoid,
        floor,
        ceil,
        round,
        reciprocal,
        square,
        logical_not,
        isnan,
        isinf,
        isfinite,
        transpose
    );
    fn cast(self, dtype: switchyard_ir::DType) -> Result<Tensor> {
        self.and_then(|t| t.cast(dtype))
    }
    fn sum(self, axes: impl Into<crate::AxisSpec>, keepdims: bool) -> Result<Tensor> {
        self.and_then(|t| t.sum(axes, keepdims))
    }
    fn mean(self, axes: impl Into<crate::AxisSpec>, keepdims: bool) -> Result<Tensor> {
        self.and_then(|t| t.mean(axes, keepdims))
    }
    fn max(self, axes: impl Into<crate::AxisSpec>, keepdims: bool) -> Result<Tensor> {
        self.and_then(|t| t.max(axes, keepdims))
    }
    fn matmul(self, rhs: &Tensor) -> Result<Tensor> {
        self.and_then(|t| t.matmul(rhs))
    }
    fn maximum(self, rhs: impl IntoOperand) -> Result<Tensor> {
        self.and_then(|t| t.maximum(rhs))
    }
}
