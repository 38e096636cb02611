//! The program IR: three typed register banks, the instructions that push values on them,
//! the reductions and kernel kinds, [`Program`] (a kernel's structure: the `#[comptime]`
//! argument of the cube kernels and the kernel cache's key) with its consistency check, and
//! [`LaunchData`] (the run-time scalars of one kernel).

use switchyard_ir::{BinaryOp, DType, ReduceOp, UnaryOp};

use super::compile_error;
use switchyard_lower::LowerError;

/// The register bank (and device element type) of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bank {
    /// `f32`.
    F,
    /// `i32`.
    I,
    /// bool (stored as `u32` 0/1).
    B,
}

impl Bank {
    /// The bank of a dtype, if the device stores it.
    pub fn of(dtype: DType) -> Option<Bank> {
        match dtype {
            DType::F32 => Some(Bank::F),
            DType::I32 => Some(Bank::I),
            DType::Bool => Some(Bank::B),
            DType::I64 | DType::F64 => None,
        }
    }

    pub(super) fn index(self) -> usize {
        match self {
            Bank::F => 0,
            Bank::I => 1,
            Bank::B => 2,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Bank::F => "f32",
            Bank::I => "i32",
            Bank::B => "bool",
        }
    }
}

/// How a load finds its element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadAddressing {
    /// At the iteration index itself (the view walks the iteration space row-major).
    Linear,
    /// At `offset + sum(coord[d] * stride[d])`.
    Strided,
}

/// One instruction. Operands are register numbers within the bank the variant names.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Inst {
    /// Input `slot` of the bank, through view `view`.
    LoadF {
        slot: usize,
        view: usize,
    },
    LoadI {
        slot: usize,
        view: usize,
    },
    LoadB {
        slot: usize,
        view: usize,
    },
    /// Input `slot` through view `view` where bool register `cond` holds, else 0 (false):
    /// the element is read only then, so a view may point outside its buffer elsewhere.
    GuardedLoadF {
        slot: usize,
        view: usize,
        cond: usize,
    },
    GuardedLoadI {
        slot: usize,
        view: usize,
        cond: usize,
    },
    GuardedLoadB {
        slot: usize,
        view: usize,
        cond: usize,
    },
    /// Whether iteration coordinate `axis` lies in `[lo, lo + len)`, `lo` and `len` being
    /// i32 constants read as u32 (the windows of `concat`, `stack` and `pad`).
    InRange {
        axis: usize,
        lo: usize,
        len: usize,
    },
    /// Run-time scalar number `n` of the bank.
    ConstF(usize),
    ConstI(usize),
    ConstB(bool),
    /// `consts[start] + i * consts[step]` at iteration index `i` (`arange`).
    IotaF {
        start: usize,
        step: usize,
    },
    IotaI {
        start: usize,
        step: usize,
    },
    UnaryF(UnaryOp, usize),
    UnaryI(UnaryOp, usize),
    /// `isnan`, `isinf`, `isfinite`: f32 -> bool.
    TestF(UnaryOp, usize),
    Not(usize),
    BinaryF(BinaryOp, usize, usize),
    BinaryI(BinaryOp, usize, usize),
    /// Comparisons: -> bool.
    CompareF(BinaryOp, usize, usize),
    CompareI(BinaryOp, usize, usize),
    /// `eq ne logical_and logical_or logical_xor` on bools.
    BinaryB(BinaryOp, usize, usize),
    /// `where(cond, a, b)`: cond in the bool bank, a and b in the named bank.
    SelectF(usize, usize, usize),
    SelectI(usize, usize, usize),
    SelectB(usize, usize, usize),
    /// Register `a` unchanged, through an operation the driver cannot simplify across
    /// (`math::opaque`, salted by the instruction's position): a rounding that precedes it
    /// happens, and the driver cannot merge it with another barrier
    /// ([`guard_arithmetic`](super::guard::guard_arithmetic)).
    Opaque(usize),
    /// Conversions between banks (`cast` semantics).
    FloatToInt(usize),
    IntToFloat(usize),
    FloatToBool(usize),
    IntToBool(usize),
    BoolToFloat(usize),
    BoolToInt(usize),
    /// Output `slot` of the bank gets register `reg` (map kernels only).
    StoreF {
        reg: usize,
        slot: usize,
    },
    StoreI {
        reg: usize,
        slot: usize,
    },
    StoreB {
        reg: usize,
        slot: usize,
    },
}

impl Inst {
    /// The bank this instruction pushes a value on (`None` for stores).
    pub(super) fn result(&self) -> Option<Bank> {
        use Inst::*;
        Some(match self {
            LoadF { .. }
            | GuardedLoadF { .. }
            | ConstF(_)
            | IotaF { .. }
            | UnaryF(..)
            | BinaryF(..)
            | SelectF(..)
            | Opaque(_)
            | IntToFloat(_)
            | BoolToFloat(_) => Bank::F,
            LoadI { .. }
            | GuardedLoadI { .. }
            | ConstI(_)
            | IotaI { .. }
            | UnaryI(..)
            | BinaryI(..)
            | SelectI(..)
            | FloatToInt(_)
            | BoolToInt(_) => Bank::I,
            LoadB { .. }
            | GuardedLoadB { .. }
            | InRange { .. }
            | ConstB(_)
            | TestF(..)
            | Not(_)
            | CompareF(..)
            | CompareI(..)
            | BinaryB(..)
            | SelectB(..)
            | FloatToBool(_)
            | IntToBool(_) => Bank::B,
            StoreF { .. } | StoreI { .. } | StoreB { .. } => return None,
        })
    }

    /// The registers it reads, with their banks.
    pub(super) fn reads(&self) -> Vec<(Bank, usize)> {
        use Bank::{B, F, I};
        use Inst::*;
        match *self {
            LoadF { .. } | LoadI { .. } | LoadB { .. } | ConstF(_) | ConstI(_) | ConstB(_) => vec![],
            IotaF { .. } | IotaI { .. } | InRange { .. } => vec![],
            GuardedLoadF { cond, .. } | GuardedLoadI { cond, .. } | GuardedLoadB { cond, .. } => {
                vec![(B, cond)]
            }
            UnaryF(_, a) | TestF(_, a) | FloatToInt(a) | FloatToBool(a) | Opaque(a) => vec![(F, a)],
            UnaryI(_, a) | IntToFloat(a) | IntToBool(a) => vec![(I, a)],
            Not(a) | BoolToFloat(a) | BoolToInt(a) => vec![(B, a)],
            BinaryF(_, a, b) | CompareF(_, a, b) => vec![(F, a), (F, b)],
            BinaryI(_, a, b) | CompareI(_, a, b) => vec![(I, a), (I, b)],
            BinaryB(_, a, b) => vec![(B, a), (B, b)],
            SelectF(c, a, b) => vec![(B, c), (F, a), (F, b)],
            SelectI(c, a, b) => vec![(B, c), (I, a), (I, b)],
            SelectB(c, a, b) => vec![(B, c), (B, a), (B, b)],
            StoreF { reg, .. } => vec![(F, reg)],
            StoreI { reg, .. } => vec![(I, reg)],
            StoreB { reg, .. } => vec![(B, reg)],
        }
    }
}

/// The reductions the reduce kernel performs, with their accumulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// f32 sum (compensated per unit).
    Sum,
    /// f32 sum divided by the count.
    Mean,
    /// f32 variance: launched as three passes (the mean; the mean of the deviations from
    /// it, which corrects it; the sum of the squared corrected deviations divided by
    /// `max(N - correction, 0)`), see [`moment_plan`](super::moment_plan).
    Var,
    /// The square root of [`Reduction::Var`].
    Std,
    /// `maximum` fold (NaN propagates; the first of equal values wins).
    MaxF,
    /// `minimum` fold.
    MinF,
    /// i32 maximum.
    MaxI,
    /// i32 minimum.
    MinI,
    /// bool `any`.
    Any,
    /// bool `all`.
    All,
}

impl Reduction {
    /// The reduction of `op` over values of `bank`, if the kernel has it.
    pub fn of(op: ReduceOp, bank: Bank) -> Option<Reduction> {
        Some(match (op, bank) {
            (ReduceOp::Sum, Bank::F) => Reduction::Sum,
            (ReduceOp::Mean, Bank::F) => Reduction::Mean,
            (ReduceOp::Var, Bank::F) => Reduction::Var,
            (ReduceOp::Std, Bank::F) => Reduction::Std,
            (ReduceOp::Max, Bank::F) => Reduction::MaxF,
            (ReduceOp::Min, Bank::F) => Reduction::MinF,
            (ReduceOp::Max, Bank::I) => Reduction::MaxI,
            (ReduceOp::Min, Bank::I) => Reduction::MinI,
            (ReduceOp::Any, Bank::B) => Reduction::Any,
            (ReduceOp::All, Bank::B) => Reduction::All,
            _ => return None,
        })
    }

    /// The bank it reads (and writes).
    pub fn bank(self) -> Bank {
        match self {
            Reduction::Sum
            | Reduction::Mean
            | Reduction::Var
            | Reduction::Std
            | Reduction::MaxF
            | Reduction::MinF => Bank::F,
            Reduction::MaxI | Reduction::MinI => Bank::I,
            Reduction::Any | Reduction::All => Bank::B,
        }
    }
}

/// What kind of kernel runs the program.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// One unit per element of the iteration space; stores write the outputs.
    Map,
    /// One cube per output element: the program is evaluated at every element of the
    /// reduced axes (the innermost `rank - kept` iteration axes) and register `reg` reduced.
    Reduce {
        /// Which reduction.
        reduction: Reduction,
        /// The reduced register (in the reduction's bank).
        reg: usize,
        /// Iteration axes that are kept (the outer ones).
        kept: usize,
    },
    /// A tiled matrix product over `batch` broadcast batch axes.
    Matmul {
        /// Rank of the result's batch shape.
        batch: usize,
        /// The kernel inputs that are the left and right operands.
        operands: (usize, usize),
    },
}

/// A kernel's structure: everything the generated code depends on, and nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Program {
    /// Map, reduce or matmul.
    pub kind: Kind,
    /// The instructions (empty for matmul).
    pub insts: Vec<Inst>,
    /// The layout of each view.
    pub views: Vec<LoadAddressing>,
    /// The iteration rank.
    pub rank: usize,
    /// The bank of each kernel input, in argument order.
    pub inputs: Vec<Bank>,
    /// The bank of each kernel output, in order.
    pub outputs: Vec<Bank>,
    /// How many f32 and i32 run-time constants it reads.
    pub consts: (usize, usize),
}

/// The run-time part of one kernel: sizes, strides, offsets and constant values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaunchData {
    /// f32 constants.
    pub consts_f: Vec<f32>,
    /// i32 constants.
    pub consts_i: Vec<i32>,
    /// The iteration shape (for a reduction: kept axes, then reduced axes).
    pub shape: Vec<u32>,
    /// Per view, `rank` strides in elements, two's complement in 32 bits.
    pub strides: Vec<u32>,
    /// Per view, the offset of its first element.
    pub offsets: Vec<u32>,
    /// Elements of the iteration space.
    pub numel: usize,
    /// Reductions: output elements (rows) and reduced elements per row (cols).
    pub rows: usize,
    /// Reduced elements per output element.
    pub cols: usize,
    /// `var`/`std`: the degrees-of-freedom correction.
    pub correction: usize,
    /// Matmul: `[m, k, n]`.
    pub mkn: [u32; 3],
    /// Matmul: per batch index of the result, the matrix number in `a` and `b`, as strides
    /// over the batch shape (`shape` holds the batch shape).
    pub batch_strides: (Vec<u32>, Vec<u32>),
}

/// The bank slot of each input and output: its position among those of its bank.
pub fn slots(banks: &[Bank]) -> Vec<usize> {
    let mut count = [0usize; 3];
    banks
        .iter()
        .map(|b| {
            let s = count[b.index()];
            count[b.index()] += 1;
            s
        })
        .collect()
}

/// How many inputs (or outputs) of each bank.
pub fn bank_counts(banks: &[Bank]) -> [usize; 3] {
    let mut count = [0usize; 3];
    for b in banks {
        count[b.index()] += 1;
    }
    count
}

impl Program {
    /// Buffers a launch binds: inputs and outputs.
    pub fn bindings(&self) -> usize {
        self.inputs.len() + self.outputs.len()
    }

    /// Checks that every register read exists when it is read, every slot and view is in
    /// range and the reduced register exists: an inconsistent program would fail inside
    /// cubecl's device thread, silently. Run once per compiled structure.
    pub fn validate(&self) -> Result<(), LowerError> {
        let mut defined = [0usize; 3];
        let ins = bank_counts(&self.inputs);
        let outs = bank_counts(&self.outputs);
        let bad = |what: String| Err(compile_error(format!("internal: inconsistent program: {what}")));
        for (pc, inst) in self.insts.iter().enumerate() {
            for (bank, reg) in inst.reads() {
                if reg >= defined[bank.index()] {
                    return bad(format!("instruction {pc} reads {} register {reg}", bank.name()));
                }
            }
            let (slot_bank, slot, view) = match *inst {
                Inst::LoadF { slot, view } => (Bank::F, slot, Some(view)),
                Inst::LoadI { slot, view } => (Bank::I, slot, Some(view)),
                Inst::LoadB { slot, view } => (Bank::B, slot, Some(view)),
                Inst::GuardedLoadF { slot, view, .. } => (Bank::F, slot, Some(view)),
                Inst::GuardedLoadI { slot, view, .. } => (Bank::I, slot, Some(view)),
                Inst::GuardedLoadB { slot, view, .. } => (Bank::B, slot, Some(view)),
                _ => (Bank::F, 0, None),
            };
            if let Some(view) = view {
                if slot >= ins[slot_bank.index()] || view >= self.views.len() {
                    return bad(format!("instruction {pc} loads input {slot} through view {view}"));
                }
            }
            let (c, n) = match *inst {
                Inst::ConstF(n) => (self.consts.0, n),
                Inst::ConstI(n) => (self.consts.1, n),
                Inst::IotaF { start, step } => (self.consts.0, start.max(step)),
                Inst::IotaI { start, step } => (self.consts.1, start.max(step)),
                Inst::InRange { lo, len, .. } => (self.consts.1, lo.max(len)),
                _ => (usize::MAX, 0),
            };
            if n >= c {
                return bad(format!("instruction {pc} reads constant {n} of {c}"));
            }
            if let Inst::InRange { axis, .. } = *inst {
                if axis >= self.rank {
                    return bad(format!("instruction {pc} tests axis {axis} of {}", self.rank));
                }
            }
            let store = match *inst {
                Inst::StoreF { slot, .. } => Some((Bank::F, slot)),
                Inst::StoreI { slot, .. } => Some((Bank::I, slot)),
                Inst::StoreB { slot, .. } => Some((Bank::B, slot)),
                _ => None,
            };
            if let Some((bank, slot)) = store {
                if slot >= outs[bank.index()] || self.kind != Kind::Map {
                    return bad(format!("instruction {pc} stores to {} output {slot}", bank.name()));
                }
            }
            if let Some(bank) = inst.result() {
                defined[bank.index()] += 1;
            }
        }
        if let Kind::Reduce { reduction, reg, kept } = self.kind {
            let bank = reduction.bank();
            if reg >= defined[bank.index()] || kept > self.rank || self.outputs != [bank] {
                return bad(format!("reduction of {} register {reg}", bank.name()));
            }
        }
        Ok(())
    }
}
