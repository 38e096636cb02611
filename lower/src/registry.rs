//! The registry of backends, with per-op overrides.

use std::fmt;
use std::sync::Arc;

use switchyard_ir::{DeviceKind, OP_SET_VERSION};

use crate::backend::Backend;
use crate::error::{LowerError, LowerErrorKind};
use crate::reference::ReferenceBackend;

/// A per-op override: nodes whose op has this name go to this backend first, if it supports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// The op's array-API name (`matmul`).
    pub op: String,
    /// The backend that takes it.
    pub backend: String,
}

/// The backends placement may choose from.
#[derive(Clone, Default)]
pub struct Registry {
    backends: Vec<Arc<dyn Backend>>,
    overrides: Vec<Override>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// The built-in backends: `cpu.reference`.
    pub fn with_builtins() -> Registry {
        let mut r = Registry::new();
        // Built-ins are built against this op set and have distinct names: this cannot fail.
        let _ = r.register(Arc::new(ReferenceBackend));
        r
    }

    /// Adds a backend. Refuses a second backend of the same name, and one built for another
    /// major op-set version (its ops may mean something else).
    pub fn register(&mut self, backend: Arc<dyn Backend>) -> Result<(), LowerError> {
        let v = backend.op_set_version();
        if v.major != OP_SET_VERSION.major {
            return Err(LowerError::new(
                LowerErrorKind::VersionMismatch,
                format!(
                    "backend `{}` was built for op set {v}, but this switchyard has op set {OP_SET_VERSION}; \
                     major versions must match (rebuild the backend against op set {}.x)",
                    backend.name(),
                    OP_SET_VERSION.major
                ),
            ));
        }
        if self.get(backend.name()).is_some() {
            return Err(LowerError::new(
                LowerErrorKind::Registry,
                format!("a backend named `{}` is already registered", backend.name()),
            ));
        }
        self.backends.push(backend);
        Ok(())
    }

    /// Routes op `op` (array-API name) to `backend` ahead of priority order.
    pub fn override_op(&mut self, op: &str, backend: &str) -> Result<(), LowerError> {
        if self.get(backend).is_none() {
            return Err(LowerError::new(
                LowerErrorKind::Registry,
                format!("cannot override `{op}`: no backend named `{backend}` is registered"),
            ));
        }
        self.overrides.retain(|o| o.op != op);
        self.overrides.push(Override { op: op.to_string(), backend: backend.to_string() });
        Ok(())
    }

    /// The override for an op, if any.
    pub fn override_for(&self, op: &str) -> Option<&Override> {
        self.overrides.iter().find(|o| o.op == op)
    }

    /// The backend with this name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Backend>> {
        self.backends.iter().find(|b| b.name() == name)
    }

    /// All backends, in registration order.
    pub fn backends(&self) -> &[Arc<dyn Backend>] {
        &self.backends
    }

    /// The backends of a device kind, highest priority first (ties: registration order).
    pub fn for_device(&self, kind: DeviceKind) -> Vec<&Arc<dyn Backend>> {
        let mut v: Vec<&Arc<dyn Backend>> =
            self.backends.iter().filter(|b| b.device_kind() == kind).collect();
        v.sort_by_key(|b| std::cmp::Reverse(b.priority()));
        v
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.backends.iter().map(|b| b.name()).collect();
        f.debug_struct("Registry").field("backends", &names).field("overrides", &self.overrides).finish()
    }
}
