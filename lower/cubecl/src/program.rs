//! From a [`KernelSpec`] to a program the cube kernels interpret at expansion time.
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
//! Views: a kernel argument read by an elementwise node is an affine view of its buffer over
//! the iteration space (`offset + sum(coord[d] * stride[d])`, strides in elements, 0 for a
//! broadcast axis, negative for a flipped or reversed-step axis). Shape ops on arguments
//! (`permute_dims broadcast_to expand_dims squeeze reshape slice flip`) only change the view,
//! so a shape-op kernel is a load through a view and a store. A view that walks the iteration
//! space in row-major order is `Linear` (its offset is the element index, no index math).

use switchyard_ir::{BinaryOp, DType, Op, ReduceOp, Shape, UnaryOp};

use switchyard_lower::{KernelOperand, KernelSpec};
use switchyard_lower::{LowerError, LowerErrorKind};

/// The error for a spec the backend cannot turn into a program.
pub(crate) fn compile_error(message: impl Into<String>) -> LowerError {
    LowerError::new(LowerErrorKind::Compile, format!("gpu.cubecl: {}", message.into()))
}

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

    fn index(self) -> usize {
        match self {
            Bank::F => 0,
            Bank::I => 1,
            Bank::B => 2,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Bank::F => "f32",
            Bank::I => "i32",
            Bank::B => "bool",
        }
    }
}

/// How a load finds its element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
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
    /// happens, and the driver cannot merge it with another barrier ([`guard_arithmetic`]).
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
    fn result(&self) -> Option<Bank> {
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
    fn reads(&self) -> Vec<(Bank, usize)> {
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

    /// The instruction with each f32 register it reads renamed by `f` (other banks kept).
    fn rename_f(&self, f: impl Fn(usize) -> usize) -> Inst {
        use Inst::*;
        match *self {
            UnaryF(op, a) => UnaryF(op, f(a)),
            TestF(op, a) => TestF(op, f(a)),
            FloatToInt(a) => FloatToInt(f(a)),
            FloatToBool(a) => FloatToBool(f(a)),
            Opaque(a) => Opaque(f(a)),
            BinaryF(op, a, b) => BinaryF(op, f(a), f(b)),
            CompareF(op, a, b) => CompareF(op, f(a), f(b)),
            SelectF(c, a, b) => SelectF(c, f(a), f(b)),
            StoreF { reg, slot } => StoreF { reg: f(reg), slot },
            ref other => other.clone(),
        }
    }

    /// Whether its f32 result is computed by arithmetic the driver could rewrite together
    /// with an instruction that reads it (loads, constants and barriers are not).
    fn computes_f(&self) -> bool {
        matches!(
            self,
            Inst::UnaryF(..)
                | Inst::BinaryF(..)
                | Inst::SelectF(..)
                | Inst::IotaF { .. }
                | Inst::IntToFloat(_)
                | Inst::BoolToFloat(_)
        )
    }
}

/// Puts the user's float arithmetic out of the driver's reach, so that it keeps IEEE
/// semantics: the driver compiles under Vulkan's float rules, which allow it to reassociate
/// and to fold identities that are false for infinities, NaN or signed zeros (lavapipe
/// turns `x - x` into 0 and `(a + b) - b` into `a`, and merges `a + b` with `b + a`).
/// Returns `insts` with an [`Inst::Opaque`] barrier
/// - after every f32 value computed by arithmetic (see [`Inst::computes_f`]) that another
///   instruction reads, or that is the reduced register `reduced`; what reads it then reads
///   the barrier (stores and the bit tests `isnan`/`isinf`/`isfinite` read the value itself:
///   a store cannot be simplified, and the tests read bits);
/// - in front of the second operand of a binary op or comparison whose two operands are the
///   same register (`x - x`, `x / x`, `x == x`), except where the identity is IEEE's own
///   (`x + x`, `x * x`, `maximum(x, x)`, `minimum(x, x)`).
///
/// Each barrier is a distinct operation (its salt is its position, see `fused::evaluate`),
/// so the driver cannot merge two of them into one value either. Also returns `reduced`
/// renamed.
pub(crate) fn guard_arithmetic(insts: Vec<Inst>, reduced: Option<usize>) -> (Vec<Inst>, Option<usize>) {
    let count = insts.iter().filter(|i| i.result() == Some(Bank::F)).count();
    let mut read = vec![false; count];
    for inst in &insts {
        if matches!(inst, Inst::StoreF { .. } | Inst::TestF(..)) {
            continue;
        }
        for (bank, reg) in inst.reads() {
            if bank == Bank::F && reg < count {
                read[reg] = true;
            }
        }
    }
    if let Some(r) = reduced.filter(|&r| r < count) {
        read[r] = true;
    }
    // `rename[old]`: the register that readers of f32 register `old` read now.
    let mut rename: Vec<usize> = Vec::with_capacity(count);
    let mut next = 0usize;
    let mut out = Vec::with_capacity(insts.len() * 2);
    for inst in insts {
        let mut inst = inst.rename_f(|r| rename.get(r).copied().unwrap_or(r));
        let twin = match inst {
            Inst::BinaryF(op, a, b)
                if a == b
                    && !matches!(
                        op,
                        BinaryOp::Add | BinaryOp::Mul | BinaryOp::Maximum | BinaryOp::Minimum
                    ) =>
            {
                Some(a)
            }
            Inst::CompareF(_, a, b) if a == b => Some(a),
            _ => None,
        };
        if let Some(a) = twin {
            out.push(Inst::Opaque(a));
            let other = next;
            next += 1;
            inst = match inst {
                Inst::BinaryF(op, a, _) => Inst::BinaryF(op, a, other),
                Inst::CompareF(op, a, _) => Inst::CompareF(op, a, other),
                keep => keep,
            };
        }
        let computes = inst.computes_f();
        let is_f = inst.result() == Some(Bank::F);
        out.push(inst);
        if !is_f {
            continue;
        }
        let old = rename.len();
        let value = next;
        next += 1;
        if computes && read.get(old).copied().unwrap_or(false) {
            out.push(Inst::Opaque(value));
            rename.push(next);
            next += 1;
        } else {
            rename.push(value);
        }
    }
    let reduced = reduced.map(|r| rename.get(r).copied().unwrap_or(r));
    (out, reduced)
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
    /// `max(N - correction, 0)`), see [`moment_passes`].
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

/// Units per cube of a reduction, as a power of two.
pub const REDUCE_LOG2_BLOCK: u32 = 8;

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
    pub views: Vec<Layout>,
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

/// An affine view of kernel argument `arg` over `dims`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct View {
    arg: usize,
    offset: i64,
    dims: Vec<usize>,
    strides: Vec<i64>,
}

fn row_major(dims: &[usize]) -> Vec<i64> {
    let mut strides = vec![0i64; dims.len()];
    let mut acc = 1i64;
    for (s, &d) in strides.iter_mut().zip(dims).rev() {
        *s = acc;
        acc = acc.saturating_mul(d as i64);
    }
    strides
}

impl View {
    fn of_arg(arg: usize, shape: &Shape) -> View {
        View { arg, offset: 0, dims: shape.dims().to_vec(), strides: row_major(shape.dims()) }
    }

    /// Contiguous in row-major order (axes of extent 1 may have any stride).
    fn is_row_major(&self) -> bool {
        let want = row_major(&self.dims);
        self.dims.iter().zip(self.strides.iter().zip(&want)).all(|(&d, (s, w))| d <= 1 || s == w)
    }

    /// The view after shape op `op` whose result has shape `out`.
    fn apply(&self, op: &Op, out: &Shape) -> Result<View, LowerError> {
        let mut v = self.clone();
        let odims = out.dims().to_vec();
        match op {
            Op::Reshape(_) => {
                if !self.is_row_major() {
                    return Err(compile_error("reshape of a non-contiguous view is not generated"));
                }
                v.strides = row_major(&odims);
            }
            Op::PermuteDims(perm) => {
                v.strides = perm.iter().map(|&p| self.strides.get(p).copied().unwrap_or(0)).collect();
            }
            Op::BroadcastTo(_) => {
                v.strides = broadcast(&self.dims, &self.strides, &odims);
            }
            Op::ExpandDims(axis) => {
                v.strides.insert((*axis).min(v.strides.len()), 0);
            }
            Op::Squeeze(axes) => {
                v.strides = self
                    .strides
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !axes.contains(i))
                    .map(|(_, &s)| s)
                    .collect();
            }
            Op::Slice(spec) => {
                if out.numel() > 0 {
                    for (a, s) in spec.iter().enumerate() {
                        let st = self.strides.get(a).copied().unwrap_or(0);
                        v.offset += s.start as i64 * st;
                        v.strides[a] = if s.len > 1 { st * s.step as i64 } else { 0 };
                    }
                }
            }
            Op::Flip(axes) => {
                for &a in axes {
                    let (d, st) =
                        (self.dims.get(a).copied().unwrap_or(0), self.strides.get(a).copied().unwrap_or(0));
                    if d > 0 {
                        v.offset += (d as i64 - 1) * st;
                    }
                    v.strides[a] = -st;
                }
            }
            other => return Err(compile_error(format!("{} is not a view", other.name()))),
        }
        v.dims = odims;
        if v.strides.len() != v.dims.len() {
            return Err(compile_error(format!("{}: view rank mismatch", op.name())));
        }
        Ok(v)
    }
}

/// Strides reading `dims` (with `strides`) as broadcast to `out` (right-aligned; missing
/// and extent-1 axes get stride 0).
fn broadcast(dims: &[usize], strides: &[i64], out: &[usize]) -> Vec<i64> {
    let lead = out.len().saturating_sub(dims.len());
    (0..out.len())
        .map(|a| match a.checked_sub(lead) {
            Some(i) if dims[i] != 1 => strides[i],
            _ => 0,
        })
        .collect()
}

/// Whether `op` only changes how an argument is viewed.
pub fn is_view_op(op: &Op) -> bool {
    matches!(
        op,
        Op::Reshape(_)
            | Op::PermuteDims(_)
            | Op::BroadcastTo(_)
            | Op::ExpandDims(_)
            | Op::Squeeze(_)
            | Op::Slice(_)
            | Op::Flip(_)
    )
}

/// Whether `op` joins arguments (`concat`, `stack`, `pad`): read through windows of views.
pub fn is_join_op(op: &Op) -> bool {
    matches!(op, Op::Concat(_) | Op::Stack(_) | Op::Pad { .. })
}

/// What a node of the spec is, while the program is built.
#[derive(Clone, Debug)]
enum Value {
    /// In a register.
    Reg(Bank, usize),
    /// An argument seen through a view (not loaded yet: it is loaded where it is used).
    View(View),
}

/// A load's identity: argument, offset and strides in iteration order.
type LoadKey = (usize, i64, Vec<i64>);

/// Where a join's part is read: `(axis, lo, len)` per windowed axis of the iteration space.
type Window = Vec<(usize, usize, usize)>;

/// The value of a join node, or why it cannot be generated.
type JoinResult = Result<Value, LowerError>;

fn fits_u32(n: usize) -> Result<u32, LowerError> {
    u32::try_from(n).map_err(|_| compile_error(format!("{n} elements exceed 2^32")))
}

/// Builds a program and its launch data.
struct Builder<'a> {
    spec: &'a KernelSpec,
    /// Iteration dims (unpermuted) and the permutation into iteration order.
    space: Vec<usize>,
    perm: Vec<usize>,
    insts: Vec<Inst>,
    regs: [usize; 3],
    views: Vec<Layout>,
    view_data: Vec<(i64, Vec<i64>)>,
    loads: Vec<(LoadKey, Value)>,
    input_banks: Vec<Bank>,
    input_slots: Vec<usize>,
    data: LaunchData,
}

impl<'a> Builder<'a> {
    fn new(spec: &'a KernelSpec, space: Vec<usize>, perm: Vec<usize>) -> Result<Builder<'a>, LowerError> {
        let input_banks = spec
            .inputs
            .iter()
            .map(|t| {
                Bank::of(t.dtype)
                    .ok_or_else(|| compile_error(format!("input of {}: dtype unsupported", t.dtype)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let input_slots = slots(&input_banks);
        Ok(Builder {
            spec,
            space,
            perm,
            insts: Vec::new(),
            regs: [0; 3],
            views: Vec::new(),
            view_data: Vec::new(),
            loads: Vec::new(),
            input_banks,
            input_slots,
            data: LaunchData::default(),
        })
    }

    fn push(&mut self, inst: Inst) -> Value {
        let bank = inst.result().unwrap_or(Bank::F);
        let reg = self.regs[bank.index()];
        self.regs[bank.index()] += 1;
        self.insts.push(inst);
        Value::Reg(bank, reg)
    }

    /// The register holding `value` at each iteration element, loading views as needed.
    fn reg(&mut self, value: &Value) -> Result<(Bank, usize), LowerError> {
        let view = match value {
            Value::Reg(b, r) => return Ok((*b, *r)),
            Value::View(v) => v,
        };
        let key = self.load_key(view);
        if let Some((_, v)) = self.loads.iter().find(|(k, _)| *k == key) {
            return self.reg(&v.clone());
        }
        let idx = self.add_view(&key);
        let (bank, slot) = (self.input_banks[view.arg], self.input_slots[view.arg]);
        let inst = match bank {
            Bank::F => Inst::LoadF { slot, view: idx },
            Bank::I => Inst::LoadI { slot, view: idx },
            Bank::B => Inst::LoadB { slot, view: idx },
        };
        let v = self.push(inst);
        self.loads.push((key, v.clone()));
        self.reg(&v)
    }

    /// A view's identity in the iteration space: broadcast to it, axes in iteration order.
    fn load_key(&self, view: &View) -> LoadKey {
        let strides = broadcast(&view.dims, &view.strides, &self.space);
        let strides: Vec<i64> = self.perm.iter().map(|&p| strides[p]).collect();
        (view.arg, view.offset, strides)
    }

    /// Declares a view (its layout and launch data) and returns its number.
    fn add_view(&mut self, (_, offset, strides): &LoadKey) -> usize {
        let iter_dims: Vec<usize> = self.perm.iter().map(|&p| self.space[p]).collect();
        let linear = *offset == 0
            && iter_dims
                .iter()
                .zip(strides.iter().zip(row_major(&iter_dims)))
                .all(|(&d, (&s, w))| d <= 1 || s == w);
        self.views.push(if linear { Layout::Linear } else { Layout::Strided });
        self.view_data.push((*offset, strides.clone()));
        self.views.len() - 1
    }

    /// A bool register: whether iteration-space axis `axis` (unpermuted) is in
    /// `[lo, lo + len)`.
    fn in_range(&mut self, axis: usize, lo: usize, len: usize) -> Result<usize, LowerError> {
        let axis =
            self.perm.iter().position(|&p| p == axis).ok_or_else(|| {
                compile_error(format!("a window on axis {axis} of rank {}", self.perm.len()))
            })?;
        let (lo, len) = (fits_u32(lo)?, fits_u32(len)?);
        // Read back as u32 by the kernel: two's complement keeps every u32.
        self.data.consts_i.extend([lo as i32, len as i32]);
        let n = self.data.consts_i.len();
        self.push_reg(Inst::InRange { axis, lo: n - 2, len: n - 1 })
    }

    /// The value of a join (`concat`, `stack`, `pad`): each part is a view of an argument
    /// over the iteration space read only inside its window (`(axis, lo, len)` per windowed
    /// axis); elsewhere the value is `fill` (or, without one, the parts' windows cover the
    /// space). Windows must not overlap.
    fn join(&mut self, bank: Bank, parts: Vec<(View, Window)>, fill: Option<Value>) -> JoinResult {
        let mut acc = match fill {
            Some(v) => Some(self.reg(&v)?),
            None => None,
        };
        for (view, window) in parts.into_iter().rev() {
            if window.iter().any(|&(_, _, len)| len == 0) {
                continue;
            }
            // A window over a whole axis tests nothing.
            let space = &self.space;
            let window: Vec<_> =
                window.into_iter().filter(|&(a, lo, len)| !(lo == 0 && space.get(a) == Some(&len))).collect();
            if self.input_banks.get(view.arg) != Some(&bank) {
                return Err(compile_error("the operands of a join must have its dtype"));
            }
            let mut cond = None;
            for (axis, lo, len) in window {
                let r = self.in_range(axis, lo, len)?;
                cond = Some(match cond {
                    None => r,
                    Some(c) => self.push_reg(Inst::BinaryB(BinaryOp::LogicalAnd, c, r))?,
                });
            }
            let Some(cond) = cond else {
                acc = Some(self.reg(&Value::View(view))?);
                continue;
            };
            let key = self.load_key(&view);
            let idx = self.add_view(&key);
            let slot = self.input_slots[view.arg];
            let load = self.push_reg(match bank {
                Bank::F => Inst::GuardedLoadF { slot, view: idx, cond },
                Bank::I => Inst::GuardedLoadI { slot, view: idx, cond },
                Bank::B => Inst::GuardedLoadB { slot, view: idx, cond },
            })?;
            acc = Some(match acc {
                None => (bank, load),
                Some((_, other)) => (
                    bank,
                    self.push_reg(match bank {
                        Bank::F => Inst::SelectF(cond, load, other),
                        Bank::I => Inst::SelectI(cond, load, other),
                        Bank::B => Inst::SelectB(cond, load, other),
                    })?,
                ),
            });
        }
        match acc {
            Some((b, r)) => Ok(Value::Reg(b, r)),
            // Every part is empty, so is the result: any value will do.
            None => Ok(self.constant(switchyard_ir::Scalar::I32(0), bank)),
        }
    }

    /// The value of a `concat`, `stack` or `pad` of `views` (the operands) with result
    /// dims `out`: each operand becomes a view over the result, read inside its window.
    fn join_node(&mut self, op: &Op, views: Vec<View>, out: &[usize], bank: Bank) -> JoinResult {
        let axis_of = |v: &View, axis: usize| -> Result<(usize, i64), LowerError> {
            match (v.dims.get(axis), v.strides.get(axis)) {
                (Some(&d), Some(&s)) => Ok((d, s)),
                _ => Err(compile_error(format!("{}: axis {axis} out of range", op.name()))),
            }
        };
        match op {
            Op::Concat(axis) => {
                let mut parts = Vec::with_capacity(views.len());
                let mut start = 0usize;
                for mut v in views {
                    let (len, stride) = axis_of(&v, *axis)?;
                    v.offset -= start as i64 * stride;
                    v.dims = out.to_vec();
                    parts.push((v, vec![(*axis, start, len)]));
                    start += len;
                }
                self.join(bank, parts, None)
            }
            Op::Stack(axis) => {
                let mut parts = Vec::with_capacity(views.len());
                for (i, mut v) in views.into_iter().enumerate() {
                    if *axis > v.strides.len() {
                        return Err(compile_error(format!("stack: axis {axis} out of range")));
                    }
                    v.strides.insert(*axis, 0);
                    v.dims = out.to_vec();
                    parts.push((v, vec![(*axis, i, 1)]));
                }
                self.join(bank, parts, None)
            }
            Op::Pad { widths, value } => {
                let Some(mut v) = views.into_iter().next() else {
                    return Err(compile_error("pad without an operand"));
                };
                let mut window = Vec::new();
                for (axis, &(before, _)) in widths.iter().enumerate() {
                    let (len, stride) = axis_of(&v, axis)?;
                    v.offset -= before as i64 * stride;
                    window.push((axis, before, len));
                }
                v.dims = out.to_vec();
                let fill = self.constant(*value, bank);
                self.join(bank, vec![(v, window)], Some(fill))
            }
            other => Err(compile_error(format!("{} is not a join", other.name()))),
        }
    }

    /// Pushes `inst` and returns its register number.
    fn push_reg(&mut self, inst: Inst) -> Result<usize, LowerError> {
        match self.push(inst) {
            Value::Reg(_, r) => Ok(r),
            Value::View(_) => Err(compile_error("internal: an instruction without a register")),
        }
    }

    fn constant(&mut self, value: switchyard_ir::Scalar, bank: Bank) -> Value {
        match bank {
            Bank::F => {
                self.data.consts_f.push(value.to_f64() as f32);
                self.push(Inst::ConstF(self.data.consts_f.len() - 1))
            }
            Bank::I => {
                self.data.consts_i.push(value.to_f64() as i32);
                self.push(Inst::ConstI(self.data.consts_i.len() - 1))
            }
            Bank::B => self.push(Inst::ConstB(value.to_f64() != 0.0)),
        }
    }

    /// The value of node `i`.
    fn node(&mut self, i: usize, values: &[Value]) -> Result<Value, LowerError> {
        let node = &self.spec.nodes[i];
        let bank = Bank::of(node.ty.dtype)
            .ok_or_else(|| compile_error(format!("node {i} ({}): {} unsupported", node.op, node.ty.dtype)))?;
        let operand = |k: usize| -> Result<Value, LowerError> {
            match node.operands.get(k) {
                Some(KernelOperand::Arg(a)) => self
                    .spec
                    .inputs
                    .get(*a)
                    .map(|t| Value::View(View::of_arg(*a, &t.shape)))
                    .ok_or_else(|| compile_error(format!("node {i} reads missing argument {a}"))),
                Some(KernelOperand::Node(n)) if *n < i => Ok(values[*n].clone()),
                _ => Err(compile_error(format!("node {i} ({}) has a bad operand {k}", node.op))),
            }
        };
        if is_join_op(&node.op) {
            let mut views = Vec::with_capacity(node.operands.len());
            for k in 0..node.operands.len() {
                match operand(k)? {
                    Value::View(v) => views.push(v),
                    Value::Reg(..) => {
                        return Err(compile_error(format!(
                            "{} of a computed value is not generated inside a kernel",
                            node.op.name()
                        )))
                    }
                }
            }
            return self.join_node(&node.op, views, node.ty.shape.dims(), bank);
        }
        if is_view_op(&node.op) {
            return match operand(0)? {
                Value::View(v) => Ok(Value::View(v.apply(&node.op, &node.ty.shape)?)),
                Value::Reg(..) => Err(compile_error(format!(
                    "{} of a computed value is not generated inside a kernel",
                    node.op.name()
                ))),
            };
        }
        let elementwise = node.op.is_elementwise();
        if elementwise && node.ty.shape.dims() != self.space.as_slice() {
            return Err(compile_error(format!(
                "node {i} ({}) has shape {}, not the kernel's iteration shape",
                node.op, node.ty.shape
            )));
        }
        let mut regs = Vec::new();
        for k in 0..node.operands.len() {
            let v = operand(k)?;
            regs.push(self.reg(&v)?);
        }
        let r = |k: usize| regs.get(k).map_or(0, |&(_, r)| r);
        let b0 = regs.first().map_or(bank, |&(b, _)| b);
        let inst = match (&node.op, bank) {
            (Op::Full { value, .. }, _) => return Ok(self.constant(*value, bank)),
            (Op::Arange { start, step, .. }, Bank::F | Bank::I) => {
                if node.ty.shape.dims() != self.space.as_slice() || self.perm.len() != 1 {
                    return Err(compile_error("arange is generated only as its own kernel"));
                }
                let (s, t) = match bank {
                    Bank::F => {
                        self.data.consts_f.extend([start.to_f64() as f32, step.to_f64() as f32]);
                        (self.data.consts_f.len() - 2, self.data.consts_f.len() - 1)
                    }
                    _ => {
                        self.data.consts_i.extend([start.to_f64() as i32, step.to_f64() as i32]);
                        (self.data.consts_i.len() - 2, self.data.consts_i.len() - 1)
                    }
                };
                return Ok(self.push(if bank == Bank::F {
                    Inst::IotaF { start: s, step: t }
                } else {
                    Inst::IotaI { start: s, step: t }
                }));
            }
            (Op::Unary(u), _) => match (u, b0) {
                (UnaryOp::LogicalNot, Bank::B) => Inst::Not(r(0)),
                (UnaryOp::IsNan | UnaryOp::IsInf | UnaryOp::IsFinite, Bank::F) => Inst::TestF(*u, r(0)),
                (UnaryOp::IsNan | UnaryOp::IsInf, Bank::I) => Inst::ConstB(false),
                (UnaryOp::IsFinite, Bank::I) => Inst::ConstB(true),
                // Integers are their own floor, ceiling and rounding.
                (UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round, Bank::I) => {
                    return Ok(Value::Reg(Bank::I, r(0)))
                }
                (_, Bank::F) => Inst::UnaryF(*u, r(0)),
                (_, Bank::I) => Inst::UnaryI(*u, r(0)),
                _ => return Err(compile_error(format!("{} on {}", u.name(), b0.name()))),
            },
            (Op::Binary(b), _) => {
                let cmp = switchyard_ir::elementwise::is_comparison(*b);
                match (b0, cmp) {
                    (Bank::F, false) => Inst::BinaryF(*b, r(0), r(1)),
                    (Bank::I, false) => Inst::BinaryI(*b, r(0), r(1)),
                    (Bank::F, true) => Inst::CompareF(*b, r(0), r(1)),
                    (Bank::I, true) => Inst::CompareI(*b, r(0), r(1)),
                    (Bank::B, _) => Inst::BinaryB(*b, r(0), r(1)),
                }
            }
            (Op::Where, Bank::F) => Inst::SelectF(r(0), r(1), r(2)),
            (Op::Where, Bank::I) => Inst::SelectI(r(0), r(1), r(2)),
            (Op::Where, Bank::B) => Inst::SelectB(r(0), r(1), r(2)),
            (Op::Clip, Bank::F | Bank::I) => {
                let max = if bank == Bank::F { Inst::BinaryF } else { Inst::BinaryI };
                let Value::Reg(_, lo) = self.push(max(BinaryOp::Maximum, r(0), r(1))) else {
                    return Err(compile_error("clip"));
                };
                max(BinaryOp::Minimum, lo, r(2))
            }
            (Op::Cast(_), _) => match (b0, bank) {
                (from, to) if from == to => return Ok(Value::Reg(from, r(0))),
                (Bank::F, Bank::I) => Inst::FloatToInt(r(0)),
                (Bank::F, Bank::B) => Inst::FloatToBool(r(0)),
                (Bank::I, Bank::F) => Inst::IntToFloat(r(0)),
                (Bank::I, Bank::B) => Inst::IntToBool(r(0)),
                (Bank::B, Bank::F) => Inst::BoolToFloat(r(0)),
                _ => Inst::BoolToInt(r(0)),
            },
            (op, _) => return Err(compile_error(format!("{} is not generated", op.name()))),
        };
        Ok(self.push(inst))
    }

    /// Evaluates nodes `0..end` (the reduction, if any, is left out).
    fn nodes(&mut self, end: usize) -> Result<Vec<Value>, LowerError> {
        let mut values: Vec<Value> = Vec::with_capacity(end);
        for i in 0..end {
            let v = self.node(i, &values)?;
            values.push(v);
        }
        Ok(values)
    }

    fn finish(mut self, kind: Kind, outputs: Vec<Bank>) -> Result<(Program, LaunchData), LowerError> {
        let iter_dims: Vec<usize> = self.perm.iter().map(|&p| self.space[p]).collect();
        let fits =
            |n: usize| u32::try_from(n).map_err(|_| compile_error(format!("{n} elements exceed 2^32")));
        self.data.shape = iter_dims.iter().map(|&d| fits(d)).collect::<Result<_, _>>()?;
        for (offset, strides) in &self.view_data {
            // Two's complement in 32 bits: the kernel's index math wraps the same way, and a
            // valid element offset is below 2^32.
            self.data.offsets.push(*offset as u32);
            self.data.strides.extend(strides.iter().map(|&s| s as u32));
        }
        self.data.numel = fits(iter_dims.iter().product())? as usize;
        for t in &self.spec.inputs {
            fits(t.shape.numel())?;
        }
        // The user's float arithmetic behind barriers (the reduced register of a float
        // reduction included: the accumulation reads it).
        let (insts, kind) = match kind {
            Kind::Reduce { reduction, reg, kept } if reduction.bank() == Bank::F => {
                let (insts, reg) = guard_arithmetic(self.insts, Some(reg));
                (insts, Kind::Reduce { reduction, reg: reg.unwrap_or(0), kept })
            }
            kind => (guard_arithmetic(self.insts, None).0, kind),
        };
        let program = Program {
            kind,
            insts,
            views: self.views,
            rank: iter_dims.len(),
            inputs: self.input_banks,
            outputs,
            consts: (self.data.consts_f.len(), self.data.consts_i.len()),
        };
        program.validate()?;
        Ok((program, self.data))
    }
}

/// The program of an elementwise (or shape-op, or constant) kernel.
pub fn map_program(spec: &KernelSpec) -> Result<(Program, LaunchData), LowerError> {
    let mut shapes = spec.output_types().map(|t| t.shape.clone());
    let shape = shapes.next().ok_or_else(|| compile_error("a kernel without outputs"))?;
    if shapes.any(|s| s != shape) {
        return Err(compile_error("outputs of different shapes in one kernel"));
    }
    let space = shape.dims().to_vec();
    let perm: Vec<usize> = (0..space.len()).collect();
    let mut b = Builder::new(spec, space, perm)?;
    let values = b.nodes(spec.nodes.len())?;
    let out_banks: Vec<Bank> = spec
        .output_types()
        .map(|t| Bank::of(t.dtype).ok_or_else(|| compile_error(format!("output of {}", t.dtype))))
        .collect::<Result<_, _>>()?;
    let out_slots = slots(&out_banks);
    for (k, &o) in spec.outputs.iter().enumerate() {
        let value = values.get(o).ok_or_else(|| compile_error(format!("output {o} names no node")))?.clone();
        let (bank, reg) = b.reg(&value)?;
        if bank != out_banks[k] {
            return Err(compile_error(format!(
                "output {k} is {} but its node computes {}",
                out_banks[k].name(),
                bank.name()
            )));
        }
        let slot = out_slots[k];
        b.insts.push(match bank {
            Bank::F => Inst::StoreF { reg, slot },
            Bank::I => Inst::StoreI { reg, slot },
            Bank::B => Inst::StoreB { reg, slot },
        });
    }
    b.finish(Kind::Map, out_banks)
}

/// The program of a reduction kernel: its last node is the reduction, the nodes before it
/// compute its operand element by element.
pub fn reduce_program(spec: &KernelSpec) -> Result<(Program, LaunchData), LowerError> {
    let last = spec.nodes.len().checked_sub(1).ok_or_else(|| compile_error("an empty kernel"))?;
    let node = &spec.nodes[last];
    let Op::Reduce { op, axes, correction, .. } = &node.op else {
        return Err(compile_error("not a reduction kernel"));
    };
    if spec.outputs != [last] {
        return Err(compile_error("a reduction kernel writes only the reduced value"));
    }
    let operand_ty = match node.operands.first() {
        Some(KernelOperand::Arg(a)) => spec.inputs.get(*a),
        Some(KernelOperand::Node(n)) if *n < last => spec.nodes.get(*n).map(|n| &n.ty),
        _ => None,
    }
    .ok_or_else(|| compile_error("the reduction's operand is missing"))?;
    let bank = Bank::of(operand_ty.dtype)
        .ok_or_else(|| compile_error(format!("{} unsupported", operand_ty.dtype)))?;
    let reduction = Reduction::of(*op, bank)
        .ok_or_else(|| compile_error(format!("{} of {} is not generated", op.name(), operand_ty.dtype)))?;
    let space = operand_ty.shape.dims().to_vec();
    if axes.iter().any(|&a| a >= space.len()) {
        return Err(compile_error(format!("axes {axes:?} out of range for rank {}", space.len())));
    }
    let mut perm: Vec<usize> = (0..space.len()).filter(|a| !axes.contains(a)).collect();
    let kept = perm.len();
    perm.extend(axes.iter().copied());
    let mut b = Builder::new(spec, space.clone(), perm.clone())?;
    let values = b.nodes(last)?;
    let value = match node.operands.first() {
        Some(KernelOperand::Node(n)) => values[*n].clone(),
        Some(KernelOperand::Arg(a)) => Value::View(View::of_arg(*a, &operand_ty.shape)),
        None => return Err(compile_error("the reduction's operand is missing")),
    };
    let (_, reg) = b.reg(&value)?;
    let (program, mut data) = b.finish(Kind::Reduce { reduction, reg, kept }, vec![reduction.bank()])?;
    data.rows = perm[..kept].iter().map(|&p| space[p]).product();
    data.cols = perm[kept..].iter().map(|&p| space[p]).product();
    data.correction = *correction as usize;
    Ok((program, data))
}

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
    let kept_strides = row_major(&d.shape[..kept].iter().map(|&x| x as usize).collect::<Vec<_>>());
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
            q.views.push(Layout::Strided);
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
        views: vec![Layout::Linear],
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

/// The program of a matmul kernel `arg0 @ arg1` (f32; 1-D operands as in the array API;
/// batch axes broadcast).
pub fn matmul_program(spec: &KernelSpec) -> Result<(Program, LaunchData), LowerError> {
    let [node] = spec.nodes.as_slice() else {
        return Err(compile_error("matmul is generated as a kernel of its own"));
    };
    let (Some(KernelOperand::Arg(ia)), Some(KernelOperand::Arg(ib))) =
        (node.operands.first(), node.operands.get(1))
    else {
        return Err(compile_error("matmul operands must be kernel arguments"));
    };
    let (Some(a), Some(b)) = (spec.inputs.get(*ia), spec.inputs.get(*ib)) else {
        return Err(compile_error("matmul reads a missing argument"));
    };
    if [a.dtype, b.dtype, node.ty.dtype].iter().any(|&d| d != DType::F32) {
        return Err(compile_error("matmul is generated for f32 only"));
    }
    let ad: Vec<usize> = match a.shape.dims() {
        [k] => vec![1, *k],
        d => d.to_vec(),
    };
    let bd: Vec<usize> = match b.shape.dims() {
        [k] => vec![*k, 1],
        d => d.to_vec(),
    };
    if ad.len() < 2 || bd.len() < 2 || ad[ad.len() - 1] != bd[bd.len() - 2] || spec.outputs != [0] {
        return Err(compile_error(format!("matmul of {} and {}", a.shape, b.shape)));
    }
    let (m, k, n) = (ad[ad.len() - 2], ad[ad.len() - 1], bd[bd.len() - 1]);
    if k > super::matmul::MAX_K {
        return Err(compile_error(format!("matmul over k = {k} > {}", super::matmul::MAX_K)));
    }
    let (a_batch, b_batch) = (&ad[..ad.len() - 2], &bd[..bd.len() - 2]);
    let rank = a_batch.len().max(b_batch.len());
    let mut batch = vec![1usize; rank];
    for (dims, _) in [(a_batch, 0), (b_batch, 1)] {
        for (i, &d) in dims.iter().enumerate() {
            let slot = &mut batch[rank - dims.len() + i];
            if d != 1 {
                *slot = d;
            }
        }
    }
    // Matrix numbers: a batch index's matrix in each operand, by broadcast strides.
    let count_strides = |dims: &[usize]| broadcast(dims, &row_major(dims), &batch);
    let (sa, sb) = (count_strides(a_batch), count_strides(b_batch));
    let fits = |x: usize| u32::try_from(x).map_err(|_| compile_error(format!("{x} exceeds 2^32")));
    let mut data = LaunchData {
        shape: batch.iter().map(|&d| fits(d)).collect::<Result<_, _>>()?,
        numel: fits(node.ty.shape.numel())? as usize,
        mkn: [fits(m)?, fits(k)?, fits(n)?],
        batch_strides: (sa.iter().map(|&s| s as u32).collect(), sb.iter().map(|&s| s as u32).collect()),
        ..LaunchData::default()
    };
    fits(a.shape.numel())?;
    fits(b.shape.numel())?;
    data.rows = batch.iter().product();
    let program = Program {
        kind: Kind::Matmul { batch: rank, operands: (*ia, *ib) },
        insts: Vec::new(),
        views: Vec::new(),
        rank,
        inputs: vec![Bank::F; spec.inputs.len()],
        outputs: vec![Bank::F],
        consts: (0, 0),
    };
    Ok((program, data))
}
