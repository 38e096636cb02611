//! The kernel cache: compiled code keyed by kernel structure (ops, wiring, dtype, which
//! inputs are broadcast along the inner loop), never by sizes or constant values, so a new N
//! or a new constant reuses the code. Bounded (least recently used goes first); evicted code
//! is freed once no kernel uses it. Every miss records why it missed.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use switchyard_ir::{DType, Op, Scalar, Shape};

use super::jit::JitCode;
use crate::kernel::{KernelSpec, Operand};

/// How many structures the cache keeps.
pub const CAPACITY: usize = 256;

/// A kernel's structure: what the generated code depends on, and nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodeKey {
    /// The one float dtype of the kernel.
    pub dtype: DType,
    /// Each node's op (constants and shapes erased) and operand wiring.
    pub nodes: Vec<(Op, Vec<Operand>)>,
    /// Number of input arguments.
    pub inputs: usize,
    /// Which nodes are written out.
    pub outputs: Vec<usize>,
    /// Per input: 1 if it walks with the inner loop, 0 if broadcast along it.
    pub inner_strides: Vec<u8>,
}

impl CodeKey {
    /// The key of `spec` with the given inner strides.
    pub fn of(spec: &KernelSpec, dtype: DType, inner_strides: &[u8]) -> CodeKey {
        let nodes = spec
            .nodes
            .iter()
            .map(|n| {
                let op = match &n.op {
                    Op::Full { .. } => Op::Full { value: Scalar::zero(dtype), shape: Shape::scalar() },
                    other => other.clone(),
                };
                (op, n.operands.clone())
            })
            .collect();
        CodeKey {
            dtype,
            nodes,
            inputs: spec.inputs.len(),
            outputs: spec.outputs.clone(),
            inner_strides: inner_strides.to_vec(),
        }
    }

    /// Why `self` is not `other`, in words (for miss reports).
    fn difference(&self, other: &CodeKey) -> Option<&'static str> {
        if self.nodes != other.nodes || self.outputs != other.outputs || self.inputs != other.inputs {
            None
        } else if self.dtype != other.dtype {
            Some("same ops, another dtype")
        } else {
            Some("same ops, another broadcast pattern")
        }
    }
}

/// Counters and the latest misses, for `--explain-cache` style reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found code.
    pub hits: u64,
    /// Lookups that compiled.
    pub misses: u64,
    /// Entries dropped to stay under capacity.
    pub evictions: u64,
    /// Entries held now.
    pub entries: usize,
    /// The most recent misses (newest last), each with its reason.
    pub recent_misses: Vec<String>,
}

#[derive(Default)]
struct Inner {
    /// Most recently used last.
    entries: VecDeque<(CodeKey, Arc<JitCode>)>,
    stats: CacheStats,
}

/// The cache itself; cheap to share.
#[derive(Default)]
pub struct KernelCache {
    inner: Mutex<Inner>,
}

impl KernelCache {
    /// The code for `key`, compiling it with `compile` on a miss.
    pub fn get_or_compile<E>(
        &self,
        key: CodeKey,
        compile: impl FnOnce() -> Result<JitCode, E>,
    ) -> Result<Arc<JitCode>, E> {
        {
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(pos) = inner.entries.iter().position(|(k, _)| *k == key) {
                inner.stats.hits += 1;
                if let Some(entry) = inner.entries.remove(pos) {
                    let code = entry.1.clone();
                    inner.entries.push_back(entry);
                    return Ok(code);
                }
            }
        }
        // Compile without holding the lock: other threads may look up meanwhile.
        let code = Arc::new(compile()?);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let reason = inner
            .entries
            .iter()
            .find_map(|(k, _)| key.difference(k))
            .unwrap_or(if inner.entries.is_empty() { "cold cache" } else { "new kernel structure" });
        let ops: Vec<&str> = key.nodes.iter().map(|(op, _)| op.name()).collect();
        inner.stats.misses += 1;
        inner.stats.recent_misses.push(format!("{} {}: {reason}", key.dtype, ops.join("+")));
        if inner.stats.recent_misses.len() > 32 {
            inner.stats.recent_misses.remove(0);
        }
        if inner.entries.len() >= CAPACITY {
            inner.entries.pop_front();
            inner.stats.evictions += 1;
        }
        inner.entries.push_back((key, code.clone()));
        inner.stats.entries = inner.entries.len();
        Ok(code)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> CacheStats {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        CacheStats { entries: inner.entries.len(), ..inner.stats.clone() }
    }
}
