//! `Graph`: a shared handle to the IR graph that tensors are built into, and the entry
//! points that turn it into a plan or an executable.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use switchyard_ir::{DType, Device, InputDecl, IrError, IrErrorKind, NodeId, Op, Scalar, Shape};
use switchyard_lower::{build_plan, Plan, PlanRequest};
use switchyard_passes::{optimize, Origins};
use switchyard_runtime::Executable;

use crate::engine::{Engine, GraphKey};
use crate::error::Result;
use crate::operand::Literal;
use crate::tensor::Tensor;

struct Inner {
    ir: Mutex<switchyard_ir::IrGraph>,
    engine: Engine,
    /// The expression text each node was built from, where it was built from text.
    texts: Mutex<HashMap<NodeId, String>>,
}

/// A lazy graph under construction. Cloning gives another handle to the same graph;
/// tensors of one graph cannot be combined with tensors of another.
#[derive(Clone)]
pub struct Graph {
    inner: Arc<Inner>,
}

impl Default for Graph {
    fn default() -> Graph {
        Graph::new()
    }
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", *self.lock())
    }
}

impl std::fmt::Display for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", *self.lock())
    }
}

impl Graph {
    /// An empty graph on the global [`Engine`].
    pub fn new() -> Graph {
        Graph::with_engine(Engine::global())
    }

    /// An empty graph planned with `engine`.
    pub fn with_engine(engine: Engine) -> Graph {
        Graph {
            inner: Arc::new(Inner {
                ir: Mutex::new(switchyard_ir::IrGraph::new()),
                engine,
                texts: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The engine this graph is planned with.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, switchyard_ir::IrGraph> {
        // A panic while holding the lock cannot leave the graph half-updated: `add` mutates
        // only after every check has passed. So a poisoned lock is still consistent.
        self.inner.ir.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records that node `id` was built from the expression text `text` (the first text
    /// recorded for a node is kept: hash-consing may hand an existing node to a later text).
    pub(crate) fn note_origin(&self, id: NodeId, text: &str) {
        let mut texts = self.inner.texts.lock().unwrap_or_else(|e| e.into_inner());
        texts.entry(id).or_insert_with(|| text.to_string());
    }

    /// The expression text node `id` of an optimized graph came from: the text of the first
    /// node of this graph it stands for (`origins`, from the optimizer) that was built from
    /// text, if any.
    fn origin_of(&self, origins: &Origins, id: NodeId) -> Option<String> {
        let texts = self.inner.texts.lock().unwrap_or_else(|e| e.into_inner());
        origins.of(id).iter().find_map(|n| texts.get(n)).cloned()
    }

    pub(crate) fn same(&self, other: &Graph) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// A copy of the IR graph built so far.
    pub fn to_ir(&self) -> switchyard_ir::IrGraph {
        self.lock().clone()
    }

    /// Adds a node and wraps it as a tensor.
    pub(crate) fn add(&self, op: Op, inputs: &[&Tensor]) -> Result<Tensor> {
        let mut ids = Vec::with_capacity(inputs.len());
        for t in inputs {
            if !self.same(t.graph()) {
                return Err(IrError::new(
                    IrErrorKind::BadInput,
                    op.name(),
                    "operands belong to different graphs; build all tensors of one expression in one Graph",
                )
                .into());
            }
            ids.push(t.id());
        }
        let mut g = self.lock();
        let id = g.add(op, &ids)?;
        let ty = g.node(id).ty().clone();
        drop(g);
        Ok(Tensor::new(self.clone(), id, ty))
    }

    /// Declares a named input of the given dtype and shape.
    pub fn input(&self, name: &str, dtype: DType, dims: &[usize]) -> Result<Tensor> {
        let shape = checked_shape("input", dims)?;
        self.add(Op::Input { name: name.to_string(), dtype, shape }, &[])
    }

    /// An array of `dims` filled with `value` as `dtype`.
    pub fn full(&self, dims: &[usize], value: impl Into<Literal>, dtype: DType) -> Result<Tensor> {
        let shape = checked_shape("full", dims)?;
        let value = value.into().to_scalar(dtype, "full")?;
        self.add(Op::Full { value, shape }, &[])
    }

    /// A rank-0 constant.
    pub fn scalar(&self, value: impl Into<Literal>, dtype: DType) -> Result<Tensor> {
        self.full(&[], value, dtype)
    }

    /// An array of zeros.
    pub fn zeros(&self, dims: &[usize], dtype: DType) -> Result<Tensor> {
        self.add(Op::Full { value: Scalar::zero(dtype), shape: checked_shape("zeros", dims)? }, &[])
    }

    /// An array of ones.
    pub fn ones(&self, dims: &[usize], dtype: DType) -> Result<Tensor> {
        self.add(Op::Full { value: Scalar::one(dtype), shape: checked_shape("ones", dims)? }, &[])
    }

    /// `start, start + step, ...` up to but excluding `stop`, as a numeric `dtype`.
    pub fn arange(
        &self,
        start: impl Into<Literal>,
        stop: impl Into<Literal>,
        step: impl Into<Literal>,
        dtype: DType,
    ) -> Result<Tensor> {
        let op = "arange";
        let (start, stop, step) = (start.into(), stop.into(), step.into());
        let as_f64 = |l: Literal| match l {
            Literal::Int(v) => Ok(v as f64),
            Literal::Float(v) => Ok(v),
            Literal::Bool(_) => Err(IrError::new(IrErrorKind::DTypeMismatch, op, "arange takes numbers")),
        };
        let (a, b, s) = (as_f64(start)?, as_f64(stop)?, as_f64(step)?);
        if s == 0.0 || !s.is_finite() || !a.is_finite() || !b.is_finite() {
            return Err(IrError::new(
                IrErrorKind::BadAttribute,
                op,
                "start, stop and step must be finite, step non-zero",
            )
            .into());
        }
        let len = match (start, stop, step) {
            (Literal::Int(a), Literal::Int(b), Literal::Int(s)) => {
                let span = i128::from(b) - i128::from(a);
                let n = (span + i128::from(s) - i128::from(s.signum())) / i128::from(s);
                usize::try_from(n.max(0)).map_err(|_| overflow(op))?
            }
            _ => {
                let n = ((b - a) / s).ceil().max(0.0);
                if n >= usize::MAX as f64 {
                    return Err(overflow(op).into());
                }
                n as usize
            }
        };
        let start = start.to_scalar(dtype, op)?;
        let step = step.to_scalar(dtype, op)?;
        self.add(Op::Arange { start, step, len }, &[])
    }

    fn output_ids(&self, outputs: &[&Tensor]) -> Result<Vec<NodeId>> {
        outputs
            .iter()
            .map(|t| {
                if self.same(t.graph()) {
                    Ok(t.id())
                } else {
                    Err(IrError::new(IrErrorKind::BadInput, "plan", "an output belongs to a different graph")
                        .into())
                }
            })
            .collect()
    }

    /// Optimizes and places the graph for `outputs` on `device`: what would run, where.
    pub fn plan(&self, outputs: &[&Tensor], device: Device) -> Result<Plan> {
        let ids = self.output_ids(outputs)?;
        let signature = self.lock().signature(&ids);
        self.plan_ids(&ids, &signature, device)
    }

    /// Optimizes and places outputs `ids`, whose input signature the caller computed.
    fn plan_ids(&self, ids: &[NodeId], signature: &[InputDecl], device: Device) -> Result<Plan> {
        let optimized = optimize(&self.lock(), ids, self.engine().options())?;
        let graph = optimized.graph;
        let request = PlanRequest {
            graph: &graph,
            outputs: &optimized.outputs,
            signature,
            device,
            report: optimized.report,
        };
        build_plan(request, self.engine().registry()).map_err(|e| {
            // Name the expression text the failing node stands for, where there is one.
            match e.node().and_then(|id| self.origin_of(&optimized.origins, id)) {
                Some(text) => e.with_origin(&text).into(),
                None => e.into(),
            }
        })
    }

    /// Compiles a plan made by [`Graph::plan`] into an executable.
    pub fn compile_plan(&self, plan: Plan) -> Result<Executable> {
        Ok(Executable::compile(plan, self.engine().registry())?)
    }

    /// Plans and compiles `outputs` on `device`: the result runs many times. A graph with
    /// the same structure, inputs, device and options compiled before by this engine is
    /// returned from the engine's cache without optimizing, planning or compiling again.
    pub fn compile(&self, outputs: &[&Tensor], device: Device) -> Result<Executable> {
        let ids = self.output_ids(outputs)?;
        let key = {
            let g = self.lock();
            let signature = g.signature(&ids);
            GraphKey::of(&g, &ids, signature, device, self.engine().options())
        };
        if let Some(exe) = self.engine().cached_executable(&key) {
            return Ok(exe);
        }
        let plan = self.plan_ids(&ids, &key.signature, device)?;
        let exe = self.compile_plan(plan)?;
        self.engine().remember_executable(key, &exe);
        Ok(exe)
    }
}

fn overflow(op: &str) -> IrError {
    IrError::new(IrErrorKind::Overflow, op, "element count overflows usize")
}

pub(crate) fn checked_shape(op: &str, dims: &[usize]) -> std::result::Result<Shape, IrError> {
    Shape::new(dims).map_err(|e| IrError::new(IrErrorKind::Overflow, op, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_lower::Registry;

    /// The mixing `add` is renumbered (and `x*1` becomes `x`), and an `add` of the same types
    /// comes earlier in the expression: the error names the text of the node it stands for.
    #[test]
    fn a_planning_error_on_an_optimized_graph_names_its_exact_expression() {
        // No backends needed: the device check comes first.
        let g = Graph::with_engine(Engine::new(Registry::new()));
        let x = g.input("x", DType::F32, &[3]).unwrap();
        let y = g.input("y", DType::F32, &[3]).unwrap();
        let env = [("x".to_string(), x), ("y".to_string(), y)].into_iter().collect();
        let t = crate::expr::build(&g, r#"exp(x + y) + (x*1 + to_device(y, "gpu:0"))"#, &env).unwrap();
        let err = g.plan(&[&t], Device::CPU).unwrap_err().to_string();
        assert_eq!(
            err.lines().next(),
            Some(
                "node %4 = add(%0, %2) : f32[3] mixes operands on `cpu` (%0) and `gpu:0` (%2); \
                 data never moves between devices implicitly, \
                 from the expression `(x*1 + to_device(y, \"gpu:0\"))`"
            ),
            "{err}"
        );
    }
}
