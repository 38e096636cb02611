//! The rewrite rules, one file per group. Every rule is a Rust function with a doc comment
//! saying when it is valid; it looks at one e-node (the root of its pattern) and, when it
//! applies, returns a class equal to it. The applier checks that the class has the root's
//! exact type before the union, so a rule can never make the e-graph ill-typed.
//!
//! Groups in the default set hold only rewrites that give the reference backend's result for
//! every input (bit for bit, or within the declared precision of the op they replace, as
//! said per rule): NaN and infinities stay what they were. [`fast_math`] holds the rest and is
//! off unless [`crate::Options::fast_math`] is set. Nothing here is associative or
//! commutative in general, so the set saturates instead of exploding.

pub mod cast;
pub mod ctx;
pub mod explog;
pub mod fast_math;
pub mod identity;
pub mod int;
pub mod layout;
pub mod reduce;
pub mod select;
pub mod sign;
pub mod strength;

use std::sync::Arc;

use egg::{Applier, Id, PatternAst, Rewrite, SearchMatches, Searcher, Subst, Symbol, Var};
use smallvec::SmallVec;
use switchyard_ir::Op;

use super::analysis::{SyGraph, TypeAnalysis};
use super::lang::{discriminant, SyNode};
pub use ctx::Ctx;

/// What a rule does when its root op matches: a class equal to the matched e-node's class,
/// or `None` when it does not apply.
pub type RuleFn = dyn Fn(&mut Ctx<'_>, Id, &SyNode) -> Option<Id> + Send + Sync;

/// One named rewrite rule.
#[derive(Clone)]
pub struct Rule {
    /// The rule's name, as the report counts it (`mul-one`).
    pub name: &'static str,
    /// Its group (`identity`, `fast-math`, ...).
    pub group: &'static str,
    roots: Vec<u16>,
    apply: Arc<RuleFn>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.group, self.name)
    }
}

impl Rule {
    /// A rule named `name` in `group` that looks at e-nodes whose op is one of `roots`
    /// (attributes of the examples are ignored; only the op kind counts).
    pub fn new(
        name: &'static str,
        group: &'static str,
        roots: &[Op],
        apply: impl Fn(&mut Ctx<'_>, Id, &SyNode) -> Option<Id> + Send + Sync + 'static,
    ) -> Rule {
        Rule { name, group, roots: roots.iter().map(discriminant).collect(), apply: Arc::new(apply) }
    }

    /// The rule as an egg rewrite (egg refuses only rewrites with unbound pattern variables,
    /// which these do not have).
    pub fn rewrite(&self) -> Result<Rewrite<SyNode, TypeAnalysis>, String> {
        let searcher = RootSearcher { roots: self.roots.clone() };
        let applier = RootApplier { roots: self.roots.clone(), apply: self.apply.clone() };
        Rewrite::new(self.name, searcher, applier)
    }
}

/// Every rule, default groups first, then fast-math.
pub fn catalog() -> Vec<Rule> {
    let mut rules = Vec::new();
    rules.extend(identity::rules());
    rules.extend(select::rules());
    rules.extend(cast::rules());
    rules.extend(sign::rules());
    rules.extend(int::rules());
    rules.extend(strength::rules());
    rules.extend(explog::rules());
    rules.extend(reduce::rules());
    rules.extend(layout::rules());
    rules.extend(fast_math::rules());
    rules
}

/// The rules to run: the default groups, plus fast-math when asked.
pub fn enabled(fast_math: bool) -> Vec<Rule> {
    catalog().into_iter().filter(|r| fast_math || r.group != fast_math::GROUP).collect()
}

/// Finds the classes holding an e-node of one of the root op kinds (egg indexes classes by
/// discriminant, so this does not scan the whole e-graph).
struct RootSearcher {
    roots: Vec<u16>,
}

fn one_match<'a>(eclass: Id) -> SearchMatches<'a, SyNode> {
    SearchMatches { eclass, substs: vec![Subst::default()], ast: None }
}

impl Searcher<SyNode, TypeAnalysis> for RootSearcher {
    fn search_eclass_with_limit(
        &self,
        egraph: &SyGraph,
        eclass: Id,
        limit: usize,
    ) -> Option<SearchMatches<'_, SyNode>> {
        let found =
            limit > 0 && egraph[eclass].nodes.iter().any(|n| self.roots.contains(&discriminant(&n.op)));
        found.then(|| one_match(eclass))
    }

    fn search_with_limit(&self, egraph: &SyGraph, limit: usize) -> Vec<SearchMatches<'_, SyNode>> {
        let mut classes: Vec<Id> = Vec::new();
        for d in &self.roots {
            if let Some(ids) = egraph.classes_for_op(d) {
                classes.extend(ids);
            }
        }
        classes.sort_unstable();
        classes.dedup();
        classes.truncate(limit);
        classes.into_iter().map(one_match).collect()
    }

    fn vars(&self) -> Vec<Var> {
        Vec::new()
    }
}

/// Runs the rule on each root e-node of a matched class and unions what it returns.
struct RootApplier {
    roots: Vec<u16>,
    apply: Arc<RuleFn>,
}

impl Applier<SyNode, TypeAnalysis> for RootApplier {
    fn apply_one(
        &self,
        egraph: &mut SyGraph,
        eclass: Id,
        _subst: &Subst,
        _ast: Option<&PatternAst<SyNode>>,
        _rule: Symbol,
    ) -> Vec<Id> {
        let nodes: SmallVec<[SyNode; 2]> = egraph[eclass]
            .nodes
            .iter()
            .filter(|n| self.roots.contains(&discriminant(&n.op)))
            .cloned()
            .collect();
        let mut changed = Vec::new();
        for node in nodes {
            let new = (self.apply)(&mut Ctx { egraph }, eclass, &node);
            let Some(new) = new else { continue };
            if egraph[new].data.ty != egraph[eclass].data.ty {
                egraph.analysis.rejected += 1;
                continue;
            }
            if egraph.union(eclass, new) {
                changed.push(new);
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_fast_math_is_opt_in() {
        let all = catalog();
        let mut names: Vec<&str> = all.iter().map(|r| r.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate rule names");
        assert!(enabled(false).iter().all(|r| r.group != fast_math::GROUP));
        assert_eq!(enabled(true).len(), all.len());
        assert!(all.iter().all(|r| r.rewrite().is_ok()));
    }
}
