//! Renderings of a [`Plan`]: a readable table (`Display`), Graphviz DOT, and JSON.

use std::fmt::{self, Write};

use switchyard_ir::{ByteCount, NodeId};

use crate::plan::{Plan, ValueInfo};

/// Formats a byte count with a binary unit (`12.0 KiB`, up to EiB): [`ByteCount`]'s format.
pub fn human_bytes(bytes: u64) -> String {
    ByteCount(u128::from(bytes)).to_string()
}

fn values(vs: &[ValueInfo]) -> String {
    vs.iter().map(|v| format!("{}:{}", v.node, v.ty)).collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "plan for {} (op set {}): {} kernel(s), peak memory {}",
            self.device,
            self.op_set_version,
            self.steps.len(),
            human_bytes(self.peak_memory_bytes)
        )?;
        let inputs: Vec<String> =
            self.inputs.iter().map(|i| format!("{}: {}", i.decl.name, i.decl.ty)).collect();
        writeln!(f, "inputs: {}", if inputs.is_empty() { "(none)".to_string() } else { inputs.join(", ") })?;
        writeln!(f, "optimizer: {}", self.optimizer)?;
        writeln!(f, "graph:")?;
        for n in &self.graph {
            writeln!(f, "  {}", n.text)?;
        }
        let mut rows = vec![[
            "#".to_string(),
            "backend".to_string(),
            "nodes".to_string(),
            "reads".to_string(),
            "writes".to_string(),
            "frees".to_string(),
            "how".to_string(),
        ]];
        for k in &self.steps {
            let op_name = |id: &NodeId| self.graph.get(id.index()).map_or("?", |n| n.op.as_str());
            let nodes: Vec<String> = k.nodes.iter().map(|id| format!("{id}={}", op_name(id))).collect();
            let frees: Vec<String> = k.frees_after.iter().map(|n| n.to_string()).collect();
            rows.push([
                k.id.to_string(),
                k.label().to_string(),
                nodes.join(" "),
                human_bytes(k.bytes_read),
                human_bytes(k.bytes_written),
                if frees.is_empty() { "-".to_string() } else { frees.join(" ") },
                k.how.clone().unwrap_or_else(|| "interpreted".to_string()),
            ]);
        }
        let mut widths = [0usize; 7];
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        writeln!(f, "kernels:")?;
        for r in &rows {
            let mut line = String::from(" ");
            for (i, (w, c)) in widths.iter().zip(r).enumerate() {
                if i + 1 == r.len() {
                    let _ = write!(line, " {c}");
                } else {
                    let _ = write!(line, " {c:<w$}");
                }
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        if !self.steps.is_empty() {
            // Which backend won each kernel and why (override, priority, what was skipped),
            // one line per distinct answer.
            writeln!(f, "why:")?;
            let mut seen: Vec<(&str, &str, Vec<String>)> = Vec::new();
            for k in &self.steps {
                match seen.iter_mut().find(|(b, r, _)| *b == k.label() && *r == k.reason) {
                    Some((_, _, ids)) => ids.push(k.id.to_string()),
                    None => seen.push((k.label(), &k.reason, vec![k.id.to_string()])),
                }
            }
            for (backend, reason, ids) in seen {
                let label = if ids.len() == 1 { "kernel" } else { "kernels" };
                writeln!(f, "  {label} {} on {backend}: {reason}", ids.join(" "))?;
            }
        }
        write!(f, "outputs: {}", values(&self.outputs))
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl Plan {
    /// The plan as a Graphviz digraph: one box per node, kernels as labelled clusters.
    pub fn to_dot(&self) -> String {
        let mut s =
            String::from("digraph plan {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n");
        let mut in_kernel = vec![false; self.node_count];
        for k in &self.steps {
            let _ = writeln!(
                s,
                "  subgraph cluster_k{} {{\n    label=\"kernel {} on {}\";\n    style=rounded;",
                k.id,
                k.id,
                k.label()
            );
            for n in &k.nodes {
                if let Some(flag) = in_kernel.get_mut(n.index()) {
                    *flag = true;
                }
                let _ = writeln!(s, "    n{};", n.index());
            }
            s.push_str("  }\n");
        }
        for n in &self.graph {
            let i = n.node.index();
            let style = if in_kernel.get(i).copied().unwrap_or(false) { "" } else { ", style=dashed" };
            let _ = writeln!(s, "  n{i} [label=\"{}\"{style}];", dot_escape(&n.text));
            for src in &n.inputs {
                let _ = writeln!(s, "  n{} -> n{i};", src.index());
            }
        }
        for o in &self.outputs {
            let _ = writeln!(
                s,
                "  out{} [label=\"output {}\", shape=oval];\n  n{} -> out{};",
                o.node.index(),
                o.node,
                o.node.index(),
                o.node.index()
            );
        }
        s.push_str("}\n");
        s
    }

    /// The plan as pretty-printed JSON (the schema tools rely on: see ARCHITECTURE.md).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}
