//! From a [`KernelSpec`](switchyard_lower::KernelSpec) to a program the cube kernels interpret
//! at expansion time.
//!
//! A program is the kernel's *structure*: straight-line SSA over three typed register banks
//! (`f32`, `i32`, bool), each instruction pushing one value on the bank of its result and
//! naming its operands by their number in their bank; loads through numbered views; stores to
//! numbered outputs; and, for a reduction, which register is reduced how. It is the
//! `#[comptime]` argument of the kernels and the key of the kernel cache, so it holds nothing
//! that changes between runs of the same structure: constant values, shapes, strides and view
//! offsets are run-time scalars ([`LaunchData`]). A new constant or a new shape of the same
//! rank and broadcast pattern therefore reuses the compiled pipeline.
//!
//! - `ir.rs`: the IR itself (banks, instructions, reductions, [`Program`], [`LaunchData`]).
//! - `view.rs`: affine views of arguments; shape ops only change them.
//! - `join.rs`: `concat`, `stack` and `pad` as views valid inside windows of the result.
//! - `builder.rs`: lowering a spec to a map or reduction program.
//! - `guard.rs`: the `guard_arithmetic` pass, barriers against the driver's float rewrites.
//! - `moments.rs`: `var` and `std` as reduction passes and a rescale ([`moment_plan`]).
//! - `matmul.rs`: the matmul program (geometry only; the kernel is `crate::matmul`).

mod builder;
mod guard;
mod ir;
mod join;
mod matmul;
mod moments;
mod view;

use switchyard_lower::{LowerError, LowerErrorKind};

pub use self::builder::{map_program, reduce_program};
pub use self::ir::{bank_counts, slots, Bank, Inst, Kind, LaunchData, LoadAddressing, Program, Reduction};
pub use self::matmul::matmul_program;
pub use self::moments::moment_plan;
pub use self::view::is_view_op;

/// The error for a spec the backend cannot turn into a program.
pub(crate) fn compile_error(message: impl Into<String>) -> LowerError {
    LowerError::new(LowerErrorKind::Compile, format!("gpu.cubecl: {}", message.into()))
}
