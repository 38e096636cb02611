//! Reductions over a set of axes. Each result element reduces its group of input elements,
//! visited in row-major order of the reduced axes (see [`Groups`]); `keepdims` only changes
//! the result's shape, never its order.
//!
//! Accumulation: integer `sum`/`prod` wrap in `i64`; float `sum`/`prod`/`mean`/`var`/`std`
//! accumulate sequentially in `f64`, starting from 0 (or 1), and round to the dtype once.

use switchyard_ir::{BinaryOp, ReduceOp, TensorType, UnaryOp};

use super::data::{with_values, Data, Stored, Values};
use super::index::Groups;
use super::kernel_error;
use crate::error::LowerError;

/// `op` over `axes` of `x` (`correction` is `var`/`std`'s degrees-of-freedom correction).
pub fn reduce(
    op: ReduceOp,
    axes: &[usize],
    correction: u32,
    x: &Data,
    out: &TensorType,
) -> Result<Data, LowerError> {
    let g = Groups::new(x.dims(), axes);
    let values = match op {
        ReduceOp::Sum => with_values!(x.values(), |v| sum(v.as_slice(), &g)),
        ReduceOp::Prod => with_values!(x.values(), |v| prod(v.as_slice(), &g)),
        ReduceOp::Max => with_values!(x.values(), |v| extreme(v.as_slice(), &g, BinaryOp::Maximum)?),
        ReduceOp::Min => with_values!(x.values(), |v| extreme(v.as_slice(), &g, BinaryOp::Minimum)?),
        ReduceOp::Mean => with_values!(x.values(), |v| moment(v.as_slice(), &g, Moment::Mean)),
        ReduceOp::Var => with_values!(x.values(), |v| moment(v.as_slice(), &g, Moment::Var(correction))),
        ReduceOp::Std => with_values!(x.values(), |v| moment(v.as_slice(), &g, Moment::Std(correction))),
        ReduceOp::ArgMax => with_values!(x.values(), |v| arg_extreme(v.as_slice(), &g, BinaryOp::Gt)?),
        ReduceOp::ArgMin => with_values!(x.values(), |v| arg_extreme(v.as_slice(), &g, BinaryOp::Lt)?),
        ReduceOp::Any => {
            let x = x.typed::<bool>()?;
            Values::Bool(g.iter().map(|mut grp| grp.any(|o| x[o])).collect())
        }
        ReduceOp::All => {
            let x = x.typed::<bool>()?;
            Values::Bool(g.iter().map(|mut grp| grp.all(|o| x[o])).collect())
        }
    };
    Data::new(out.shape.clone(), values)
}

/// Sum: integers wrap in `i64` (result `i64`), floats add in `f64` from `+0.0`.
fn sum<T: Stored>(x: &[T], g: &Groups) -> Values {
    if T::DTYPE.is_float() {
        T::wrap(g.iter().map(|grp| T::from_f64(grp.fold(0.0, |acc, o| acc + x[o].to_f64()))).collect())
    } else {
        Values::I64(g.iter().map(|grp| grp.fold(0i64, |acc, o| acc.wrapping_add(x[o].to_i64()))).collect())
    }
}

/// Product: integers wrap in `i64` (result `i64`), floats multiply in `f64` from `1.0`.
fn prod<T: Stored>(x: &[T], g: &Groups) -> Values {
    if T::DTYPE.is_float() {
        T::wrap(g.iter().map(|grp| T::from_f64(grp.fold(1.0, |acc, o| acc * x[o].to_f64()))).collect())
    } else {
        Values::I64(g.iter().map(|grp| grp.fold(1i64, |acc, o| acc.wrapping_mul(x[o].to_i64()))).collect())
    }
}

/// `max`/`min`: folds `maximum`/`minimum` (which propagate NaN) from the first element.
fn extreme<T: Stored>(x: &[T], g: &Groups, op: BinaryOp) -> Result<Values, LowerError> {
    let mut out = Vec::with_capacity(g.count());
    for grp in g.iter() {
        let mut elems = grp.map(|o| x[o]);
        let first = elems.next().ok_or_else(|| kernel_error("max/min over zero elements"))?;
        out.push(elems.fold(first, |acc, v| T::binary(op, acc, v)));
    }
    Ok(T::wrap(out))
}

/// `argmax`/`argmin` (`better` is `gt`/`lt`): the position, in the group's row-major order,
/// of the first extreme element. A NaN is more extreme than anything: the first NaN wins.
fn arg_extreme<T: Stored>(x: &[T], g: &Groups, better: BinaryOp) -> Result<Values, LowerError> {
    let is_nan = |v: T| T::test(UnaryOp::IsNan, v);
    let mut out = Vec::with_capacity(g.count());
    for grp in g.iter() {
        let mut best: Option<(usize, T)> = None;
        for (i, o) in grp.enumerate() {
            let v = x[o];
            match best {
                None => best = Some((i, v)),
                Some((_, b)) if is_nan(b) => break,
                Some((_, b)) if is_nan(v) || T::compare(better, v, b) => best = Some((i, v)),
                Some(_) => {}
            }
        }
        let (i, _) = best.ok_or_else(|| kernel_error("argmax/argmin over zero elements"))?;
        out.push(i as i64);
    }
    Ok(Values::I64(out))
}

/// The float reductions computed from the mean.
#[derive(Clone, Copy)]
enum Moment {
    Mean,
    Var(u32),
    Std(u32),
}

/// `mean` is `sum / N`; `var` is the two-pass `sum((x - mean)^2) / max(N - correction, 0)`;
/// `std` is `sqrt(var)`. All in `f64`, rounded to the dtype at the end. An empty group gives
/// NaN (0/0), as does `N <= correction` with no spread.
fn moment<T: Stored>(x: &[T], g: &Groups, m: Moment) -> Values {
    let n = g.group_len();
    let result = |grp: super::index::Offsets| -> f64 {
        let mean = grp.clone().fold(0.0, |acc, o| acc + x[o].to_f64()) / n as f64;
        let correction = match m {
            Moment::Mean => return mean,
            Moment::Var(c) | Moment::Std(c) => c,
        };
        let squares = grp.fold(0.0, |acc, o| {
            let d = x[o].to_f64() - mean;
            acc + d * d
        });
        let var = squares / n.saturating_sub(correction as usize) as f64;
        match m {
            Moment::Std(_) => var.sqrt(),
            _ => var,
        }
    };
    T::wrap(g.iter().map(|grp| T::from_f64(result(grp))).collect())
}
