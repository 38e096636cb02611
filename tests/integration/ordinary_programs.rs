//! Ordinary programs a new user writes, and where their plans put the work. Issue 14's goal:
//! no kernel on `cpu.reference` (the interpreter, meant as the oracle) and no step of its own
//! for a shape op (a view belongs in the consuming kernel's index arithmetic). The expected
//! text lists, per program, what still runs on the interpreter and which shape ops are still
//! steps; it is today's behaviour, and every line that is not `-` is a FIXME(issue 14) that
//! shrinks as the JIT grows (bless with `UPDATE_EXPECT=1`, and check that lines only vanish).

use std::collections::HashMap;

use expect_test::expect;
use switchyard::{expr, Category, DType, Device, Graph, Op};

/// An input: its name, dtype and dims.
type Input = (&'static str, DType, &'static [usize]);

/// Each program: a name, the expression, its inputs.
const PROGRAMS: &[(&str, &str, &[Input])] = &[
    ("leaky relu", "where(x > 0, x, 0.01 * x)", &[("x", DType::F32, &[1000])]),
    ("image from integers", "cast(img, dtype=f32) / 255", &[("img", DType::I32, &[64, 64])]),
    (
        "count of a mask",
        "sum(cast((x > 0) & (y < 0), dtype=i32))",
        &[("x", DType::F32, &[1000]), ("y", DType::F32, &[1000])],
    ),
    ("integer arithmetic", "(n * 3 + 1) % 7", &[("n", DType::I32, &[1000])]),
    (
        "k-means assignment",
        "argmin(sum((x[:, None, :] - c[None, :, :])**2, axis=2), axis=1)",
        &[("x", DType::F32, &[100, 4]), ("c", DType::F32, &[8, 4])],
    ),
    (
        "logistic-regression gradient",
        "permute_dims(X, axes=(1, 0)) @ (sigmoid(X @ w) - y)",
        &[("X", DType::F32, &[100, 4]), ("w", DType::F32, &[4]), ("y", DType::F32, &[100])],
    ),
    ("column standardization", "(a - mean(a, axis=0)) / std(a, axis=0)", &[("a", DType::F32, &[100, 8])]),
    ("flip and step", "flip(x, axis=0)[::2]", &[("x", DType::F32, &[100])]),
    ("strided slice", "x[1:9:2, ::-1] + 1", &[("x", DType::F32, &[10, 10])]),
    ("outer product", "x[:, None] * y[None, :]", &[("x", DType::F32, &[10]), ("y", DType::F32, &[20])]),
    (
        "row softmax",
        "exp(x - max(x, axis=1, keepdims=true)) / sum(exp(x - max(x, axis=1, keepdims=true)), axis=1, keepdims=true)",
        &[("x", DType::F32, &[16, 32])],
    ),
    (
        "layer norm",
        "(x - mean(x, axis=-1, keepdims=true)) / sqrt(var(x, axis=-1, keepdims=true) + 1e-5)",
        &[("x", DType::F32, &[16, 32])],
    ),
    (
        "dense layer",
        "maximum(a @ b + bias, 0)",
        &[("a", DType::F32, &[16, 8]), ("b", DType::F32, &[8, 4]), ("bias", DType::F32, &[4])],
    ),
];

#[test]
fn ordinary_programs_run_without_the_interpreter_and_without_shape_copies() {
    let mut report = String::new();
    for (name, source, inputs) in PROGRAMS {
        let g = Graph::new();
        let mut env: expr::Env = HashMap::new();
        for (n, dtype, dims) in *inputs {
            env.insert(n.to_string(), g.input(n, *dtype, dims).unwrap());
        }
        let t = expr::build(&g, source, &env).unwrap_or_else(|e| panic!("{name}: {e}"));
        let plan = g.plan(&[&t], Device::CPU).unwrap();
        let mut interpreted = Vec::new();
        let mut shape_steps = Vec::new();
        for step in &plan.steps {
            let ops: Vec<&str> = step.nodes.iter().map(|n| plan.graph[n.index()].op.as_str()).collect();
            if step.label() == "cpu.reference" {
                interpreted.extend(ops.iter().copied());
            }
            let only_shape_ops = step.nodes.iter().all(|n| {
                let op = &plan.graph[n.index()].op;
                switchyard::catalog()
                    .iter()
                    .find(|o: &&Op| o.name() == op)
                    .is_some_and(|o| o.info().category == Category::Shape)
            });
            if only_shape_ops {
                shape_steps.extend(ops);
            }
        }
        let list = |v: &[&str]| if v.is_empty() { "-".to_string() } else { v.join(" ") };
        report.push_str(&format!(
            "{name}: interpreted {}; shape steps {}\n",
            list(&interpreted),
            list(&shape_steps)
        ));
    }
    expect![[r#"
        leaky relu: interpreted gt where; shape steps -
        image from integers: interpreted cast; shape steps -
        count of a mask: interpreted gt lt logical_and cast sum; shape steps -
        integer arithmetic: interpreted full full full mul add remainder; shape steps -
        k-means assignment: interpreted expand_dims expand_dims argmin; shape steps expand_dims expand_dims
        logistic-regression gradient: interpreted permute_dims; shape steps permute_dims
        column standardization: interpreted mean std; shape steps -
        flip and step: interpreted flip slice; shape steps flip slice
        strided slice: interpreted slice; shape steps slice
        outer product: interpreted expand_dims expand_dims; shape steps expand_dims expand_dims
        row softmax: interpreted -; shape steps -
        layer norm: interpreted var; shape steps -
        dense layer: interpreted -; shape steps -
    "#]]
    .assert_eq(&report);
}
