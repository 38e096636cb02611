//! The static limits `gpu.cubecl` generates and launches kernels within, each with where it
//! comes from. `supports` and `compile` refuse what would exceed them, with the reason: cubecl
//! reports a launch beyond a device's limits only as a silent panic in its device thread.
//!
//! The actual device's limits are queried where the device is (`device.rs`) and checked before
//! every launch (`launch.rs`):
//! - storage buffers per kernel: `Client::max_bindings` (cubecl's `max_bindings`; 31 on
//!   lavapipe), against [`launch_bindings`];
//! - the launch grid: `Client::max_cube_count` (cubes along one axis), against a reduction's
//!   rows times parts and a matmul's tiles and batch;
//! - the largest buffer: `GpuDevice::max_buffer_bytes` (the adapter's `max_buffer_size` and
//!   `max_storage_buffer_binding_size`), capped at [`MAX_BUFFER_BYTES`] wherever a buffer is
//!   made (`CubeclMemory::byte_size`, a reduction's partials).

use super::program::{Kind, Program, Reduction};

/// Storage buffers a kernel may bind on every Vulkan adapter we target: 32 per shader stage
/// (lavapipe's limit, common on desktop GPUs) less the one cubecl keeps for its scalars.
/// `compile` refuses more; a launch also checks the actual device's limit.
pub const MAX_BINDINGS: usize = 31;

/// The largest fused group: a group of `n` nodes binds at most `3 + 2(n - 1)` inputs (each
/// node after the first brings at most two outside operands) and `n` outputs, so
/// `3n + 1 <= MAX_BINDINGS`.
pub(crate) const MAX_FUSED_NODES: usize = (MAX_BINDINGS - 1) / 3;

/// The most storage buffers one launch of `program` binds: its inputs and outputs; a matmul's
/// two operands and result; for `var` and `std`, three more (the last reduction pass also
/// reads the mean, its correction and the spread). Checked against [`MAX_BINDINGS`] by
/// `compile` and against the device's limit before a launch.
pub(crate) fn launch_bindings(program: &Program) -> usize {
    match program.kind {
        Kind::Matmul { .. } => 3,
        Kind::Reduce { reduction: Reduction::Var | Reduction::Std, .. } => program.bindings() + 3,
        _ => program.bindings(),
    }
}

/// Invocations per workgroup that every WebGPU adapter allows (wgpu's default
/// `max_compute_invocations_per_workgroup`, the WebGPU minimum): each kernel's workgroup has
/// this many units, whatever more the adapter offers.
pub const MAX_WORKGROUP_UNITS: u32 = 256;

/// Units per cube of the elementwise kernel.
pub const MAP_UNITS: u32 = 256;

/// Units per cube of a reduction, as a power of two.
pub const REDUCE_LOG2_BLOCK: u32 = 8;

/// Tile edge of the matmul kernel (a cube has `TILE * TILE` units).
pub const TILE: u32 = 16;

const _: () = assert!(
    MAP_UNITS <= MAX_WORKGROUP_UNITS
        && (1 << REDUCE_LOG2_BLOCK) <= MAX_WORKGROUP_UNITS
        && TILE * TILE <= MAX_WORKGROUP_UNITS
);

/// Loop iterations a shader invocation may run on Mesa's lavapipe before it stops looping,
/// silently (`LP_MAX_TGSI_LOOP_ITERATIONS`; counted over all of the invocation's loops).
/// A reduction cuts long rows into parts so that each unit stays within half of it
/// (`reduce::plan_parts`); matmul is generated up to [`MAX_K`].
pub const LOOP_BUDGET: u32 = 65_535;

/// The longest inner dimension of a matmul generated (`supports` and `compile` refuse
/// longer). Mesa's lavapipe ends a shader invocation's loops, silently, after
/// [`LOOP_BUDGET`] iterations in all; a unit runs `k / TILE` iterations of the tiled loop and
/// as many again on the slow path (`matmul::exact_specials`, for a sum that is not finite):
/// `2^15` each at `k = 2^19`.
pub const MAX_K: usize = 1 << 19;

/// The largest buffer, in bytes, on any device: the kernels address in u32
/// (`AddressType::U32`), and sizes, strides and offsets are u32 run-time scalars (the program
/// builder refuses an iteration space or an input of 2^32 elements or more). The device's own
/// limit may be lower (`GpuDevice::max_buffer_bytes`); on CUDA this is the limit.
pub const MAX_BUFFER_BYTES: u64 = u32::MAX as u64;
