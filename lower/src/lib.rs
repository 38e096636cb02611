//! `switchyard-lower`: from an optimized graph to a [`Plan`] of kernels on backends.
//!
//! What it is: the [`Backend`] trait (an API boundary for backend authors), the [`Registry`]
//! of backends, placement of every node on a backend of the target device, grouping into
//! kernels, liveness and peak memory, the [`Plan`] with its text, DOT and JSON renderings,
//! and the backends' code generators (the reference interpreter, `cpu.reference`).
//!
//! What it is not: it never allocates user data on its own and never runs a kernel; device
//! backends say how their memory is allocated ([`DeviceMemory`]), the runtime decides when.
//!
//! Invariants:
//! - Every kernel of a plan runs on a backend that said [`Support::Yes`] to each of its nodes.
//! - A value never crosses devices except through a `to_device` node.
//! - A plan's kernels are in an order where every kernel's inputs are already computed.
#![warn(missing_docs)]

mod backend;
pub mod conformance;
pub mod cranelift;
#[cfg(feature = "gpu")]
pub mod cubecl;
mod device_memory;
mod error;
mod fusion;
pub mod gemm;
mod kernel;
pub mod kernel_cache;
mod placement;
mod plan;
pub mod reference;
mod registry;
mod render;
mod support;

pub use backend::{Backend, NodeQuery, Support, Tolerance};
pub use cranelift::CraneliftBackend;
#[cfg(feature = "gpu")]
pub use cubecl::CubeclBackend;
pub use device_memory::{foreign_buffer, DeviceBuffer, DeviceInfo, DeviceMemory, DeviceView};
pub use error::{LowerError, LowerErrorKind};
pub use gemm::GemmBackend;
pub use kernel::{
    check_args, CompiledKernel, KernelNode, KernelOperand, KernelSpec, TensorView, TensorViewMut,
};
pub use kernel_cache::{CacheEntry, CacheKey, CacheMiss, CacheReport, KernelCache};
pub use placement::{place, Placement, TRANSFER};
pub use plan::{build_plan, Plan, PlanInput, PlanNode, PlanRequest, PlannedKernel, ValueInfo};
pub use reference::ReferenceBackend;
pub use registry::{Override, Registry};
pub use render::human_bytes;
pub use support::{support_table, verified_support_table, Cell, Row, SupportTable};
