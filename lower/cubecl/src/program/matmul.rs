//! The matmul program: the geometry of `arg0 @ arg1` (f32, 1-D operands as in the array
//! API, batch axes broadcast) as launch data for the tiled kernel (`crate::matmul`).

use switchyard_ir::DType;

use super::compile_error;
use super::ir::{Bank, Kind, LaunchData, Program};
use super::view::{broadcast, row_major};
use crate::limits::MAX_K;
use switchyard_lower::LowerError;
use switchyard_lower::{KernelOperand, KernelSpec};

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
    let ad: Vec<usize> = match a.shape.dims() {
        [k] => vec![1, *k],
        d => d.to_vec(),
    };
    let bd: Vec<usize> = match b.shape.dims() {
        [k] => vec![*k, 1],
        d => d.to_vec(),
    };
    if ad.len() < 2 || bd.len() < 2 || ad[ad.len() - 1] != bd[bd.len() - 2] || spec.outputs != [0] {
        return Err(compile_error(format!("matmul of {} and {}", a.shape, b.shape)));
    }
    let (m, k, n) = (ad[ad.len() - 2], ad[ad.len() - 1], bd[bd.len() - 1]);
    if k > MAX_K {
        return Err(compile_error(format!("matmul over k = {k} > {MAX_K}")));
    }
    let (a_batch, b_batch) = (&ad[..ad.len() - 2], &bd[..bd.len() - 2]);
    let rank = a_batch.len().max(b_batch.len());
    let mut batch = vec![1usize; rank];
    for (dims, _) in [(a_batch, 0), (b_batch, 1)] {
        for (i, &d) in dims.iter().enumerate() {
            let slot = &mut batch[rank - dims.len() + i];
            if d != 1 {
                *slot = d;
            }
        }
    }
    // Matrix numbers: a batch index's matrix in each operand, by broadcast strides.
    let count_strides = |dims: &[usize]| broadcast(dims, &row_major(dims), &batch);
    let (sa, sb) = (count_strides(a_batch), count_strides(b_batch));
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
