//! The reduction kernel: one cube per output element. Each unit evaluates the program (the
//! fused producers) on a contiguous chunk of the reduced elements and folds them; the units'
//! partials are then combined in a shared-memory tree that pairs neighbours (unit `t` with
//! `t + s` for `t` a multiple of `2s`), so every combination has the earlier elements on its
//! left. That keeps `max`/`min` exactly the reference's left fold (NaN propagates, the first
//! of equal values wins, which matters for `-0` and `+0`). Sums are compensated (Kahan) within
//! a unit, so their error is a few ulps of the sum of magnitudes whatever the length.
//!
//! A long row is split into parts, one cube each, whose partials a second launch of the same
//! kernel reduces: that spreads a few long rows over the device, and keeps every unit's loop
//! short. It has to be: Mesa's lavapipe ends a shader invocation's loops, silently, once they
//! have run 65,535 iterations in all (its guard against endless loops), and the fused
//! producers may loop too (float `remainder`, integer `pow`). [`plan_parts`] sizes the parts.

use cubecl::prelude::*;
use switchyard_ir::BinaryOp;

use super::elementwise::{binary_f, FMOD_ITERATIONS, POW_I_ITERATIONS};
use super::fused::{evaluate, push_coordinates};
use super::limits::LOOP_BUDGET;
use super::math::opaque;
use super::program::{Inst, LoadAddressing, Reduction};

/// Most elements one unit folds (when the producers do not loop), so that a unit's loop
/// stays far within [`LOOP_BUDGET`] and long rows spread over several cubes.
pub const MAX_CHUNK: u32 = 1024;

/// Loop iterations the program's instructions may run for one element (float `remainder`
/// and `floor_divide` run `fmod_exact`'s loops, integer `pow` squares and multiplies).
pub fn loops_per_element(insts: &[Inst]) -> u32 {
    insts
        .iter()
        .map(|inst| match inst {
            Inst::BinaryF(BinaryOp::Remainder | BinaryOp::FloorDivide, ..) => FMOD_ITERATIONS,
            Inst::BinaryI(BinaryOp::Pow, ..) => POW_I_ITERATIONS,
            _ => 0,
        })
        .fold(0u32, u32::saturating_add)
}

/// How a row of `cols` elements is cut for a cube of `block` units whose producers loop
/// `per_element` times per element: `(parts, span)`, `span` elements per part. Each unit
/// then folds at most `span / block` elements, spending at most half of [`LOOP_BUDGET`].
pub fn plan_parts(cols: usize, block: u32, per_element: u32) -> (u32, u32) {
    let chunk = (LOOP_BUDGET / 2 / per_element.saturating_add(1)).clamp(1, MAX_CHUNK);
    let span = block * chunk;
    let parts = cols.div_ceil(span as usize).max(1);
    (u32::try_from(parts).unwrap_or(u32::MAX), span)
}

/// The first value of a float fold.
#[cube]
fn identity_f(#[comptime] reduction: Reduction) -> f32 {
    match reduction {
        Reduction::MaxF => f32::reinterpret(0xff80_0000u32),
        Reduction::MinF => f32::reinterpret(0x7f80_0000u32),
        _ => 0.0f32,
    }
}

/// Combines two float partials, `a` holding the earlier elements.
#[cube]
fn combine_f(#[comptime] reduction: Reduction, a: f32, b: f32) -> f32 {
    match reduction {
        Reduction::MaxF => binary_f(BinaryOp::Maximum, a, b, 0u32),
        Reduction::MinF => binary_f(BinaryOp::Minimum, a, b, 0u32),
        _ => a + b,
    }
}

/// The first value of an integer (or bool as 0/1) fold.
#[cube]
fn identity_i(#[comptime] reduction: Reduction) -> i32 {
    match reduction {
        Reduction::MaxI | Reduction::Any => i32::new(i32::MIN as i64),
        Reduction::MinI | Reduction::All => i32::new(i32::MAX as i64),
        _ => 0i32,
    }
}

/// Combines two integer partials (`any` is a maximum of 0/1, `all` a minimum).
#[cube]
fn combine_i(#[comptime] reduction: Reduction, a: i32, b: i32) -> i32 {
    match reduction {
        Reduction::MinI | Reduction::All => select(a <= b, a, b),
        _ => select(a >= b, a, b),
    }
}

/// `output[row * parts + p] = reduce(operand[row, j] for j in part p)`, part `p` of a row
/// being its elements `p * span ..` (`span` of them, fewer in the last part); the operand is
/// the program's register `reg` evaluated at iteration coordinates (kept axes from `row`,
/// reduced axes from `j`). A mean, `var` or `std` divides by `divisor` (the row length, or
/// `max(N - correction, 0)`), and `std` takes the square root; a part whose partial sums a
/// further launch adds up is launched as a `Sum`. Launch with one cube of
/// `2^log2_block` units per part of each row; `zero` is always 0 (see `math::opaque`).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn reduce_kernel(
    in_f: &Sequence<Array<f32>>,
    in_i: &Sequence<Array<i32>>,
    in_b: &Sequence<Array<u32>>,
    out_f: &mut Sequence<Array<f32>>,
    out_i: &mut Sequence<Array<i32>>,
    out_b: &mut Sequence<Array<u32>>,
    consts_f: &Sequence<f32>,
    consts_i: &Sequence<i32>,
    shape: &Sequence<u32>,
    strides: &Sequence<u32>,
    offsets: &Sequence<u32>,
    rows: u32,
    cols: u32,
    parts: u32,
    span: u32,
    divisor: f32,
    zero: u32,
    #[comptime] insts: Vec<Inst>,
    #[comptime] views: Vec<LoadAddressing>,
    #[comptime] rank: usize,
    #[comptime] kept: usize,
    #[comptime] reduction: Reduction,
    #[comptime] reg: usize,
    #[comptime] log2_block: u32,
) {
    let cube = u32::cast_from(CUBE_POS);
    if cube >= rows * parts {
        terminate!();
    }
    let row = cube / parts;
    // This cube's part of the row: `len` elements from `first`.
    let first = (cube - row * parts) * span;
    let len = select(span < cols - first, span, cols - first);
    let block = comptime![1u32 << log2_block];
    let unit = UNIT_POS;
    let chunk = len.div_ceil(block);
    let start = first + unit * chunk;
    let end = first + select(unit * chunk + chunk < len, unit * chunk + chunk, len);
    let float = comptime![matches!(
        reduction,
        Reduction::Sum
            | Reduction::Mean
            | Reduction::Var
            | Reduction::Std
            | Reduction::MaxF
            | Reduction::MinF
    )];
    let summing =
        comptime![matches!(reduction, Reduction::Sum | Reduction::Mean | Reduction::Var | Reduction::Std)];
    let is_bool = comptime![matches!(reduction, Reduction::Any | Reduction::All)];
    if float {
        let mut acc = identity_f(reduction);
        let mut lost = 0.0f32;
        let mut j = start;
        while j < end {
            let mut coords = Sequence::<u32>::new();
            push_coordinates(&mut coords, j, shape, kept, comptime![rank - kept]);
            push_coordinates(&mut coords, row, shape, 0usize, kept);
            let regs = evaluate(
                in_f,
                in_i,
                in_b,
                consts_f,
                consts_i,
                strides,
                offsets,
                &coords,
                row * cols + j,
                zero,
                comptime![insts.clone()],
                comptime![views.clone()],
                rank,
            );
            let v = regs.f[reg];
            if summing {
                // Kahan: `lost` is what the last addition dropped (none once the sum is not
                // finite, where the difference would be NaN). `t` goes through `opaque`, or
                // the driver simplifies `(acc + y) - acc - y` to 0.
                let y = v - lost;
                let t = acc + y;
                let c = (opaque(t, zero) - acc) - y;
                lost = select(f32::is_nan(t) || f32::is_inf(t), 0.0f32, c);
                acc = t;
            } else {
                acc = combine_f(reduction, acc, v);
            }
            j += 1u32;
        }
        let mut partials = SharedMemory::<f32>::new(block as usize);
        partials[unit as usize] = acc - lost;
        sync_cube();
        #[unroll]
        for k in 0..log2_block {
            let s = comptime![1u32 << k];
            if (unit & comptime![2 * s - 1]) == 0u32 {
                let left = partials[unit as usize];
                let right = partials[(unit + s) as usize];
                partials[unit as usize] = combine_f(reduction, left, right);
            }
            sync_cube();
        }
        if unit == 0u32 {
            let mut total = partials[0usize];
            if comptime![matches!(reduction, Reduction::Mean | Reduction::Var | Reduction::Std)] {
                total /= divisor;
            }
            if comptime![matches!(reduction, Reduction::Std)] {
                total = f32::sqrt(total);
            }
            let o = out_f.index_mut(0usize);
            o[cube as usize] = total;
        }
    } else {
        let mut acc = identity_i(reduction);
        let mut j = start;
        while j < end {
            let mut coords = Sequence::<u32>::new();
            push_coordinates(&mut coords, j, shape, kept, comptime![rank - kept]);
            push_coordinates(&mut coords, row, shape, 0usize, kept);
            let regs = evaluate(
                in_f,
                in_i,
                in_b,
                consts_f,
                consts_i,
                strides,
                offsets,
                &coords,
                row * cols + j,
                zero,
                comptime![insts.clone()],
                comptime![views.clone()],
                rank,
            );
            let v = if is_bool { select(regs.b[reg], 1i32, 0i32) } else { regs.i[reg] };
            acc = combine_i(reduction, acc, v);
            j += 1u32;
        }
        let mut partials = SharedMemory::<i32>::new(block as usize);
        partials[unit as usize] = acc;
        sync_cube();
        #[unroll]
        for k in 0..log2_block {
            let s = comptime![1u32 << k];
            if (unit & comptime![2 * s - 1]) == 0u32 {
                let left = partials[unit as usize];
                let right = partials[(unit + s) as usize];
                partials[unit as usize] = combine_i(reduction, left, right);
            }
            sync_cube();
        }
        if unit == 0u32 {
            let total = partials[0usize];
            if is_bool {
                // any: some 1 seen (the identity MIN is not 1); all: no 0 seen.
                let o = out_b.index_mut(0usize);
                o[cube as usize] = select(total > 0i32, 1u32, 0u32);
            } else {
                let o = out_i.index_mut(0usize);
                o[cube as usize] = total;
            }
        }
    }
}
