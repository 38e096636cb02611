//! The optimizer's report: what it did and what it cost. Plain data, here rather than in
//! the optimizer's crate, so that plans can carry it without the lowering depending on the
//! optimizer (an edit to a rewrite rule rebuilds no backend).

use std::collections::BTreeMap;
use std::fmt;

/// What the optimizer did, for plans and `--explain` output.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct OptimizerReport {
    /// Nodes in the graph before optimization.
    pub nodes_before: usize,
    /// Nodes after optimization.
    pub nodes_after: usize,
    /// How often each rule fired, by rule name.
    pub rules: BTreeMap<String, usize>,
    /// Wall time spent, in microseconds.
    pub elapsed_us: f64,
    /// The limit that stopped the optimizer early, if one did.
    pub limit_hit: Option<String>,
}

impl OptimizerReport {
    /// Counts one firing of `rule`.
    pub fn fired(&mut self, rule: &str) {
        *self.rules.entry(rule.to_string()).or_insert(0) += 1;
    }
}

impl fmt::Display for OptimizerReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} nodes in {:.3} ms",
            self.nodes_before,
            self.nodes_after,
            self.elapsed_us / 1000.0
        )?;
        if self.rules.is_empty() {
            f.write_str("; no rewrites")?;
        } else {
            f.write_str("; ")?;
            let rules: Vec<String> = self.rules.iter().map(|(r, n)| format!("{r} x{n}")).collect();
            f.write_str(&rules.join(", "))?;
        }
        if let Some(limit) = &self.limit_hit {
            write!(f, "; stopped by {limit}")?;
        }
        Ok(())
    }
}
