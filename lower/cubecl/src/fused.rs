//! The fused elementwise kernel: one unit per element of the iteration space runs the
//! program's instructions (unrolled at expansion time) and stores its outputs. The program
//! interpreter [`evaluate`] and the index math are shared with the reduction kernel.

use cubecl::prelude::*;

use super::elementwise::{binary_b, binary_f, binary_i, compare, float_to_int, test_f, unary_f, unary_i};
use super::math::opaque;
use super::program::{Inst, LoadAddressing};

/// The values the program computed, one sequence per bank (indices are register numbers).
#[derive(CubeType)]
pub struct Registers {
    /// f32 registers.
    pub f: Sequence<f32>,
    /// i32 registers.
    pub i: Sequence<i32>,
    /// bool registers.
    pub b: Sequence<bool>,
}

/// The coordinates of `index` in `dims[first..first + count]` (row-major), innermost first,
/// pushed onto `coords`. `index` must be below the product of those extents: the outermost
/// coordinate is what is left, without a division.
///
/// Integer division stays: dividing by multiply-high and shifts (Granlund-Montgomery) was
/// tried and measured slower on lavapipe (W4 131 -> 158 ms, W3/W5 unchanged), where WGSL has
/// no native multiply-high.
#[cube]
pub fn push_coordinates(
    coords: &mut Sequence<u32>,
    index: u32,
    dims: &Sequence<u32>,
    #[comptime] first: usize,
    #[comptime] count: usize,
) {
    let mut rest = index;
    #[unroll]
    for i in 0..count {
        if comptime![i + 1 == count] {
            coords.push(rest);
        } else {
            let extent = dims[comptime![first + count - 1 - i]];
            coords.push(rest % extent);
            rest /= extent;
        }
    }
}

/// The element offset of view `view` (laid out as `layout`) at `coords` (innermost first):
/// the iteration index `linear` itself for a linear view; otherwise wrapping in 32 bits like
/// the strides it reads.
#[cube]
#[allow(clippy::too_many_arguments)]
fn element_offset(
    coords: &Sequence<u32>,
    strides: &Sequence<u32>,
    offsets: &Sequence<u32>,
    linear: u32,
    #[comptime] layout: LoadAddressing,
    #[comptime] view: usize,
    #[comptime] rank: usize,
) -> u32 {
    match layout {
        LoadAddressing::Linear => linear,
        LoadAddressing::Strided => {
            let mut off = offsets[view];
            #[unroll]
            for d in 0..rank {
                off += coords[comptime![rank - 1 - d]] * strides[comptime![view * rank + d]];
            }
            off
        }
    }
}

/// Runs every instruction but the stores at one element: `coords` are its iteration
/// coordinates (innermost first), `linear` its row-major iteration index, `zero` a run-time
/// 0 (the optimization barrier of `math::opaque`).
#[cube]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
pub fn evaluate(
    in_f: &Sequence<Array<f32>>,
    in_i: &Sequence<Array<i32>>,
    in_b: &Sequence<Array<u32>>,
    consts_f: &Sequence<f32>,
    consts_i: &Sequence<i32>,
    strides: &Sequence<u32>,
    offsets: &Sequence<u32>,
    coords: &Sequence<u32>,
    linear: u32,
    zero: u32,
    #[comptime] insts: Vec<Inst>,
    #[comptime] views: Vec<LoadAddressing>,
    #[comptime] rank: usize,
) -> Registers {
    let mut rf = Sequence::<f32>::new();
    let mut ri = Sequence::<i32>::new();
    let mut rb = Sequence::<bool>::new();
    #[unroll]
    for pc in 0..insts.len() {
        let inst = comptime![insts[pc].clone()];
        #[comptime]
        match inst {
            Inst::LoadF { slot, view } => {
                let off =
                    element_offset(coords, strides, offsets, linear, comptime![views[view]], view, rank);
                rf.push(in_f[slot][off as usize]);
            }
            Inst::LoadI { slot, view } => {
                let off =
                    element_offset(coords, strides, offsets, linear, comptime![views[view]], view, rank);
                ri.push(in_i[slot][off as usize]);
            }
            Inst::LoadB { slot, view } => {
                let off =
                    element_offset(coords, strides, offsets, linear, comptime![views[view]], view, rank);
                rb.push(in_b[slot][off as usize] != 0u32);
            }
            Inst::GuardedLoadF { slot, view, cond } => {
                let mut value = 0.0f32;
                if rb[cond] {
                    let off =
                        element_offset(coords, strides, offsets, linear, comptime![views[view]], view, rank);
                    value = in_f[slot][off as usize];
                }
                rf.push(value);
            }
            Inst::GuardedLoadI { slot, view, cond } => {
                let mut value = 0i32;
                if rb[cond] {
                    let off =
                        element_offset(coords, strides, offsets, linear, comptime![views[view]], view, rank);
                    value = in_i[slot][off as usize];
                }
                ri.push(value);
            }
            Inst::GuardedLoadB { slot, view, cond } => {
                let mut value = 0u32;
                if rb[cond] {
                    let off =
                        element_offset(coords, strides, offsets, linear, comptime![views[view]], view, rank);
                    value = in_b[slot][off as usize];
                }
                rb.push(value != 0u32);
            }
            Inst::InRange { axis, lo, len } => {
                let c = coords[comptime![rank - 1 - axis]];
                rb.push(c - u32::cast_from(consts_i[lo]) < u32::cast_from(consts_i[len]));
            }
            Inst::ConstF(n) => rf.push(consts_f[n]),
            Inst::ConstI(n) => ri.push(consts_i[n]),
            Inst::ConstB(v) => rb.push(v),
            Inst::IotaF { start, step } => {
                rf.push(fma(f32::cast_from(linear), consts_f[step], consts_f[start]))
            }
            Inst::IotaI { start, step } => ri.push(consts_i[start] + i32::cast_from(linear) * consts_i[step]),
            Inst::UnaryF(op, a) => rf.push(unary_f(op, rf[a], zero)),
            Inst::UnaryI(op, a) => ri.push(unary_i(op, ri[a])),
            Inst::TestF(op, a) => rb.push(test_f(op, rf[a])),
            Inst::Not(a) => rb.push(!rb[a]),
            Inst::BinaryF(op, a, b) => rf.push(binary_f(op, rf[a], rf[b], zero)),
            Inst::BinaryI(op, a, b) => ri.push(binary_i(op, ri[a], ri[b])),
            Inst::CompareF(op, a, b) => rb.push(compare::<f32>(op, rf[a], rf[b])),
            Inst::CompareI(op, a, b) => rb.push(compare::<i32>(op, ri[a], ri[b])),
            Inst::BinaryB(op, a, b) => rb.push(binary_b(op, rb[a], rb[b])),
            Inst::SelectF(c, a, b) => rf.push(select(rb[c], rf[a], rf[b])),
            Inst::SelectI(c, a, b) => ri.push(select(rb[c], ri[a], ri[b])),
            Inst::SelectB(c, a, b) => rb.push(select(rb[c], rb[a], rb[b])),
            // Salted by the position, so that no two barriers are the same operation (a
            // driver that merged two equal values would merge their barriers too).
            Inst::Opaque(a) => rf.push(opaque(rf[a], zero * comptime![pc as u32 + 1])),
            Inst::FloatToInt(a) => ri.push(float_to_int(rf[a])),
            Inst::IntToFloat(a) => rf.push(f32::cast_from(ri[a])),
            Inst::FloatToBool(a) => rb.push(!(rf[a] == 0.0f32)),
            Inst::IntToBool(a) => rb.push(ri[a] != 0i32),
            Inst::BoolToFloat(a) => rf.push(select(rb[a], 1.0f32, 0.0f32)),
            Inst::BoolToInt(a) => ri.push(select(rb[a], 1i32, 0i32)),
            Inst::StoreF { .. } | Inst::StoreI { .. } | Inst::StoreB { .. } => {}
        }
    }
    Registers { f: rf, i: ri, b: rb }
}

/// The fused elementwise kernel: one unit per element of the iteration space `shape`.
/// `zero` is always 0 (see `math::opaque`).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
pub fn map_kernel(
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
    numel: u32,
    zero: u32,
    #[comptime] insts: Vec<Inst>,
    #[comptime] views: Vec<LoadAddressing>,
    #[comptime] rank: usize,
) {
    let index = u32::cast_from(ABSOLUTE_POS);
    if index >= numel {
        terminate!();
    }
    let mut coords = Sequence::<u32>::new();
    push_coordinates(&mut coords, index, shape, 0usize, rank);
    let regs = evaluate(
        in_f,
        in_i,
        in_b,
        consts_f,
        consts_i,
        strides,
        offsets,
        &coords,
        index,
        zero,
        comptime![insts.clone()],
        comptime![views.clone()],
        rank,
    );
    let at = index as usize;
    #[unroll]
    for pc in 0..insts.len() {
        let inst = comptime![insts[pc].clone()];
        #[comptime]
        match inst {
            Inst::StoreF { reg, slot } => {
                let o = out_f.index_mut(slot);
                o[at] = regs.f[reg];
            }
            Inst::StoreI { reg, slot } => {
                let o = out_i.index_mut(slot);
                o[at] = regs.i[reg];
            }
            Inst::StoreB { reg, slot } => {
                let o = out_b.index_mut(slot);
                o[at] = select(regs.b[reg], 1u32, 0u32);
            }
            _ => {}
        }
    }
}
