//! `var` and `std`: how a moment reduction runs as four reduction passes (the mean, its
//! correction, the spread, the scaled squares) and a rescaling map, built from the program
//! of the reduction ([`moment_plan`]).

use switchyard_ir::{BinaryOp, UnaryOp};

use super::compile_error;
use super::ir::{bank_counts, Bank, Inst, Kind, LaunchData, LoadAddressing, Program, Reduction};
use switchyard_lower::layout::row_major_strides;
use switchyard_lower::LowerError;

/// How a `var` or `std` program runs: reductions in order, each reading the results of the
/// ones before it as extra f32 inputs (one value per output element, in order, through views
/// that repeat each along the reduced axes), then a map over the output elements.
#[derive(Clone, Debug)]
pub struct MomentPlan {
    /// The reductions with their launch data and the divisor of their last step: the mean
    /// `m` of the operand `x`; the mean `c` of `x - m` (the rounding error of `m`, so that
    /// `m + c` is the mean to about an ulp of the deviations); the spread
    /// `s = max |(x - m) - c|`; and `t = sum((((x - m) - c) / s')^2) / max(N - correction, 0)`
    /// (`sqrt` of it for `std`), where `s'` is `s` when it is positive and finite, else 1.
    /// Dividing by the spread keeps the squares from overflowing or losing precision to
    /// underflow, whatever the data's scale.
    pub reductions: Vec<(Program, LaunchData, f32)>,
    /// The map that scales back: `t * s' * s'` for `var`, `t * s'` for `std`; its inputs are
    /// `t` and `s`.
    pub rescale: (Program, LaunchData),
}

/// What a pass of [`moment_plan`] reduces.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MomentPass {
    /// `x - m`.
    Correction,
    /// `|(x - m) - c|`.
    Spread,
    /// `(((x - m) - c) / s')^2`.
    Squares,
}

/// The passes of a `var` or `std` program `p` with launch data `d`.
pub fn moment_plan(p: &Program, d: &LaunchData) -> Result<MomentPlan, LowerError> {
    let Kind::Reduce { reduction, reg, kept } = p.kind else {
        return Err(compile_error("internal: moments of a program that is not a reduction"));
    };
    if !matches!(reduction, Reduction::Var | Reduction::Std) {
        return Err(compile_error("internal: moments of a reduction that is not var or std"));
    }
    let count = d.cols as f32;
    let mean = Program { kind: Kind::Reduce { reduction: Reduction::Mean, reg, kept }, ..p.clone() };
    // A view of a per-row value: row-major over the kept axes, repeated along the others.
    let kept_strides = row_major_strides(&d.shape[..kept].iter().map(|&x| x as usize).collect::<Vec<_>>());
    let per_row: Vec<u32> = (0..p.rank).map(|a| kept_strides.get(a).map_or(0, |&s| s as u32)).collect();
    let mut registers = [0usize; 3];
    for inst in &p.insts {
        if let Some(bank) = inst.result() {
            registers[bank.index()] += 1;
        }
    }
    let f_inputs = bank_counts(&p.inputs)[Bank::F.index()];
    let pass = |what: MomentPass| -> Result<(Program, LaunchData), LowerError> {
        let (mut q, mut e) = (p.clone(), d.clone());
        let (mut next_f, mut next_b) = (registers[Bank::F.index()], registers[Bank::B.index()]);
        let extra = match what {
            MomentPass::Correction => 1,
            MomentPass::Spread => 2,
            MomentPass::Squares => 3,
        };
        let mut loaded = Vec::new();
        for k in 0..extra {
            q.inputs.push(Bank::F);
            q.views.push(LoadAddressing::Strided);
            e.offsets.push(0);
            e.strides.extend(&per_row);
            let view = q.views.len() - 1;
            loaded.push(push_f(&mut q, &mut next_f, Inst::LoadF { slot: f_inputs + k, view }));
        }
        let mut value = push_f(&mut q, &mut next_f, Inst::BinaryF(BinaryOp::Sub, reg, loaded[0]));
        if let Some(&c) = loaded.get(1) {
            // (x - m) - c: `opaque` keeps the driver from turning it into x - (m + c), where
            // `m + c` rounds back to `m`.
            let exact = push_f(&mut q, &mut next_f, Inst::Opaque(value));
            value = push_f(&mut q, &mut next_f, Inst::BinaryF(BinaryOp::Sub, exact, c));
        }
        let kind = match what {
            MomentPass::Correction => Kind::Reduce { reduction: Reduction::Mean, reg: value, kept },
            MomentPass::Spread => {
                let abs = push_f(&mut q, &mut next_f, Inst::UnaryF(UnaryOp::Abs, value));
                Kind::Reduce { reduction: Reduction::MaxF, reg: abs, kept }
            }
            MomentPass::Squares => {
                let s = guarded_scale(&mut q, &mut e, loaded[2], &mut next_f, &mut next_b);
                let scaled = push_f(&mut q, &mut next_f, Inst::BinaryF(BinaryOp::Div, value, s));
                let square = push_f(&mut q, &mut next_f, Inst::BinaryF(BinaryOp::Mul, scaled, scaled));
                Kind::Reduce { reduction, reg: square, kept }
            }
        };
        q.kind = kind;
        q.validate()?;
        Ok((q, e))
    };
    let (correction, correction_data) = pass(MomentPass::Correction)?;
    let (spread, spread_data) = pass(MomentPass::Spread)?;
    let (squares, squares_data) = pass(MomentPass::Squares)?;
    let divisor = d.cols.saturating_sub(d.correction) as f32;
    // The rescaling map over the output elements: t (input 0) and s (input 1).
    let rows = u32::try_from(d.rows).map_err(|_| compile_error("too many output elements"))?;
    let mut q = Program {
        kind: Kind::Map,
        insts: vec![Inst::LoadF { slot: 0, view: 0 }, Inst::LoadF { slot: 1, view: 0 }],
        views: vec![LoadAddressing::Linear],
        rank: 1,
        inputs: vec![Bank::F, Bank::F],
        outputs: vec![Bank::F],
        consts: (0, 0),
    };
    let mut e = LaunchData {
        shape: vec![rows],
        strides: vec![1],
        offsets: vec![0],
        numel: d.rows,
        ..LaunchData::default()
    };
    let (mut next_f, mut next_b) = (2, 0);
    let s = guarded_scale(&mut q, &mut e, 1, &mut next_f, &mut next_b);
    q.insts.push(Inst::BinaryF(BinaryOp::Mul, 0, s));
    let mut result = next_f;
    if reduction == Reduction::Var {
        q.insts.push(Inst::BinaryF(BinaryOp::Mul, result, s));
        result += 1;
    }
    q.insts.push(Inst::StoreF { reg: result, slot: 0 });
    q.validate()?;
    Ok(MomentPlan {
        reductions: vec![
            (mean, d.clone(), count),
            (correction, correction_data, count),
            (spread, spread_data, 1.0),
            (squares, squares_data, divisor),
        ],
        rescale: (q, e),
    })
}

/// Appends `inst`, whose result is f32 register `*next_f`, and returns that register.
fn push_f(q: &mut Program, next_f: &mut usize, inst: Inst) -> usize {
    q.insts.push(inst);
    *next_f += 1;
    *next_f - 1
}

/// Appends `s' = s if 0 < s < inf else 1` for the f32 register `s` to `q` (its constants to
/// `e`), given the next free f32 and bool register numbers; returns `s'`.
fn guarded_scale(
    q: &mut Program,
    e: &mut LaunchData,
    s: usize,
    next_f: &mut usize,
    next_b: &mut usize,
) -> usize {
    e.consts_f.extend([0.0, 1.0]);
    q.consts.0 = e.consts_f.len();
    let (zero, one) = (*next_f, *next_f + 1);
    q.insts.push(Inst::ConstF(e.consts_f.len() - 2));
    q.insts.push(Inst::ConstF(e.consts_f.len() - 1));
    let (positive, finite, usable) = (*next_b, *next_b + 1, *next_b + 2);
    q.insts.push(Inst::CompareF(BinaryOp::Gt, s, zero));
    q.insts.push(Inst::TestF(UnaryOp::IsFinite, s));
    q.insts.push(Inst::BinaryB(BinaryOp::LogicalAnd, positive, finite));
    q.insts.push(Inst::SelectF(usable, s, one));
    *next_f += 3;
    *next_b += 3;
    *next_f - 1
}
