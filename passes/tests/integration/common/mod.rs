//! Shared test helpers: a terse graph builder, a seeded random graph generator, and a small
//! evaluator with the reference backend's semantics (elementwise ops from
//! `switchyard_ir::elementwise`, sequential f64 sums) to check that rewrites keep results.
#![allow(dead_code)]

use switchyard_ir::elementwise::{binary_scalar, clip_scalar, unary_scalar};
use switchyard_ir::{
    Axes, BinaryOp, DType, IrGraph, NodeId, Op, ReduceOp, Scalar, Shape, SliceAxis, UnaryOp,
};
use switchyard_passes::{optimize, Optimized, Options};

/// A graph under construction.
#[derive(Default)]
pub struct B {
    pub g: IrGraph,
}

impl B {
    pub fn new() -> B {
        B::default()
    }
    pub fn input(&mut self, name: &str, dtype: DType, dims: &[usize]) -> NodeId {
        self.op(Op::Input { name: name.into(), dtype, shape: Shape::new(dims).unwrap() }, &[])
    }
    pub fn c(&mut self, value: Scalar) -> NodeId {
        self.op(Op::Full { value, shape: Shape::scalar() }, &[])
    }
    pub fn cs(&mut self, value: Scalar, dims: &[usize]) -> NodeId {
        self.op(Op::Full { value, shape: Shape::new(dims).unwrap() }, &[])
    }
    pub fn u(&mut self, op: UnaryOp, x: NodeId) -> NodeId {
        self.op(Op::Unary(op), &[x])
    }
    pub fn b(&mut self, op: BinaryOp, x: NodeId, y: NodeId) -> NodeId {
        self.op(Op::Binary(op), &[x, y])
    }
    pub fn op(&mut self, op: Op, inputs: &[NodeId]) -> NodeId {
        self.g.add(op, inputs).unwrap()
    }
    pub fn reduce(&mut self, op: ReduceOp, axes: &[usize], keepdims: bool, x: NodeId) -> NodeId {
        self.op(Op::Reduce { op, axes: axes.iter().copied().collect(), keepdims, correction: 0 }, &[x])
    }
}

/// Optimizes with `options`, checks the result is valid and no bigger than the input.
pub fn run(g: &IrGraph, outs: &[NodeId], options: &Options) -> Optimized {
    let out = optimize(g, outs, options).unwrap();
    out.graph.validate().unwrap();
    assert_eq!(out.outputs.len(), outs.len());
    for (o, n) in outs.iter().zip(&out.outputs) {
        assert_eq!(g.node(*o).ty(), out.graph.node(*n).ty(), "output types are kept");
    }
    assert!(
        !out.report.rules.keys().any(|k| k.starts_with('!')),
        "a rule produced an ill-typed result: {:?}",
        out.report.rules
    );
    assert!(
        !out.report.limit_hit.as_deref().unwrap_or("").contains("inconsistency"),
        "{:?}",
        out.report.limit_hit
    );
    out
}

/// Optimizes with the default options.
pub fn opt(b: &B, outs: &[NodeId]) -> Optimized {
    run(&b.g, outs, &Options::default())
}

/// Optimizes with fast-math on.
pub fn opt_fast(b: &B, outs: &[NodeId]) -> Optimized {
    run(&b.g, outs, &Options::fast_math())
}

/// The one seeded generator (`ir::SeededRng`).
pub use switchyard_ir::SeededRng as Rng;

/// Float values that exercise the edge cases of every identity.
pub const SPECIAL: [f64; 12] =
    [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -2.5, 3.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300];

pub fn scalar_of(dtype: DType, v: f64) -> Scalar {
    match dtype {
        DType::Bool => Scalar::Bool(v != 0.0 && !v.is_nan()),
        DType::I32 => Scalar::I32(if v.is_finite() { v as i32 } else { i32::MIN }),
        DType::I64 => Scalar::I64(if v.is_finite() { v as i64 } else { i64::MAX }),
        DType::F32 => Scalar::F32(v as f32),
        DType::F64 => Scalar::F64(v),
    }
}

/// A random graph of `n` op attempts over inputs `x` (f64[2,3]), `y` (f64[3]), `k` (i32[2,3]),
/// `m` (i64[3]) and `p` (bool[2,3]), with constants of special values. Ill-typed attempts are
/// skipped. Returns the graph and a few outputs (the last nodes and some random ones).
pub fn random_graph(seed: u64, n: usize) -> (IrGraph, Vec<NodeId>) {
    use BinaryOp as Bo;
    use UnaryOp as Uo;
    let mut rng = Rng::new(seed);
    let mut b = B::new();
    let mut nodes = vec![
        b.input("x", DType::F64, &[2, 3]),
        b.input("y", DType::F64, &[3]),
        b.input("k", DType::I32, &[2, 3]),
        b.input("m", DType::I64, &[3]),
        b.input("p", DType::Bool, &[2, 3]),
    ];
    let unary = [
        Uo::Neg,
        Uo::Abs,
        Uo::Sign,
        Uo::Sqrt,
        Uo::Exp,
        Uo::Log,
        Uo::Floor,
        Uo::Round,
        Uo::Reciprocal,
        Uo::Square,
        Uo::LogicalNot,
        Uo::IsNan,
        Uo::Sigmoid,
    ];
    let binary = [
        Bo::Add,
        Bo::Sub,
        Bo::Mul,
        Bo::Div,
        Bo::Pow,
        Bo::Maximum,
        Bo::Minimum,
        Bo::FloorDivide,
        Bo::Eq,
        Bo::Lt,
        Bo::LogicalAnd,
        Bo::LogicalOr,
        Bo::LogicalXor,
    ];
    let dtypes = [DType::F64, DType::F32, DType::I32, DType::I64, DType::Bool];
    for _ in 0..n {
        let pick = |rng: &mut Rng, nodes: &Vec<NodeId>| {
            // Prefer recent nodes so graphs get deep, but reach back too.
            if rng.below(3) == 0 {
                nodes[rng.below(nodes.len())]
            } else {
                nodes[nodes.len() - 1 - rng.below(nodes.len().min(8))]
            }
        };
        let a = pick(&mut rng, &nodes);
        let c = pick(&mut rng, &nodes);
        let dt = b.g.node(a).dtype();
        let op = match rng.below(14) {
            0..=3 => Op::Unary(*rng.pick(&unary)),
            4..=8 => Op::Binary(*rng.pick(&binary)),
            9 => {
                let v = SPECIAL[rng.below(SPECIAL.len())];
                let id = b.g.add(Op::Full { value: scalar_of(dt, v), shape: Shape::scalar() }, &[]).unwrap();
                let op = Op::Binary(*rng.pick(&binary));
                let (l, r) = if rng.below(2) == 0 { (a, id) } else { (id, a) };
                if let Ok(id) = b.g.add(op, &[l, r]) {
                    nodes.push(id);
                }
                continue;
            }
            10 => Op::Cast(*rng.pick(&dtypes)),
            11 => Op::Where,
            12 => {
                let rank = b.g.node(a).shape().rank();
                let axes: Axes = (0..rank).filter(|_| rng.below(2) == 0).collect();
                let r =
                    *rng.pick(&[ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Any, ReduceOp::All]);
                Op::Reduce { op: r, axes, keepdims: rng.below(2) == 0, correction: 0 }
            }
            _ => {
                let dims = b.g.node(a).shape().dims().to_vec();
                match rng.below(4) {
                    0 => Op::BroadcastTo(Shape::new(&[2, 3]).unwrap()),
                    1 => Op::Reshape(Shape::new(&[dims.iter().product()]).unwrap()),
                    2 => Op::PermuteDims((0..dims.len()).rev().collect()),
                    _ => Op::Flip((0..dims.len()).collect()),
                }
            }
        };
        let inputs: Vec<NodeId> = match op {
            Op::Binary(_) => vec![a, c],
            Op::Where => {
                let cond = nodes
                    .iter()
                    .rev()
                    .copied()
                    .find(|&i| b.g.node(i).dtype() == DType::Bool)
                    .unwrap_or(nodes[4]);
                vec![cond, a, c]
            }
            _ => vec![a],
        };
        if let Ok(id) = b.g.add(op, &inputs) {
            if !nodes.contains(&id) {
                nodes.push(id);
            }
        }
    }
    // Every node nothing uses is an output (so most of the graph is live), plus a few more.
    let mut outs: Vec<NodeId> = nodes.iter().copied().filter(|&i| b.g.users(i).is_empty()).collect();
    for _ in 0..3 {
        outs.push(nodes[rng.below(nodes.len())]);
    }
    outs.sort();
    outs.dedup();
    (b.g, outs)
}

/// An evaluated array: row-major values of one dtype.
#[derive(Clone, Debug)]
pub struct Arr {
    pub dims: Vec<usize>,
    pub v: Vec<Scalar>,
}

fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1];
    }
    s
}

fn unravel(mut i: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for a in (0..dims.len()).rev() {
        if dims[a] > 0 {
            idx[a] = i % dims[a];
            i /= dims[a];
        }
    }
    idx
}

/// Element of `a` at the multi-index `idx` of a broadcast result of rank `idx.len()`.
fn bcast_get(a: &Arr, idx: &[usize]) -> Scalar {
    let off = idx.len() - a.dims.len();
    let st = strides(&a.dims);
    let mut flat = 0;
    for (k, &d) in a.dims.iter().enumerate() {
        let i = if d == 1 { 0 } else { idx[k + off] };
        flat += i * st[k];
    }
    a.v[flat]
}

/// Evaluates `outs` of `g` with input values from `inputs(name, dtype, numel)`.
pub fn eval(g: &IrGraph, outs: &[NodeId], inputs: &dyn Fn(&str, DType, usize) -> Vec<Scalar>) -> Vec<Arr> {
    let mut vals: Vec<Option<Arr>> = vec![None; g.len()];
    for (id, node) in g.nodes() {
        let ins: Vec<&Arr> = node.inputs().iter().map(|i| vals[i.index()].as_ref().unwrap()).collect();
        let ty = node.ty();
        let dims = ty.shape.dims().to_vec();
        let numel = ty.shape.numel();
        let map_n = |f: &dyn Fn(&[Scalar]) -> Scalar| -> Vec<Scalar> {
            (0..numel)
                .map(|i| {
                    let idx = unravel(i, &dims);
                    let xs: Vec<Scalar> = ins.iter().map(|a| bcast_get(a, &idx)).collect();
                    f(&xs).cast(ty.dtype)
                })
                .collect()
        };
        let v: Vec<Scalar> = match node.op() {
            Op::Input { name, dtype, .. } => inputs(name, *dtype, numel),
            Op::Full { value, .. } => vec![*value; numel],
            Op::Unary(u) => map_n(&|x| unary_scalar(*u, x[0])),
            Op::Binary(bo) => map_n(&|x| binary_scalar(*bo, x[0], x[1])),
            Op::Cast(d) => map_n(&|x| x[0].cast(*d)),
            Op::Clip => map_n(&|x| clip_scalar(x[0], x[1], x[2])),
            Op::Where => {
                map_n(&|x| if x[0] == Scalar::Bool(true) { x[1].cast(ty.dtype) } else { x[2].cast(ty.dtype) })
            }
            Op::BroadcastTo(_) => map_n(&|x| x[0]),
            Op::Reshape(_) | Op::ExpandDims(_) | Op::Squeeze(_) => ins[0].v.clone(),
            Op::PermuteDims(p) => (0..numel)
                .map(|i| {
                    let idx = unravel(i, &dims);
                    let mut src = vec![0; p.len()];
                    for (k, &a) in p.iter().enumerate() {
                        src[a] = idx[k];
                    }
                    let st = strides(&ins[0].dims);
                    ins[0].v[src.iter().zip(&st).map(|(a, b)| a * b).sum::<usize>()]
                })
                .collect(),
            Op::Flip(axes) => (0..numel)
                .map(|i| {
                    let mut idx = unravel(i, &dims);
                    for &a in axes {
                        idx[a] = dims[a] - 1 - idx[a];
                    }
                    let st = strides(&dims);
                    ins[0].v[idx.iter().zip(&st).map(|(a, b)| a * b).sum::<usize>()]
                })
                .collect(),
            Op::Slice(spec) => (0..numel)
                .map(|i| {
                    let idx = unravel(i, &dims);
                    let st = strides(&ins[0].dims);
                    let flat: isize = idx
                        .iter()
                        .zip(spec)
                        .zip(&st)
                        .map(|((&j, s), &stride): ((&usize, &SliceAxis), &usize)| {
                            (s.start as isize + j as isize * s.step) * stride as isize
                        })
                        .sum();
                    ins[0].v[flat as usize]
                })
                .collect(),
            Op::Reduce { op, axes, .. } => {
                let x = ins[0];
                let kept: Vec<usize> = (0..x.dims.len()).filter(|a| !axes.contains(a)).collect();
                let out_dims: Vec<usize> = kept.iter().map(|&a| x.dims[a]).collect();
                let n_out: usize = out_dims.iter().product();
                let mut groups: Vec<Vec<Scalar>> = vec![Vec::new(); n_out];
                for (i, &s) in x.v.iter().enumerate() {
                    let idx = unravel(i, &x.dims);
                    let o: Vec<usize> = kept.iter().map(|&a| idx[a]).collect();
                    let st = strides(&out_dims);
                    groups[o.iter().zip(&st).map(|(a, b)| a * b).sum::<usize>()].push(s);
                }
                groups
                    .into_iter()
                    .map(|grp| {
                        let r = match op {
                            ReduceOp::Sum if x_is_float(&grp, ty.dtype) => {
                                Scalar::F64(grp.iter().fold(0.0, |acc, s| acc + s.to_f64()))
                            }
                            ReduceOp::Sum => Scalar::I64(
                                grp.iter().fold(0i64, |acc, s| acc.wrapping_add(s.to_i64().unwrap())),
                            ),
                            ReduceOp::Max => grp
                                .iter()
                                .copied()
                                .reduce(|a, b| binary_scalar(BinaryOp::Maximum, a, b))
                                .unwrap(),
                            ReduceOp::Min => grp
                                .iter()
                                .copied()
                                .reduce(|a, b| binary_scalar(BinaryOp::Minimum, a, b))
                                .unwrap(),
                            ReduceOp::Any => Scalar::Bool(grp.contains(&Scalar::Bool(true))),
                            ReduceOp::All => Scalar::Bool(grp.iter().all(|s| *s == Scalar::Bool(true))),
                            other => panic!("eval: {other:?} not supported"),
                        };
                        r.cast(ty.dtype)
                    })
                    .collect()
            }
            other => panic!("eval: {other} not supported"),
        };
        assert_eq!(v.len(), numel);
        vals[id.index()] = Some(Arr { dims, v });
    }
    outs.iter().map(|o| vals[o.index()].clone().unwrap()).collect()
}

fn x_is_float(_grp: &[Scalar], out: DType) -> bool {
    out.is_float()
}

/// Distance in units in the last place between two floats of one dtype (0 when identical
/// bits, or both NaN); `u64::MAX` for a mismatch of kind (NaN vs number, different ints).
pub fn ulps(a: Scalar, b: Scalar) -> u64 {
    fn key32(x: f32) -> i64 {
        let b = x.to_bits() as i32;
        i64::from(if b < 0 { i32::MIN - b } else { b })
    }
    fn key64(x: f64) -> i128 {
        let b = x.to_bits() as i64;
        i128::from(if b < 0 { i64::MIN - b } else { b })
    }
    match (a, b) {
        (Scalar::F32(x), Scalar::F32(y)) if x.is_nan() || y.is_nan() => {
            if x.is_nan() && y.is_nan() {
                0
            } else {
                u64::MAX
            }
        }
        (Scalar::F64(x), Scalar::F64(y)) if x.is_nan() || y.is_nan() => {
            if x.is_nan() && y.is_nan() {
                0
            } else {
                u64::MAX
            }
        }
        (Scalar::F32(x), Scalar::F32(y)) => (key32(x) - key32(y)).unsigned_abs(),
        (Scalar::F64(x), Scalar::F64(y)) => {
            u64::try_from((key64(x) - key64(y)).unsigned_abs()).unwrap_or(u64::MAX)
        }
        (x, y) => {
            if x == y {
                0
            } else {
                u64::MAX
            }
        }
    }
}

/// A unused import guard for helpers only some test files use.
pub fn _unused(_: Axes, _: UnaryOp) {}

/// A 10,000-node elementwise chain with a rewrite opportunity at every step.
pub fn chain() -> (IrGraph, Vec<NodeId>) {
    let mut b = B::new();
    let x = b.input("x", DType::F64, &[3]);
    let one = b.c(Scalar::F64(1.0));
    let mut t = x;
    let mut outs = Vec::new();
    for i in 0..3_300 {
        let m = b.b(BinaryOp::Mul, t, one);
        let n = b.u(UnaryOp::Neg, m);
        t = b.u(if i % 2 == 0 { UnaryOp::Neg } else { UnaryOp::Sin }, n);
        if i % 100 == 0 {
            outs.push(t);
        }
    }
    outs.push(t);
    (b.g, outs)
}
