//! IEEE semantics of the user's float arithmetic on `gpu.cubecl`: where
//! `program::guard_arithmetic` puts its barriers (checked on the programs, no GPU needed),
//! and that the driver then keeps every rounding, infinity, NaN and signed zero (on the
//! first device; skipped without one unless `SWITCHYARD_REQUIRE_GPU=1`).

use switchyard_ir::{infer, BinaryOp, DType, Op, ReduceOp, Scalar, Shape, TensorType, UnaryOp};

use super::program::{map_program, reduce_program, Inst, Kind};
use super::CubeclBackend;
use switchyard_lower::Backend;
use switchyard_lower::{KernelNode, KernelOperand, KernelSpec};

const X: KernelOperand = KernelOperand::Arg(0);
const Y: KernelOperand = KernelOperand::Arg(1);

/// A spec over `args` f32 vectors of length `n`, built by `build` (which returns the output).
fn spec(
    args: usize,
    n: usize,
    build: impl FnOnce(&mut Vec<KernelNode>, &[TensorType]) -> usize,
) -> KernelSpec {
    let inputs = vec![TensorType { dtype: DType::F32, shape: Shape::vector(n) }; args];
    let mut nodes = Vec::new();
    let out = build(&mut nodes, &inputs);
    KernelSpec { inputs, nodes, outputs: vec![out] }
}

/// Appends `op` over `operands` to `nodes`; its node number.
fn push(nodes: &mut Vec<KernelNode>, inputs: &[TensorType], op: Op, operands: &[KernelOperand]) -> usize {
    let types: Vec<TensorType> = operands
        .iter()
        .map(|o| match *o {
            KernelOperand::Arg(a) => inputs[a].clone(),
            KernelOperand::Node(n) => nodes[n].ty.clone(),
        })
        .collect();
    let refs: Vec<&TensorType> = types.iter().collect();
    let ty = infer(&op, &refs).unwrap_or_else(|e| panic!("{op}: {e}"));
    nodes.push(KernelNode { op, operands: operands.to_vec(), ty });
    nodes.len() - 1
}

fn bin(
    nodes: &mut Vec<KernelNode>,
    inputs: &[TensorType],
    b: BinaryOp,
    x: KernelOperand,
    y: KernelOperand,
) -> KernelOperand {
    KernelOperand::Node(push(nodes, inputs, Op::Binary(b), &[x, y]))
}

fn node(o: KernelOperand) -> usize {
    match o {
        KernelOperand::Node(n) => n,
        KernelOperand::Arg(_) => panic!("an argument"),
    }
}

#[test]
fn a_value_that_another_instruction_reads_goes_through_a_barrier_first() {
    // (x + y) - y: the sum is read by the difference, which only the store reads.
    let s = spec(2, 8, |n, i| {
        let t = bin(n, i, BinaryOp::Add, X, Y);
        node(bin(n, i, BinaryOp::Sub, t, Y))
    });
    let (program, _) = map_program(&s).unwrap();
    assert_eq!(
        program.insts,
        vec![
            Inst::LoadF { slot: 0, view: 0 },
            Inst::LoadF { slot: 1, view: 1 },
            Inst::BinaryF(BinaryOp::Add, 0, 1),
            Inst::Opaque(2),
            Inst::BinaryF(BinaryOp::Sub, 3, 1),
            Inst::StoreF { reg: 4, slot: 0 },
        ]
    );
}

#[test]
fn identical_operands_are_split_unless_ieee_keeps_the_identity() {
    let program = |b: BinaryOp| {
        let s = spec(1, 8, |n, i| node(bin(n, i, b, X, X)));
        map_program(&s).unwrap().0.insts
    };
    // x - x, x / x, x == x: the second operand is a barrier of the first.
    for b in [BinaryOp::Sub, BinaryOp::Div, BinaryOp::Remainder, BinaryOp::Pow] {
        assert_eq!(
            program(b),
            vec![
                Inst::LoadF { slot: 0, view: 0 },
                Inst::Opaque(0),
                Inst::BinaryF(b, 0, 1),
                Inst::StoreF { reg: 2, slot: 0 },
            ],
            "{b:?}"
        );
    }
    assert_eq!(
        program(BinaryOp::Ne),
        vec![
            Inst::LoadF { slot: 0, view: 0 },
            Inst::Opaque(0),
            Inst::CompareF(BinaryOp::Ne, 0, 1),
            Inst::StoreB { reg: 0, slot: 0 },
        ]
    );
    // x + x, x * x, maximum(x, x), minimum(x, x) are what a driver may make of them.
    for b in [BinaryOp::Add, BinaryOp::Mul, BinaryOp::Maximum, BinaryOp::Minimum] {
        assert!(!program(b).contains(&Inst::Opaque(0)), "{b:?}");
    }
}

#[test]
fn stores_bit_tests_loads_and_constants_need_no_barrier() {
    // isnan(x * c) and x * c stored: nothing reads the product as a float.
    let s = spec(1, 8, |n, i| {
        let c = KernelOperand::Node(push(
            n,
            i,
            Op::Full { value: Scalar::F32(2.0), shape: Shape::scalar() },
            &[],
        ));
        let t = bin(n, i, BinaryOp::Mul, X, c);
        push(n, i, Op::Unary(UnaryOp::IsNan), &[t]);
        node(t)
    });
    let s = KernelSpec { outputs: vec![1, 2], ..s };
    let (program, _) = map_program(&s).unwrap();
    assert!(!program.insts.iter().any(|i| matches!(i, Inst::Opaque(_))), "{:?}", program.insts);
}

#[test]
fn the_reduced_value_of_a_float_reduction_is_behind_a_barrier() {
    let s = KernelSpec {
        inputs: vec![TensorType { dtype: DType::F32, shape: Shape::new(&[3, 5]).unwrap() }],
        nodes: Vec::new(),
        outputs: vec![1],
    };
    let mut nodes = Vec::new();
    let d = bin(&mut nodes, &s.inputs, BinaryOp::Sub, X, X);
    let r = Op::Reduce {
        op: ReduceOp::Sum,
        axes: [1usize].into_iter().collect(),
        keepdims: false,
        correction: 0,
    };
    push(&mut nodes, &s.inputs, r, &[d]);
    let s = KernelSpec { nodes, ..s };
    let (program, _) = reduce_program(&s).unwrap();
    assert_eq!(
        program.insts,
        vec![
            Inst::LoadF { slot: 0, view: 0 },
            Inst::Opaque(0),
            Inst::BinaryF(BinaryOp::Sub, 0, 1),
            Inst::Opaque(2),
        ]
    );
    assert!(matches!(program.kind, Kind::Reduce { reg: 3, .. }), "{:?}", program.kind);
}

/// `spec` on the first GPU device and on the reference over f32 `args`; both outputs as
/// bits. `None` without a device (or a failure, with `SWITCHYARD_REQUIRE_GPU=1`).
fn gpu_and_reference(spec: &KernelSpec, args: &[Vec<f32>]) -> Option<(Vec<u32>, Vec<u32>)> {
    let backend = CubeclBackend::new();
    if backend.device_memory(0).is_none() {
        let required = std::env::var("SWITCHYARD_REQUIRE_GPU").is_ok_and(|v| v == "1");
        assert!(!required, "SWITCHYARD_REQUIRE_GPU=1 but gpu.cubecl found no device");
        eprintln!("skipped: gpu.cubecl found no GPU device");
        return None;
    }
    let bytes: Vec<Vec<u8>> = args.iter().map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
    let bits = |b: &[u8]| -> Vec<u32> {
        b.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    };
    let (got, want) = super::tests::run_both(&backend, spec, &bytes);
    Some((bits(&got[0]), bits(&want[0])))
}

#[test]
fn the_issues_expressions_give_the_references_bits_on_the_device() {
    let (inf, nan) = (f32::INFINITY, f32::NAN);
    // x - x with infinities and NaN: NaN, not 0.
    let s = spec(1, 4, |n, i| node(bin(n, i, BinaryOp::Sub, X, X)));
    let Some((got, want)) = gpu_and_reference(&s, &[vec![inf, -inf, nan, 1.5]]) else { return };
    assert_eq!(got, want);
    assert!(got[..3].iter().all(|&b| f32::from_bits(b).is_nan()));
    // (x + y) - y rounds: [0, 0.0010000467, 0], not x.
    let s = spec(2, 3, |n, i| {
        let t = bin(n, i, BinaryOp::Add, X, Y);
        node(bin(n, i, BinaryOp::Sub, t, Y))
    });
    let (got, want) = gpu_and_reference(&s, &[vec![1e-8, 1e-3, 3.0], vec![1.0, 1.0, 1e8]]).unwrap();
    assert_eq!(got, want);
    assert_eq!(got, [0.0f32, 0.001_000_046_7, 0.0].map(f32::to_bits));
    // (x * 2 + y) - (y + x * 2): the driver merges the two sums unless their barriers differ.
    let s = spec(2, 3, |n, i| {
        let c = KernelOperand::Node(push(
            n,
            i,
            Op::Full { value: Scalar::F32(2.0), shape: Shape::scalar() },
            &[],
        ));
        let x2 = bin(n, i, BinaryOp::Mul, X, c);
        let a = bin(n, i, BinaryOp::Add, x2, Y);
        let b = bin(n, i, BinaryOp::Add, Y, x2);
        node(bin(n, i, BinaryOp::Sub, a, b))
    });
    let (got, want) = gpu_and_reference(&s, &[vec![inf, 1.0, -0.0], vec![-inf, 2.0, -0.0]]).unwrap();
    assert_eq!(got, want);
    assert!(f32::from_bits(got[0]).is_nan());
}
