//! `Tensor`: a lazy value in a [`Graph`], with every op of the catalog as a method.

use smallvec::SmallVec;
use switchyard_ir::{
    Axes, BinaryOp, DType, Device, IrError, IrErrorKind, NodeId, Op, ReduceOp, Scalar, Shape, TensorType,
    UnaryOp,
};
use switchyard_lower::Plan;
use switchyard_runtime::{Array, Executable};

use crate::error::Result;
use crate::graph::{checked_shape, Graph};
use crate::operand::{IntoOperand, Literal, Operand};

/// A lazy array: a node of a [`Graph`] with a known dtype and shape. Nothing is computed
/// until [`Tensor::eval`], [`Graph::compile`] or [`Graph::plan`]. Cheap to clone.
#[derive(Clone)]
pub struct Tensor {
    graph: Graph,
    id: NodeId,
    ty: TensorType,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor({} : {})", self.id, self.ty)
    }
}

impl PartialEq for Tensor {
    /// The same node of the same graph.
    fn eq(&self, other: &Tensor) -> bool {
        self.graph.same(&other.graph) && self.id == other.id
    }
}

/// Which axes a reduction (or `squeeze`, `flip`) applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AxisSpec {
    /// Every axis.
    All,
    /// These axes; negative counts from the end.
    Axes(SmallVec<[i64; 4]>),
}

impl From<i64> for AxisSpec {
    fn from(a: i64) -> AxisSpec {
        AxisSpec::Axes(smallvec::smallvec![a])
    }
}

impl From<i32> for AxisSpec {
    fn from(a: i32) -> AxisSpec {
        AxisSpec::from(i64::from(a))
    }
}

impl From<&[i64]> for AxisSpec {
    fn from(a: &[i64]) -> AxisSpec {
        AxisSpec::Axes(a.iter().copied().collect())
    }
}

impl<const N: usize> From<[i64; N]> for AxisSpec {
    fn from(a: [i64; N]) -> AxisSpec {
        AxisSpec::Axes(a.iter().copied().collect())
    }
}

impl From<Vec<i64>> for AxisSpec {
    fn from(a: Vec<i64>) -> AxisSpec {
        AxisSpec::Axes(a.into_iter().collect())
    }
}

impl From<Option<i64>> for AxisSpec {
    fn from(a: Option<i64>) -> AxisSpec {
        a.map_or(AxisSpec::All, AxisSpec::from)
    }
}

/// Normalizes one axis (negative from the end) against `rank`.
pub(crate) fn norm_axis(op: &str, axis: i64, rank: usize) -> std::result::Result<usize, IrError> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r {
        return Err(IrError::new(
            IrErrorKind::BadAxis,
            op,
            format!("axis {axis} is out of range for rank {rank} (valid: {} to {})", -r, r - 1),
        ));
    }
    Ok(a as usize)
}

fn norm_axes(op: &str, spec: &AxisSpec, rank: usize) -> std::result::Result<Axes, IrError> {
    match spec {
        AxisSpec::All => Ok((0..rank).collect()),
        AxisSpec::Axes(axes) => {
            let mut out: Axes = SmallVec::new();
            for &a in axes {
                let n = norm_axis(op, a, rank)?;
                if out.contains(&n) {
                    return Err(IrError::new(IrErrorKind::BadAxis, op, format!("axis {a} is repeated")));
                }
                out.push(n);
            }
            out.sort_unstable();
            Ok(out)
        }
    }
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> Result<Tensor> {
            self.graph.add(Op::Unary(UnaryOp::$op), &[self])
        }
    )*};
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(&self, rhs: impl IntoOperand) -> Result<Tensor> {
            binary(BinaryOp::$op, Operand::Tensor(self.clone()), rhs.into_operand()?)
        }
    )*};
}

macro_rules! reduce_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(&self, axes: impl Into<AxisSpec>, keepdims: bool) -> Result<Tensor> {
            self.reduce(ReduceOp::$op, axes.into(), keepdims, 0)
        }
    )*};
}

/// Resolves weak scalars against the tensor operands and returns tensors in one graph.
pub(crate) fn materialize(op: &str, operands: Vec<Operand>) -> Result<Vec<Tensor>> {
    let tensors: Vec<&Tensor> = operands
        .iter()
        .filter_map(|o| match o {
            Operand::Tensor(t) => Some(t),
            Operand::Literal(_) => None,
        })
        .collect();
    let Some(first) = tensors.first() else {
        return Err(IrError::new(IrErrorKind::BadInput, op, "needs at least one tensor operand").into());
    };
    let graph = first.graph.clone();
    // Literals take the promoted dtype of the tensors (or the first tensor's when the kinds
    // differ, so that the type checker reports the real mismatch).
    let target = tensors.iter().skip(1).fold(first.dtype(), |d, t| d.promote(t.dtype()).unwrap_or(d));
    operands
        .into_iter()
        .map(|o| match o {
            Operand::Tensor(t) => Ok(t),
            Operand::Literal(l) => {
                let value = l.to_scalar(target, op)?;
                graph.add(Op::Full { value, shape: Shape::scalar() }, &[])
            }
        })
        .collect()
}

/// `clip` takes numeric operands only, whichever bounds are given (the error `Op::Clip`'s
/// type check gives).
fn clip_needs_numeric(ts: &[&Tensor]) -> Result<()> {
    if ts.iter().all(|t| t.dtype().is_numeric()) {
        return Ok(());
    }
    let got: Vec<String> = ts.iter().map(|t| t.ty.to_string()).collect();
    Err(IrError::new(
        IrErrorKind::DTypeMismatch,
        "clip",
        format!("needs numeric operands, got {}", got.join(", ")),
    )
    .with_hint("cast bools to a numeric dtype, e.g. cast(x, dtype=f32)")
    .into())
}

pub(crate) fn binary(op: BinaryOp, lhs: Operand, rhs: Operand) -> Result<Tensor> {
    let ts = materialize(op.name(), vec![lhs, rhs])?;
    ts[0].graph.add(Op::Binary(op), &[&ts[0], &ts[1]])
}

/// `where(cond, a, b)`: elements of `a` where `cond` is true, else of `b` (broadcast).
pub fn where_(cond: &Tensor, a: impl IntoOperand, b: impl IntoOperand) -> Result<Tensor> {
    // Literals take the branches' dtype, not the bool condition's; two literal branches
    // take their default dtype (f64, i64 or bool), as NumPy does.
    let (a, b) = (a.into_operand()?, b.into_operand()?);
    let a = match (a, &b) {
        (Operand::Literal(l), Operand::Literal(_)) => {
            Operand::Tensor(cond.graph.scalar(l, l.default_dtype())?)
        }
        (a, _) => a,
    };
    let branches = materialize("where", vec![a, b])?;
    cond.graph.add(Op::Where, &[cond, &branches[0], &branches[1]])
}

/// Joins tensors along an existing axis.
pub fn concat(tensors: &[&Tensor], axis: i64) -> Result<Tensor> {
    let first = tensors
        .first()
        .ok_or_else(|| IrError::new(IrErrorKind::BadInput, "concat", "needs at least one tensor"))?;
    let axis = norm_axis("concat", axis, first.rank())?;
    first.graph.add(Op::Concat(axis), tensors)
}

/// Joins tensors of one shape along a new axis.
pub fn stack(tensors: &[&Tensor], axis: i64) -> Result<Tensor> {
    let first = tensors
        .first()
        .ok_or_else(|| IrError::new(IrErrorKind::BadInput, "stack", "needs at least one tensor"))?;
    let axis = norm_axis("stack", axis, first.rank() + 1)?;
    first.graph.add(Op::Stack(axis), tensors)
}

impl Tensor {
    pub(crate) fn new(graph: Graph, id: NodeId, ty: TensorType) -> Tensor {
        Tensor { graph, id, ty }
    }

    /// The graph this tensor belongs to.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Its node id in the graph.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Its dtype.
    pub fn dtype(&self) -> DType {
        self.ty.dtype
    }

    /// Its shape.
    pub fn shape(&self) -> &Shape {
        &self.ty.shape
    }

    /// Its dims.
    pub fn dims(&self) -> &[usize] {
        self.ty.shape.dims()
    }

    /// Number of axes.
    pub fn rank(&self) -> usize {
        self.ty.shape.rank()
    }

    /// Dtype and shape.
    pub fn ty(&self) -> &TensorType {
        &self.ty
    }

    unary_methods! {
        /// `-x`.
        neg => Neg,
        /// `|x|`.
        abs => Abs,
        /// -1, 0 or 1 (NaN stays NaN).
        sign => Sign,
        /// Square root.
        sqrt => Sqrt,
        /// `e^x`.
        exp => Exp,
        /// `2^x`.
        exp2 => Exp2,
        /// `e^x - 1`, accurate near 0.
        expm1 => Expm1,
        /// Natural logarithm.
        log => Log,
        /// Base-2 logarithm.
        log2 => Log2,
        /// `ln(1 + x)`, accurate near 0.
        log1p => Log1p,
        /// Sine.
        sin => Sin,
        /// Cosine.
        cos => Cos,
        /// Tangent.
        tan => Tan,
        /// Hyperbolic tangent.
        tanh => Tanh,
        /// `1 / (1 + e^-x)`.
        sigmoid => Sigmoid,
        /// Round toward negative infinity.
        floor => Floor,
        /// Round toward positive infinity.
        ceil => Ceil,
        /// Round half to even.
        round => Round,
        /// `1 / x`.
        reciprocal => Reciprocal,
        /// `x * x`.
        square => Square,
        /// Logical not of a bool tensor.
        logical_not => LogicalNot,
        /// True where NaN.
        isnan => IsNan,
        /// True where infinite.
        isinf => IsInf,
        /// True where finite.
        isfinite => IsFinite,
    }

    binary_methods! {
        /// `self + rhs`.
        add => Add,
        /// `self - rhs`.
        sub => Sub,
        /// `self * rhs`.
        mul => Mul,
        /// `self / rhs` (floats; use `floor_divide` for integers).
        div => Div,
        /// `self ** rhs`.
        pow => Pow,
        /// Elementwise maximum; NaN propagates.
        maximum => Maximum,
        /// Elementwise minimum; NaN propagates.
        minimum => Minimum,
        /// Python-style remainder (sign of the divisor; integer remainder by 0 is 0).
        remainder => Remainder,
        /// Floor division (integer division by 0 is 0).
        floor_divide => FloorDivide,
        /// `atan2(self, rhs)`.
        atan2 => Atan2,
        /// `self == rhs`.
        eq => Eq,
        /// `self != rhs`.
        ne => Ne,
        /// `self < rhs`.
        lt => Lt,
        /// `self <= rhs`.
        le => Le,
        /// `self > rhs`.
        gt => Gt,
        /// `self >= rhs`.
        ge => Ge,
        /// Logical and of bool tensors.
        logical_and => LogicalAnd,
        /// Logical or of bool tensors.
        logical_or => LogicalOr,
        /// Logical xor of bool tensors.
        logical_xor => LogicalXor,
    }

    reduce_methods! {
        /// Sum (integers give i64; empty gives 0).
        sum => Sum,
        /// Product (integers give i64; empty gives 1).
        prod => Prod,
        /// Maximum; NaN propagates; empty is an error.
        max => Max,
        /// Minimum; NaN propagates; empty is an error.
        min => Min,
        /// Mean (floats only).
        mean => Mean,
        /// True if any element is true.
        any => Any,
        /// True if every element is true.
        all => All,
    }

    fn reduce(&self, op: ReduceOp, axes: AxisSpec, keepdims: bool, correction: u32) -> Result<Tensor> {
        let axes = norm_axes(op.name(), &axes, self.rank())?;
        self.graph.add(Op::Reduce { op, axes, keepdims, correction }, &[self])
    }

    /// Variance with `correction` degrees of freedom removed (0: population variance).
    pub fn var(&self, axes: impl Into<AxisSpec>, keepdims: bool, correction: u32) -> Result<Tensor> {
        self.reduce(ReduceOp::Var, axes.into(), keepdims, correction)
    }

    /// Standard deviation with `correction` degrees of freedom removed.
    pub fn std(&self, axes: impl Into<AxisSpec>, keepdims: bool, correction: u32) -> Result<Tensor> {
        self.reduce(ReduceOp::Std, axes.into(), keepdims, correction)
    }

    /// Index of the maximum along `axis`, or into the flattened array when `None`.
    pub fn argmax(&self, axis: Option<i64>, keepdims: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::ArgMax, AxisSpec::from(axis), keepdims, 0)
    }

    /// Index of the minimum along `axis`, or into the flattened array when `None`.
    pub fn argmin(&self, axis: Option<i64>, keepdims: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::ArgMin, AxisSpec::from(axis), keepdims, 0)
    }

    /// Converts to `dtype` (the only way to change kind).
    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        self.graph.add(Op::Cast(dtype), &[self])
    }

    /// Limits values to `[lo, hi]`; NaN stays NaN.
    pub fn clip(&self, lo: impl IntoOperand, hi: impl IntoOperand) -> Result<Tensor> {
        self.clip_bounds(Some(lo.into_operand()?), Some(hi.into_operand()?))
    }

    /// Limits values from below: `maximum(x, lo)`, as `clip(x, min=lo)`; NaN stays NaN.
    pub fn clip_min(&self, lo: impl IntoOperand) -> Result<Tensor> {
        self.clip_bounds(Some(lo.into_operand()?), None)
    }

    /// Limits values from above: `minimum(x, hi)`, as `clip(x, max=hi)`; NaN stays NaN.
    pub fn clip_max(&self, hi: impl IntoOperand) -> Result<Tensor> {
        self.clip_bounds(None, Some(hi.into_operand()?))
    }

    /// `clip` with either bound optional, as the array API allows: an absent bound does not
    /// limit, and with neither the result is `self` (the elements unchanged). The operands
    /// must be numeric whichever bounds are given.
    pub fn clip_bounds(&self, lo: Option<Operand>, hi: Option<Operand>) -> Result<Tensor> {
        let x = Operand::Tensor(self.clone());
        match (lo, hi) {
            (Some(lo), Some(hi)) => {
                let ts = materialize("clip", vec![x, lo, hi])?;
                self.graph.add(Op::Clip, &[&ts[0], &ts[1], &ts[2]])
            }
            (Some(lo), None) => self.clip_one_bound(BinaryOp::Maximum, lo),
            (None, Some(hi)) => self.clip_one_bound(BinaryOp::Minimum, hi),
            (None, None) => {
                clip_needs_numeric(&[self])?;
                Ok(self.clone())
            }
        }
    }

    /// `clip` with one bound: `op` is `maximum` for a lower bound, `minimum` for an upper.
    fn clip_one_bound(&self, op: BinaryOp, bound: Operand) -> Result<Tensor> {
        let ts = materialize("clip", vec![Operand::Tensor(self.clone()), bound])?;
        clip_needs_numeric(&[&ts[0], &ts[1]])?;
        self.graph.add(Op::Binary(op), &[&ts[0], &ts[1]])
    }

    /// Same elements in a new shape; one dim may be -1 (inferred).
    pub fn reshape(&self, dims: &[i64]) -> Result<Tensor> {
        let op = "reshape";
        let mut infer_at = None;
        let mut known: usize = 1;
        let mut out = Vec::with_capacity(dims.len());
        for (i, &d) in dims.iter().enumerate() {
            if d == -1 {
                if infer_at.replace(i).is_some() {
                    return Err(
                        IrError::new(IrErrorKind::BadAttribute, op, "only one dimension can be -1").into()
                    );
                }
                out.push(0);
            } else if d < 0 {
                return Err(
                    IrError::new(IrErrorKind::BadAttribute, op, format!("invalid dimension {d}")).into()
                );
            } else {
                let d = d as usize;
                known = known
                    .checked_mul(d)
                    .ok_or_else(|| IrError::new(IrErrorKind::Overflow, op, "shape overflows"))?;
                out.push(d);
            }
        }
        if let Some(i) = infer_at {
            let n = self.shape().numel();
            if known == 0 || !n.is_multiple_of(known) {
                return Err(IrError::new(
                    IrErrorKind::ReshapeSize,
                    op,
                    format!("cannot reshape {} ({n} elements) to {dims:?}", self.ty),
                )
                .into());
            }
            out[i] = n / known;
        }
        let shape = checked_shape(op, &out)?;
        self.graph.add(Op::Reshape(shape), &[self])
    }

    /// Permutes axes: result axis `i` is axis `axes[i]` (negative from the end).
    pub fn permute_dims(&self, axes: &[i64]) -> Result<Tensor> {
        let mut perm: Axes = SmallVec::new();
        for &a in axes {
            perm.push(norm_axis("permute_dims", a, self.rank())?);
        }
        self.graph.add(Op::PermuteDims(perm), &[self])
    }

    /// Reverses the order of the axes (NumPy's `x.T`).
    pub fn transpose(&self) -> Result<Tensor> {
        let perm: Axes = (0..self.rank()).rev().collect();
        self.graph.add(Op::PermuteDims(perm), &[self])
    }

    /// Broadcasts to a shape.
    pub fn broadcast_to(&self, dims: &[usize]) -> Result<Tensor> {
        let shape = checked_shape("broadcast_to", dims)?;
        self.graph.add(Op::BroadcastTo(shape), &[self])
    }

    /// Inserts an axis of extent 1 at `axis` of the result (negative from the end).
    pub fn expand_dims(&self, axis: i64) -> Result<Tensor> {
        let axis = norm_axis("expand_dims", axis, self.rank() + 1)?;
        self.graph.add(Op::ExpandDims(axis), &[self])
    }

    /// Removes axes of extent 1 (`AxisSpec::All`: every such axis).
    pub fn squeeze(&self, axes: impl Into<AxisSpec>) -> Result<Tensor> {
        let axes = match axes.into() {
            AxisSpec::All => (0..self.rank()).filter(|&a| self.dims()[a] == 1).collect(),
            spec => norm_axes("squeeze", &spec, self.rank())?,
        };
        self.graph.add(Op::Squeeze(axes), &[self])
    }

    /// Reverses the order of elements along axes.
    pub fn flip(&self, axes: impl Into<AxisSpec>) -> Result<Tensor> {
        let axes = norm_axes("flip", &axes.into(), self.rank())?;
        self.graph.add(Op::Flip(axes), &[self])
    }

    /// Pads with a constant: `(before, after)` per axis.
    pub fn pad(&self, widths: &[(usize, usize)], value: impl Into<Literal>) -> Result<Tensor> {
        let value = value.into().to_scalar(self.dtype(), "pad")?;
        self.graph.add(Op::Pad { widths: widths.to_vec(), value }, &[self])
    }

    /// Pads with the zero of the tensor's dtype (`false` for bool), NumPy's default.
    pub fn pad_zeros(&self, widths: &[(usize, usize)]) -> Result<Tensor> {
        let value = Scalar::zero(self.dtype());
        self.graph.add(Op::Pad { widths: widths.to_vec(), value }, &[self])
    }

    /// Matrix product (array-API `matmul`: batched, broadcasting, 1-D operands allowed).
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.graph.add(Op::Matmul, &[self, rhs])
    }

    /// Explicit transfer to `device`.
    pub fn to_device(&self, device: Device) -> Result<Tensor> {
        self.graph.add(Op::ToDevice(device), &[self])
    }

    /// Indices of non-zero elements, as `i64[rank, size]` padded with `fill`. Without a
    /// `size` the result shape depends on the data, so the op is refused.
    pub fn nonzero(&self, size: Option<usize>, fill: i64) -> Result<Tensor> {
        self.graph.add(Op::Nonzero { size, fill }, &[self])
    }

    /// Sorted unique values: eager-only, always refused in a lazy graph.
    pub fn unique_values(&self) -> Result<Tensor> {
        self.graph.add(Op::UniqueValues, &[self])
    }

    /// Unique values and counts: eager-only, always refused in a lazy graph.
    pub fn unique_counts(&self) -> Result<Tensor> {
        self.graph.add(Op::UniqueCounts, &[self])
    }

    /// `self[mask]`: eager-only, always refused in a lazy graph.
    pub fn boolean_mask(&self, mask: &Tensor) -> Result<Tensor> {
        self.graph.add(Op::BooleanMask, &[self, mask])
    }

    /// Plans this tensor alone on `device`.
    pub fn plan(&self, device: Device) -> Result<Plan> {
        self.graph.plan(&[self], device)
    }

    /// Compiles this tensor alone on `device`.
    pub fn compile(&self, device: Device) -> Result<Executable> {
        self.graph.compile(&[self], device)
    }

    /// Computes this tensor on `device` from named host inputs and returns it in host
    /// memory. On a device other than the host this uploads the inputs and downloads the
    /// result (see [`Executable::run_round_trip`]); keep data resident with
    /// `DeviceArray` and [`Executable::run_on_device`] instead.
    pub fn eval(&self, device: Device, inputs: &[(&str, &Array)]) -> Result<Array> {
        let exe = self.compile(device)?;
        let mut out = exe.run_round_trip(inputs)?;
        out.pop().ok_or_else(|| {
            switchyard_runtime::RuntimeError::new(switchyard_runtime::RuntimeErrorKind::Kernel, "no output")
                .into()
        })
    }
}
