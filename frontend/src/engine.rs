//! The engine: the backend registry and optimizer options a graph is planned with.

use std::sync::{Arc, OnceLock};

use switchyard_lower::Registry;
use switchyard_passes::Options;

/// Shared configuration for planning and compiling: which backends exist and how hard to
/// optimize. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Engine {
    registry: Arc<Registry>,
    options: Options,
}

impl Engine {
    /// An engine with the given registry and default optimizer options.
    pub fn new(registry: Registry) -> Engine {
        Engine { registry: Arc::new(registry), options: Options::default() }
    }

    /// The process-wide default engine: built-in backends, default options.
    pub fn global() -> Engine {
        static GLOBAL: OnceLock<Engine> = OnceLock::new();
        GLOBAL.get_or_init(|| Engine::new(Registry::with_builtins())).clone()
    }

    /// This engine with other optimizer options.
    pub fn with_options(mut self, options: Options) -> Engine {
        self.options = options;
        self
    }

    /// The backends.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The optimizer options.
    pub fn options(&self) -> &Options {
        &self.options
    }
}
