//! `switchyard-passes`: graph-to-graph optimization between the frontend and lowering.
//!
//! What it is: the pipeline entry point [`optimize`], which rebuilds the reachable part of a
//! graph (dead-code elimination, [`dce`]) while folding constant subgraphs
//! ([`const_fold`]), and the [`Report`] of what fired. The e-graph optimizer (egg rewrites)
//! will be one more stage of [`optimize`], in its own module.
//!
//! What it is not: it knows nothing of backends, devices or buffers.
//!
//! Invariants:
//! - A pass never changes a result: folded values are computed with the same element
//!   semantics ([`switchyard_ir::elementwise`]) as the reference backend, NaN stays NaN.
//! - The output graph is valid (every node re-inferred by `Graph::add`), and the i-th output
//!   of the result computes what the i-th requested output computed.
#![warn(missing_docs)]

pub mod const_fold;
pub mod dce;
mod report;

use std::time::Instant;

use switchyard_ir::{Graph, IrError, NodeId};

pub use report::Report;

/// What the optimizer may do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Options {
    /// Fold subgraphs whose inputs are all constants.
    pub const_fold: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { const_fold: true }
    }
}

impl Options {
    /// No optimization beyond dropping unreachable nodes (what `plan --no-opt` shows).
    pub fn none() -> Options {
        Options { const_fold: false }
    }
}

/// The result of [`optimize`]: a new graph, its outputs (in the order requested) and a report.
#[derive(Clone, Debug)]
pub struct Optimized {
    /// The optimized graph, holding only nodes the outputs need.
    pub graph: Graph,
    /// The outputs in the new graph.
    pub outputs: Vec<NodeId>,
    /// What was done.
    pub report: Report,
}

/// Runs the pass pipeline on the part of `graph` that `outputs` need.
pub fn optimize(graph: &Graph, outputs: &[NodeId], options: &Options) -> Result<Optimized, IrError> {
    let start = Instant::now();
    let mut report = Report { nodes_before: graph.len(), ..Report::default() };
    let folder = if options.const_fold { Some(const_fold::ConstFolder) } else { None };
    let (mut graph, mut outputs) = dce::rebuild(graph, outputs, folder.as_ref(), &mut report)?;
    if report.rules.contains_key("const_fold") {
        // Folding leaves the folded nodes' constant operands unreachable; sweep them.
        let mut sweep = Report::default();
        (graph, outputs) = dce::rebuild(&graph, &outputs, None, &mut sweep)?;
    }
    report.nodes_after = graph.len();
    report.elapsed_us = start.elapsed().as_secs_f64() * 1e6;
    Ok(Optimized { graph, outputs, report })
}
