//! `switchyard-lower`: from an optimized graph to a [`Plan`] of kernels on backends.
//!
//! What it is: the core a backend author reads. The [`Backend`] trait, the [`KernelSpec`] a
//! backend compiles and the views it runs on, device memory ([`DeviceMemory`]), the
//! [`Registry`] of backends (empty until someone registers one: the frontend's `Engine`
//! assembles the default set), placement of every node on a backend of the target device,
//! grouping into kernels, liveness and peak memory, the [`Plan`] with its text, DOT and JSON
//! renderings, the kernel cache compiling backends share, the support table, and
//! `cpu.reference` ([`ReferenceBackend`]), the interpreter that is every other backend's oracle.
//!
//! What it is not: it names no other backend (each is its own crate under `lower/`, using only
//! this crate's public API; the conformance kit is `switchyard-conformance`), it never
//! allocates user data on its own and never runs a kernel; device backends say how their
//! memory is allocated, the runtime decides when.
//!
//! Invariants:
//! - Every kernel of a plan runs on a backend that said [`Support::Yes`] to each of its nodes.
//! - A value never crosses devices except through a `to_device` node.
//! - A plan's kernels are in an order where every kernel's inputs are already computed.
#![warn(missing_docs)]

mod backend;
mod device_memory;
mod error;
mod fusion;
mod kernel;
pub mod kernel_cache;
pub mod layout;
mod placement;
mod plan;
pub mod reference;
mod registry;
mod render;
mod support;

pub use backend::{Backend, NodeQuery, Support, Tolerance};
pub use device_memory::{foreign_buffer, DeviceBuffer, DeviceInfo, DeviceMemory, DeviceView};
pub use error::{LowerError, LowerErrorKind};
pub use kernel::{
    check_args, CompiledKernel, KernelNode, KernelOperand, KernelSpec, TensorView, TensorViewMut,
};
pub use kernel_cache::{CacheEntry, CacheKey, CacheMiss, CacheReport, KernelCache};
pub use layout::{MatmulGeometry, StridedView};
pub use placement::{place, Placement, Runner, TRANSFER_LABEL};
pub use plan::{build_plan, Plan, PlanInput, PlanNode, PlanRequest, PlanStep, StepKind, ValueInfo};
pub use reference::ReferenceBackend;
pub use registry::{BackendId, Override, Registry};
pub use render::human_bytes;
pub use support::{row_name, sample, support_table, Cell, Row, SupportTable};
