//! Origins: which input nodes each node of the optimized graph stands for. Written as text: the
//! input graph in the printed form, and the optimized graph with each node's origins (ids of
//! the input as printed) after `# from`; `# from nothing` for a value no input node computes.
//! `UPDATE_EXPECT=1` blesses.

use expect_test::{expect, Expect};
use switchyard_ir::{IrGraph, NodeId};
use switchyard_passes::Options;

use crate::common::{random_graph, run};

/// The optimized graph of `input` under `options`, each node followed by its origins.
fn origins_with(input: &str, options: &Options) -> String {
    let parsed = IrGraph::parse(input).unwrap_or_else(|e| panic!("{e}\n{input}"));
    assert_eq!(parsed.graph().len(), parsed.ids().len(), "a case has no duplicate lines:\n{input}");
    let out = run(parsed.graph(), parsed.outputs(), options);
    assert_eq!(out.origins.len(), out.graph.len(), "one entry per node");
    let mut text = String::new();
    for (id, from) in out.origins.iter() {
        let from: Vec<String> = from.iter().map(NodeId::to_string).collect();
        let from = if from.is_empty() { "nothing".to_string() } else { from.join(", ") };
        text.push_str(&format!("{}  # from {from}\n", out.graph.display_node(id)));
    }
    let outputs: Vec<String> = out.outputs.iter().map(NodeId::to_string).collect();
    text + &format!("return {}\n", outputs.join(", "))
}

fn check(input: &str, expect: Expect) {
    expect.assert_eq(&origins_with(input, &Options::default()));
}

fn check_no_egraph(input: &str, expect: Expect) {
    expect.assert_eq(&origins_with(input, &Options { egraph: false, ..Options::default() }));
}

/// A graph nothing can improve: every node stands for itself.
#[test]
fn an_unchanged_graph_stands_for_itself() {
    check(
        r#"
        %0 = input("x") : f32[4]
        %1 = input("y") : f32[4]
        %2 = add(%0, %1) : f32[4]
        %3 = exp(%2) : f32[4]
        return %3
        "#,
        expect![[r#"
            %0 = input("x") : f32[4]  # from %0
            %1 = input("y") : f32[4]  # from %1
            %2 = add(%0, %1) : f32[4]  # from %2
            %3 = exp(%2) : f32[4]  # from %3
            return %3
        "#]],
    );
}

/// Dead nodes are dropped and the rest renumbered: no node stands for a dead one.
#[test]
fn nodes_removed_by_dce_are_nobody_s_origin() {
    check_no_egraph(
        r#"
        %0 = input("x") : f32[4]
        %1 = sin(%0) : f32[4]
        %2 = input("y") : f32[4]
        %3 = cos(%1) : f32[4]
        %4 = exp(%2) : f32[4]
        return %4
        "#,
        expect![[r#"
            %0 = input("y") : f32[4]  # from %2
            %1 = exp(%0) : f32[4]  # from %4
            return %1
        "#]],
    );
}

/// `x * 1 -> x`: the `x` that is left stands for the `mul` as well.
#[test]
fn mul_one_stands_for_the_mul() {
    check(
        r#"
        %0 = input("x") : f32[4]
        %1 = full(1.0) : f32[]
        %2 = mul(%0, %1) : f32[4]
        %3 = exp(%2) : f32[4]
        return %3, %2
        "#,
        expect![[r#"
            %0 = input("x") : f32[4]  # from %0, %2
            %1 = exp(%0) : f32[4]  # from %3
            return %1, %0
        "#]],
    );
}

/// A folded constant stands for the node whose value it is, not for the constants it was
/// folded from (they are gone).
#[test]
fn a_folded_constant_stands_for_the_folded_node() {
    check_no_egraph(
        r#"
        %0 = input("x") : f32[4]
        %1 = full(2.0) : f32[]
        %2 = full(3.0) : f32[]
        %3 = mul(%1, %2) : f32[]
        %4 = neg(%3) : f32[]
        %5 = mul(%0, %4) : f32[4]
        return %5
        "#,
        expect![[r#"
            %0 = input("x") : f32[4]  # from %0
            %1 = full(-6.0) : f32[]  # from %4
            %2 = mul(%0, %1) : f32[4]  # from %5
            return %2
        "#]],
    );
}

/// Nodes that become identical once their operands are folded (DCE's hash-consing) or once
/// a rewrite proved their operands equal (the e-graph): one node stands for all of them.
#[test]
fn common_subexpressions_stand_for_every_copy() {
    check_no_egraph(
        r#"
        %0 = input("x") : f32[4]
        %1 = full(6.0) : f32[]
        %2 = add(%0, %1) : f32[4]
        %3 = full(2.0) : f32[]
        %4 = full(3.0) : f32[]
        %5 = mul(%3, %4) : f32[]
        %6 = add(%0, %5) : f32[4]
        %7 = mul(%2, %6) : f32[4]
        return %7
        "#,
        expect![[r#"
            %0 = input("x") : f32[4]  # from %0
            %1 = full(6.0) : f32[]  # from %1, %5
            %2 = add(%0, %1) : f32[4]  # from %2, %6
            %3 = mul(%2, %2) : f32[4]  # from %7
            return %3
        "#]],
    );
    check(
        r#"
        %0 = input("x") : f32[4]
        %1 = full(1.0) : f32[]
        %2 = mul(%0, %1) : f32[4]
        %3 = exp(%0) : f32[4]
        %4 = exp(%2) : f32[4]
        %5 = sub(%3, %4) : f32[4]
        return %5
        "#,
        expect![[r#"
            %0 = input("x") : f32[4]  # from %0, %2
            %1 = exp(%0) : f32[4]  # from %3, %4
            %2 = sub(%1, %1) : f32[4]  # from %5
            return %2
        "#]],
    );
}

/// The whole pipeline: dead code, folding and e-graph rewrites, including one that makes a
/// constant no input node computes (`x / 4 -> x * 0.25`).
#[test]
fn the_whole_pipeline_keeps_track() {
    check(
        r#"
        %0 = input("x") : f32[4]
        %1 = input("k") : i32[4]
        %2 = full(0) : i32[]
        %3 = full(3) : i32[]
        %4 = mul(%1, %2) : i32[4]
        %5 = add(%4, %3) : i32[4]
        %6 = full(4.0) : f32[]
        %7 = div(%0, %6) : f32[4]
        %8 = sin(%0) : f32[4]
        %9 = full(1.0) : f32[]
        %10 = full(2.0) : f32[]
        %11 = add(%9, %10) : f32[]
        %12 = mul(%7, %11) : f32[4]
        %13 = exp(%12) : f32[4]
        return %13, %5
        "#,
        expect![[r#"
            %0 = input("x") : f32[4]  # from %0
            %1 = full(3) : i32[4]  # from %5
            %2 = full(3.0) : f32[]  # from %11
            %3 = full(0.25) : f32[]  # from nothing
            %4 = mul(%0, %3) : f32[4]  # from %7
            %5 = mul(%4, %2) : f32[4]  # from %12
            %6 = exp(%5) : f32[4]  # from %13
            return %6, %1
        "#]],
    );
}

/// Over random graphs: a node has the type of every node it stands for, and each output
/// stands for the output requested in its place.
#[test]
fn origins_agree_in_type_and_cover_the_outputs() {
    for options in [Options::default(), Options::fast_math()] {
        for seed in 1..200u64 {
            let (g, outs) = random_graph(seed * 7_919, 30);
            let out = run(&g, &outs, &options);
            assert_eq!(out.origins.len(), out.graph.len());
            for (id, from) in out.origins.iter() {
                for &o in from {
                    assert_eq!(out.graph.node(id).ty(), g.node(o).ty(), "seed {seed}: {id} from {o}");
                }
            }
            for (requested, got) in outs.iter().zip(&out.outputs) {
                assert!(out.origins.of(*got).contains(requested), "seed {seed}: {got} from {requested}");
            }
        }
    }
}
