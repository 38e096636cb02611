//! The IR's error type: what went wrong building or checking a node.

use std::fmt;

/// The class of an IR error, for callers and tests that match on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IrErrorKind {
    /// Operand shapes cannot be broadcast or do not fit the op.
    ShapeMismatch,
    /// Operand dtypes are not accepted by the op or do not mix without a `cast`.
    DTypeMismatch,
    /// An axis is out of range or repeated.
    BadAxis,
    /// `reshape` to a different element count.
    ReshapeSize,
    /// `matmul` operands whose inner dimensions differ, or scalars.
    MatmulShape,
    /// An attribute value is invalid (slice step 0, bad permutation, ...).
    BadAttribute,
    /// The op needs eager execution and cannot be built lazily.
    NotLazy,
    /// A reduction without identity (`max`, `argmin`, ...) over zero elements.
    EmptyReduction,
    /// An element count or index that overflows.
    Overflow,
    /// Wrong number of inputs, or inputs that are not nodes of this graph.
    BadInput,
    /// An input name declared twice with different types.
    InputRedeclared,
}

/// An error building or validating IR. Carries the op, what was wrong, and a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IrError {
    kind: IrErrorKind,
    op: String,
    message: String,
    hint: Option<String>,
}

impl IrError {
    /// A new error about `op`.
    pub fn new(kind: IrErrorKind, op: impl Into<String>, message: impl Into<String>) -> IrError {
        IrError { kind, op: op.into(), message: message.into(), hint: None }
    }

    /// Adds a hint saying how to fix it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> IrError {
        self.hint = Some(hint.into());
        self
    }

    /// The class of error.
    pub fn kind(&self) -> IrErrorKind {
        self.kind
    }

    /// The name of the op that failed.
    pub fn op(&self) -> &str {
        &self.op
    }

    /// What went wrong (without the op name or hint).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How to fix it, if known.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for IrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for IrError {}
