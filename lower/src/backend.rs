//! The `Backend` trait: what every backend implements. This is an API boundary for backend
//! authors outside switchyard.

use std::fmt;
use std::sync::Arc;

use switchyard_ir::{DType, DeviceKind, Op, OpSetVersion, TensorType};

use crate::device_memory::{DeviceInfo, DeviceMemory};
use crate::error::LowerError;
use crate::kernel::{CompiledKernel, KernelSpec};
use crate::kernel_cache::CacheReport;

/// Whether a backend runs a node: yes, or no with a reason a user can act on.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Support {
    /// The backend runs it.
    Yes,
    /// It does not, and why ("f64: not supported by this device").
    No(String),
}

impl Support {
    /// A "no" with a reason.
    pub fn no(reason: impl Into<String>) -> Support {
        Support::No(reason.into())
    }

    /// True for [`Support::Yes`].
    pub fn is_yes(&self) -> bool {
        matches!(self, Support::Yes)
    }
}

/// The numerical precision a backend promises for one op and dtype, compared against the
/// reference backend: a result `r` matches the reference `e` when `|r - e| <= abs + rel*|e|`
/// or when they are within `ulps` units in the last place. NaN must match NaN, and
/// infinities must match exactly.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Tolerance {
    /// Maximum distance in units in the last place.
    pub ulps: u32,
    /// Maximum relative error.
    pub rel: f64,
    /// Maximum absolute error.
    pub abs: f64,
}

impl Tolerance {
    /// Bit-for-bit the same as the reference.
    pub const EXACT: Tolerance = Tolerance { ulps: 0, rel: 0.0, abs: 0.0 };

    /// Within `n` units in the last place.
    pub fn ulps(n: u32) -> Tolerance {
        Tolerance { ulps: n, rel: 0.0, abs: 0.0 }
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Tolerance::EXACT {
            return f.write_str("exact");
        }
        let mut parts = Vec::new();
        if self.ulps > 0 {
            parts.push(format!("{} ulp", self.ulps));
        }
        if self.rel > 0.0 {
            parts.push(format!("rel {:e}", self.rel));
        }
        if self.abs > 0.0 {
            parts.push(format!("abs {:e}", self.abs));
        }
        f.write_str(&parts.join(" or "))
    }
}

/// A node as a backend sees it when asked whether it supports it.
#[derive(Clone, Copy, Debug)]
pub struct NodeQuery<'a> {
    /// The op with its attributes.
    pub op: &'a Op,
    /// The operands' types.
    pub inputs: &'a [TensorType],
    /// The result type.
    pub output: &'a TensorType,
}

impl NodeQuery<'_> {
    /// The dtypes of the operands.
    pub fn input_dtypes(&self) -> impl Iterator<Item = DType> + '_ {
        self.inputs.iter().map(|t| t.dtype)
    }
}

/// A backend: a code generator for one device kind.
///
/// Implementations declare what they support (`supports`, down to attribute values) and how
/// precise they are (`precision`); the registry checks `op_set_version` at registration and
/// the conformance suite checks the rest.
pub trait Backend: Send + Sync {
    /// Unique name, `device.implementation` by convention (`cpu.reference`).
    fn name(&self) -> &str;
    /// The backend's own version (shown by `switchyard devices`).
    fn version(&self) -> &str;
    /// The op-set version it was built against.
    fn op_set_version(&self) -> OpSetVersion;
    /// The kind of device it runs on.
    fn device_kind(&self) -> DeviceKind;
    /// Placement priority: higher wins among backends that support a node.
    fn priority(&self) -> i32;
    /// Whether it runs this node, or why not.
    fn supports(&self, node: &NodeQuery<'_>) -> Support;
    /// The precision it promises for `op` on operands of `dtype`.
    fn precision(&self, op: &Op, dtype: DType) -> Tolerance;
    /// Compiles a kernel made only of nodes it said yes to.
    fn compile(&self, kernel: &KernelSpec) -> Result<Arc<dyn CompiledKernel>, LowerError>;
    /// A short description of how it will run `kernel` (vector width, chunking), for plans.
    /// Optional: `None` (the default) shows nothing.
    fn describe_kernel(&self, _kernel: &KernelSpec) -> Option<String> {
        None
    }

    /// The largest group of nodes it wants in one kernel. 1 (the default) means every node
    /// is its own kernel; fusing backends return more.
    fn max_fused_nodes(&self) -> usize {
        1
    }

    /// The memory of device `ordinal` of its kind, for device backends (the runtime
    /// allocates, uploads and downloads through it). `None` (the default): host memory.
    fn device_memory(&self, ordinal: u32) -> Option<Arc<dyn DeviceMemory>> {
        let _ = ordinal;
        None
    }

    /// The devices it can run on, for `switchyard devices`. Default: none listed.
    fn devices(&self) -> Vec<DeviceInfo> {
        Vec::new()
    }

    /// What its kernel cache holds and why recent lookups missed, if it keeps one.
    /// Optional: `None` (the default) for backends that compile nothing worth caching.
    fn kernel_cache(&self) -> Option<CacheReport> {
        None
    }
}
