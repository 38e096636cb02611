//! The op catalog: every operation the IR knows, with its metadata.

use std::fmt;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::{DType, Device, Scalar, Shape};

/// The version of the op set. The major part changes when an op's meaning changes; the minor
/// part when ops are added. A backend built for another major version is refused.
pub const OP_SET_VERSION: OpSetVersion = OpSetVersion { major: 1, minor: 0 };

/// A version of the op set (see [`OP_SET_VERSION`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpSetVersion {
    /// Bumped when the meaning of an op changes.
    pub major: u32,
    /// Bumped when ops are added.
    pub minor: u32,
}

impl OpSetVersion {
    /// Whether a backend built for this op set knows an op introduced in `since`: same
    /// major version and a minor version at least as new.
    pub fn knows(self, since: OpSetVersion) -> bool {
        self.major == since.major && self.minor >= since.minor
    }
}

impl fmt::Display for OpSetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Axes lists, usually short.
pub type Axes = SmallVec<[usize; 4]>;

/// Elementwise operations of one operand.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnaryOp {
    Neg,
    Abs,
    Sign,
    Sqrt,
    Exp,
    Exp2,
    Expm1,
    Log,
    Log2,
    Log1p,
    Sin,
    Cos,
    Tan,
    Tanh,
    Sigmoid,
    Floor,
    Ceil,
    Round,
    Reciprocal,
    Square,
    LogicalNot,
    IsNan,
    IsInf,
    IsFinite,
}

/// Elementwise operations of two operands (broadcast against each other).
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
    Remainder,
    FloorDivide,
    Atan2,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LogicalAnd,
    LogicalOr,
    LogicalXor,
}

/// Reductions over a set of axes.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReduceOp {
    Sum,
    Prod,
    Max,
    Min,
    Mean,
    Var,
    Std,
    ArgMax,
    ArgMin,
    Any,
    All,
}

/// Which dtypes an elementwise op accepts and what it returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DTypeRule {
    /// Integer or float in, the same (promoted) dtype out.
    NumericSame,
    /// Float in, the same dtype out.
    FloatSame,
    /// Bool in, bool out.
    BoolSame,
    /// Integer or float in, bool out.
    NumericToBool,
    /// Any dtype (operands of one kind) in, bool out.
    AnyToBool,
}

impl DTypeRule {
    /// A short human description, used in the catalog and in error hints.
    pub fn describe(self) -> &'static str {
        match self {
            DTypeRule::NumericSame => "integer or float operands of one kind; result has the promoted dtype",
            DTypeRule::FloatSame => "float operands; result has the promoted dtype",
            DTypeRule::BoolSame => "bool operands; bool result",
            DTypeRule::NumericToBool => "integer or float operands of one kind; bool result",
            DTypeRule::AnyToBool => "operands of one kind; bool result",
        }
    }
}

impl UnaryOp {
    /// Every unary op, in catalog order.
    pub const ALL: [UnaryOp; 24] = [
        UnaryOp::Neg,
        UnaryOp::Abs,
        UnaryOp::Sign,
        UnaryOp::Sqrt,
        UnaryOp::Exp,
        UnaryOp::Exp2,
        UnaryOp::Expm1,
        UnaryOp::Log,
        UnaryOp::Log2,
        UnaryOp::Log1p,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Tan,
        UnaryOp::Tanh,
        UnaryOp::Sigmoid,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::Round,
        UnaryOp::Reciprocal,
        UnaryOp::Square,
        UnaryOp::LogicalNot,
        UnaryOp::IsNan,
        UnaryOp::IsInf,
        UnaryOp::IsFinite,
    ];

    /// The array-API name.
    pub fn name(self) -> &'static str {
        use UnaryOp::*;
        match self {
            Neg => "neg",
            Abs => "abs",
            Sign => "sign",
            Sqrt => "sqrt",
            Exp => "exp",
            Exp2 => "exp2",
            Expm1 => "expm1",
            Log => "log",
            Log2 => "log2",
            Log1p => "log1p",
            Sin => "sin",
            Cos => "cos",
            Tan => "tan",
            Tanh => "tanh",
            Sigmoid => "sigmoid",
            Floor => "floor",
            Ceil => "ceil",
            Round => "round",
            Reciprocal => "reciprocal",
            Square => "square",
            LogicalNot => "logical_not",
            IsNan => "isnan",
            IsInf => "isinf",
            IsFinite => "isfinite",
        }
    }

    /// The dtype rule of the op.
    pub fn rule(self) -> DTypeRule {
        use UnaryOp::*;
        match self {
            Neg | Abs | Sign | Floor | Ceil | Round | Square => DTypeRule::NumericSame,
            Sqrt | Exp | Exp2 | Expm1 | Log | Log2 | Log1p | Sin | Cos | Tan | Tanh | Sigmoid
            | Reciprocal => DTypeRule::FloatSame,
            LogicalNot => DTypeRule::BoolSame,
            IsNan | IsInf | IsFinite => DTypeRule::NumericToBool,
        }
    }
}

impl BinaryOp {
    /// Every binary op, in catalog order.
    pub const ALL: [BinaryOp; 19] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Pow,
        BinaryOp::Maximum,
        BinaryOp::Minimum,
        BinaryOp::Remainder,
        BinaryOp::FloorDivide,
        BinaryOp::Atan2,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::LogicalAnd,
        BinaryOp::LogicalOr,
        BinaryOp::LogicalXor,
    ];

    /// The array-API name.
    pub fn name(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "add",
            Sub => "sub",
            Mul => "mul",
            Div => "div",
            Pow => "pow",
            Maximum => "maximum",
            Minimum => "minimum",
            Remainder => "remainder",
            FloorDivide => "floor_divide",
            Atan2 => "atan2",
            Eq => "eq",
            Ne => "ne",
            Lt => "lt",
            Le => "le",
            Gt => "gt",
            Ge => "ge",
            LogicalAnd => "logical_and",
            LogicalOr => "logical_or",
            LogicalXor => "logical_xor",
        }
    }

    /// The dtype rule of the op.
    pub fn rule(self) -> DTypeRule {
        use BinaryOp::*;
        match self {
            Add | Sub | Mul | Pow | Maximum | Minimum | Remainder | FloorDivide => DTypeRule::NumericSame,
            Div | Atan2 => DTypeRule::FloatSame,
            Eq | Ne => DTypeRule::AnyToBool,
            Lt | Le | Gt | Ge => DTypeRule::NumericToBool,
            LogicalAnd | LogicalOr | LogicalXor => DTypeRule::BoolSame,
        }
    }
}

impl ReduceOp {
    /// Every reduction, in catalog order.
    pub const ALL: [ReduceOp; 11] = [
        ReduceOp::Sum,
        ReduceOp::Prod,
        ReduceOp::Max,
        ReduceOp::Min,
        ReduceOp::Mean,
        ReduceOp::Var,
        ReduceOp::Std,
        ReduceOp::ArgMax,
        ReduceOp::ArgMin,
        ReduceOp::Any,
        ReduceOp::All,
    ];

    /// The array-API name.
    pub fn name(self) -> &'static str {
        use ReduceOp::*;
        match self {
            Sum => "sum",
            Prod => "prod",
            Max => "max",
            Min => "min",
            Mean => "mean",
            Var => "var",
            Std => "std",
            ArgMax => "argmax",
            ArgMin => "argmin",
            Any => "any",
            All => "all",
        }
    }

    /// True for reductions that have no identity and so refuse empty inputs.
    pub fn needs_nonempty(self) -> bool {
        matches!(self, ReduceOp::Max | ReduceOp::Min | ReduceOp::ArgMax | ReduceOp::ArgMin)
    }
}

/// A static slice of one axis: element `i` of the result is element `start + i * step` of
/// the input, for `i < len`. The frontend turns Python slices into this normal form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SliceAxis {
    /// First index taken (meaningless when `len == 0`).
    pub start: usize,
    /// Distance between taken indices; never 0, negative walks backwards.
    pub step: isize,
    /// Number of indices taken.
    pub len: usize,
}

/// One operation of the IR with its attributes. Inputs are not part of the op; a node holds them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Op {
    /// A named graph input bound at evaluation.
    Input {
        /// The name the caller binds.
        name: String,
        /// Declared dtype.
        dtype: DType,
        /// Declared shape.
        shape: Shape,
    },
    /// An array filled with one value (`full`, `zeros`, `ones`, scalar constants).
    Full {
        /// The fill value; its dtype is the array's.
        value: Scalar,
        /// The shape.
        shape: Shape,
    },
    /// `start + i * step` for `i < len`; dtype of `start` (numeric).
    Arange {
        /// First value.
        start: Scalar,
        /// Increment, same dtype as `start`.
        step: Scalar,
        /// Number of values.
        len: usize,
    },
    /// An elementwise op of one operand.
    Unary(UnaryOp),
    /// An elementwise op of two operands, broadcast.
    Binary(BinaryOp),
    /// `where(cond, a, b)`, broadcast.
    Where,
    /// Conversion to a dtype (see [`crate::elementwise`] for the exact rules).
    Cast(DType),
    /// `clip(x, lo, hi)`, broadcast; NaN in `x` stays NaN.
    Clip,
    /// A reduction over `axes` (sorted, unique).
    Reduce {
        /// Which reduction.
        op: ReduceOp,
        /// Reduced axes, sorted and unique. `argmax`/`argmin` take one axis, or all axes
        /// (then the index is into the flattened array).
        axes: Axes,
        /// Keep reduced axes as extent 1.
        keepdims: bool,
        /// Degrees-of-freedom correction of `var` and `std` (0 for every other op).
        correction: u32,
    },
    /// Same elements, new shape (same element count), row-major order.
    Reshape(Shape),
    /// Axis permutation: result axis `i` is input axis `perm[i]`.
    PermuteDims(Axes),
    /// Broadcast to a shape.
    BroadcastTo(Shape),
    /// Insert an axis of extent 1 at this position of the result.
    ExpandDims(usize),
    /// Remove these axes (sorted, unique, each of extent 1).
    Squeeze(Axes),
    /// A static strided window, one entry per axis.
    Slice(Vec<SliceAxis>),
    /// Join along an existing axis (variadic).
    Concat(usize),
    /// Join along a new axis at this position (variadic).
    Stack(usize),
    /// Reverse these axes (sorted, unique).
    Flip(Axes),
    /// Pad with a constant: `(before, after)` per axis.
    Pad {
        /// `(before, after)` padding per axis.
        widths: Vec<(usize, usize)>,
        /// The fill value, of the input's dtype.
        value: Scalar,
    },
    /// Batched, broadcasting matrix product (array-API `matmul`).
    Matmul,
    /// Explicit transfer to a device.
    ToDevice(Device),
    /// Indices of the non-zero elements. Eager-only without `size`; with `size` the result is
    /// `i64[rank, size]`, row `d` holding the indices along axis `d`, padded with `fill`.
    Nonzero {
        /// Static bound on the number of results (`None`: data-dependent, eager-only).
        size: Option<usize>,
        /// Index written past the last non-zero element.
        fill: i64,
    },
    /// Sorted unique values (data-dependent shape: eager-only).
    UniqueValues,
    /// Unique values and their counts (data-dependent shape: eager-only).
    UniqueCounts,
    /// `x[mask]` with a boolean mask (data-dependent shape: eager-only).
    BooleanMask,
}

/// The broad class of an op, used by placement and fusion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Produces data from attributes alone (inputs, constants).
    Source,
    /// Elementwise (broadcasting) computation.
    Elementwise,
    /// Reduction over axes.
    Reduce,
    /// Moves or selects elements without arithmetic.
    Shape,
    /// Linear algebra.
    Linalg,
    /// Moves data between devices.
    Transfer,
    /// Output depends on values (shape or content).
    DataDependent,
}

/// How many inputs an op takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Fixed(usize),
    /// At least this many.
    AtLeast(usize),
}

impl Arity {
    /// True when `n` inputs are acceptable.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Fixed(k) => n == k,
            Arity::AtLeast(k) => n >= k,
        }
    }
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arity::Fixed(k) => write!(f, "{k}"),
            Arity::AtLeast(k) => write!(f, "{k} or more"),
        }
    }
}

/// Whether an op can be part of a lazy graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Laziness {
    /// Output dtype and shape follow from the inputs' types: fine in a lazy graph.
    Lazy,
    /// Needs the input values to know its output shape: refused when the graph is built.
    EagerOnly {
        /// Why it cannot be lazy.
        reason: &'static str,
        /// What to write instead.
        alternative: &'static str,
    },
}

/// Static facts about an op.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    /// The array-API name.
    pub name: &'static str,
    /// How many inputs.
    pub arity: Arity,
    /// The broad class.
    pub category: Category,
    /// Which dtypes it takes and gives.
    pub dtype_rule: &'static str,
    /// Whether it can be built lazily.
    pub laziness: Laziness,
}

const DATA_DEPENDENT: &str = "its output shape depends on the input values, which a lazy graph does not know";

impl Op {
    /// The op's static metadata.
    pub fn info(&self) -> OpInfo {
        use Category as C;
        let lazy = Laziness::Lazy;
        let (name, arity, category, dtype_rule, laziness) = match self {
            Op::Input { .. } => ("input", Arity::Fixed(0), C::Source, "declared", lazy),
            Op::Full { .. } => ("full", Arity::Fixed(0), C::Source, "the fill value's dtype", lazy),
            Op::Arange { .. } => {
                ("arange", Arity::Fixed(0), C::Source, "numeric; the start value's dtype", lazy)
            }
            Op::Unary(u) => (u.name(), Arity::Fixed(1), C::Elementwise, u.rule().describe(), lazy),
            Op::Binary(b) => (b.name(), Arity::Fixed(2), C::Elementwise, b.rule().describe(), lazy),
            Op::Where => (
                "where",
                Arity::Fixed(3),
                C::Elementwise,
                "bool condition; branches of one kind, promoted",
                lazy,
            ),
            Op::Cast(_) => ("cast", Arity::Fixed(1), C::Elementwise, "any dtype to any dtype", lazy),
            Op::Clip => {
                ("clip", Arity::Fixed(3), C::Elementwise, "numeric operands of one kind, promoted", lazy)
            }
            Op::Reduce { op, .. } => (op.name(), Arity::Fixed(1), C::Reduce, reduce_rule(*op), lazy),
            Op::Reshape(_) => ("reshape", Arity::Fixed(1), C::Shape, "any; unchanged", lazy),
            Op::PermuteDims(_) => ("permute_dims", Arity::Fixed(1), C::Shape, "any; unchanged", lazy),
            Op::BroadcastTo(_) => ("broadcast_to", Arity::Fixed(1), C::Shape, "any; unchanged", lazy),
            Op::ExpandDims(_) => ("expand_dims", Arity::Fixed(1), C::Shape, "any; unchanged", lazy),
            Op::Squeeze(_) => ("squeeze", Arity::Fixed(1), C::Shape, "any; unchanged", lazy),
            Op::Slice(_) => ("slice", Arity::Fixed(1), C::Shape, "any; unchanged", lazy),
            Op::Concat(_) => ("concat", Arity::AtLeast(1), C::Shape, "operands of one kind, promoted", lazy),
            Op::Stack(_) => ("stack", Arity::AtLeast(1), C::Shape, "operands of one kind, promoted", lazy),
            Op::Flip(_) => ("flip", Arity::Fixed(1), C::Shape, "any; unchanged", lazy),
            Op::Pad { .. } => ("pad", Arity::Fixed(1), C::Shape, "any; unchanged", lazy),
            Op::Matmul => {
                ("matmul", Arity::Fixed(2), C::Linalg, "numeric operands of one kind, promoted", lazy)
            }
            Op::ToDevice(_) => ("to_device", Arity::Fixed(1), C::Transfer, "any; unchanged", lazy),
            Op::Nonzero { size, .. } => (
                "nonzero",
                Arity::Fixed(1),
                C::DataDependent,
                "any; i64 indices",
                if size.is_some() {
                    lazy
                } else {
                    Laziness::EagerOnly {
                        reason: DATA_DEPENDENT,
                        alternative: "nonzero(x, size=K, fill=-1): a static bound K, padded with `fill`",
                    }
                },
            ),
            Op::UniqueValues => (
                "unique_values",
                Arity::Fixed(1),
                C::DataDependent,
                "any; unchanged",
                Laziness::EagerOnly {
                    reason: DATA_DEPENDENT,
                    alternative: "evaluate x first and call unique_values on the result eagerly",
                },
            ),
            Op::UniqueCounts => (
                "unique_counts",
                Arity::Fixed(1),
                C::DataDependent,
                "any; values unchanged, counts i64",
                Laziness::EagerOnly {
                    reason: DATA_DEPENDENT,
                    alternative: "evaluate x first and call unique_counts on the result eagerly",
                },
            ),
            Op::BooleanMask => (
                "boolean_mask",
                Arity::Fixed(2),
                C::DataDependent,
                "any data, bool mask",
                Laziness::EagerOnly {
                    reason: DATA_DEPENDENT,
                    alternative:
                        "where(mask, x, fill) keeps the shape; or nonzero(mask, size=K) and index with it",
                },
            ),
        };
        OpInfo { name, arity, category, dtype_rule, laziness }
    }

    /// The array-API name of the op.
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    /// The op-set version that introduced this op. A backend built for an older minor
    /// version does not know the op, so placement never asks it. Every op of the first
    /// release is 1.0; an op added later names its version here.
    pub fn since(&self) -> OpSetVersion {
        OpSetVersion { major: 1, minor: 0 }
    }

    /// True for elementwise ops (including `where`, `cast`, `clip`).
    pub fn is_elementwise(&self) -> bool {
        self.info().category == Category::Elementwise
    }
}

fn reduce_rule(op: ReduceOp) -> &'static str {
    match op {
        ReduceOp::Sum | ReduceOp::Prod => "numeric; i32 and i64 give i64, floats keep their dtype",
        ReduceOp::Max | ReduceOp::Min => "numeric; unchanged; empty input is an error",
        ReduceOp::Mean | ReduceOp::Var | ReduceOp::Std => "float; unchanged",
        ReduceOp::ArgMax | ReduceOp::ArgMin => "numeric; i64 index; empty input is an error",
        ReduceOp::Any | ReduceOp::All => "bool; bool",
    }
}

/// Every op of the catalog with representative attributes, in catalog order: the rows of
/// support tables and the cases of conformance runs. Attribute-carrying ops appear once
/// (with simple attributes), except `nonzero`, whose lazy and eager forms both appear.
pub fn catalog() -> Vec<Op> {
    let mut ops = vec![
        Op::Input { name: "x".into(), dtype: DType::F32, shape: Shape::vector(4) },
        Op::Full { value: Scalar::F32(0.0), shape: Shape::vector(4) },
        Op::Arange { start: Scalar::I64(0), step: Scalar::I64(1), len: 4 },
    ];
    ops.extend(UnaryOp::ALL.iter().map(|&u| Op::Unary(u)));
    ops.extend(BinaryOp::ALL.iter().map(|&b| Op::Binary(b)));
    ops.extend([Op::Where, Op::Cast(DType::F64), Op::Clip]);
    ops.extend(ReduceOp::ALL.iter().map(|&op| Op::Reduce {
        op,
        axes: smallvec::smallvec![0],
        keepdims: false,
        correction: 0,
    }));
    ops.extend([
        Op::Reshape(Shape::vector(4)),
        Op::PermuteDims(smallvec::smallvec![0]),
        Op::BroadcastTo(Shape::vector(4)),
        Op::ExpandDims(0),
        Op::Squeeze(Axes::new()),
        Op::Slice(vec![SliceAxis { start: 0, step: 1, len: 4 }]),
        Op::Concat(0),
        Op::Stack(0),
        Op::Flip(smallvec::smallvec![0]),
        Op::Pad { widths: vec![(1, 1)], value: Scalar::F32(0.0) },
        Op::Matmul,
        Op::ToDevice(Device::CPU),
        Op::Nonzero { size: Some(4), fill: -1 },
        Op::Nonzero { size: None, fill: -1 },
        Op::UniqueValues,
        Op::UniqueCounts,
        Op::BooleanMask,
    ]);
    ops
}

fn fmt_axes(f: &mut fmt::Formatter<'_>, axes: &[usize]) -> fmt::Result {
    f.write_str("[")?;
    for (i, a) in axes.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{a}")?;
    }
    f.write_str("]")
}

impl Op {
    /// Writes the op's attributes as `, key=value` pairs (nothing for attribute-free ops).
    pub fn fmt_attrs(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Input { name, .. } => write!(f, "{name:?}"),
            Op::Full { value, .. } => write!(f, "{value}"),
            Op::Arange { start, step, .. } => write!(f, "start={start}, step={step}"),
            Op::Unary(_) | Op::Binary(_) | Op::Where | Op::Clip | Op::Matmul => Ok(()),
            Op::UniqueValues | Op::UniqueCounts | Op::BooleanMask => Ok(()),
            Op::Cast(d) => write!(f, "dtype={d}"),
            Op::Reduce { op, axes, keepdims, correction } => {
                f.write_str("axes=")?;
                fmt_axes(f, axes)?;
                if *keepdims {
                    f.write_str(", keepdims=true")?;
                }
                if matches!(op, ReduceOp::Var | ReduceOp::Std) && *correction != 0 {
                    write!(f, ", correction={correction}")?;
                }
                Ok(())
            }
            Op::Reshape(s) | Op::BroadcastTo(s) => write!(f, "shape={s}"),
            Op::PermuteDims(p) => {
                f.write_str("axes=")?;
                fmt_axes(f, p)
            }
            Op::ExpandDims(a) => write!(f, "axis={a}"),
            Op::Squeeze(a) | Op::Flip(a) => {
                f.write_str("axes=")?;
                fmt_axes(f, a)
            }
            Op::Slice(axes) => {
                f.write_str("[")?;
                for (i, s) in axes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}+{}*i<{}", s.start, s.step, s.len)?;
                }
                f.write_str("]")
            }
            Op::Concat(a) | Op::Stack(a) => write!(f, "axis={a}"),
            Op::Pad { widths, value } => {
                f.write_str("widths=[")?;
                for (i, (b, a)) in widths.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "({b},{a})")?;
                }
                write!(f, "], value={value}")
            }
            Op::ToDevice(d) => write!(f, "device={d}"),
            Op::Nonzero { size, fill } => match size {
                Some(k) => write!(f, "size={k}, fill={fill}"),
                None => Ok(()),
            },
        }
    }
}

/// Prints `name(attrs)`, e.g. `sum(axes=[1], keepdims=true)`.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name())?;
        self.fmt_attrs(f)?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backend_knows_ops_of_its_own_and_older_minor_versions_only() {
        let v = |major, minor| OpSetVersion { major, minor };
        assert!(v(1, 2).knows(v(1, 0)));
        assert!(v(1, 2).knows(v(1, 2)));
        assert!(!v(1, 1).knows(v(1, 2)), "an older minor does not know a newer op");
        assert!(!v(2, 5).knows(v(1, 0)), "another major is another language");
        // Every op of the first release is known to a backend built for 1.0.
        let first = v(1, 0);
        for op in catalog() {
            assert!(first.knows(op.since()), "{op}");
        }
        assert!(OP_SET_VERSION.knows(Op::Matmul.since()));
    }
}
