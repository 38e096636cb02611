//! The matmul program: the geometry of `arg0 @ arg1` (f32, 1-D operands as in the array
//! API, batch axes broadcast) as launch data for the tiled kernel (`crate::matmul`).

use switchyard_ir::DType;

use super::compile_error;
use super::ir::{Bank, Kind, LaunchData, Program};
use crate::limits::MAX_K;
use switchyard_lower::{KernelOperand, KernelSpec, LowerError, MatmulGeometry};

/// The program of a matmul kernel `arg0 @ arg1` (f32; 1-D operands as in the array API;
/// batch axes broadcast).
pub fn matmul_program(spec: &KernelSpec) -> Result<(Program, LaunchData), LowerError> {
    let [node] = spec.nodes.as_slice() else {
        return Err(compile_error("matmul is generated as a kernel of its own"));
    };
    let (Some(KernelOperand::Arg(ia)), Some(KernelOperand::Arg(ib))) =
        (node.operands.first(), node.operands.get(1))
    else {
        return Err(compile_error("matmul operands must be kernel arguments"));
    };
    let (Some(a), Some(b)) = (spec.inputs.get(*ia), spec.inputs.get(*ib)) else {
        return Err(compile_error("matmul reads a missing argument"));
    };
    if [a.dtype, b.dtype, node.ty.dtype].iter().any(|&d| d != DType::F32) {
        return Err(compile_error("matmul is generated for f32 only"));
    }
    // 1-D promotion and the batch broadcast: the core's layout algebra.
    let geo = MatmulGeometry::of(a.shape.dims(), b.shape.dims())
        .map_err(|why| compile_error(format!("matmul of {} and {}: {why}", a.shape, b.shape)))?;
    if spec.outputs != [0] {
        return Err(compile_error(format!("matmul of {} and {}", a.shape, b.shape)));
    }
    let (m, k, n) = (geo.m, geo.k, geo.n);
    if k > MAX_K {
        return Err(compile_error(format!("matmul over k = {k} > {MAX_K}")));
    }
    let (batch, rank) = (&geo.batch, geo.batch.len());
    // Matrix numbers: a batch index's matrix in each operand, by broadcast strides.
    let (sa, sb) = (&geo.a_batch_strides, &geo.b_batch_strides);
    let fits = |x: usize| u32::try_from(x).map_err(|_| compile_error(format!("{x} exceeds 2^32")));
    let mut data = LaunchData {
        shape: batch.iter().map(|&d| fits(d)).collect::<Result<_, _>>()?,
        numel: fits(node.ty.shape.numel())? as usize,
        mkn: [fits(m)?, fits(k)?, fits(n)?],
        batch_strides: (sa.iter().map(|&s| s as u32).collect(), sb.iter().map(|&s| s as u32).collect()),
        ..LaunchData::default()
    };
    fits(a.shape.numel())?;
    fits(b.shape.numel())?;
    data.rows = batch.iter().product();
    let program = Program {
        kind: Kind::Matmul { batch: rank, operands: (*ia, *ib) },
        insts: Vec::new(),
        views: Vec::new(),
        rank,
        inputs: vec![Bank::F; spec.inputs.len()],
        outputs: vec![Bank::F],
        consts: (0, 0),
    };
    Ok((program, data))
}
