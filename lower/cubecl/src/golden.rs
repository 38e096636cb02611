//! The code `switchyard plan --code` shows for three representative kernels (an elementwise
//! fusion, a reduction, a matmul), their program listing and the WGSL cubecl generates, against
//! golden files in `tests/golden/` (`UPDATE_EXPECT=1` blesses): a change to the program
//! builder, the kernels or cubecl is reviewed as a diff of the code it generates.
//!
//! cubecl generates the WGSL for a device (its client's properties are part of the kernel
//! definition), so these tests need one: without a GPU they say why and pass, unless
//! `SWITCHYARD_REQUIRE_GPU=1`. The files are Mesa's lavapipe's; on another first adapter the
//! comparison is skipped, with a note.
//!
//! cubecl declares a kernel's mutable locals (`var l_mut_N: T;`) in an order that changes
//! from one compilation to the next (it comes from a `HashMap`); the order means nothing, so
//! each run of such declarations is sorted by number before the comparison. Everything else
//! is the same in every compilation.

use expect_test::{expect_file, ExpectFile};
use switchyard_ir::{infer, BinaryOp, DType, Op, ReduceOp, Scalar, Shape, TensorType, UnaryOp};
use switchyard_lower::{Backend, KernelNode, KernelOperand, KernelSpec};

use super::tests::gpu_or_skip;
use super::CubeclBackend;

/// A kernel spec built node by node, each node's type inferred from its operands.
struct Kernel {
    inputs: Vec<TensorType>,
    nodes: Vec<KernelNode>,
}

impl Kernel {
    fn new(inputs: &[&[usize]]) -> Kernel {
        let inputs = inputs
            .iter()
            .map(|dims| TensorType { dtype: DType::F32, shape: Shape::new(dims).unwrap() })
            .collect();
        Kernel { inputs, nodes: Vec::new() }
    }

    fn ty(&self, operand: KernelOperand) -> &TensorType {
        match operand {
            KernelOperand::Arg(i) => &self.inputs[i],
            KernelOperand::Node(k) => &self.nodes[k].ty,
        }
    }

    fn push(&mut self, op: Op, operands: &[KernelOperand]) -> KernelOperand {
        let tys: Vec<&TensorType> = operands.iter().map(|&o| self.ty(o)).collect();
        let ty = infer(&op, &tys).unwrap_or_else(|e| panic!("{op}: {e}"));
        self.nodes.push(KernelNode { op, operands: operands.to_vec(), ty });
        KernelOperand::Node(self.nodes.len() - 1)
    }

    fn constant(&mut self, v: f32) -> KernelOperand {
        self.push(Op::Full { value: Scalar::F32(v), shape: Shape::scalar() }, &[])
    }

    fn binary(&mut self, b: BinaryOp, x: KernelOperand, y: KernelOperand) -> KernelOperand {
        self.push(Op::Binary(b), &[x, y])
    }

    fn spec(self, output: KernelOperand) -> KernelSpec {
        let KernelOperand::Node(out) = output else { panic!("an input is not a kernel output") };
        KernelSpec { inputs: self.inputs, nodes: self.nodes, outputs: vec![out] }
    }
}

const X: KernelOperand = KernelOperand::Arg(0);
const Y: KernelOperand = KernelOperand::Arg(1);

/// `exp(x * 2 + 1) * y - x` with `y` broadcast along the rows of `x`.
fn fused_chain() -> KernelSpec {
    let mut k = Kernel::new(&[&[37, 19], &[19]]);
    let (two, one) = (k.constant(2.0), k.constant(1.0));
    let x2 = k.binary(BinaryOp::Mul, X, two);
    let x21 = k.binary(BinaryOp::Add, x2, one);
    let e = k.push(Op::Unary(UnaryOp::Exp), &[x21]);
    let ey = k.binary(BinaryOp::Mul, e, Y);
    let out = k.binary(BinaryOp::Sub, ey, X);
    k.spec(out)
}

/// `sum(x * x, axis=-1)` over rows of 100: the square fused into the reduction's loads.
fn sum_of_squares() -> KernelSpec {
    let mut k = Kernel::new(&[&[8, 100]]);
    let sq = k.binary(BinaryOp::Mul, X, X);
    let op =
        Op::Reduce { op: ReduceOp::Sum, axes: [1].into_iter().collect(), keepdims: false, correction: 0 };
    let out = k.push(op, &[sq]);
    k.spec(out)
}

/// A batched matmul with a broadcast right operand: `[2, 5, 3] @ [3, 4]`.
fn batched_matmul() -> KernelSpec {
    let mut k = Kernel::new(&[&[2, 5, 3], &[3, 4]]);
    let out = k.push(Op::Matmul, &[X, Y]);
    k.spec(out)
}

/// `code` with each run of consecutive `var l_mut_N` declarations sorted by `N`.
fn sorted_locals(code: &str) -> String {
    let number = |line: &str| -> Option<u64> {
        let rest = line.strip_prefix("var l_mut_")?;
        rest.split(':').next()?.parse().ok()
    };
    let mut out: Vec<&str> = Vec::new();
    let mut run: Vec<(u64, &str)> = Vec::new();
    for line in code.split_inclusive('\n') {
        match number(line) {
            Some(n) => run.push((n, line)),
            None => {
                run.sort_unstable();
                out.extend(run.drain(..).map(|(_, l)| l));
                out.push(line);
            }
        }
    }
    run.sort_unstable();
    out.extend(run.into_iter().map(|(_, l)| l));
    out.concat()
}

/// The code `plan --code` shows for `spec`, under a header naming the kernel, its locals'
/// declarations in order.
fn printed(name: &str, spec: &KernelSpec) -> String {
    let backend = CubeclBackend::new();
    let kernel = backend.compile(spec).unwrap_or_else(|e| panic!("{name}: {e}"));
    let code = kernel.code().unwrap_or_else(|| panic!("{name}: no code"));
    let describe = backend.describe_kernel(spec).unwrap_or_default();
    format!("// {name}: {describe}\n{}", sorted_locals(&code))
}

fn check(name: &str, spec: &KernelSpec, golden: ExpectFile) {
    let Some(device) = gpu_or_skip() else { return };
    if !device.adapter.contains("llvmpipe") {
        eprintln!("skipped: the golden WGSL is lavapipe's, and the first device is {}", device.adapter);
        return;
    }
    let text = printed(name, spec);
    // The same text from fresh backends (no cache shared): generation is deterministic, but
    // for the order of the locals' declarations.
    for _ in 0..4 {
        assert_eq!(text, printed(name, spec), "{name}: generated code differs between compilations");
    }
    golden.assert_eq(&text);
}

#[test]
fn fused_chain_wgsl_is_as_blessed() {
    check("exp(x*2+1)*y - x, f32", &fused_chain(), expect_file!["../tests/golden/fused_chain_f32.wgsl"]);
}

#[test]
fn sum_of_squares_wgsl_is_as_blessed() {
    check(
        "sum(x*x, axis=-1), f32",
        &sum_of_squares(),
        expect_file!["../tests/golden/sum_of_squares_f32.wgsl"],
    );
}

#[test]
fn batched_matmul_wgsl_is_as_blessed() {
    check("[2,5,3] @ [3,4], f32", &batched_matmul(), expect_file!["../tests/golden/batched_matmul_f32.wgsl"]);
}
