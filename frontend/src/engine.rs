//! The engine: the backend registry and optimizer options a graph is planned with.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use switchyard_ir::{Device, InputDecl, NodeId, Op};
use switchyard_lower::{CacheReport, Registry};
use switchyard_passes::Options;
use switchyard_runtime::Executable;

/// How many compiled graphs an engine keeps.
const EXECUTABLE_CACHE_CAPACITY: usize = 64;

/// What a compiled graph depends on: the reachable nodes (ids renumbered densely), the
/// outputs, the declared inputs, the device and the optimizer options. Taken before any
/// optimization, so a hit skips optimizing, planning and compiling entirely.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct GraphKey {
    pub nodes: Vec<(Op, Vec<u32>)>,
    pub outputs: Vec<u32>,
    pub signature: Vec<InputDecl>,
    pub device: Device,
    pub options: Options,
}

impl GraphKey {
    /// The key of `outputs` in `g` (signature as computed by the caller).
    pub fn of(
        g: &switchyard_ir::IrGraph,
        outputs: &[NodeId],
        signature: Vec<InputDecl>,
        device: Device,
        options: &Options,
    ) -> GraphKey {
        let live = g.reachable(outputs);
        let mut dense = vec![u32::MAX; g.len()];
        let mut nodes = Vec::new();
        for (id, node) in g.nodes() {
            if live[id.index()] {
                dense[id.index()] = nodes.len() as u32;
                nodes.push((node.op().clone(), node.inputs().iter().map(|i| dense[i.index()]).collect()));
            }
        }
        let outputs = outputs.iter().map(|o| dense.get(o.index()).copied().unwrap_or(u32::MAX)).collect();
        GraphKey { nodes, outputs, signature, device, options: options.clone() }
    }
}

/// Compiled graphs by key, least recently used first.
#[derive(Default)]
struct ExecutableCache {
    entries: VecDeque<(GraphKey, Executable)>,
    hits: u64,
    misses: u64,
}

/// Shared configuration for planning and compiling: which backends exist and how hard to
/// optimize. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    registry: Arc<Registry>,
    options: Options,
    executables: Arc<Mutex<ExecutableCache>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("registry", &self.registry).field("options", &self.options).finish()
    }
}

impl Engine {
    /// An engine with the given registry and default optimizer options.
    pub fn new(registry: Registry) -> Engine {
        Engine {
            registry: Arc::new(registry),
            options: Options::default(),
            executables: Arc::new(Mutex::new(ExecutableCache::default())),
        }
    }

    /// The process-wide default engine: the default registry, default options.
    pub fn global() -> Engine {
        static GLOBAL: OnceLock<Engine> = OnceLock::new();
        GLOBAL.get_or_init(|| Engine::new(Engine::default_registry())).clone()
    }

    /// The backends this build enables, each at its own priority: `cpu.gemm` (20, matmul
    /// only), `cpu.cranelift` (10), `cpu.reference` (0, the oracle) and, with the `gpu`
    /// feature, `gpu.cubecl` (10, GPU devices; it probes its devices lazily, on first use, so
    /// registering costs nothing).
    pub fn default_registry() -> Registry {
        let mut r = Registry::new();
        // Every backend here is built against this op set and has its own name: registering
        // cannot fail, and a failure would only leave that backend out.
        let _ = r.register(Arc::new(switchyard_gemm::GemmBackend::new()));
        let _ = r.register(Arc::new(switchyard_cranelift::CraneliftBackend::new()));
        let _ = r.register(Arc::new(switchyard_lower::ReferenceBackend));
        #[cfg(feature = "gpu")]
        let _ = r.register(Arc::new(switchyard_cubecl::CubeclBackend::new()));
        r
    }

    /// This engine with other optimizer options (and its own executable cache).
    pub fn with_options(mut self, options: Options) -> Engine {
        self.options = options;
        self.executables = Arc::new(Mutex::new(ExecutableCache::default()));
        self
    }

    /// (hits, misses) of the compiled-graph cache.
    pub fn executable_cache_stats(&self) -> (u64, u64) {
        let c = self.executables.lock().unwrap_or_else(|e| e.into_inner());
        (c.hits, c.misses)
    }

    pub(crate) fn cached_executable(&self, key: &GraphKey) -> Option<Executable> {
        let mut c = self.executables.lock().unwrap_or_else(|e| e.into_inner());
        match c.entries.iter().position(|(k, _)| k == key) {
            Some(pos) => {
                c.hits += 1;
                let entry = c.entries.remove(pos)?;
                let exe = entry.1.clone();
                c.entries.push_back(entry);
                Some(exe)
            }
            None => {
                c.misses += 1;
                None
            }
        }
    }

    pub(crate) fn remember_executable(&self, key: GraphKey, exe: &Executable) {
        let mut c = self.executables.lock().unwrap_or_else(|e| e.into_inner());
        if c.entries.len() >= EXECUTABLE_CACHE_CAPACITY {
            c.entries.pop_front();
        }
        c.entries.push_back((key, exe.clone()));
    }

    /// The backends.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The optimizer options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The backends' kernel caches: what each holds and, for recent misses, which part of
    /// the key differed from the nearest cached kernel.
    pub fn kernel_caches(&self) -> Vec<CacheReport> {
        self.registry.kernel_caches()
    }
}
