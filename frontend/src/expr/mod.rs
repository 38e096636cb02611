//! The expression language: `exp(x*2+1)*y - x`, `sum(a, axis=1, keepdims=true)`, `a @ b`,
//! `x[:, None]`, `x[1:10:2]`. Parsed by [`parser`] into an [`ast::Expr`], then lowered by
//! [`lower`] into the same builder calls the Rust API makes. Errors carry a [`Span`] and
//! render with a caret under the column.

pub mod ast;
pub mod error;
pub mod lexer;
mod lower;
pub mod parser;

pub use ast::{Expr, Span};
pub use error::ExprError;
pub use lower::{build, Env};
pub use parser::parse;
