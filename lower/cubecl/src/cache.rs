//! The key of `gpu.cubecl`'s kernel cache: the program (the kernel's structure) with the
//! dtypes and op names it came from, so a miss can say what differed. Sizes, strides and
//! constant values are run-time scalars and never part of it: a new N or a new constant
//! reuses the compiled pipeline. The cache itself is the shared
//! [`switchyard_lower::KernelCache`].

use switchyard_ir::DType;

use super::program::{Kind, LoadAddressing, Program};
use switchyard_lower::CacheKey;
use switchyard_lower::KernelSpec;

/// How many structures the cache keeps (cubecl keeps each one's pipeline too).
pub const CAPACITY: usize = 256;

/// A program and what it was built from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProgramKey {
    /// The program.
    pub program: Program,
    /// The op of each node, with its attributes (constants erased to their dtype).
    pub ops: Vec<String>,
    /// The dtypes of the kernel's inputs, then of its outputs.
    pub dtypes: Vec<DType>,
}

impl ProgramKey {
    /// The key of `spec`'s `program`.
    pub fn new(spec: &KernelSpec, program: Program) -> ProgramKey {
        let ops = spec
            .nodes
            .iter()
            .map(|n| match n.op {
                switchyard_ir::Op::Full { .. } => "const".to_string(),
                _ => n.op.to_string(),
            })
            .collect();
        let dtypes =
            spec.inputs.iter().map(|t| t.dtype).chain(spec.output_types().map(|t| t.dtype)).collect();
        ProgramKey { program, ops, dtypes }
    }
}

fn kind_label(kind: &Kind) -> &'static str {
    match kind {
        Kind::Map => "map",
        Kind::Reduce { .. } => "reduce",
        Kind::Matmul { .. } => "matmul",
    }
}

fn views_label(views: &[LoadAddressing]) -> String {
    let parts: Vec<&str> = views
        .iter()
        .map(|v| match v {
            LoadAddressing::Linear => "linear",
            LoadAddressing::Strided => "strided",
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn dtypes_label(dtypes: &[DType]) -> String {
    let parts: Vec<String> = dtypes.iter().map(|d| d.to_string()).collect();
    parts.join(",")
}

impl CacheKey for ProgramKey {
    fn describe(&self) -> String {
        format!(
            "{} {} on {}, rank {}, loads {}",
            kind_label(&self.program.kind),
            self.ops.join("+"),
            dtypes_label(&self.dtypes),
            self.program.rank,
            views_label(&self.program.views)
        )
    }

    fn differences(&self, cached: &Self) -> Option<Vec<String>> {
        let names = |k: &ProgramKey| {
            k.ops.iter().map(|o| o.split('(').next().unwrap_or("").to_string()).collect::<Vec<_>>()
        };
        if names(self) != names(cached) {
            return None;
        }
        let mut d = Vec::new();
        if self.dtypes != cached.dtypes {
            d.push(format!(
                "dtypes: {} here, {} cached",
                dtypes_label(&self.dtypes),
                dtypes_label(&cached.dtypes)
            ));
        }
        for (i, (a, b)) in self.ops.iter().zip(&cached.ops).enumerate() {
            if a != b {
                d.push(format!("node {i}: {a} here, {b} cached"));
            }
        }
        let (p, q) = (&self.program, &cached.program);
        if p.rank != q.rank {
            d.push(format!("rank: {} here, {} cached", p.rank, q.rank));
        }
        if p.views != q.views {
            d.push(format!("loads: {} here, {} cached", views_label(&p.views), views_label(&q.views)));
        }
        if d.is_empty() && p != q {
            d.push("program: other operand wiring".to_string());
        }
        Some(d)
    }
}
