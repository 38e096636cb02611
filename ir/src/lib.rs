//! `switchyard-ir`: the typed array IR at the bottom of switchyard.
//!
//! What it is: dtypes ([`DType`]), static shapes ([`Shape`]), the op catalog ([`Op`] with
//! [`OpInfo`] metadata and [`OP_SET_VERSION`]), type inference ([`infer`]), the hash-consed
//! [`IrGraph`] with its printed form and the parser that reads it back ([`IrGraph::parse`]), and
//! the meaning of every elementwise op on one element ([`elementwise`]), which the reference
//! backend and constant folding share.
//!
//! What it is not: it has no optimizer, no backends, no buffers and does no IO.
//!
//! Invariants:
//! - Every node in an [`IrGraph`] is well typed: its dtype and shape were inferred from its
//!   inputs when it was added, and never change.
//! - Node ids are a topological order; identical `(op, inputs)` are one node.
//! - Eager-only ops ([`Laziness::EagerOnly`]) can never be added to a graph.
//! - This crate depends on no other switchyard crate.
#![warn(missing_docs)]

mod device;
mod dtype;
pub mod elementwise;
mod error;
mod graph;
mod op;
mod optimizer_report;
mod parse;
mod random;
mod scalar;
mod shape;
mod signature;
mod typing;

pub use device::{Device, DeviceKind};
pub use dtype::{DType, DTypeKind};
pub use error::{IrError, IrErrorKind};
pub use graph::{IrGraph, Node, NodeId, NodeInputs};
pub use op::{
    catalog, Arity, Axes, BinaryOp, Category, DTypeRule, Laziness, Op, OpInfo, OpSetVersion, ReduceOp,
    SliceAxis, UnaryOp, OP_SET_VERSION,
};
pub use optimizer_report::OptimizerReport;
pub use parse::{ParseError, ParsedGraph};
pub use random::SeededRng;
pub use scalar::Scalar;
pub use shape::{BroadcastError, ByteCount, Shape, ShapeOverflow};
pub use signature::InputDecl;
pub use typing::{infer, TensorType};
