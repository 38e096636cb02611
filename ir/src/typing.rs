//! Type inference: the dtype and shape of a node from its op and its inputs' types.
//! Every typing rule of the catalog lives here, so a node that exists is well typed.

use smallvec::SmallVec;

use crate::error::{IrError, IrErrorKind as K};
use crate::op::{Axes, BinaryOp, DTypeRule, Laziness, Op, ReduceOp, UnaryOp};
use crate::{DType, DTypeKind, Shape};

/// The dtype and shape of a value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TensorType {
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Shape,
}

impl std::fmt::Display for TensorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.dtype, self.shape)
    }
}

fn tt(dtype: DType, shape: Shape) -> TensorType {
    TensorType { dtype, shape }
}

fn list(inputs: &[&TensorType]) -> String {
    inputs.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
}

fn shape_of(op: &str, dims: &[usize]) -> Result<Shape, IrError> {
    Shape::new(dims).map_err(|e| IrError::new(K::Overflow, op, e.to_string()))
}

/// Infers the output type of `op` applied to `inputs`, or says why it is ill-typed.
/// Eager-only ops are refused here, with their reason and lazy alternative.
pub fn infer(op: &Op, inputs: &[&TensorType]) -> Result<TensorType, IrError> {
    let info = op.info();
    let name = info.name;
    if let Laziness::EagerOnly { reason, alternative } = info.laziness {
        return Err(IrError::new(K::NotLazy, name, format!("`{name}` cannot be built lazily: {reason}"))
            .with_hint(format!("use {alternative}")));
    }
    if !info.arity.accepts(inputs.len()) {
        return Err(IrError::new(
            K::BadInput,
            name,
            format!("takes {} input(s), got {}", info.arity, inputs.len()),
        ));
    }
    match op {
        Op::Input { dtype, shape, .. } => Ok(tt(*dtype, shape.clone())),
        Op::Full { value, shape } => Ok(tt(value.dtype(), shape.clone())),
        Op::Arange { start, step, len } => {
            if start.dtype() != step.dtype() || !start.dtype().is_numeric() {
                return Err(IrError::new(
                    K::DTypeMismatch,
                    name,
                    format!(
                        "start ({}) and step ({}) must share one numeric dtype",
                        start.dtype(),
                        step.dtype()
                    ),
                ));
            }
            Ok(tt(start.dtype(), shape_of(name, &[*len])?))
        }
        Op::Unary(u) => infer_unary(*u, inputs[0]),
        Op::Binary(b) => infer_binary(*b, inputs[0], inputs[1]),
        Op::Where => {
            if inputs[0].dtype != DType::Bool {
                return Err(IrError::new(
                    K::DTypeMismatch,
                    name,
                    format!("condition must be bool, got {}", inputs[0]),
                ))
                .map_err(|e| e.with_hint("compare to build a condition, e.g. `x > 0`"));
            }
            let dtype = promote(name, inputs[1], inputs[2])?;
            let shape = broadcast(name, &[inputs[0], inputs[1], inputs[2]])?;
            Ok(tt(dtype, shape))
        }
        Op::Cast(d) => Ok(tt(*d, inputs[0].shape.clone())),
        Op::Clip => {
            for t in inputs {
                if !t.dtype.is_numeric() {
                    return Err(numeric_needed(name, inputs));
                }
            }
            let d = promote(name, inputs[0], inputs[1])?;
            let d = promote(name, &tt(d, Shape::scalar()), inputs[2])?;
            Ok(tt(d, broadcast(name, inputs)?))
        }
        Op::Reduce { op: r, axes, keepdims, correction } => {
            infer_reduce(*r, axes, *keepdims, *correction, inputs[0])
        }
        Op::Reshape(shape) => {
            if shape.numel() != inputs[0].shape.numel() {
                return Err(IrError::new(
                    K::ReshapeSize,
                    name,
                    format!(
                        "cannot reshape {} ({} elements) to {shape} ({} elements)",
                        inputs[0],
                        inputs[0].shape.numel(),
                        shape.numel()
                    ),
                ));
            }
            Ok(tt(inputs[0].dtype, shape.clone()))
        }
        Op::PermuteDims(perm) => {
            let x = inputs[0];
            let mut seen = vec![false; x.shape.rank()];
            let valid = perm.len() == x.shape.rank()
                && perm.iter().all(|&a| a < seen.len() && !std::mem::replace(&mut seen[a], true));
            if !valid {
                return Err(IrError::new(
                    K::BadAxis,
                    name,
                    format!("axes {perm:?} are not a permutation of the {} axes of {x}", x.shape.rank()),
                ));
            }
            let dims: SmallVec<[usize; 4]> = perm.iter().map(|&a| x.shape.dims()[a]).collect();
            Ok(tt(x.dtype, shape_of(name, &dims)?))
        }
        Op::BroadcastTo(shape) => {
            if !inputs[0].shape.broadcasts_to(shape) {
                return Err(IrError::new(
                    K::ShapeMismatch,
                    name,
                    format!("cannot broadcast {} to {shape}", inputs[0]),
                ));
            }
            Ok(tt(inputs[0].dtype, shape.clone()))
        }
        Op::ExpandDims(axis) => {
            let x = inputs[0];
            if *axis > x.shape.rank() {
                return Err(bad_axis(name, *axis as i64, x.shape.rank() + 1, x));
            }
            let mut dims: Vec<usize> = x.shape.dims().to_vec();
            dims.insert(*axis, 1);
            Ok(tt(x.dtype, shape_of(name, &dims)?))
        }
        Op::Squeeze(axes) => {
            let x = inputs[0];
            check_axes(name, axes, x)?;
            if let Some(&a) = axes.iter().find(|&&a| x.shape.dims()[a] != 1) {
                return Err(IrError::new(
                    K::BadAxis,
                    name,
                    format!("cannot squeeze axis {a} of {x}: its extent is {}, not 1", x.shape.dims()[a]),
                ));
            }
            let dims: Vec<usize> =
                (0..x.shape.rank()).filter(|a| !axes.contains(a)).map(|a| x.shape.dims()[a]).collect();
            Ok(tt(x.dtype, shape_of(name, &dims)?))
        }
        Op::Slice(spec) => {
            let x = inputs[0];
            if spec.len() != x.shape.rank() {
                return Err(IrError::new(
                    K::BadAttribute,
                    name,
                    format!("{} slice entries for {x} of rank {}", spec.len(), x.shape.rank()),
                ));
            }
            for (axis, (s, &dim)) in spec.iter().zip(x.shape.dims()).enumerate() {
                if s.step == 0 {
                    return Err(IrError::new(K::BadAttribute, name, "slice step cannot be zero"));
                }
                if s.len == 0 {
                    continue;
                }
                let last = (s.start as i128) + (s.len as i128 - 1) * (s.step as i128);
                if s.start >= dim || last < 0 || last >= dim as i128 {
                    return Err(IrError::new(
                        K::BadAttribute,
                        name,
                        format!(
                            "axis {axis}: indices {}..={last} (step {}) fall outside extent {dim}",
                            s.start, s.step
                        ),
                    ));
                }
            }
            let dims: Vec<usize> = spec.iter().map(|s| s.len).collect();
            Ok(tt(x.dtype, shape_of(name, &dims)?))
        }
        Op::Concat(axis) => {
            let first = inputs[0];
            let rank = first.shape.rank();
            if *axis >= rank {
                return Err(bad_axis(name, *axis as i64, rank, first));
            }
            let mut dtype = first.dtype;
            let mut total: usize = 0;
            for t in inputs {
                dtype = promote(name, &tt(dtype, Shape::scalar()), t)?;
                let same_rest = t.shape.rank() == rank
                    && (0..rank).all(|a| a == *axis || t.shape.dims()[a] == first.shape.dims()[a]);
                if !same_rest {
                    return Err(IrError::new(
                        K::ShapeMismatch,
                        name,
                        format!("operands {} must agree on every axis but {axis}", list(inputs)),
                    ));
                }
                total = total
                    .checked_add(t.shape.dims()[*axis])
                    .ok_or_else(|| IrError::new(K::Overflow, name, "concatenated extent overflows usize"))?;
            }
            let mut dims = first.shape.dims().to_vec();
            dims[*axis] = total;
            Ok(tt(dtype, shape_of(name, &dims)?))
        }
        Op::Stack(axis) => {
            let first = inputs[0];
            if *axis > first.shape.rank() {
                return Err(bad_axis(name, *axis as i64, first.shape.rank() + 1, first));
            }
            let mut dtype = first.dtype;
            for t in inputs {
                dtype = promote(name, &tt(dtype, Shape::scalar()), t)?;
                if t.shape != first.shape {
                    return Err(IrError::new(
                        K::ShapeMismatch,
                        name,
                        format!("operands {} must all have one shape", list(inputs)),
                    ));
                }
            }
            let mut dims = first.shape.dims().to_vec();
            dims.insert(*axis, inputs.len());
            Ok(tt(dtype, shape_of(name, &dims)?))
        }
        Op::Flip(axes) => {
            check_axes(name, axes, inputs[0])?;
            Ok(inputs[0].clone())
        }
        Op::Pad { widths, value } => {
            let x = inputs[0];
            if widths.len() != x.shape.rank() {
                return Err(IrError::new(
                    K::BadAttribute,
                    name,
                    format!("{} pad widths for {x} of rank {}", widths.len(), x.shape.rank()),
                ));
            }
            if value.dtype() != x.dtype {
                return Err(IrError::new(
                    K::DTypeMismatch,
                    name,
                    format!("pad value {value} is {}, the array is {x}", value.dtype()),
                ));
            }
            let mut dims = Vec::with_capacity(widths.len());
            for (&d, &(b, a)) in x.shape.dims().iter().zip(widths) {
                let n = d
                    .checked_add(b)
                    .and_then(|n| n.checked_add(a))
                    .ok_or_else(|| IrError::new(K::Overflow, name, "padded extent overflows usize"))?;
                dims.push(n);
            }
            Ok(tt(x.dtype, shape_of(name, &dims)?))
        }
        Op::Matmul => infer_matmul(inputs[0], inputs[1]),
        Op::ToDevice(_) => Ok(inputs[0].clone()),
        Op::Nonzero { size, .. } => {
            let x = inputs[0];
            if x.shape.rank() == 0 {
                return Err(IrError::new(K::ShapeMismatch, name, "nonzero of a rank-0 array is not defined")
                    .with_hint("reshape to rank 1 first"));
            }
            Ok(tt(DType::I64, shape_of(name, &[x.shape.rank(), size.unwrap_or(0)])?))
        }
        Op::UniqueValues | Op::UniqueCounts | Op::BooleanMask => {
            // Refused above as eager-only; kept for exhaustiveness.
            Err(IrError::new(K::NotLazy, name, "cannot be built lazily"))
        }
    }
}

fn numeric_needed(name: &str, inputs: &[&TensorType]) -> IrError {
    IrError::new(K::DTypeMismatch, name, format!("needs numeric operands, got {}", list(inputs)))
        .with_hint("cast bools to a numeric dtype, e.g. cast(x, dtype=f32)")
}

fn bad_axis(name: &str, axis: i64, bound: usize, x: &TensorType) -> IrError {
    IrError::new(
        K::BadAxis,
        name,
        format!("axis {axis} is out of range for {x} (valid: 0..{bound}, or negative from the end)"),
    )
}

/// Checks that `axes` are in range for `x`, sorted and unique.
fn check_axes(name: &str, axes: &[usize], x: &TensorType) -> Result<(), IrError> {
    let rank = x.shape.rank();
    if let Some(&a) = axes.iter().find(|&&a| a >= rank) {
        return Err(bad_axis(name, a as i64, rank, x));
    }
    if axes.windows(2).any(|w| w[0] >= w[1]) {
        return Err(IrError::new(K::BadAxis, name, format!("axes {axes:?} must be sorted and unique")));
    }
    Ok(())
}

fn broadcast(name: &str, inputs: &[&TensorType]) -> Result<Shape, IrError> {
    let mut shape = inputs[0].shape.clone();
    for t in &inputs[1..] {
        shape = shape.broadcast(&t.shape).map_err(|e| {
            if e.overflow {
                return IrError::new(
                    K::Overflow,
                    name,
                    format!("the broadcast of {} has more elements than usize can count", list(inputs)),
                );
            }
            IrError::new(
                K::ShapeMismatch,
                name,
                format!(
                    "shapes of {} cannot be broadcast together (axis {} of the result: {} vs {})",
                    list(inputs),
                    e.axis,
                    e.lhs,
                    e.rhs
                ),
            )
        })?;
    }
    Ok(shape)
}

fn promote(name: &str, a: &TensorType, b: &TensorType) -> Result<DType, IrError> {
    a.dtype.promote(b.dtype).ok_or_else(|| mixed_kinds(name, a.dtype, b.dtype))
}

fn mixed_kinds(name: &str, a: DType, b: DType) -> IrError {
    let target = if a.is_float() { a } else { b };
    IrError::new(
        K::DTypeMismatch,
        name,
        format!("cannot mix {a} and {b}: {} and {} values do not combine implicitly", a.kind(), b.kind()),
    )
    .with_hint(format!("cast one operand explicitly, e.g. cast(x, dtype={target})"))
}

fn check_rule(name: &str, rule: DTypeRule, inputs: &[&TensorType]) -> Result<DType, IrError> {
    let mut dtype = inputs[0].dtype;
    for t in &inputs[1..] {
        dtype = promote(name, &tt(dtype, Shape::scalar()), t)?;
    }
    let ok = match rule {
        DTypeRule::NumericSame | DTypeRule::NumericToBool => dtype.is_numeric(),
        DTypeRule::FloatSame => dtype.is_float(),
        DTypeRule::BoolSame => dtype == DType::Bool,
        DTypeRule::AnyToBool => true,
    };
    if !ok {
        let hint = match (rule, dtype.kind()) {
            (DTypeRule::FloatSame, DTypeKind::Int) if name == "div" => {
                "use floor_divide (`//`) for integer division, or cast to a float dtype first".to_string()
            }
            (DTypeRule::FloatSame, _) => {
                format!("cast to a float dtype first, e.g. cast(x, dtype=f32) before {name}")
            }
            (DTypeRule::BoolSame, _) => "build a bool operand, e.g. `x != 0`".to_string(),
            _ => "cast bools to a numeric dtype, e.g. cast(x, dtype=f32)".to_string(),
        };
        return Err(IrError::new(
            K::DTypeMismatch,
            name,
            format!("{name} takes {}; got {}", rule.describe(), list(inputs)),
        )
        .with_hint(hint));
    }
    Ok(match rule {
        DTypeRule::NumericToBool | DTypeRule::AnyToBool => DType::Bool,
        _ => dtype,
    })
}

fn infer_unary(u: UnaryOp, x: &TensorType) -> Result<TensorType, IrError> {
    let dtype = check_rule(u.name(), u.rule(), &[x])?;
    Ok(tt(dtype, x.shape.clone()))
}

fn infer_binary(b: BinaryOp, x: &TensorType, y: &TensorType) -> Result<TensorType, IrError> {
    let dtype = check_rule(b.name(), b.rule(), &[x, y])?;
    Ok(tt(dtype, broadcast(b.name(), &[x, y])?))
}

fn infer_reduce(
    r: ReduceOp,
    axes: &Axes,
    keepdims: bool,
    correction: u32,
    x: &TensorType,
) -> Result<TensorType, IrError> {
    let name = r.name();
    check_axes(name, axes, x)?;
    let kind = x.dtype.kind();
    let dtype = match r {
        ReduceOp::Sum | ReduceOp::Prod => match kind {
            DTypeKind::Int => DType::I64,
            DTypeKind::Float => x.dtype,
            DTypeKind::Bool => {
                return Err(IrError::new(
                    K::DTypeMismatch,
                    name,
                    format!("{name} of bool array {x} is not defined"),
                )
                .with_hint("cast(x, dtype=i64) to count true values"))
            }
        },
        ReduceOp::Max | ReduceOp::Min | ReduceOp::ArgMax | ReduceOp::ArgMin => {
            if kind == DTypeKind::Bool {
                return Err(numeric_needed(name, &[x]));
            }
            if matches!(r, ReduceOp::ArgMax | ReduceOp::ArgMin) {
                DType::I64
            } else {
                x.dtype
            }
        }
        ReduceOp::Mean | ReduceOp::Var | ReduceOp::Std => {
            if kind != DTypeKind::Float {
                return Err(IrError::new(
                    K::DTypeMismatch,
                    name,
                    format!("{name} of {x} is not defined: it needs a float dtype"),
                )
                .with_hint("cast(x, dtype=f64) first"));
            }
            x.dtype
        }
        ReduceOp::Any | ReduceOp::All => {
            if kind != DTypeKind::Bool {
                return Err(IrError::new(
                    K::DTypeMismatch,
                    name,
                    format!("{name} takes a bool array, got {x}"),
                )
                .with_hint("compare first, e.g. any(x != 0)"));
            }
            DType::Bool
        }
    };
    if correction != 0 && !matches!(r, ReduceOp::Var | ReduceOp::Std) {
        return Err(IrError::new(K::BadAttribute, name, "only var and std take a correction"));
    }
    if matches!(r, ReduceOp::ArgMax | ReduceOp::ArgMin) && axes.len() != 1 && axes.len() != x.shape.rank() {
        return Err(IrError::new(
            K::BadAxis,
            name,
            format!("{name} reduces one axis or all of them; got axes {axes:?} of {x}"),
        ));
    }
    // Any zero-extent reduced axis means no elements (a product could overflow instead).
    let reduces_nothing = axes.iter().any(|&a| x.shape.dims()[a] == 0);
    let dims: Vec<usize> = (0..x.shape.rank())
        .filter_map(|a| if axes.contains(&a) { keepdims.then_some(1) } else { Some(x.shape.dims()[a]) })
        .collect();
    let shape = shape_of(name, &dims)?;
    if r.needs_nonempty() && reduces_nothing && shape.numel() > 0 {
        return Err(IrError::new(
            K::EmptyReduction,
            name,
            format!("{name} over zero elements of {x} has no identity"),
        )
        .with_hint("reduce a non-empty axis, or use where/concat to supply an initial value"));
    }
    Ok(tt(dtype, shape))
}

fn infer_matmul(a: &TensorType, b: &TensorType) -> Result<TensorType, IrError> {
    let name = "matmul";
    let dtype = promote(name, a, b)?;
    if !dtype.is_numeric() {
        return Err(numeric_needed(name, &[a, b]));
    }
    if a.shape.rank() == 0 || b.shape.rank() == 0 {
        return Err(IrError::new(
            K::MatmulShape,
            name,
            format!("operands must have rank >= 1, got {a} and {b}"),
        )
        .with_hint("use `*` for scalar multiplication"));
    }
    let ad = a.shape.dims();
    let bd = b.shape.dims();
    let k_a = ad[ad.len() - 1];
    let k_b = if bd.len() == 1 { bd[0] } else { bd[bd.len() - 2] };
    if k_a != k_b {
        return Err(IrError::new(
            K::MatmulShape,
            name,
            format!("inner dimensions differ: {a} @ {b} ({k_a} vs {k_b})"),
        ));
    }
    let a_batch = Shape::new(&ad[..ad.len().saturating_sub(2)]).unwrap_or_default();
    let b_batch = Shape::new(&bd[..bd.len().saturating_sub(2)]).unwrap_or_default();
    let batch = a_batch.broadcast(&b_batch).map_err(|e| {
        IrError::new(
            K::ShapeMismatch,
            name,
            format!("batch dimensions of {a} and {b} cannot be broadcast ({} vs {})", e.lhs, e.rhs),
        )
    })?;
    let mut dims = batch.dims().to_vec();
    if ad.len() >= 2 {
        dims.push(ad[ad.len() - 2]);
    }
    if bd.len() >= 2 {
        dims.push(bd[bd.len() - 1]);
    }
    Ok(tt(dtype, shape_of(name, &dims)?))
}
