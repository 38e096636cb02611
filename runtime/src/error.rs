//! The runtime error type.

use std::fmt;

use switchyard_lower::{LowerError, LowerErrorKind};

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
    /// A backend could not compile a kernel of the plan.
    Compile,
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
    /// The backend's error this one reports, kept whole (kind, node, message).
    source: Option<LowerError>,
}

impl RuntimeError {
    /// A new error.
    pub fn new(kind: RuntimeErrorKind, message: impl Into<String>) -> RuntimeError {
        RuntimeError { kind, message: message.into(), source: None }
    }

    /// `message`, caused by the backend's error `source` (its kind decides this one's:
    /// see [`RuntimeError::lower`]).
    pub fn from_lower(message: impl Into<String>, source: LowerError) -> RuntimeError {
        RuntimeError { kind: RuntimeError::kind_of(&source), message: message.into(), source: Some(source) }
    }

    /// The class of error.
    pub fn kind(&self) -> RuntimeErrorKind {
        self.kind
    }

    /// The backend's error behind this one, if a backend failed (compiling or running a
    /// kernel, or allocating device memory).
    pub fn lower(&self) -> Option<&LowerError> {
        self.source.as_ref()
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuntimeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<crate::buffer::AllocError> for RuntimeError {
    fn from(e: crate::buffer::AllocError) -> RuntimeError {
        RuntimeError::new(RuntimeErrorKind::OutOfMemory, e.to_string())
    }
}

impl RuntimeError {
    /// The runtime's class of a backend's error: out of memory stays out of memory, a
    /// compile error stays a compile error, anything else is a kernel failure.
    pub(crate) fn kind_of(e: &LowerError) -> RuntimeErrorKind {
        match e.kind() {
            LowerErrorKind::OutOfMemory => RuntimeErrorKind::OutOfMemory,
            LowerErrorKind::Compile => RuntimeErrorKind::Compile,
            _ => RuntimeErrorKind::Kernel,
        }
    }
}

impl From<LowerError> for RuntimeError {
    fn from(e: LowerError) -> RuntimeError {
        RuntimeError::from_lower(e.to_string(), e)
    }
}
