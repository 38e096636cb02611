//! The frontend's error type, which is also switchyard's top-level error.

use switchyard_ir::IrError;
use switchyard_lower::LowerError;
use switchyard_runtime::RuntimeError;

use crate::expr::ExprError;

/// Anything that can go wrong between building a graph and getting its results.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// An op was ill-typed, ill-shaped or not lazy (raised where the op was built).
    #[error("{0}")]
    Ir(#[from] IrError),
    /// An expression did not parse or type-check; `rendered` shows it with a caret.
    #[error("{rendered}")]
    Expr {
        /// The error with its span.
        error: ExprError,
        /// The message with the expression and a caret under the column.
        rendered: String,
    },
    /// Placement, planning or compilation failed.
    #[error("{0}")]
    Lower(#[from] LowerError),
    /// Running failed, or inputs did not match the graph.
    #[error("{0}")]
    Runtime(#[from] RuntimeError),
}

/// `std::result::Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
