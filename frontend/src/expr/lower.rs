//! Lowering: from the syntax tree to builder calls on a [`Graph`]. Every error points at
//! the piece of source that caused it.

use std::collections::HashMap;

use switchyard_ir::{DType, Device, IrError};

use super::ast::{BinaryOperator as B, Expr, ExprKind, IndexItem, Span, UnaryOperator as U};
use super::error::ExprError;
use super::parser::parse;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::index::Index;
use crate::operand::{Literal, Operand};
use crate::tensor::{concat, materialize, stack, where_, AxisSpec, Tensor};

/// Names an expression can refer to: its inputs.
pub type Env = HashMap<String, Tensor>;

/// A value during lowering.
#[derive(Clone, Debug)]
enum Value {
    Tensor(Tensor),
    Lit(Literal),
    Tuple(Vec<(Value, Span)>),
    None,
    Str(String),
    DType(DType),
}

impl Value {
    fn describe(&self) -> &'static str {
        match self {
            Value::Tensor(_) => "an array",
            Value::Lit(Literal::Int(_)) => "an integer",
            Value::Lit(Literal::Float(_)) => "a float",
            Value::Lit(Literal::Bool(_)) => "a bool",
            Value::Tuple(_) => "a tuple",
            Value::None => "None",
            Value::Str(_) => "a string",
            Value::DType(_) => "a dtype",
        }
    }
}

type VResult<T> = std::result::Result<T, ExprError>;

/// Parses `source` and builds it into `graph`, resolving names in `env`.
pub fn build(graph: &Graph, source: &str, env: &Env) -> Result<Tensor> {
    let render = |e: ExprError| Error::Expr { rendered: e.render(source), error: e };
    let ast = parse(source).map_err(render)?;
    let mut lowerer = Lowerer { graph, env, source };
    let value = lowerer.expr(&ast).map_err(render)?;
    match value {
        Value::Tensor(t) => Ok(t),
        Value::Lit(l) => graph.scalar(l, l.default_dtype()),
        other => Err(render(ExprError::new(
            format!("the expression evaluates to {}, not an array", other.describe()),
            ast.span,
        ))),
    }
}

struct Lowerer<'a> {
    graph: &'a Graph,
    env: &'a Env,
    source: &'a str,
}

/// Turns a builder error into one pointing at `span`.
fn at(span: Span) -> impl Fn(Error) -> ExprError {
    move |e| match e {
        Error::Ir(ir) => ir_error(ir, span),
        Error::Expr { error, .. } => error,
        other => ExprError::new(other.to_string(), span),
    }
}

fn ir_error(e: IrError, span: Span) -> ExprError {
    let err = ExprError::new(format!("{}: {}", e.op(), e.message()), span);
    match e.hint() {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

/// An argument value with the span it came from.
type Arg = (Value, Span);

/// A keyword argument: its name, the name's span, and the value until it is taken.
type KwArg = (String, Span, Option<Arg>);

/// Positional and keyword arguments of a call, taken one by one.
struct Args {
    func: String,
    span: Span,
    positional: Vec<Option<Arg>>,
    keyword: Vec<KwArg>,
}

impl Args {
    fn take(&mut self, pos: usize, name: &str) -> VResult<Option<(Value, Span)>> {
        let from_pos = self.positional.get_mut(pos).and_then(Option::take);
        let kw = self.keyword.iter_mut().find(|(k, _, _)| k == name);
        match (from_pos, kw) {
            (Some(_), Some((_, kspan, _))) => Err(ExprError::new(
                format!("{}() got argument `{name}` both by position and by keyword", self.func),
                *kspan,
            )),
            (Some(v), None) => Ok(Some(v)),
            (None, Some((_, _, v))) => Ok(v.take()),
            (None, None) => Ok(None),
        }
    }

    fn required(&mut self, pos: usize, name: &str) -> VResult<(Value, Span)> {
        self.take(pos, name)?.ok_or_else(|| {
            ExprError::new(format!("{}() is missing its argument `{name}`", self.func), self.span)
        })
    }

    fn finish(self) -> VResult<()> {
        if let Some((_, span)) = self.positional.into_iter().flatten().next() {
            return Err(ExprError::new(format!("{}() got too many positional arguments", self.func), span));
        }
        if let Some((k, span, _)) = self.keyword.into_iter().find(|(_, _, v)| v.is_some()) {
            return Err(ExprError::new(format!("{}() has no argument `{k}`", self.func), span));
        }
        Ok(())
    }
}

fn want_tensor(v: (Value, Span), what: &str) -> VResult<Tensor> {
    match v.0 {
        Value::Tensor(t) => Ok(t),
        other => Err(ExprError::new(format!("{what} must be an array, got {}", other.describe()), v.1)),
    }
}

fn want_int(v: &(Value, Span), what: &str) -> VResult<i64> {
    match v.0 {
        Value::Lit(Literal::Int(i)) => Ok(i),
        ref other => Err(ExprError::new(format!("{what} must be an integer, got {}", other.describe()), v.1)),
    }
}

fn want_usize(v: &(Value, Span), what: &str) -> VResult<usize> {
    let i = want_int(v, what)?;
    usize::try_from(i).map_err(|_| ExprError::new(format!("{what} must be non-negative, got {i}"), v.1))
}

fn want_bool(v: &(Value, Span), what: &str) -> VResult<bool> {
    match v.0 {
        Value::Lit(Literal::Bool(b)) => Ok(b),
        ref other => {
            Err(ExprError::new(format!("{what} must be true or false, got {}", other.describe()), v.1))
        }
    }
}

fn want_lit(v: &(Value, Span), what: &str) -> VResult<Literal> {
    match v.0 {
        Value::Lit(l) => Ok(l),
        ref other => Err(ExprError::new(format!("{what} must be a number, got {}", other.describe()), v.1)),
    }
}

fn want_dtype(v: &(Value, Span)) -> VResult<DType> {
    match &v.0 {
        Value::DType(d) => Ok(*d),
        Value::Str(s) => DType::parse(s).ok_or_else(|| unknown_dtype(s, v.1)),
        other => {
            Err(ExprError::new(format!("dtype must be a dtype name like f32, got {}", other.describe()), v.1))
        }
    }
}

fn unknown_dtype(name: &str, span: Span) -> ExprError {
    ExprError::new(format!("unknown dtype `{name}`"), span).with_hint("dtypes are bool, i32, i64, f32, f64")
}

/// A tuple of ints, or a single int.
fn want_ints(v: &(Value, Span), what: &str) -> VResult<Vec<i64>> {
    match &v.0 {
        Value::Tuple(items) => items.iter().map(|i| want_int(i, what)).collect(),
        Value::Lit(Literal::Int(i)) => Ok(vec![*i]),
        other => Err(ExprError::new(
            format!("{what} must be an integer or a tuple of them, got {}", other.describe()),
            v.1,
        )),
    }
}

fn want_dims(v: &(Value, Span), what: &str) -> VResult<Vec<usize>> {
    let ints = want_ints(v, what)?;
    ints.iter()
        .map(|&i| {
            usize::try_from(i)
                .map_err(|_| ExprError::new(format!("{what} must be non-negative, got {i}"), v.1))
        })
        .collect()
}

fn axis_spec(v: Option<(Value, Span)>) -> VResult<AxisSpec> {
    match v {
        None | Some((Value::None, _)) => Ok(AxisSpec::All),
        Some(v) => Ok(AxisSpec::from(want_ints(&v, "axis")?)),
    }
}

fn lit_arith(op: B, a: Literal, b: Literal, span: Span) -> VResult<Option<Literal>> {
    use Literal::{Float as F, Int as I};
    let overflow = || ExprError::new("integer literal arithmetic overflows i64", span);
    Ok(Some(match (op, a, b) {
        (B::Add, I(x), I(y)) => I(x.checked_add(y).ok_or_else(overflow)?),
        (B::Sub, I(x), I(y)) => I(x.checked_sub(y).ok_or_else(overflow)?),
        (B::Mul, I(x), I(y)) => I(x.checked_mul(y).ok_or_else(overflow)?),
        (B::Pow, I(x), I(y)) if y >= 0 => {
            I(u32::try_from(y).ok().and_then(|y| x.checked_pow(y)).ok_or_else(overflow)?)
        }
        (B::Add | B::Sub | B::Mul | B::Div | B::Pow, I(_) | F(_), I(_) | F(_)) => {
            let (x, y) = (lit_f64(a), lit_f64(b));
            F(match op {
                B::Add => x + y,
                B::Sub => x - y,
                B::Mul => x * y,
                B::Div => x / y,
                _ => x.powf(y),
            })
        }
        _ => return Ok(None),
    }))
}

fn lit_f64(l: Literal) -> f64 {
    match l {
        Literal::Int(i) => i as f64,
        Literal::Float(f) => f,
        Literal::Bool(b) => f64::from(u8::from(b)),
    }
}

impl Lowerer<'_> {
    /// Builds `e`, and remembers the text a tensor came from (for later error messages).
    fn expr(&mut self, e: &Expr) -> VResult<Value> {
        let value = self.build_expr(e)?;
        if let Value::Tensor(t) = &value {
            if let Some(text) = self.source.get(e.span.start..e.span.end) {
                self.graph.note_origin(t.id(), text);
            }
        }
        Ok(value)
    }

    fn build_expr(&mut self, e: &Expr) -> VResult<Value> {
        let span = e.span;
        match &e.kind {
            ExprKind::Int(i) => Ok(Value::Lit(Literal::Int(*i))),
            ExprKind::Float(f) => Ok(Value::Lit(Literal::Float(*f))),
            ExprKind::Bool(b) => Ok(Value::Lit(Literal::Bool(*b))),
            ExprKind::None => Ok(Value::None),
            ExprKind::Str(s) => Ok(Value::Str(s.clone())),
            ExprKind::Name(n) => self.name(n, span),
            ExprKind::Tuple(items) => {
                let mut vs = Vec::with_capacity(items.len());
                for i in items {
                    vs.push((self.expr(i)?, i.span));
                }
                Ok(Value::Tuple(vs))
            }
            ExprKind::Unary { op, operand } => {
                let v = self.expr(operand)?;
                match (op, v) {
                    (U::Plus, v @ (Value::Lit(Literal::Int(_) | Literal::Float(_)) | Value::Tensor(_))) => {
                        Ok(v)
                    }
                    (U::Neg, Value::Lit(Literal::Int(i))) => Ok(Value::Lit(Literal::Int(
                        i.checked_neg()
                            .ok_or_else(|| ExprError::new("integer literal overflows i64", span))?,
                    ))),
                    (U::Neg, Value::Lit(Literal::Float(f))) => Ok(Value::Lit(Literal::Float(-f))),
                    (U::Neg, Value::Tensor(t)) => Ok(Value::Tensor(t.neg().map_err(at(span))?)),
                    (U::Invert, Value::Lit(Literal::Bool(b))) => Ok(Value::Lit(Literal::Bool(!b))),
                    (U::Invert, Value::Tensor(t)) => Ok(Value::Tensor(t.logical_not().map_err(at(span))?)),
                    (op, v) => Err(ExprError::new(
                        format!("unary `{}` does not apply to {}", op.symbol(), v.describe()),
                        span,
                    )),
                }
            }
            ExprKind::Binary { op, op_span, lhs, rhs } => {
                let a = self.expr(lhs)?;
                let b = self.expr(rhs)?;
                self.binary(*op, *op_span, (a, lhs.span), (b, rhs.span))
            }
            ExprKind::Call { func, func_span, args, kwargs } => {
                let mut positional = Vec::with_capacity(args.len());
                for a in args {
                    positional.push(Some((self.expr(a)?, a.span)));
                }
                let mut keyword = Vec::with_capacity(kwargs.len());
                for (k, kspan, v) in kwargs {
                    keyword.push((k.clone(), *kspan, Some((self.expr(v)?, v.span))));
                }
                let args = Args { func: func.clone(), span, positional, keyword };
                self.call(func, *func_span, args).map(Value::Tensor)
            }
            ExprKind::Index { base, items } => {
                let t = want_tensor((self.expr(base)?, base.span), "the indexed value")?;
                self.index(t, items, span).map(Value::Tensor)
            }
        }
    }

    fn name(&self, n: &str, span: Span) -> VResult<Value> {
        if let Some(t) = self.env.get(n) {
            return Ok(Value::Tensor(t.clone()));
        }
        if let Some(d) = DType::parse(n) {
            return Ok(Value::DType(d));
        }
        match n {
            "inf" => Ok(Value::Lit(Literal::Float(f64::INFINITY))),
            "nan" => Ok(Value::Lit(Literal::Float(f64::NAN))),
            "cpu" | "gpu" => Ok(Value::Str(n.to_string())),
            _ => {
                let mut names: Vec<&String> = self.env.keys().collect();
                names.sort();
                let known = if names.is_empty() {
                    "no inputs are declared".to_string()
                } else {
                    format!("inputs are {}", names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
                };
                Err(ExprError::new(format!("unknown name `{n}`"), span).with_hint(known))
            }
        }
    }

    fn binary(&mut self, op: B, op_span: Span, a: (Value, Span), b: (Value, Span)) -> VResult<Value> {
        use switchyard_ir::BinaryOp as I;
        if let (Value::Lit(x), Value::Lit(y)) = (&a.0, &b.0) {
            if let Some(l) = lit_arith(op, *x, *y, op_span)? {
                return Ok(Value::Lit(l));
            }
        }
        let operand = |v: (Value, Span)| -> VResult<Operand> {
            match v.0 {
                Value::Tensor(t) => Ok(Operand::Tensor(t)),
                Value::Lit(l) => Ok(Operand::Literal(l)),
                other => Err(ExprError::new(
                    format!("`{}` needs arrays or numbers, got {}", op.symbol(), other.describe()),
                    v.1,
                )),
            }
        };
        let (x, y) = (operand(a)?, operand(b)?);
        let ir_op = match op {
            B::Add => I::Add,
            B::Sub => I::Sub,
            B::Mul => I::Mul,
            B::Div => I::Div,
            B::FloorDiv => I::FloorDivide,
            B::Mod => I::Remainder,
            B::Pow => I::Pow,
            B::BitAnd => I::LogicalAnd,
            B::BitOr => I::LogicalOr,
            B::BitXor => I::LogicalXor,
            B::Eq => I::Eq,
            B::Ne => I::Ne,
            B::Lt => I::Lt,
            B::Le => I::Le,
            B::Gt => I::Gt,
            B::Ge => I::Ge,
            B::MatMul => {
                let ts = materialize("matmul", vec![x, y]).map_err(at(op_span))?;
                return Ok(Value::Tensor(ts[0].matmul(&ts[1]).map_err(at(op_span))?));
            }
        };
        let (x, y) = match (x, y) {
            (Operand::Literal(l), Operand::Literal(m)) => {
                // Two literals that literal arithmetic does not cover: give them default dtypes.
                let l = Operand::Tensor(self.graph.scalar(l, l.default_dtype()).map_err(at(op_span))?);
                (l, Operand::Literal(m))
            }
            pair => pair,
        };
        crate::tensor::binary(ir_op, x, y).map(Value::Tensor).map_err(at(op_span))
    }

    fn index(&mut self, t: Tensor, items: &[IndexItem], span: Span) -> VResult<Tensor> {
        let mut idx = Vec::with_capacity(items.len());
        for item in items {
            match item {
                IndexItem::NewAxis(_) => idx.push(Index::NewAxis),
                IndexItem::Ellipsis(_) => idx.push(Index::Ellipsis),
                IndexItem::Slice { start, stop, step, .. } => {
                    let mut bound = |e: &Option<Box<Expr>>| -> VResult<Option<i64>> {
                        match e {
                            None => Ok(None),
                            Some(e) => match self.expr(e)? {
                                Value::None => Ok(None),
                                v => want_int(&(v, e.span), "a slice bound").map(Some),
                            },
                        }
                    };
                    let (start, stop, step) = (bound(start)?, bound(stop)?, bound(step)?);
                    idx.push(Index::Slice { start, stop, step });
                }
                IndexItem::Expr(e) => match self.expr(e)? {
                    Value::Lit(Literal::Int(i)) => idx.push(Index::At(i)),
                    Value::Tensor(mask) if mask.dtype() == DType::Bool => {
                        return t.boolean_mask(&mask).map_err(at(e.span));
                    }
                    Value::Tensor(_) => {
                        return Err(ExprError::new(
                            "indexing with an integer array is not supported (not in the op catalog)",
                            e.span,
                        ))
                    }
                    other => {
                        return Err(ExprError::new(
                            format!(
                                "an index must be an integer, a slice, None or ..., got {}",
                                other.describe()
                            ),
                            e.span,
                        ))
                    }
                },
            }
        }
        t.index(&idx).map_err(at(span))
    }

    fn call(&mut self, func: &str, func_span: Span, mut a: Args) -> VResult<Tensor> {
        use switchyard_ir::{BinaryOp as Bi, UnaryOp as Un};
        let err = at(a.span);
        let unary = Un::ALL.iter().copied().find(|u| u.name() == func).or(match func {
            "negative" => Some(Un::Neg),
            "absolute" => Some(Un::Abs),
            _ => None,
        });
        if let Some(u) = unary {
            let x = want_tensor(a.required(0, "x")?, "x")?;
            a.finish()?;
            let op = switchyard_ir::Op::Unary(u);
            return x.graph().clone().add(op, &[&x]).map_err(err);
        }
        let binary = Bi::ALL.iter().copied().find(|b| b.name() == func).or(match func {
            "subtract" => Some(Bi::Sub),
            "multiply" => Some(Bi::Mul),
            "divide" => Some(Bi::Div),
            "equal" => Some(Bi::Eq),
            "not_equal" => Some(Bi::Ne),
            "less" => Some(Bi::Lt),
            "less_equal" => Some(Bi::Le),
            "greater" => Some(Bi::Gt),
            "greater_equal" => Some(Bi::Ge),
            _ => None,
        });
        if let Some(b) = binary {
            let x = a.required(0, "x1")?;
            let y = a.required(1, "x2")?;
            a.finish()?;
            let name = format!("{func}()");
            let to_operand = |v: (Value, Span)| -> VResult<Operand> {
                match v.0 {
                    Value::Tensor(t) => Ok(Operand::Tensor(t)),
                    Value::Lit(l) => Ok(Operand::Literal(l)),
                    other => Err(ExprError::new(
                        format!("{name} needs arrays or numbers, got {}", other.describe()),
                        v.1,
                    )),
                }
            };
            let (x, y) = (to_operand(x)?, to_operand(y)?);
            let (x, y) = match (x, y) {
                (Operand::Literal(l), Operand::Literal(m)) => (
                    Operand::Tensor(self.graph.scalar(l, l.default_dtype()).map_err(&err)?),
                    Operand::Literal(m),
                ),
                pair => pair,
            };
            return crate::tensor::binary(b, x, y).map_err(err);
        }
        let reduce = |t: &Tensor, f: &str, axes: AxisSpec, keepdims: bool| -> Result<Tensor> {
            match f {
                "sum" => t.sum(axes, keepdims),
                "prod" => t.prod(axes, keepdims),
                "max" => t.max(axes, keepdims),
                "min" => t.min(axes, keepdims),
                "mean" => t.mean(axes, keepdims),
                "any" => t.any(axes, keepdims),
                _ => t.all(axes, keepdims),
            }
        };
        let out = match func {
            "sum" | "prod" | "max" | "min" | "mean" | "any" | "all" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let axes = axis_spec(a.take(1, "axis")?)?;
                let keepdims =
                    a.take(2, "keepdims")?.map(|v| want_bool(&v, "keepdims")).transpose()?.unwrap_or(false);
                a.finish()?;
                reduce(&x, func, axes, keepdims)
            }
            "var" | "std" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let axes = axis_spec(a.take(1, "axis")?)?;
                let keepdims =
                    a.take(2, "keepdims")?.map(|v| want_bool(&v, "keepdims")).transpose()?.unwrap_or(false);
                let correction = match a.take(3, "correction")? {
                    None => 0,
                    Some(v) => u32::try_from(want_usize(&v, "correction")?)
                        .map_err(|_| ExprError::new("correction is too large", v.1))?,
                };
                a.finish()?;
                if func == "var" {
                    x.var(axes, keepdims, correction)
                } else {
                    x.std(axes, keepdims, correction)
                }
            }
            "argmax" | "argmin" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let axis = match a.take(1, "axis")? {
                    None | Some((Value::None, _)) => None,
                    Some(v) => Some(want_int(&v, "axis")?),
                };
                let keepdims =
                    a.take(2, "keepdims")?.map(|v| want_bool(&v, "keepdims")).transpose()?.unwrap_or(false);
                a.finish()?;
                if func == "argmax" {
                    x.argmax(axis, keepdims)
                } else {
                    x.argmin(axis, keepdims)
                }
            }
            "where" => {
                let c = want_tensor(a.required(0, "condition")?, "condition")?;
                let x = self.operand(a.required(1, "x1")?)?;
                let y = self.operand(a.required(2, "x2")?)?;
                a.finish()?;
                where_(&c, x, y)
            }
            "clip" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                // Either bound may be absent or None (the array API's `clip`).
                let mut bound = |pos, name| -> VResult<Option<Operand>> {
                    match a.take(pos, name)? {
                        None | Some((Value::None, _)) => Ok(None),
                        Some(v) => self.operand(v).map(Some),
                    }
                };
                let lo = bound(1, "min")?;
                let hi = bound(2, "max")?;
                a.finish()?;
                x.clip_bounds(lo, hi)
            }
            "cast" | "astype" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let d = want_dtype(&a.required(1, "dtype")?)?;
                a.finish()?;
                x.cast(d)
            }
            "reshape" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let shape = want_ints(&a.required(1, "shape")?, "shape")?;
                a.finish()?;
                x.reshape(&shape)
            }
            "permute_dims" | "transpose" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let axes = a.take(1, "axes")?;
                a.finish()?;
                match axes {
                    None | Some((Value::None, _)) if func == "transpose" => x.transpose(),
                    None => return Err(ExprError::new("permute_dims() needs `axes`", func_span)),
                    Some(v) => x.permute_dims(&want_ints(&v, "axes")?),
                }
            }
            "broadcast_to" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let shape = want_dims(&a.required(1, "shape")?, "shape")?;
                a.finish()?;
                x.broadcast_to(&shape)
            }
            "expand_dims" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let axis = a.take(1, "axis")?.map(|v| want_int(&v, "axis")).transpose()?.unwrap_or(0);
                a.finish()?;
                x.expand_dims(axis)
            }
            "squeeze" | "flip" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let axes = axis_spec(a.take(1, "axis")?)?;
                a.finish()?;
                if func == "squeeze" {
                    x.squeeze(axes)
                } else {
                    x.flip(axes)
                }
            }
            "pad" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let w = a.required(1, "pad_width")?;
                let value = a.take(2, "value")?.map(|v| want_lit(&v, "value")).transpose()?;
                a.finish()?;
                let widths = pad_widths(&w, x.rank())?;
                // NumPy pads with the zero of the array's dtype (`False` for bool) by default.
                match value {
                    Some(value) => x.pad(&widths, value),
                    None => x.pad_zeros(&widths),
                }
            }
            "concat" | "stack" => {
                let arrays = a.required(0, "arrays")?;
                let axis = a.take(1, "axis")?.map(|v| want_int(&v, "axis")).transpose()?.unwrap_or(0);
                a.finish()?;
                let Value::Tuple(items) = arrays.0 else {
                    return Err(ExprError::new(
                        format!("{func}() takes a tuple of arrays, e.g. {func}((a, b))"),
                        arrays.1,
                    ));
                };
                let ts: Vec<Tensor> =
                    items.into_iter().map(|v| want_tensor(v, "each array")).collect::<VResult<_>>()?;
                let refs: Vec<&Tensor> = ts.iter().collect();
                if func == "concat" {
                    concat(&refs, axis)
                } else {
                    stack(&refs, axis)
                }
            }
            "matmul" => {
                let x = want_tensor(a.required(0, "x1")?, "x1")?;
                let y = want_tensor(a.required(1, "x2")?, "x2")?;
                a.finish()?;
                x.matmul(&y)
            }
            "to_device" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let d = a.required(1, "device")?;
                a.finish()?;
                let Value::Str(name) = &d.0 else {
                    return Err(ExprError::new(
                        "device must be a device name like \"cpu\" or \"gpu:0\"",
                        d.1,
                    ));
                };
                let device = Device::parse(name).map_err(|m| ExprError::new(m, d.1))?;
                x.to_device(device)
            }
            "nonzero" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                let size = match a.take(1, "size")? {
                    None | Some((Value::None, _)) => None,
                    Some(v) => Some(want_usize(&v, "size")?),
                };
                let fill = a.take(2, "fill")?.map(|v| want_int(&v, "fill")).transpose()?.unwrap_or(-1);
                a.finish()?;
                x.nonzero(size, fill)
            }
            "unique_values" | "unique_counts" => {
                let x = want_tensor(a.required(0, "x")?, "x")?;
                a.finish()?;
                if func == "unique_values" {
                    x.unique_values()
                } else {
                    x.unique_counts()
                }
            }
            "full" | "zeros" | "ones" => {
                let shape = want_dims(&a.required(0, "shape")?, "shape")?;
                let value = if func == "full" {
                    Some(want_lit(&a.required(1, "fill_value")?, "fill_value")?)
                } else {
                    None
                };
                let dtype = a
                    .take(if func == "full" { 2 } else { 1 }, "dtype")?
                    .map(|v| want_dtype(&v))
                    .transpose()?;
                a.finish()?;
                let dtype = dtype.unwrap_or(value.map_or(DType::F64, Literal::default_dtype));
                match func {
                    "zeros" => self.graph.zeros(&shape, dtype),
                    "ones" => self.graph.ones(&shape, dtype),
                    _ => self.graph.full(&shape, value.unwrap_or(Literal::Int(0)), dtype),
                }
            }
            "arange" => {
                let first = want_lit(&a.required(0, "start")?, "start")?;
                let stop = a.take(1, "stop")?.map(|v| want_lit(&v, "stop")).transpose()?;
                let step =
                    a.take(2, "step")?.map(|v| want_lit(&v, "step")).transpose()?.unwrap_or(Literal::Int(1));
                let dtype = a.take(3, "dtype")?.map(|v| want_dtype(&v)).transpose()?;
                a.finish()?;
                let (start, stop) = match stop {
                    Some(s) => (first, s),
                    None => (Literal::Int(0), first),
                };
                let all_int = [start, stop, step].iter().all(|l| matches!(l, Literal::Int(_)));
                let dtype = dtype.unwrap_or(if all_int { DType::I64 } else { DType::F64 });
                self.graph.arange(start, stop, step, dtype)
            }
            _ => {
                return Err(ExprError::new(format!("unknown function `{func}`"), func_span)
                    .with_hint("see `switchyard support-table` for the op catalog"))
            }
        };
        out.map_err(err)
    }

    fn operand(&self, v: (Value, Span)) -> VResult<Operand> {
        match v.0 {
            Value::Tensor(t) => Ok(Operand::Tensor(t)),
            Value::Lit(l) => Ok(Operand::Literal(l)),
            other => {
                Err(ExprError::new(format!("expected an array or a number, got {}", other.describe()), v.1))
            }
        }
    }
}

/// `pad_width` as NumPy takes it: `n`, `(before, after)`, or one pair per axis.
fn pad_widths(v: &(Value, Span), rank: usize) -> VResult<Vec<(usize, usize)>> {
    let bad =
        || ExprError::new("pad_width must be n, (before, after), or ((before, after), ...) per axis", v.1);
    let one = |x: &(Value, Span)| want_usize(x, "a pad width");
    match &v.0 {
        Value::Lit(Literal::Int(_)) => {
            let n = one(v)?;
            Ok(vec![(n, n); rank])
        }
        Value::Tuple(items) if items.iter().all(|i| matches!(i.0, Value::Lit(Literal::Int(_)))) => {
            if items.len() != 2 {
                return Err(bad());
            }
            Ok(vec![(one(&items[0])?, one(&items[1])?); rank])
        }
        Value::Tuple(items) => items
            .iter()
            .map(|pair| match &pair.0 {
                Value::Tuple(p) if p.len() == 2 => Ok((one(&p[0])?, one(&p[1])?)),
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}
