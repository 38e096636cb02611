//! The generated Cranelift IR of a few representative kernels, as `switchyard plan --code`
//! shows it, against golden files in `tests/golden/` (`UPDATE_EXPECT=1` blesses): a change
//! to the code generator is reviewed as a diff of the code it generates.
//!
//! The text is the CLIF built before Cranelift compiles it, so it names no address and no
//! ISA flag; the one host-dependent word, the calling convention in the signatures, is
//! masked as `<call_conv>` so the files hold on any 64-bit host.

use expect_test::{expect_file, ExpectFile};
use switchyard_ir::{infer, BinaryOp, DType, Op, ReduceOp, Scalar, Shape, TensorType, UnaryOp};
use switchyard_lower::{Backend, KernelNode, KernelOperand, KernelSpec};

use super::{isa, CraneliftBackend};

/// A kernel spec built node by node, each node's type inferred from its operands.
struct Kernel {
    inputs: Vec<TensorType>,
    nodes: Vec<KernelNode>,
}

impl Kernel {
    fn new(dtype: DType, inputs: &[&[usize]]) -> Kernel {
        let inputs =
            inputs.iter().map(|dims| TensorType { dtype, shape: Shape::new(dims).unwrap() }).collect();
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

    /// A scalar constant of the kernel's dtype (inlined into the kernel as `full`).
    fn constant(&mut self, v: f64) -> KernelOperand {
        let dtype = self.inputs[0].dtype;
        self.push(Op::Full { value: Scalar::F64(v).cast(dtype), shape: Shape::scalar() }, &[])
    }

    fn unary(&mut self, u: UnaryOp, x: KernelOperand) -> KernelOperand {
        self.push(Op::Unary(u), &[x])
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
fn fused_chain(dtype: DType) -> KernelSpec {
    let mut k = Kernel::new(dtype, &[&[37, 19], &[19]]);
    let two = k.constant(2.0);
    let one = k.constant(1.0);
    let x2 = k.binary(BinaryOp::Mul, X, two);
    let x21 = k.binary(BinaryOp::Add, x2, one);
    let e = k.unary(UnaryOp::Exp, x21);
    let ey = k.binary(BinaryOp::Mul, e, Y);
    let out = k.binary(BinaryOp::Sub, ey, X);
    k.spec(out)
}

/// `sum(x, axis=-1)` over rows of 100.
fn sum_trailing(dtype: DType) -> KernelSpec {
    let mut k = Kernel::new(dtype, &[&[8, 100]]);
    let op = Op::Reduce { op: ReduceOp::Sum, axes: smallvec::smallvec![1], keepdims: false, correction: 0 };
    let out = k.push(op, &[X]);
    k.spec(out)
}

/// `maximum(clip(x, -6, 6), 0.25)`: constants as bounds and as an operand.
fn clip_maximum(dtype: DType) -> KernelSpec {
    let mut k = Kernel::new(dtype, &[&[1000]]);
    let (lo, hi, floor) = (k.constant(-6.0), k.constant(6.0), k.constant(0.25));
    let clipped = k.push(Op::Clip, &[X, lo, hi]);
    let out = k.binary(BinaryOp::Maximum, clipped, floor);
    k.spec(out)
}

/// The code `plan --code` shows for `spec`, under a header naming the kernel, with the host's
/// calling convention masked.
fn printed(name: &str, spec: &KernelSpec) -> String {
    let backend = CraneliftBackend::new();
    let kernel = backend.compile(spec).unwrap_or_else(|e| panic!("{name}: {e}"));
    let code = kernel.code().unwrap_or_else(|| panic!("{name}: no code"));
    let call_conv = isa().unwrap_or_else(|e| panic!("{e}")).default_call_conv().to_string();
    let describe = backend.describe_kernel(spec).unwrap_or_default();
    format!("; {name}: {describe}\n{}", code.replace(&call_conv, "<call_conv>"))
}

fn check(name: &str, spec: &KernelSpec, golden: ExpectFile) {
    let text = printed(name, spec);
    // The same text from a fresh backend (no cache shared): generation is deterministic.
    assert_eq!(text, printed(name, spec), "{name}: generated code differs between two compilations");
    golden.assert_eq(&text);
}

#[test]
fn fused_chain_f32_code_is_as_blessed() {
    check(
        "exp(x*2+1)*y - x, f32",
        &fused_chain(DType::F32),
        expect_file!["../tests/golden/fused_chain_f32.clif"],
    );
}

#[test]
fn fused_chain_f64_code_is_as_blessed() {
    check(
        "exp(x*2+1)*y - x, f64",
        &fused_chain(DType::F64),
        expect_file!["../tests/golden/fused_chain_f64.clif"],
    );
}

#[test]
fn trailing_sum_code_is_as_blessed() {
    check(
        "sum(x, axis=-1), f32",
        &sum_trailing(DType::F32),
        expect_file!["../tests/golden/sum_trailing_f32.clif"],
    );
}

#[test]
fn clip_and_maximum_with_constants_code_is_as_blessed() {
    check(
        "maximum(clip(x, -6, 6), 0.25), f32",
        &clip_maximum(DType::F32),
        expect_file!["../tests/golden/clip_maximum_f32.clif"],
    );
}
