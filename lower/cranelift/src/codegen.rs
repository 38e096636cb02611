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

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, Function, InstBuilder, MemFlagsData, Signature, Type, UserFuncName, Value,
};
use cranelift_codegen::ir::{ConstantData, Endianness};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use switchyard_ir::{BinaryOp, DType, Op, ReduceOp, UnaryOp};

use super::math::{ConstPool, Emitter};
use switchyard_lower::{KernelOperand, KernelSpec};
use switchyard_lower::{LowerError, LowerErrorKind};

/// Vectors per iteration of the main loop of elementwise kernels.
const UNROLL: i64 = 4;

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
    with_hoisted_constants(|hoist| build_with(spec, layout, config, hoist))
}

/// Emits a function twice: a dry run records the float constants its body asks for, the real
/// run materializes them before the loop (Cranelift does not hoist them itself).
fn with_hoisted_constants(
    emit: impl Fn(&[(f64, Type)]) -> Result<(Function, Vec<(f64, Type)>), LowerError>,
) -> Result<Function, LowerError> {
    let (_, wanted) = emit(&[])?;
    emit(&wanted).map(|(f, _)| f)
}

/// The lane type, the 128-bit vector type and its lane count for a float dtype.
fn vector_types(dtype: DType) -> (Type, Type, i64) {
    match dtype {
        DType::F32 => (types::F32, types::F32X4, 4),
        _ => (types::F64, types::F64X2, 2),
    }
}

/// One emission of the function, with `hoist` materialized before the loop; also returns
/// the constants the body asked for that were not hoisted.
fn build_with(
    spec: &KernelSpec,
    layout: &Layout,
    config: TargetFrontendConfig,
    hoist: &[(f64, Type)],
) -> Result<(Function, Vec<(f64, Type)>), LowerError> {
    let call_conv = config.default_call_conv;
    let dtype = kernel_dtype(spec)?;
    let (lane, vec_ty, width) = vector_types(dtype);
    let size = dtype.size_bytes() as i64;
    let mut func = Function::with_name_signature(UserFuncName::user(0, 0), signature(call_conv));
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let trusted = MemFlagsData::trusted();
    // Data pointers are element-aligned but not vector-aligned in general.

    let entry = b.create_block();
    let uhead = b.create_block();
    let ubody = b.create_block();
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
    let pro = prologue(&mut b, spec, layout, ins_pp, consts_p, lane, vec_ty);
    let out_ptr: Vec<Value> =
        (0..spec.outputs.len()).map(|j| b.ins().load(types::I64, trusted, outs_pp, (j * 8) as i32)).collect();
    let mut pool = ConstPool::default();
    pool.fill(&mut b, hoist);
    let zero = b.ins().iconst(types::I64, 0);
    b.ins().jump(uhead, &[zero.into()]);

    // Unrolled vector loop: while i + UNROLL*width <= n, UNROLL independent vectors per
    // iteration, emitted op by op in lockstep so long dependency chains (transcendentals)
    // overlap in the CPU's out-of-order window.
    b.switch_to_block(uhead);
    let i = b.append_block_param(uhead, types::I64);
    let unext = b.ins().iadd_imm_s(i, width * UNROLL);
    let fits = b.ins().icmp(IntCC::SignedLessThanOrEqual, unext, n);
    b.ins().brif(fits, ubody, &[], vhead, &[i.into()]);

    b.switch_to_block(ubody);
    let offs: Vec<Value> = (0..UNROLL)
        .map(|k| {
            let at = b.ins().iadd_imm_s(i, width * k);
            b.ins().imul_imm_s(at, size)
        })
        .collect();
    let cxs: Vec<BodyCtx<'_>> = offs.iter().map(|&off| pro.ctx(true, vec_ty, off, layout, &pool)).collect();
    emit_body(&mut b, spec, &cxs, &out_ptr)?;
    b.ins().jump(uhead, &[unext.into()]);

    // Vector loop: while i + width <= n.
    b.switch_to_block(vhead);
    let i = b.append_block_param(vhead, types::I64);
    let next = b.ins().iadd_imm_s(i, width);
    let fits = b.ins().icmp(cranelift_codegen::ir::condcodes::IntCC::SignedLessThanOrEqual, next, n);
    b.ins().brif(fits, vbody, &[], shead, &[i.into()]);

    b.switch_to_block(vbody);
    let off = b.ins().imul_imm_s(i, size);
    let cx = pro.ctx(true, vec_ty, off, layout, &pool);
    emit_body(&mut b, spec, std::slice::from_ref(&cx), &out_ptr)?;
    b.ins().jump(vhead, &[next.into()]);

    // Scalar tail: while i < n.
    b.switch_to_block(shead);
    let j = b.append_block_param(shead, types::I64);
    let more = b.ins().icmp(cranelift_codegen::ir::condcodes::IntCC::SignedLessThan, j, n);
    b.ins().brif(more, sbody, &[], exit, &[]);

    b.switch_to_block(sbody);
    let off = b.ins().imul_imm_s(j, size);
    let cx = pro.ctx(false, lane, off, layout, &pool);
    emit_body(&mut b, spec, std::slice::from_ref(&cx), &out_ptr)?;
    let j1 = b.ins().iadd_imm_s(j, 1);
    b.ins().jump(shead, &[j1.into()]);

    b.switch_to_block(exit);
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(config);
    let requested = pool.requested();
    Ok((func, requested))
}

/// Values every kernel function sets up once, before its loops.
struct Prologue {
    /// Base pointer of each input.
    in_ptr: Vec<Value>,
    /// Each `full` node's run-time value (scalar), by node index.
    consts_scalar: Vec<Option<Value>>,
    /// The same, splatted to the vector type.
    consts_vec: Vec<Option<Value>>,
    /// Each inner-broadcast input's single element (scalar), by input index.
    bcast_scalar: Vec<Option<Value>>,
    /// The same, splatted.
    bcast_vec: Vec<Option<Value>>,
}

impl Prologue {
    /// The context for one emission of the body at byte offset `off`, in vectors of `ty`
    /// (`vector`) or in scalars.
    fn ctx<'a>(
        &'a self,
        vector: bool,
        ty: Type,
        off: Value,
        layout: &'a Layout,
        pool: &'a ConstPool,
    ) -> BodyCtx<'a> {
        let (consts, bcast) = if vector {
            (&self.consts_vec, &self.bcast_vec)
        } else {
            (&self.consts_scalar, &self.bcast_scalar)
        };
        BodyCtx {
            ty,
            off,
            in_ptr: &self.in_ptr,
            consts,
            bcast,
            layout,
            data: MemFlagsData::new().with_notrap(),
            pool,
        }
    }
}

/// Loads input pointers, run-time constants and broadcast inputs in the entry block.
fn prologue(
    b: &mut FunctionBuilder<'_>,
    spec: &KernelSpec,
    layout: &Layout,
    ins_pp: Value,
    consts_p: Value,
    lane: Type,
    vec_ty: Type,
) -> Prologue {
    let trusted = MemFlagsData::trusted();
    let data = MemFlagsData::new().with_notrap();
    let in_ptr: Vec<Value> =
        (0..spec.inputs.len()).map(|i| b.ins().load(types::I64, trusted, ins_pp, (i * 8) as i32)).collect();
    let mut consts_scalar: Vec<Option<Value>> = vec![None; spec.nodes.len()];
    let mut k = 0i32;
    for (idx, node) in spec.nodes.iter().enumerate() {
        if let Op::Full { .. } = node.op {
            let v = b.ins().load(types::F64, trusted, consts_p, k * 8);
            consts_scalar[idx] = Some(if lane == types::F32 { b.ins().fdemote(types::F32, v) } else { v });
            k += 1;
        }
    }
    let mut bcast_scalar: Vec<Option<Value>> = vec![None; spec.inputs.len()];
    for (i, &st) in layout.inner_strides.iter().enumerate() {
        if st == 0 {
            bcast_scalar[i] = Some(b.ins().load(lane, data, in_ptr[i], 0));
        }
    }
    let consts_vec = consts_scalar.iter().map(|v| v.map(|v| b.ins().splat(vec_ty, v))).collect();
    let bcast_vec = bcast_scalar.iter().map(|v| v.map(|v| b.ins().splat(vec_ty, v))).collect();
    Prologue { in_ptr, consts_scalar, consts_vec, bcast_scalar, bcast_vec }
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

/// The kernel arguments and node values of one emission of the body.
struct Emitted {
    args: Vec<Option<Value>>,
    vals: Vec<Value>,
}

/// Emits the nodes `0..upto` of `spec` for each context's position (vector or scalar), node
/// by node across the contexts, and returns their values; kernel arguments are loaded (or
/// taken from the hoisted broadcasts).
fn compute_nodes(
    b: &mut FunctionBuilder<'_>,
    spec: &KernelSpec,
    cxs: &[BodyCtx<'_>],
    upto: usize,
) -> Result<Vec<Emitted>, LowerError> {
    let mut out: Vec<Emitted> = Vec::with_capacity(cxs.len());
    for cx in cxs {
        let mut args: Vec<Option<Value>> = vec![None; spec.inputs.len()];
        for (i, slot) in args.iter_mut().enumerate() {
            *slot = if cx.layout.inner_strides.get(i).copied().unwrap_or(0) == 0 {
                cx.bcast.get(i).copied().flatten()
            } else {
                let p = b.ins().iadd(cx.in_ptr[i], cx.off);
                Some(b.ins().load(cx.ty, cx.data, p, 0))
            };
        }
        out.push(Emitted { args, vals: Vec::with_capacity(upto) });
    }
    for (idx, node) in spec.nodes.iter().enumerate().take(upto) {
        for (cx, em) in cxs.iter().zip(out.iter_mut()) {
            let ops: Vec<Value> = node
                .operands
                .iter()
                .map(|o| operand_value(o, &em.args, &em.vals))
                .collect::<Result<_, _>>()?;
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
            em.vals.push(v);
        }
    }
    Ok(out)
}

fn operand_value(o: &KernelOperand, args: &[Option<Value>], vals: &[Value]) -> Result<Value, LowerError> {
    match *o {
        KernelOperand::Arg(a) => args.get(a).copied().flatten(),
        KernelOperand::Node(n) => vals.get(n).copied(),
    }
    .ok_or_else(|| unsupported("kernel operand out of range"))
}

/// Emits the whole body for each context's position and stores the kernel's outputs.
fn emit_body(
    b: &mut FunctionBuilder<'_>,
    spec: &KernelSpec,
    cxs: &[BodyCtx<'_>],
    out_ptr: &[Value],
) -> Result<(), LowerError> {
    let emitted = compute_nodes(b, spec, cxs, spec.nodes.len())?;
    for (cx, em) in cxs.iter().zip(&emitted) {
        for (j, &node) in spec.outputs.iter().enumerate() {
            let v = em.vals.get(node).copied().ok_or_else(|| unsupported("kernel output out of range"))?;
            let p = b.ins().iadd(out_ptr[j], cx.off);
            b.ins().store(cx.data, v, p, 0);
        }
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
        UnaryOp::Exp2 => e.exp2(x),
        UnaryOp::Log => e.log(x),
        UnaryOp::Log2 => e.log2(x),
        UnaryOp::Log1p => e.log1p(x),
        UnaryOp::Sin => e.sin(x),
        UnaryOp::Cos => e.cos(x),
        UnaryOp::Tan => e.tan(x),
        UnaryOp::Sign => e.sign(x),
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

/// Signature of reduction kernels: the same parameters, and the partial result as `f64`.
pub fn reduce_signature(call_conv: CallConv) -> Signature {
    let mut sig = signature(call_conv);
    sig.returns.push(AbiParam::new(types::F64));
    sig
}

/// The reduction a reduce kernel ends in.
pub fn reduction_of(spec: &KernelSpec) -> Option<ReduceOp> {
    match spec.nodes.last().map(|n| &n.op) {
        Some(Op::Reduce { op, .. }) => Some(*op),
        _ => None,
    }
}

/// Builds a reduction kernel: its function computes the producer chain over `n` consecutive
/// elements of the reduced operand and returns their partial reduction as `f64` (a sum is
/// accumulated in `f64` lanes; `max`/`min` in the element type, NaN-propagating). The caller
/// combines partials in a fixed order.
pub fn build_reduce(
    spec: &KernelSpec,
    layout: &Layout,
    config: TargetFrontendConfig,
) -> Result<Function, LowerError> {
    with_hoisted_constants(|hoist| build_reduce_with(spec, layout, config, hoist))
}

fn build_reduce_with(
    spec: &KernelSpec,
    layout: &Layout,
    config: TargetFrontendConfig,
    hoist: &[(f64, Type)],
) -> Result<(Function, Vec<(f64, Type)>), LowerError> {
    let op = reduction_of(spec).ok_or_else(|| unsupported("not a reduction kernel"))?;
    let last = spec.nodes.len() - 1;
    let reduced =
        spec.nodes[last].operands.first().copied().ok_or_else(|| unsupported("reduce without operand"))?;
    let dtype = kernel_dtype(spec)?;
    let is_f32 = dtype == DType::F32;
    let (lane, vec_ty, width) = vector_types(dtype);
    let size = dtype.size_bytes() as i64;
    let is_sum = matches!(op, ReduceOp::Sum | ReduceOp::Mean);
    let mut func =
        Function::with_name_signature(UserFuncName::user(0, 1), reduce_signature(config.default_call_conv));
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);

    let entry = b.create_block();
    let vhead = b.create_block();
    let vbody = b.create_block();
    let shead = b.create_block();
    let sbody = b.create_block();
    let exit = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let (ins_pp, consts_p, n) = (params[0], params[2], params[3]);
    let pro = prologue(&mut b, spec, layout, ins_pp, consts_p, lane, vec_ty);
    let mut pool = ConstPool::default();
    pool.fill(&mut b, hoist);

    // Accumulators: sums in f64 lanes (two f64x2 for f32 data), extremes in the data type.
    let identity = match op {
        ReduceOp::Max => f64::NEG_INFINITY,
        ReduceOp::Min => f64::INFINITY,
        _ => 0.0,
    };
    let (acc_ty, acc_lane) = if is_sum { (types::F64X2, types::F64) } else { (vec_ty, lane) };
    let acc_lo = b.declare_var(acc_ty);
    let acc_hi = b.declare_var(acc_ty);
    let acc_s = b.declare_var(acc_lane);
    let i_var = b.declare_var(types::I64);
    let id_s =
        if acc_lane == types::F32 { b.ins().f32const(identity as f32) } else { b.ins().f64const(identity) };
    let id_v = b.ins().splat(acc_ty, id_s);
    b.def_var(acc_lo, id_v);
    b.def_var(acc_hi, id_v);
    b.def_var(acc_s, id_s);
    let zero = b.ins().iconst(types::I64, 0);
    b.def_var(i_var, zero);
    b.ins().jump(vhead, &[]);

    b.switch_to_block(vhead);
    let i = b.use_var(i_var);
    let next = b.ins().iadd_imm_s(i, width);
    let fits = b.ins().icmp(IntCC::SignedLessThanOrEqual, next, n);
    b.ins().brif(fits, vbody, &[], shead, &[]);

    b.switch_to_block(vbody);
    let i = b.use_var(i_var);
    let off = b.ins().imul_imm_s(i, size);
    let cx = pro.ctx(true, vec_ty, off, layout, &pool);
    let em = compute_nodes(&mut b, spec, std::slice::from_ref(&cx), last)?;
    let em = em.first().ok_or_else(|| unsupported("no emission"))?;
    let v = operand_value(&reduced, &em.args, &em.vals)?;
    let (lo, hi) = (b.use_var(acc_lo), b.use_var(acc_hi));
    if is_sum && is_f32 {
        let lo_d = b.ins().fvpromote_low(v);
        let bytes = b.ins().bitcast(types::I8X16, MemFlagsData::new().with_endianness(Endianness::Little), v);
        let mask = b
            .func
            .dfg
            .immediates
            .push(ConstantData::from(vec![8u8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]));
        let high = b.ins().shuffle(bytes, bytes, mask);
        let high =
            b.ins().bitcast(types::F32X4, MemFlagsData::new().with_endianness(Endianness::Little), high);
        let hi_d = b.ins().fvpromote_low(high);
        let lo2 = b.ins().fadd(lo, lo_d);
        let hi2 = b.ins().fadd(hi, hi_d);
        b.def_var(acc_lo, lo2);
        b.def_var(acc_hi, hi2);
    } else {
        let lo2 = combine(&mut b, op, lo, v);
        b.def_var(acc_lo, lo2);
    }
    let i = b.use_var(i_var);
    let next = b.ins().iadd_imm_s(i, width);
    b.def_var(i_var, next);
    b.ins().jump(vhead, &[]);

    b.switch_to_block(shead);
    let i = b.use_var(i_var);
    let more = b.ins().icmp(IntCC::SignedLessThan, i, n);
    b.ins().brif(more, sbody, &[], exit, &[]);

    b.switch_to_block(sbody);
    let i = b.use_var(i_var);
    let off = b.ins().imul_imm_s(i, size);
    let cx = pro.ctx(false, lane, off, layout, &pool);
    let em = compute_nodes(&mut b, spec, std::slice::from_ref(&cx), last)?;
    let em = em.first().ok_or_else(|| unsupported("no emission"))?;
    let v = operand_value(&reduced, &em.args, &em.vals)?;
    let v = if is_sum && is_f32 { b.ins().fpromote(types::F64, v) } else { v };
    let s0 = b.use_var(acc_s);
    let s1 = combine(&mut b, op, s0, v);
    b.def_var(acc_s, s1);
    let i = b.use_var(i_var);
    let next = b.ins().iadd_imm_s(i, 1);
    b.def_var(i_var, next);
    b.ins().jump(shead, &[]);

    // Fixed combination order: lanes of lo, lanes of hi, then the scalar tail.
    b.switch_to_block(exit);
    let (lo, hi, tail) = (b.use_var(acc_lo), b.use_var(acc_hi), b.use_var(acc_s));
    let mut total = b.ins().extractlane(lo, 0u8);
    for lane_idx in 1..acc_ty.lane_count() {
        let x = b.ins().extractlane(lo, lane_idx as u8);
        total = combine(&mut b, op, total, x);
    }
    if is_sum && is_f32 {
        for lane_idx in 0..acc_ty.lane_count() {
            let x = b.ins().extractlane(hi, lane_idx as u8);
            total = combine(&mut b, op, total, x);
        }
    }
    total = combine(&mut b, op, total, tail);
    let result = if acc_lane == types::F32 { b.ins().fpromote(types::F64, total) } else { total };
    b.ins().return_(&[result]);
    b.seal_all_blocks();
    b.finalize(config);
    let requested = pool.requested();
    Ok((func, requested))
}

/// One step of the reduction: `+` for sums, NaN-propagating max/min for extremes.
fn combine(b: &mut FunctionBuilder<'_>, op: ReduceOp, acc: Value, v: Value) -> Value {
    match op {
        ReduceOp::Max => b.ins().fmax(acc, v),
        ReduceOp::Min => b.ins().fmin(acc, v),
        _ => b.ins().fadd(acc, v),
    }
}
