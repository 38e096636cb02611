//! The support table: op x dtype x backend, generated from the backends' own declarations
//! (`supports` and `precision`), never written by hand.

use std::collections::BTreeMap;
use std::fmt::Write;

use switchyard_ir::{catalog, infer, DType, IrErrorKind, Op, Scalar, Shape, TensorType};

use crate::backend::{NodeQuery, Support};
use crate::registry::Registry;

/// One cell: what a backend says about an op on a dtype.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Cell {
    /// Supported, with the declared precision.
    Yes {
        /// The promised precision, e.g. `exact` or `2 ulp`.
        precision: String,
        /// Whether the conformance suite verified the claim (see
        /// [`SupportTable::mark_verified`]).
        verified: bool,
    },
    /// Not supported, and why.
    No {
        /// The backend's reason.
        reason: String,
    },
    /// The op is not defined for this dtype (the type checker refuses it).
    Undefined,
    /// The op is eager-only and refused when a graph is built.
    EagerOnly,
}

/// One op's row.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    /// The op's name (`nonzero(size=K)` and `nonzero` are separate rows).
    pub op: String,
    /// Its category.
    pub category: switchyard_ir::Category,
    /// Cells by backend name, then dtype name.
    pub cells: BTreeMap<String, BTreeMap<String, Cell>>,
}

/// The whole table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SupportTable {
    /// Backends, as `(name, version)`, in column order.
    pub backends: Vec<(String, String)>,
    /// One row per catalog op.
    pub rows: Vec<Row>,
}

/// The support-table row name of `op`.
pub fn row_name(op: &Op) -> String {
    match op {
        Op::Nonzero { size: Some(_), .. } => "nonzero(size=K)".to_string(),
        _ => op.name().to_string(),
    }
}

/// The representative node for `op` on operands of `dtype`: the op (attributes adjusted to
/// the dtype where they carry one) and its input types.
pub fn sample(op: &Op, dtype: DType) -> (Op, Vec<TensorType>) {
    let t = |d: DType| TensorType { dtype: d, shape: Shape::vector(4) };
    let op = match op {
        Op::Input { name, shape, .. } => Op::Input { name: name.clone(), dtype, shape: shape.clone() },
        Op::Full { shape, .. } => Op::Full { value: Scalar::zero(dtype), shape: shape.clone() },
        Op::Arange { len, .. } => {
            Op::Arange { start: Scalar::zero(dtype), step: Scalar::one(dtype), len: *len }
        }
        Op::Pad { widths, .. } => Op::Pad { widths: widths.clone(), value: Scalar::zero(dtype) },
        other => other.clone(),
    };
    let inputs = match &op {
        Op::Where => vec![t(DType::Bool), t(dtype), t(dtype)],
        Op::BooleanMask => vec![t(dtype), t(DType::Bool)],
        Op::Concat(_) | Op::Stack(_) => vec![t(dtype), t(dtype)],
        other => match other.info().arity {
            switchyard_ir::Arity::Fixed(n) | switchyard_ir::Arity::AtLeast(n) => vec![t(dtype); n],
        },
    };
    (op, inputs)
}

/// Builds the table for every backend of `registry`.
pub fn support_table(registry: &Registry) -> SupportTable {
    let backends: Vec<(String, String)> =
        registry.backends().iter().map(|b| (b.name().to_string(), b.version().to_string())).collect();
    let mut rows = Vec::new();
    for op in catalog() {
        let mut cells: BTreeMap<String, BTreeMap<String, Cell>> = BTreeMap::new();
        for b in registry.backends() {
            let mut by_dtype = BTreeMap::new();
            for dtype in DType::ALL {
                let (op, inputs) = sample(&op, dtype);
                let refs: Vec<&TensorType> = inputs.iter().collect();
                let cell = match infer(&op, &refs) {
                    Err(e) if e.kind() == IrErrorKind::NotLazy => Cell::EagerOnly,
                    Err(_) => Cell::Undefined,
                    Ok(out) => match b.supports(&NodeQuery { op: &op, inputs: &inputs, output: &out }) {
                        Support::Yes => {
                            Cell::Yes { precision: b.precision(&op, dtype).to_string(), verified: false }
                        }
                        Support::No(reason) => Cell::No { reason },
                    },
                };
                by_dtype.insert(dtype.name().to_string(), cell);
            }
            cells.insert(b.name().to_string(), by_dtype);
        }
        rows.push(Row { op: row_name(&op), category: op.info().category, cells });
    }
    SupportTable { backends, rows }
}

impl SupportTable {
    /// Marks each "yes" cell of `backend` as verified or not, as `is_verified(row, dtype)`
    /// says (the conformance kit's `verified_support_table` passes its reports' verdicts).
    pub fn mark_verified(&mut self, backend: &str, is_verified: impl Fn(&str, DType) -> bool) {
        for row in &mut self.rows {
            let Some(cells) = row.cells.get_mut(backend) else { continue };
            for (dtype_name, cell) in cells.iter_mut() {
                let Some(dtype) = DType::ALL.into_iter().find(|d| d.name() == dtype_name) else {
                    continue;
                };
                if let Cell::Yes { verified, .. } = cell {
                    *verified = is_verified(&row.op, dtype);
                }
            }
        }
    }

    /// A Markdown table: one column per backend and dtype; reasons for "no" as footnotes.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let mut header = String::from("| op |");
        let mut rule = String::from("|---|");
        for (name, _) in &self.backends {
            for d in DType::ALL {
                let _ = write!(header, " {name} {d} |");
                rule.push_str(":-:|");
            }
        }
        let _ = writeln!(out, "{header}\n{rule}");
        let mut notes: Vec<String> = Vec::new();
        for row in &self.rows {
            let _ = write!(out, "| `{}` |", row.op);
            for (name, _) in &self.backends {
                for d in DType::ALL {
                    let text = match row.cells.get(name).and_then(|c| c.get(d.name())) {
                        Some(Cell::Yes { precision, verified }) => {
                            let mark = if *verified { " ✓" } else { "" };
                            if precision == "exact" {
                                format!("yes{mark}")
                            } else {
                                format!("yes ({precision}){mark}")
                            }
                        }
                        Some(Cell::No { reason }) => {
                            let n = match notes.iter().position(|r| r == reason) {
                                Some(i) => i + 1,
                                None => {
                                    notes.push(reason.clone());
                                    notes.len()
                                }
                            };
                            format!("no [{n}]")
                        }
                        Some(Cell::EagerOnly) => "eager".to_string(),
                        Some(Cell::Undefined) | None => "-".to_string(),
                    };
                    let _ = write!(out, " {text} |");
                }
            }
            out.push('\n');
        }
        out.push_str("\n`-`: not defined for that dtype (the type checker refuses it). ");
        out.push_str("`eager`: needs eager execution; refused when the graph is built. ");
        out.push_str("✓: verified against `cpu.reference` by the conformance suite.\n");
        for (i, n) in notes.iter().enumerate() {
            let _ = writeln!(out, "\n[{}] {n}", i + 1);
        }
        out
    }

    /// The table as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}
