//! Shared by the random tests (`differential.rs`, `fuzz.rs`): the seeded generator, the
//! typed inputs every random program may use, and a generator of random well-typed
//! programs in the expression language, so that every failure prints as text to replay
//! with `switchyard eval`.

#![allow(dead_code)] // each test file uses its own part

use std::collections::HashMap;

use switchyard::prelude::*;
use switchyard::stages::frontend::expr;

/// The one seeded generator (`ir::SeededRng`, also behind `random_array`).
pub use switchyard::SeededRng as Rng;

/// The inputs a random program may read: name, dtype, dims. Zero-size and rank-0 included.
pub const INPUTS: &[(&str, DType, &[usize])] = &[
    ("a", DType::F32, &[3, 4]),
    ("b", DType::F32, &[4]),
    ("c", DType::F64, &[2, 3, 4]),
    ("d", DType::F64, &[3, 1]),
    ("i", DType::I32, &[3, 4]),
    ("j", DType::I64, &[4]),
    ("k", DType::I32, &[2, 1, 4]),
    ("m", DType::Bool, &[3, 4]),
    ("n", DType::Bool, &[4]),
    ("e", DType::F32, &[0, 4]),
    ("s", DType::F64, &[]),
    ("z", DType::I64, &[2, 0]),
];

/// Random data for every input: floats mostly in [-3, 3] with NaN, infinities, signed zeros,
/// huge and tiny values mixed in; integers in [-10, 10] with the extremes of the dtype.
pub fn input_data(rng: &mut Rng) -> Vec<(&'static str, Array)> {
    let float = |rng: &mut Rng| -> f64 {
        if rng.chance(0.15) {
            *rng.pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1.0, 1e30, -1e-30, 3e38])
        } else {
            rng.next_unit() * 6.0 - 3.0
        }
    };
    let int = |rng: &mut Rng, min: i64, max: i64| -> i64 {
        if rng.chance(0.05) {
            *rng.pick(&[min, max, 0, -1])
        } else {
            rng.below(21) as i64 - 10
        }
    };
    INPUTS
        .iter()
        .map(|&(name, dtype, dims)| {
            let n: usize = dims.iter().product();
            let array = match dtype {
                DType::F32 => Array::from_vec(dims, (0..n).map(|_| float(rng) as f32).collect::<Vec<f32>>()),
                DType::F64 => Array::from_vec(dims, (0..n).map(|_| float(rng)).collect::<Vec<f64>>()),
                DType::I32 => Array::from_vec(
                    dims,
                    (0..n).map(|_| int(rng, i32::MIN.into(), i32::MAX.into()) as i32).collect::<Vec<i32>>(),
                ),
                DType::I64 => {
                    Array::from_vec(dims, (0..n).map(|_| int(rng, i64::MIN, i64::MAX)).collect::<Vec<i64>>())
                }
                DType::Bool => Array::from_vec(dims, (0..n).map(|_| rng.chance(0.5)).collect::<Vec<bool>>()),
            };
            (name, array.expect("input data fits its shape"))
        })
        .collect()
}

/// The inputs `text` reads: identifiers that name one of [`INPUTS`].
pub fn inputs_read(text: &str) -> Vec<&'static str> {
    let words: Vec<&str> = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
    INPUTS.iter().map(|i| i.0).filter(|name| words.contains(name)).collect()
}

/// Declares in `g` the inputs `text` reads and returns the environment for `expr::build`.
pub fn declare_inputs(g: &Graph, text: &str) -> expr::Env {
    let mut env = HashMap::new();
    for &(name, dtype, dims) in INPUTS.iter().filter(|i| inputs_read(text).contains(&i.0)) {
        env.insert(name.to_string(), g.input(name, dtype, dims).expect("inputs are valid"));
    }
    env
}

/// A generated subexpression: its text, type, and whether every backend must compute it bit
/// for bit like the reference (`exact`): only then may a discontinuous op (rounding,
/// comparison, cast to an integer, argmax) consume it, since one ulp there changes a result
/// completely.
#[derive(Clone, Debug)]
pub struct Gen {
    /// Expression-language text.
    pub text: String,
    /// Element type.
    pub dtype: DType,
    /// Dims.
    pub dims: Vec<usize>,
    /// Computed exactly (same bits) by every backend.
    pub exact: bool,
}

fn kind(d: DType) -> u8 {
    match d {
        DType::Bool => 0,
        DType::I32 | DType::I64 => 1,
        DType::F32 | DType::F64 => 2,
    }
}

fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::Bool => "bool",
        DType::I32 => "i32",
        DType::I64 => "i64",
        DType::F32 => "f32",
        DType::F64 => "f64",
    }
}

fn tuple(items: &[String]) -> String {
    if items.len() == 1 {
        format!("({},)", items[0])
    } else {
        format!("({})", items.join(", "))
    }
}

fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let x = if i < rank - a.len() { 1 } else { a[i - (rank - a.len())] };
        let y = if i < rank - b.len() { 1 } else { b[i - (rank - b.len())] };
        out[i] = match (x, y) {
            _ if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Generates random well-typed programs over [`INPUTS`] (most are well typed; the few that
/// are not are refused when built, which is also checked). `tan` is left out (near its
/// poles one ulp of the argument is any result; the conformance suite holds it to its
/// declared precision), and exponents are bounded.
pub struct Programs<'r> {
    /// The source of randomness.
    pub rng: &'r mut Rng,
}

impl Programs<'_> {
    fn leaf(&mut self) -> Gen {
        let &(name, dtype, dims) = self.rng.pick(INPUTS);
        Gen { text: name.to_string(), dtype, dims: dims.to_vec(), exact: true }
    }

    /// A random program of at most `depth` nested ops.
    pub fn program(&mut self, depth: u32) -> Gen {
        if depth == 0 || self.rng.chance(0.2) {
            return self.leaf();
        }
        let d = depth - 1;
        match self.rng.below(13) {
            0 | 1 => self.unary(d),
            2..=4 => self.binary(d),
            5 => self.where_(d),
            6 => self.cast(d),
            7 => self.reduce(d),
            8 | 9 => self.shape_op(d),
            10 => self.clip(d),
            11 => self.join(d),
            _ => self.matmul(d),
        }
    }

    fn unary(&mut self, d: u32) -> Gen {
        let x = self.program(d);
        let (op, exact, out) = match kind(x.dtype) {
            0 => ("logical_not", true, DType::Bool),
            1 => (*self.rng.pick(&["negative", "abs", "sign", "square"]), true, x.dtype),
            _ => {
                let exact_ops = ["negative", "abs", "sqrt", "square", "reciprocal"];
                let discontinuous = ["floor", "ceil", "round", "sign"];
                let predicates = ["isnan", "isinf", "isfinite"];
                let inexact =
                    ["exp", "exp2", "expm1", "log", "log2", "log1p", "sin", "cos", "tanh", "sigmoid"];
                match self.rng.below(4) {
                    0 => (*self.rng.pick(&exact_ops), x.exact, x.dtype),
                    1 if x.exact => (*self.rng.pick(&discontinuous), true, x.dtype),
                    2 if x.exact => (*self.rng.pick(&predicates), true, DType::Bool),
                    _ => {
                        let op = *self.rng.pick(&inexact);
                        // Keep magnitudes moderate so that tolerances stay meaningful.
                        let arg = if op.starts_with("exp") {
                            format!("clip({}, -8, 8)", x.text)
                        } else {
                            x.text.clone()
                        };
                        return Gen {
                            text: format!("{op}({arg})"),
                            dtype: x.dtype,
                            dims: x.dims,
                            exact: false,
                        };
                    }
                }
            }
        };
        Gen { text: format!("{op}({})", x.text), dtype: out, dims: x.dims, exact }
    }

    /// An operand for `x`'s binary op: same kind (cast when needed) and broadcastable.
    fn partner(&mut self, x: &Gen, d: u32) -> Gen {
        let mut y = self.program(d);
        if broadcast(&x.dims, &y.dims).is_none() {
            let op = if kind(y.dtype) == 0 { "any" } else { "max" };
            y = Gen { text: format!("{op}({})", y.text), dtype: y.dtype, dims: vec![], exact: y.exact };
            if y.dims.is_empty() && self.rng.chance(0.5) {
                y.text = format!("{}[None]", y.text);
                y.dims = vec![1];
            }
        }
        if kind(y.dtype) != kind(x.dtype) {
            if !y.exact && kind(x.dtype) < 2 {
                // Casting an inexact float to an integer or bool is discontinuous.
                return self.literal(x.dtype);
            }
            let exact = y.exact;
            y = Gen {
                text: format!("cast({}, dtype={})", y.text, dtype_name(x.dtype)),
                dtype: x.dtype,
                exact,
                ..y
            };
        }
        y
    }

    fn literal(&mut self, dtype: DType) -> Gen {
        let text = match kind(dtype) {
            0 => self.rng.pick(&["true", "false"]).to_string(),
            1 => self.rng.pick(&["0", "1", "-1", "2", "7", "-3"]).to_string(),
            _ => self.rng.pick(&["0", "-0.0", "1", "0.5", "-2", "3", "1e30", "inf", "nan"]).to_string(),
        };
        Gen { text, dtype, dims: vec![], exact: true }
    }

    fn binary(&mut self, d: u32) -> Gen {
        let x = self.program(d);
        let literal = self.rng.chance(0.25);
        let y = if literal { self.literal(x.dtype) } else { self.partner(&x, d) };
        let dims = broadcast(&x.dims, &y.dims).unwrap_or_else(|| x.dims.clone());
        let exact = x.exact && y.exact;
        // A literal is a weak scalar (x's dtype); arrays, rank 0 included, promote.
        let promoted = if literal { x.dtype } else { x.dtype.max(y.dtype) };
        let (op, out, exact) = match kind(x.dtype) {
            0 => (*self.rng.pick(&["&", "|", "^", "==", "!="]), DType::Bool, true),
            1 => match self.rng.below(4) {
                0 => (*self.rng.pick(&["+", "-", "*"]), promoted, true),
                1 => (*self.rng.pick(&["//", "%"]), promoted, true),
                2 => (*self.rng.pick(&["maximum", "minimum"]), promoted, true),
                _ => (*self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]), DType::Bool, true),
            },
            _ => match self.rng.below(5) {
                0 => (*self.rng.pick(&["+", "-", "*", "/"]), promoted, exact),
                1 => (*self.rng.pick(&["maximum", "minimum"]), promoted, exact),
                2 if exact => {
                    (*self.rng.pick(&["<", "<=", ">", ">=", "==", "!=", "//", "%"]), DType::Bool, true)
                }
                // atan2 jumps by 2 pi across the negative x axis (the sign of a zero y).
                3 if exact => (*self.rng.pick(&["**", "atan2"]), promoted, false),
                3 => ("**", promoted, false),
                _ => (*self.rng.pick(&["+", "*"]), promoted, exact),
            },
        };
        let out = if (op == "//" || op == "%") && kind(x.dtype) == 2 { promoted } else { out };
        let text = if op == "**" {
            // A bounded exponent: x ** 1e30 turns one ulp of x into any result at all.
            format!("({} ** clip({}, -3, 3))", x.text, y.text)
        } else if op.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            format!("{op}({}, {})", x.text, y.text)
        } else {
            format!("({} {op} {})", x.text, y.text)
        };
        Gen { text, dtype: out, dims, exact }
    }

    fn where_(&mut self, d: u32) -> Gen {
        let x = self.program(d);
        let y = self.partner(&x, d);
        let mut c = self.program(d);
        if c.dtype != DType::Bool || !c.exact {
            c = Gen { text: "m".into(), dtype: DType::Bool, dims: vec![3, 4], exact: true };
        }
        let dims = broadcast(&x.dims, &y.dims).and_then(|xy| broadcast(&xy, &c.dims)).unwrap_or_default();
        Gen {
            text: format!("where({}, {}, {})", c.text, x.text, y.text),
            dtype: x.dtype.max(y.dtype),
            dims,
            exact: x.exact && y.exact,
        }
    }

    fn cast(&mut self, d: u32) -> Gen {
        let x = self.program(d);
        let to = *self.rng.pick(&DType::ALL);
        if kind(to) < 2 && !x.exact {
            return x;
        }
        let exact = x.exact;
        Gen { text: format!("cast({}, dtype={})", x.text, dtype_name(to)), dtype: to, dims: x.dims, exact }
    }

    fn clip(&mut self, d: u32) -> Gen {
        let x = self.program(d);
        if kind(x.dtype) == 0 {
            return x;
        }
        let text = match self.rng.below(4) {
            0 => format!("clip({}, -1, 2)", x.text),
            1 => format!("clip({}, min=0)", x.text),
            2 => format!("clip({}, None, 1)", x.text),
            _ => format!("clip({}, 3, -3)", x.text),
        };
        Gen { text, ..x }
    }

    fn axes(&mut self, rank: usize) -> (String, Vec<usize>) {
        if rank == 0 || self.rng.chance(0.25) {
            return ("None".into(), (0..rank).collect());
        }
        let mut chosen: Vec<usize> = (0..rank).filter(|_| self.rng.chance(0.5)).collect();
        if chosen.is_empty() {
            chosen.push(self.rng.below(rank));
        }
        let names: Vec<String> = chosen
            .iter()
            .map(
                |&a| if self.rng.chance(0.3) { format!("{}", a as i64 - rank as i64) } else { a.to_string() },
            )
            .collect();
        (tuple(&names), chosen)
    }

    fn reduce(&mut self, d: u32) -> Gen {
        let x = self.program(d);
        let keep = self.rng.chance(0.4);
        let reduced = |dims: &[usize], axes: &[usize]| -> Vec<usize> {
            dims.iter()
                .enumerate()
                .filter_map(|(i, &n)| if axes.contains(&i) { keep.then_some(1) } else { Some(n) })
                .collect()
        };
        let keepdims = if keep { ", keepdims=true" } else { "" };
        if kind(x.dtype) > 0 && x.exact && self.rng.chance(0.2) {
            let op = *self.rng.pick(&["argmax", "argmin"]);
            if x.dims.is_empty() || self.rng.chance(0.3) {
                let dims = if keep { vec![1; x.dims.len()] } else { vec![] };
                return Gen {
                    text: format!("{op}({}{keepdims})", x.text),
                    dtype: DType::I64,
                    dims,
                    exact: true,
                };
            }
            let axis = self.rng.below(x.dims.len());
            let dims = reduced(&x.dims, &[axis]);
            return Gen {
                text: format!("{op}({}, axis={axis}{keepdims})", x.text),
                dtype: DType::I64,
                dims,
                exact: true,
            };
        }
        let (axes_text, axes) = self.axes(x.dims.len());
        let dims = reduced(&x.dims, &axes);
        let (op, dtype, exact) = match kind(x.dtype) {
            0 => (*self.rng.pick(&["any", "all"]), DType::Bool, x.exact),
            1 => {
                let op = *self.rng.pick(&["sum", "prod", "max", "min"]);
                (op, if op == "sum" || op == "prod" { DType::I64 } else { x.dtype }, x.exact)
            }
            _ => {
                let op = *self.rng.pick(&["sum", "prod", "max", "min", "mean", "var", "std"]);
                (op, x.dtype, x.exact && (op == "max" || op == "min"))
            }
        };
        Gen { text: format!("{op}({}, axis={axes_text}{keepdims})", x.text), dtype, dims, exact }
    }

    fn shape_op(&mut self, d: u32) -> Gen {
        let x = self.program(d);
        let rank = x.dims.len();
        let numel: usize = x.dims.iter().product();
        match self.rng.below(8) {
            0 if numel > 0 => {
                // Reshape into a random factorization (or with -1).
                let mut rest = numel;
                let mut dims = Vec::new();
                for f in [2, 3, 2, 5] {
                    if rest.is_multiple_of(f) && self.rng.chance(0.5) {
                        dims.push(f);
                        rest /= f;
                    }
                }
                dims.push(rest);
                let mut names: Vec<String> = dims.iter().map(usize::to_string).collect();
                if self.rng.chance(0.3) {
                    let last = names.len() - 1;
                    names[last] = "-1".into();
                }
                Gen { text: format!("reshape({}, {})", x.text, tuple(&names)), dims, ..x }
            }
            1 if rank >= 2 => {
                let mut axes: Vec<usize> = (0..rank).collect();
                for i in (1..rank).rev() {
                    axes.swap(i, self.rng.below(i + 1));
                }
                let dims = axes.iter().map(|&a| x.dims[a]).collect();
                let names: Vec<String> = axes.iter().map(usize::to_string).collect();
                Gen { text: format!("permute_dims({}, {})", x.text, tuple(&names)), dims, ..x }
            }
            2 => {
                let axis = self.rng.below(rank + 1);
                let mut dims = x.dims.clone();
                dims.insert(axis, 1);
                Gen { text: format!("expand_dims({}, axis={axis})", x.text), dims, ..x }
            }
            3 if x.dims.contains(&1) => {
                let axis = x.dims.iter().position(|&n| n == 1).unwrap_or(0);
                let mut dims = x.dims.clone();
                dims.remove(axis);
                Gen { text: format!("squeeze({}, axis={axis})", x.text), dims, ..x }
            }
            4 if rank > 0 => {
                let (axes_text, _) = self.axes(rank);
                Gen { text: format!("flip({}, axis={axes_text})", x.text), ..x }
            }
            5 if rank > 0 => {
                // Basic indexing: a slice with a step on each axis, or an integer, or None.
                let mut items = Vec::new();
                let mut dims = Vec::new();
                for &n in &x.dims {
                    match self.rng.below(4) {
                        0 if n > 0 => {
                            let i = self.rng.below(n);
                            items.push(if self.rng.chance(0.5) {
                                i.to_string()
                            } else {
                                format!("{}", i as i64 - n as i64)
                            });
                        }
                        1 => {
                            let step = *self.rng.pick(&[1i64, 2, -1, -2, 3]);
                            items.push(format!("::{step}"));
                            dims.push(n.div_ceil(step.unsigned_abs() as usize));
                        }
                        2 => {
                            let start = self.rng.below(n + 1);
                            items.push(format!("{start}:"));
                            dims.push(n - start);
                        }
                        _ => {
                            items.push(":".into());
                            dims.push(n);
                        }
                    }
                }
                if self.rng.chance(0.3) {
                    items.push("None".into());
                    dims.push(1);
                }
                Gen { text: format!("{}[{}]", x.text, items.join(", ")), dims, ..x }
            }
            6 => {
                let mut dims = x.dims.clone();
                dims.insert(0, 2);
                let names: Vec<String> = dims.iter().map(usize::to_string).collect();
                Gen { text: format!("broadcast_to({}, {})", x.text, tuple(&names)), dims, ..x }
            }
            _ if rank > 0 => {
                let widths: Vec<(usize, usize)> =
                    x.dims.iter().map(|_| (self.rng.below(2), self.rng.below(3))).collect();
                let dims = x.dims.iter().zip(&widths).map(|(&n, (lo, hi))| n + lo + hi).collect();
                let names: Vec<String> = widths.iter().map(|(lo, hi)| format!("({lo}, {hi})")).collect();
                Gen { text: format!("pad({}, {})", x.text, tuple(&names)), dims, ..x }
            }
            _ => x,
        }
    }

    fn join(&mut self, d: u32) -> Gen {
        let x = self.program(d);
        let other = match kind(x.dtype) {
            0 => format!("logical_not({})", x.text),
            // Not `negative(x)`: sums over `concat((x, -x))` cancel exactly in one order only.
            _ => format!("({} * 2)", x.text),
        };
        let rank = x.dims.len();
        if self.rng.chance(0.5) && rank > 0 {
            let axis = self.rng.below(rank);
            let mut dims = x.dims.clone();
            dims[axis] *= 2;
            Gen { text: format!("concat(({}, {other}), axis={axis})", x.text), dims, ..x }
        } else {
            let axis = self.rng.below(rank + 1);
            let mut dims = x.dims.clone();
            dims.insert(axis, 2);
            Gen { text: format!("stack(({}, {other}), axis={axis})", x.text), dims, ..x }
        }
    }

    fn matmul(&mut self, d: u32) -> Gen {
        let x = self.program(d);
        if kind(x.dtype) == 0 || x.dims.len() < 2 {
            return x;
        }
        let r = x.dims.len();
        let mut dims = x.dims.clone();
        dims[r - 1] = x.dims[r - 2];
        let exact = kind(x.dtype) == 1 && x.exact;
        let mut axes: Vec<String> = (0..r).map(|a| a.to_string()).collect();
        axes.swap(r - 1, r - 2);
        Gen { text: format!("({} @ permute_dims({}, {}))", x.text, x.text, tuple(&axes)), dims, exact, ..x }
    }
}
