//! The lowering error type: why a graph could not be placed, planned or compiled.

use std::fmt;

use switchyard_ir::NodeId;

/// The class of a lowering error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LowerErrorKind {
    /// No backend of the target device supports a node.
    NoBackend,
    /// A value would have to cross devices without an explicit `to_device`.
    DeviceBoundary,
    /// The device has no registered backend at all.
    UnknownDevice,
    /// A backend built for an incompatible op-set version.
    VersionMismatch,
    /// A backend name registered twice, or an override naming an unknown backend.
    Registry,
    /// A `to_device` between two devices that this build cannot move data between.
    Transfer,
    /// A backend failed to compile a kernel.
    Compile,
    /// A compiled kernel refused its arguments or failed while running.
    Kernel,
    /// Memory a kernel needs could not be allocated.
    OutOfMemory,
}

/// An error from placement, planning, compilation or a kernel run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowerError {
    kind: LowerErrorKind,
    message: String,
    node: Option<NodeId>,
}

impl LowerError {
    /// A new error.
    pub fn new(kind: LowerErrorKind, message: impl Into<String>) -> LowerError {
        LowerError { kind, message: message.into(), node: None }
    }

    /// The same error, about node `node` of the graph being planned.
    pub fn at_node(mut self, node: NodeId) -> LowerError {
        self.node = Some(node);
        self
    }

    /// The node of the planned graph the error is about, if it is about one.
    pub fn node(&self) -> Option<NodeId> {
        self.node
    }

    /// The same error with the expression text its node came from added to its first line.
    pub fn with_origin(mut self, text: &str) -> LowerError {
        let (first, rest) = match self.message.split_once('\n') {
            Some((first, rest)) => (first.to_string(), format!("\n{rest}")),
            None => (self.message.clone(), String::new()),
        };
        self.message = format!("{first}, from the expression `{text}`{rest}");
        self
    }

    /// The class of error.
    pub fn kind(&self) -> LowerErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LowerError {}
