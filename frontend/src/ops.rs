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

/// Declares [`TensorResultExt`] and implements it for `Result<Tensor>` from one list of
/// `name(args) -> call` entries, so the trait and its impl cannot drift apart.
macro_rules! result_ext {
    ($($name:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {
        /// Tensor methods on `Result<Tensor>`, so a chain of ops needs one `?` at the end.
        pub trait TensorResultExt {
            $(
                #[doc = concat!("`Tensor::", stringify!($name), "` on a result; an earlier error passes through.")]
                fn $name(self $(, $arg: $ty)*) -> Result<Tensor>;
            )*
        }

        impl TensorResultExt for Result<Tensor> {
            $(
                fn $name(self $(, $arg: $ty)*) -> Result<Tensor> {
                    self.and_then(|t| t.$name($($arg),*))
                }
            )*
        }
    };
}

result_ext!(
    neg(), abs(), sign(), sqrt(), exp(), exp2(), expm1(), log(), log2(), log1p(), sin(), cos(), tan(), tanh(),
    sigmoid(), floor(), ceil(), round(), reciprocal(), square(), logical_not(), isnan(), isinf(), isfinite(),
    transpose(),
    cast(dtype: switchyard_ir::DType),
    sum(axes: impl Into<crate::AxisSpec>, keepdims: bool),
    mean(axes: impl Into<crate::AxisSpec>, keepdims: bool),
    max(axes: impl Into<crate::AxisSpec>, keepdims: bool),
    matmul(rhs: &Tensor),
    maximum(rhs: impl IntoOperand),
);
