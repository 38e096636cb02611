//! `switchyard-passes`: graph-to-graph optimization between the frontend and lowering.
//!
//! What it is: the pipeline entry point [`optimize`], which rebuilds the reachable part of a
//! graph (dead-code elimination, [`dce`]) while folding constant subgraphs
//! ([`const_fold`]), then runs the e-graph optimizer ([`egraph`]: egg rewrites under node and
//! iteration limits, and a wall-clock limit only when asked for; extraction of the cheapest
//! DAG under a [`CostModel`]), the [`Report`] of what fired, and the [`Origins`] of every
//! node of the result (which input nodes it stands for).
//!
//! What it is not: it knows nothing of backends, devices or buffers.
//!
//! Invariants:
//! - A pass never changes a result: folded values are computed with the same element
//!   semantics ([`switchyard_ir::elementwise`]) as the reference backend, NaN stays NaN.
//! - The output graph is valid (every node re-inferred by `IrGraph::add`), and the i-th output
//!   of the result computes what the i-th requested output computed.
//! - Deterministic: with the default options (no time limit) the result depends only on the
//!   graph, the outputs, the options and the cost model, never on how loaded the machine is.
#![warn(missing_docs)]

pub mod const_fold;
pub mod dce;
pub mod egraph;
mod origin;

use std::time::{Duration, Instant};

use switchyard_ir::{IrError, IrGraph, NodeId};

pub use egraph::cost::{CostModel, MemoryTraffic};
pub use origin::Origins;
/// The optimizer's report (plain data, defined in `ir` so that plans carry it).
pub use switchyard_ir::OptimizerReport as Report;

/// What the optimizer may do. Part of the engine's cache key, hence `Hash` and `Eq`.
///
/// The default budget is counted in work, not time: the e-graph stops at
/// [`DEFAULT_NODE_LIMIT`] e-nodes or after [`DEFAULT_ITER_LIMIT`] iterations, whichever comes
/// first, so the same graph always gives the same plan. A wall-clock limit
/// ([`Options::time_limit`]) is available but off by default, because a plan cut short by
/// time depends on the machine's load.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Options {
    /// Fold subgraphs whose inputs are all constants.
    pub const_fold: bool,
    /// Run the e-graph rewrites.
    pub egraph: bool,
    /// Also run the fast-math rules, which may change results beyond the declared precision
    /// and turn NaN or infinities into numbers (`x*0 -> 0`, `exp(log x) -> x`, ...).
    pub fast_math: bool,
    /// Stop rewriting once the e-graph holds this many e-nodes.
    pub node_limit: usize,
    /// Stop rewriting after this many iterations over the rules.
    pub iter_limit: usize,
    /// Also stop rewriting after this long (checked between rules; extraction comes on top).
    /// `None`, the default, sets no wall-clock limit. With a limit the result may depend on
    /// the machine's speed and load.
    pub time_limit: Option<Duration>,
}

/// The default [`Options::node_limit`]: e-nodes (egg's hash-cons table) before rewriting stops.
pub const DEFAULT_NODE_LIMIT: usize = 100_000;

/// The default [`Options::iter_limit`]: iterations over the rules before rewriting stops.
pub const DEFAULT_ITER_LIMIT: usize = 16;

impl Default for Options {
    /// Constant folding and the e-graph on, fast-math off; budget [`DEFAULT_NODE_LIMIT`]
    /// e-nodes and [`DEFAULT_ITER_LIMIT`] iterations, no time limit.
    fn default() -> Options {
        Options {
            const_fold: true,
            egraph: true,
            fast_math: false,
            node_limit: DEFAULT_NODE_LIMIT,
            iter_limit: DEFAULT_ITER_LIMIT,
            time_limit: None,
        }
    }
}

impl Options {
    /// No optimization beyond dropping unreachable nodes (what `plan --no-opt` shows).
    pub fn none() -> Options {
        Options { const_fold: false, egraph: false, ..Options::default() }
    }

    /// The default options plus the fast-math rules.
    pub fn fast_math() -> Options {
        Options { fast_math: true, ..Options::default() }
    }

    /// These options with a wall-clock limit on rewriting as well (the result may then depend
    /// on the machine's speed and load).
    pub fn with_time_limit(self, limit: Duration) -> Options {
        Options { time_limit: Some(limit), ..self }
    }
}

/// The result of [`optimize`]: a new graph, its outputs (in the order requested), a report,
/// and where each new node came from.
#[derive(Clone, Debug)]
pub struct Optimized {
    /// The optimized graph, holding only nodes the outputs need.
    pub graph: IrGraph,
    /// The outputs in the new graph.
    pub outputs: Vec<NodeId>,
    /// What was done.
    pub report: Report,
    /// For each node of `graph`, the nodes of the graph given to [`optimize`] it stands for.
    pub origins: Origins,
}

/// Runs the pass pipeline on the part of `graph` that `outputs` need, with the default
/// cost model ([`MemoryTraffic`]).
pub fn optimize(graph: &IrGraph, outputs: &[NodeId], options: &Options) -> Result<Optimized, IrError> {
    optimize_with_cost(graph, outputs, options, &MemoryTraffic)
}

/// [`optimize`] with the target's cost model steering which equivalent form is extracted.
pub fn optimize_with_cost(
    graph: &IrGraph,
    outputs: &[NodeId],
    options: &Options,
    model: &dyn CostModel,
) -> Result<Optimized, IrError> {
    let start = Instant::now();
    let mut report = Report { nodes_before: graph.len(), ..Report::default() };
    let folder = if options.const_fold { Some(const_fold::ConstFolder) } else { None };
    let (mut graph, mut outputs, mut origins) = dce::rebuild(graph, outputs, folder.as_ref(), &mut report)?;
    if report.rules.contains_key("const_fold") {
        // Folding leaves the folded nodes' constant operands unreachable; sweep them.
        let mut sweep = Report::default();
        let swept;
        (graph, outputs, swept) = dce::rebuild(&graph, &outputs, None, &mut sweep)?;
        origins = origins.then(&swept);
    }
    if options.egraph {
        let extracted;
        (graph, outputs, extracted) = egraph::run(&graph, &outputs, options, model, &mut report)?;
        origins = origins.then(&extracted);
    }
    report.nodes_after = graph.len();
    report.elapsed_us = start.elapsed().as_secs_f64() * 1e6;
    Ok(Optimized { graph, outputs, report, origins })
}
