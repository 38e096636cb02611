//! `switchyard-frontend`: where users build graphs, and the conductor of the pipeline.
//!
//! What it is: the [`Graph`] and [`Tensor`] builder API (every catalog op as a method
//! returning `Result<Tensor>`, Rust operators, Python-style weak scalars, NumPy indexing),
//! the expression language ([`expr`]), and the entry points [`Graph::plan`],
//! [`Graph::compile`] and [`Tensor::eval`], which call passes, lower and runtime in turn.
//!
//! What it is not: it holds no lowering or execution logic; it only calls the stages.
//!
//! Invariants:
//! - Every op is type-checked when it is called: an ill-typed or eager-only op is an error
//!   right there, never at evaluation.
//! - Tensors of different graphs never mix.
//! - No dtype changes kind without an explicit `cast`; weak scalars never widen a tensor.
#![warn(missing_docs)]

mod engine;
mod error;
pub mod expr;
mod graph;
mod index;
mod operand;
mod ops;
mod tensor;

pub use engine::Engine;
pub use error::{Error, Result};
pub use graph::Graph;
pub use index::Index;
pub use operand::{IntoOperand, Literal, Operand};
pub use ops::TensorResultExt;
pub use tensor::{concat, stack, where_, AxisSpec, Tensor};
