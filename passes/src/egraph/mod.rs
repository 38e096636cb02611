//! The e-graph stage of [`crate::optimize`]: the graph goes into an egg e-graph
//! ([`lang`], with the [`analysis`] tracking types and constants), the [`rules`] run under
//! explicit node and iteration limits (and a time limit only where [`Options::time_limit`]
//! asks for one), and [`extract`] takes the cheapest DAG under a [`cost`] model back out as a
//! new, re-type-checked graph. Each extracted node stands for the nodes of the given graph in
//! the e-class it was extracted for.
//!
//! Safety nets: a rule's result is unioned only when it has the matched class's exact type;
//! if the analysis ever sees an inconsistency (ill-typed e-node, different types or constants
//! merged) the stage keeps the graph it was given; and it also keeps that graph when the
//! extracted one is not cheaper under the cost model.

pub mod analysis;
pub mod cost;
pub mod extract;
pub mod lang;
pub mod rules;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use egg::{Id, Rewrite, Runner, SimpleScheduler, StopReason};
use smallvec::SmallVec;
use switchyard_ir::{IrError, IrGraph, NodeId};

use crate::{Options, Origins, Report};
use analysis::{SyGraph, TypeAnalysis};
use cost::{graph_cost, CostModel};
use lang::SyNode;

/// Loads the graph into a fresh e-graph; returns it and each node's class.
pub fn load(graph: &IrGraph, fold: bool) -> (SyGraph, Vec<Id>) {
    let mut egraph = SyGraph::new(TypeAnalysis::new(fold));
    let mut class_of: Vec<Id> = Vec::with_capacity(graph.len());
    for (_, node) in graph.nodes() {
        let children: Vec<Id> = node.inputs().iter().map(|i| class_of[i.index()]).collect();
        class_of.push(egraph.add(SyNode::new(node.op().clone(), &children)));
    }
    egraph.rebuild();
    (egraph, class_of)
}

/// egg always checks a time limit; without one in the options it gets one no run reaches
/// (about 31,700 years), so only the node and iteration limits decide where rewriting stops.
const NO_TIME_LIMIT: Duration = Duration::from_secs(1 << 40);

type Rewrites = Result<Vec<Rewrite<SyNode, TypeAnalysis>>, String>;

/// The rule set as egg rewrites, built once per process (with and without fast-math).
fn rewrites(fast_math: bool) -> &'static Rewrites {
    static DEFAULT: OnceLock<Rewrites> = OnceLock::new();
    static FAST: OnceLock<Rewrites> = OnceLock::new();
    let build = move || rules::enabled(fast_math).iter().map(|r| r.rewrite()).collect();
    if fast_math {
        FAST.get_or_init(build)
    } else {
        DEFAULT.get_or_init(build)
    }
}

fn describe(stop: &StopReason, options: &Options) -> Option<String> {
    match stop {
        StopReason::Saturated => None,
        StopReason::IterationLimit(n) => Some(format!("iteration limit ({n} iterations)")),
        StopReason::NodeLimit(n) => Some(format!("node limit ({n} e-nodes > {})", options.node_limit)),
        StopReason::TimeLimit(s) => match options.time_limit {
            Some(limit) => Some(format!("time limit ({:.3} ms > {limit:?})", s * 1000.0)),
            None => Some(format!("time limit ({:.3} ms)", s * 1000.0)),
        },
        StopReason::Other(why) => Some(why.clone()),
    }
}

/// Runs the e-graph stage on `graph` (already reduced to what `outputs` need). Returns the
/// optimized graph, its outputs and its origins (each node stands for the nodes of `graph`
/// in its e-class), or the input unchanged when the stage had to give up.
pub fn run(
    graph: &IrGraph,
    outputs: &[NodeId],
    options: &Options,
    model: &dyn CostModel,
    report: &mut Report,
) -> Result<(IrGraph, Vec<NodeId>, Origins), IrError> {
    let keep = || Ok((graph.clone(), outputs.to_vec(), Origins::identity(graph.len())));
    let (egraph, class_of) = load(graph, options.const_fold);
    let roots: Vec<Id> = outputs.iter().filter_map(|o| class_of.get(o.index()).copied()).collect();
    if roots.len() != outputs.len() {
        return keep();
    }
    let rewrites = rewrites(options.fast_math)
        .as_ref()
        .map_err(|e| IrError::new(switchyard_ir::IrErrorKind::BadInput, "optimize", e.clone()))?;
    let mut egraph = egraph;
    egraph.analysis.fast_math = options.fast_math;
    let runner = Runner::<SyNode, TypeAnalysis>::new(TypeAnalysis::new(options.const_fold))
        .with_egraph(egraph)
        .with_scheduler(SimpleScheduler)
        .with_node_limit(options.node_limit)
        .with_iter_limit(options.iter_limit)
        .with_time_limit(options.time_limit.unwrap_or(NO_TIME_LIMIT))
        .run(rewrites.iter());

    for iteration in &runner.iterations {
        for (name, n) in &iteration.applied {
            *report.rules.entry(name.to_string()).or_insert(0) += n;
        }
    }
    let analysis = &runner.egraph.analysis;
    if analysis.folded > 0 {
        *report.rules.entry("const_fold".to_string()).or_insert(0) += analysis.folded;
    }
    if analysis.rejected > 0 {
        *report.rules.entry("!ill-typed-rewrite-refused".to_string()).or_insert(0) += analysis.rejected;
    }
    if let Some(stop) = &runner.stop_reason {
        report.limit_hit = describe(stop, options);
    }
    if let Some(conflict) = &analysis.conflict {
        report.limit_hit = Some(format!("e-graph inconsistency ({conflict}); kept the graph before it"));
        return keep();
    }
    let roots: Vec<Id> = roots.iter().map(|&r| runner.egraph.find(r)).collect();
    let extracted = match extract::extract(&runner.egraph, &roots, model) {
        Ok(result) => result,
        Err(e) => {
            report.limit_hit = Some(format!("extraction failed ({e}); kept the graph before it"));
            return keep();
        }
    };
    if graph_cost(&extracted.graph, model) > graph_cost(graph, model) {
        return keep();
    }
    let origins = origins_of(&runner.egraph, &class_of, &extracted.emitted);
    Ok((extracted.graph, extracted.outputs, origins))
}

/// The origins of an extracted graph, given each extracted class with the node it became
/// (`emitted`, in the order the nodes were added): a node stands for the nodes of the loaded
/// graph (whose classes were `class_of`) that are now in its class.
fn origins_of(egraph: &SyGraph, class_of: &[Id], emitted: &[(Id, NodeId)]) -> Origins {
    let mut members: HashMap<Id, SmallVec<[NodeId; 1]>> = HashMap::new();
    for (i, &c) in class_of.iter().enumerate() {
        members.entry(egraph.find(c)).or_default().push(NodeId::from_index(i));
    }
    let mut origins = Origins::default();
    for &(class, node) in emitted {
        let sources = members.get(&egraph.find(class)).map(|m| m.as_slice()).unwrap_or_default();
        origins.record(node, sources.iter().copied());
    }
    origins
}
