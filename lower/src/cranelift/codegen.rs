//! Code generation: a fused elementwise [`KernelSpec`] becomes one Cranelift function
//!
//! ```text
//! kernel(ins: *const *const T, outs: *const *mut T, consts: *const f64, n: i64)
//! ```
//!
//! that computes `n` consecutive elements of the kernel's innermost loop. Each input has an
//! inner stride of 1 (it walks with the loop) or 0 (it is broadcast along it), fixed at compile
//! time; the caller passes per-row base pointers. `full` constants arrive at run time in
//! `consts`, so a changed constant reuses the code. The body runs in vectors of 128 bits
//! (`f32x4`, `f64x2`) with a scalar tail; constants and broadcast inputs are loaded once,
//! before the loop.

use cranelift_codegen::ir::{
    types, AbiParam, Function, InstBuilder, MemFlagsData, Signature, Type, UserFuncName, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use switchyard_ir::{BinaryOp, DType, Op, UnaryOp};

use super::math::{ConstPool, Emitter};
use crate::error::{LowerError, LowerErrorKind};
use crate::kernel::{KernelSpec, Operand};

/// What the generated function needs from its caller, beyond the spec.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    /// Per input: 1 if it walks with the inner loop, 0 if broadcast along it.
    pub inner_strides: Vec<u8>,
}

fn unsupported(what: impl Into<String>) -> LowerError {
    LowerError::new(LowerErrorKind::Compile, what)
}

/// The float dtype every value of the kernel shares.
pub fn kernel_dtype(spec: &KernelSpec) -> Result<DType, LowerError> {
    let d = spec.nodes.first().map(|n| n.ty.dtype).ok_or_else(|| unsupported("empty kernel"))?;
    let all = spec.nodes.iter().map(|n| n.ty.dtype).chain(spec.inputs.iter().map(|t| t.dtype));
    for other in all {
        if other != d || !d.is_float() {
            return Err(unsupported(format!(
                "cpu.cranelift kernels take one float dtype, found {d} and {other}"
            )));
        }
    }
    Ok(d)
}

/// The signature every kernel function has.
pub fn signature(call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    for _ in 0..3 {
        sig.params.push(AbiParam::new(types::I64));
    }
    sig.params.push(AbiParam::new(types::I64));
    sig
}

/// Builds the function for `spec`: a dry run finds the float constants the body needs, the
/// real run hoists them out of the loop.
pub fn build(
    spec: &KernelSpec,
    layout: &Layout,
    config: TargetFrontendConfig,
) -> Result<Function, LowerError> {
    let (_, wanted) = build_with(spec, layout, config, &[])?;
    build_with(spec, layout, config, &wanted).map(|(f, _)| f)
}

/// One emission of the function, with `hoist` materialized before the loop; also returns
/// the constants the body asked for that were not hoisted.
fn build_with(
    spec: &KernelSpec,
    layout: &Layout,
    config: TargetFrontendConfig,
    hoist: &[f64],
) -> Result<(Function, Vec<f64>), LowerError> {
    let call_conv = config.default_call_conv;
    let dtype = kernel_dtype(spec)?;
    let (lane, vec_ty, width) = match dtype {
        DType::F32 => (types::F32, types::F32X4, 4i64),
        _ => (types::F64, types::F64X2, 2i64),
    };
    let size = dtype.size_bytes() as i64;
    let mut func = Function::with_name_signature(UserFuncName::user(0, 0), signature(call_conv));
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let trusted = MemFlagsData::trusted();
    // Data pointers are element-aligned but not vector-aligned in general.
    let data = MemFlagsData::new().with_notrap();

    let entry = b.create_block();
    let vhead = b.create_block();
    let vbody = b.create_block();
    let shead = b.create_block();
    let sbody = b.create_block();
    let exit = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let (ins_pp, outs_pp, consts_p, n) = (params[0], params[1], params[2], params[3]);

    // Hoisted: base pointers, constants, broadcast inputs (scalar and splatted).
    let mut in_ptr = Vec::with_capacity(spec.inputs.len());
    for i in 0..spec.inputs.len() {
        in_ptr.push(b.ins().load(types::I64, trusted, ins_pp, (i * 8) as i32));
    }
    let mut out_ptr = Vec::with_capacity(spec.outputs.len());
    for j in 0..spec.outputs.len() {
        out_ptr.push(b.ins().load(types::I64, trusted, outs_pp, (j * 8) as i32));
    }
    let mut consts_scalar: Vec<Option<Value>> = vec![None; spec.nodes.len()];
    let mut k = 0i32;
    for (idx, node) in spec.nodes.iter().enumerate() {
        if let Op::Full { .. } = node.op {
            let v = b.ins().load(types::F64, trusted, consts_p, k * 8);
            let v = if lane == types::F32 { b.ins().fdemote(types::F32, v) } else { v };
            consts_scalar[idx] = Some(v);
            k += 1;
        }
    }
    let mut bcast_scalar: Vec<Option<Value>> = vec![None; spec.inputs.len()];
    for (i, &s) in layout.inner_strides.iter().enumerate() {
        if s == 0 {
            bcast_scalar[i] = Some(b.ins().load(lane, data, in_ptr[i], 0));
        }
    }
    let splat = |b: &mut FunctionBuilder<'_>, v: &[Option<Value>]| -> Vec<Option<Value>> {
        v.iter().map(|x| x.map(|x| b.ins().splat(vec_ty, x))).collect()
    };
    let consts_vec = splat(&mut b, &consts_scalar);
    let bcast_vec = splat(&mut b, &bcast_scalar);
    let mut pool = ConstPool::default();
    pool.fill(&mut b, hoist, lane, vec_ty);
    let zero = b.ins().iconst(types::I64, 0);
    b.ins().jump(vhead, &[zero.into()]);

    // Vector loop: while i + width <= n.
    b.switch_to_block(vhead);
    let i = b.append_block_param(vhead, types::I64);
    let next = b.ins().iadd_imm_s(i, width);
    let fits = b.ins().icmp(cranelift_codegen::ir::condcodes::IntCC::SignedLessThanOrEqual, next, n);
    b.ins().brif(fits, vbody, &[], shead, &[i.into()]);

    b.switch_to_block(vbody);
    let off = b.ins().imul_imm_s(i, size);
    let cx = BodyCtx {
        ty: vec_ty,
        off,
        in_ptr: &in_ptr,
        consts: &consts_vec,
        bcast: &bcast_vec,
        layout,
        data,
        pool: &pool,
    };
    emit_body(&mut b, spec, &cx, &out_ptr)?;
    b.ins().jump(vhead, &[next.into()]);

    // Scalar tail: while i < n.
    b.switch_to_block(shead);
    let j = b.append_block_param(shead, types::I64);
    let more = b.ins().icmp(cranelift_codegen::ir::condcodes::IntCC::SignedLessThan, j, n);
    b.ins().brif(more, sbody, &[], exit, &[]);

    b.switch_to_block(sbody);
    let off = b.ins().imul_imm_s(j, size);
    let cx = BodyCtx {
        ty: lane,
        off,
        in_ptr: &in_ptr,
        consts: &consts_scalar,
        bcast: &bcast_scalar,
        layout,
        data,
        pool: &pool,
    };
    emit_body(&mut b, spec, &cx, &out_ptr)?;
    let j1 = b.ins().iadd_imm_s(j, 1);
    b.ins().jump(shead, &[j1.into()]);

    b.switch_to_block(exit);
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(config);
    let requested = pool.requested();
    Ok((func, requested))
}

/// Where one emission of the body reads its values from.
struct BodyCtx<'a> {
    ty: Type,
    off: Value,
    in_ptr: &'a [Value],
    consts: &'a [Option<Value>],
    bcast: &'a [Option<Value>],
    layout: &'a Layout,
    data: MemFlagsData,
    pool: &'a ConstPool,
}

/// Emits the nodes `0..upto` of `spec` for one position (vector or scalar) and returns
/// their values; kernel arguments are loaded (or taken from the hoisted broadcasts).
fn compute_nodes(
    b: &mut FunctionBuilder<'_>,
    spec: &KernelSpec,
    cx: &BodyCtx<'_>,
    upto: usize,
) -> Result<(Vec<Option<Value>>, Vec<Value>), LowerError> {
    let mut args: Vec<Option<Value>> = vec![None; spec.inputs.len()];
    for (i, slot) in args.iter_mut().enumerate() {
        *slot = if cx.layout.inner_strides.get(i).copied().unwrap_or(0) == 0 {
            cx.bcast.get(i).copied().flatten()
        } else {
            let p = b.ins().iadd(cx.in_ptr[i], cx.off);
            Some(b.ins().load(cx.ty, cx.data, p, 0))
        };
    }
    let mut vals: Vec<Value> = Vec::with_capacity(upto);
    for (idx, node) in spec.nodes.iter().enumerate().take(upto) {
        let ops: Vec<Value> =
            node.operands.iter().map(|o| operand_value(o, &args, &vals)).collect::<Result<_, _>>()?;
        let mut e = Emitter { b: &mut *b, ty: cx.ty, pool: cx.pool };
        let v = match &node.op {
            Op::Full { .. } => cx.consts[idx].ok_or_else(|| unsupported("missing constant"))?,
            Op::Unary(u) => emit_unary(&mut e, *u, ops[0])?,
            Op::Binary(op) => emit_binary(&mut e, *op, ops[0], ops[1])?,
            Op::Clip => {
                let lo = e.maximum(ops[0], ops[1]);
                e.minimum(lo, ops[2])
            }
            other => return Err(unsupported(format!("cpu.cranelift cannot emit {}", other.name()))),
        };
        vals.push(v);
    }
    Ok((args, vals))
}

fn operand_value(o: &Operand, args: &[Option<Value>], vals: &[Value]) -> Result<Value, LowerError> {
    match *o {
        Operand::Arg(a) => args.get(a).copied().flatten(),
        Operand::Node(n) => vals.get(n).copied(),
    }
    .ok_or_else(|| unsupported("kernel operand out of range"))
}

/// Emits the whole body for one position and stores the kernel's outputs.
fn emit_body(
    b: &mut FunctionBuilder<'_>,
    spec: &KernelSpec,
    cx: &BodyCtx<'_>,
    out_ptr: &[Value],
) -> Result<(), LowerError> {
    let (_, vals) = compute_nodes(b, spec, cx, spec.nodes.len())?;
    for (j, &node) in spec.outputs.iter().enumerate() {
        let v = vals.get(node).copied().ok_or_else(|| unsupported("kernel output out of range"))?;
        let p = b.ins().iadd(out_ptr[j], cx.off);
        b.ins().store(cx.data, v, p, 0);
    }
    Ok(())
}

fn emit_unary(e: &mut Emitter<'_, '_>, u: UnaryOp, x: Value) -> Result<Value, LowerError> {
    Ok(match u {
        UnaryOp::Neg => e.b.ins().fneg(x),
        UnaryOp::Abs => e.b.ins().fabs(x),
        UnaryOp::Sqrt => e.b.ins().sqrt(x),
        UnaryOp::Square => e.b.ins().fmul(x, x),
        UnaryOp::Reciprocal => {
            let one = e.c(1.0);
            e.b.ins().fdiv(one, x)
        }
        UnaryOp::Floor => e.b.ins().floor(x),
        UnaryOp::Ceil => e.b.ins().ceil(x),
        UnaryOp::Round => e.b.ins().nearest(x),
        UnaryOp::Exp => e.exp(x),
        UnaryOp::Expm1 => e.expm1(x),
        UnaryOp::Tanh => e.tanh(x),
        UnaryOp::Sigmoid => e.sigmoid(x),
        other => return Err(unsupported(format!("cpu.cranelift cannot emit {}", other.name()))),
    })
}

fn emit_binary(e: &mut Emitter<'_, '_>, op: BinaryOp, x: Value, y: Value) -> Result<Value, LowerError> {
    Ok(match op {
        BinaryOp::Add => e.b.ins().fadd(x, y),
        BinaryOp::Sub => e.b.ins().fsub(x, y),
        BinaryOp::Mul => e.b.ins().fmul(x, y),
        BinaryOp::Div => e.b.ins().fdiv(x, y),
        BinaryOp::Maximum => e.maximum(x, y),
        BinaryOp::Minimum => e.minimum(x, y),
        other => return Err(unsupported(format!("cpu.cranelift cannot emit {}", other.name()))),
    })
}
