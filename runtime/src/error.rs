//! The runtime error type.

use std::fmt;

use switchyard_lower::LowerError;

/// The class of a runtime error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuntimeErrorKind {
    /// An input the graph declares was not given.
    MissingInput,
    /// An input was given that the graph does not declare.
    UnexpectedInput,
    /// An input's dtype differs from its declaration.
    DTypeMismatch,
    /// An input's shape differs from its declaration.
    ShapeMismatch,
    /// Array data that does not fit its dtype and shape.
    BadArray,
    /// A `.npy` file that cannot be read or written.
    Npy,
    /// A device that does not exist here.
    NoDevice,
    /// An array on another device than the plan's (never copied implicitly).
    WrongDevice,
    /// A kernel failed.
    Kernel,
    /// Reading or writing a file failed.
    Io,
    /// Host memory for a buffer could not be allocated.
    OutOfMemory,
}

/// An error while preparing or running an executable, or handling arrays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeError {
    kind: RuntimeErrorKind,
    message: String,
}

impl RuntimeError {
    /// A new error.
    pub fn new(kind: RuntimeErrorKind, message: impl Into<String>) -> RuntimeError {
        RuntimeError { kind, message: message.into() }
    }

    /// The class of error.
    pub fn kind(&self) -> RuntimeErrorKind {
        self.kind
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuntimeError {}

impl From<crate::buffer::AllocError> for RuntimeError {
    fn from(e: crate::buffer::AllocError) -> RuntimeError {
        RuntimeError::new(RuntimeErrorKind::OutOfMemory, e.to_string())
    }
}

impl RuntimeError {
    /// The runtime's class of a lowering error met while running: out of memory stays out of
    /// memory; anything else is a kernel failure.
    pub(crate) fn kind_of(e: &LowerError) -> RuntimeErrorKind {
        match e.kind() {
            switchyard_lower::LowerErrorKind::OutOfMemory => RuntimeErrorKind::OutOfMemory,
            _ => RuntimeErrorKind::Kernel,
        }
    }
}

impl From<LowerError> for RuntimeError {
    fn from(e: LowerError) -> RuntimeError {
        RuntimeError::new(RuntimeError::kind_of(&e), e.to_string())
    }
}
