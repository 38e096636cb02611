//! A compiled `gpu.cubecl` kernel and how it is launched: checks every argument against the
//! kernel's spec and the device's limits first (a failure inside cubecl's device thread would
//! be silent), then binds the buffers by bank and launches the program's kernel.

use std::sync::Arc;

use cubecl::prelude::*;
use switchyard_ir::DType;

use super::device::{device, device_error, with_client, GpuBuffer, WORD};
use super::fused::map_kernel;
use super::limits::{launch_bindings, MAP_UNITS, MAX_BUFFER_BYTES, REDUCE_LOG2_BLOCK, TILE};
use super::matmul::{matmul_kernel, SCALE_DOWN, SCALE_UP};
use super::program::{moment_plan, slots, Bank, Inst, Kind, LaunchData, LoadAddressing, Program, Reduction};
use super::reduce::{loops_per_element, plan_parts, reduce_kernel};
use super::source;
use switchyard_lower::DeviceView;
use switchyard_lower::{CompiledKernel, KernelSpec, TensorView, TensorViewMut};
use switchyard_lower::{LowerError, LowerErrorKind};

/// A kernel compiled by `gpu.cubecl`: the shared program (its structure) and this kernel's
/// run-time data.
#[derive(Debug)]
pub struct CubeclKernel {
    program: Arc<Program>,
    data: LaunchData,
    spec: KernelSpec,
}

impl CubeclKernel {
    /// Binds the cached `program` to one kernel's spec and run-time data.
    pub(crate) fn new(program: Arc<Program>, data: LaunchData, spec: KernelSpec) -> CubeclKernel {
        CubeclKernel { program, data, spec }
    }
}

fn kernel_error(message: impl Into<String>) -> LowerError {
    LowerError::new(LowerErrorKind::Kernel, format!("gpu.cubecl: {}", message.into()))
}

/// The device buffers of `views`, checked against the expected types.
fn buffers<'a>(
    what: &str,
    views: &'a [DeviceView<'_>],
    types: impl Iterator<Item = &'a switchyard_ir::TensorType>,
) -> Result<Vec<&'a GpuBuffer>, LowerError> {
    views
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, (v, t))| {
            if v.dtype != t.dtype || v.shape != &t.shape {
                return Err(kernel_error(format!("{what} {i}: expected {t}, got {}{}", v.dtype, v.shape)));
            }
            let b = v
                .buffer
                .handle::<GpuBuffer>()
                .ok_or_else(|| kernel_error(format!("{what} {i} is not a gpu.cubecl buffer")))?;
            if b.dtype != t.dtype || b.numel != t.shape.numel() {
                return Err(kernel_error(format!(
                    "{what} {i}: the buffer holds {} {} elements, the kernel wants {t}",
                    b.numel, b.dtype
                )));
            }
            Ok(b)
        })
        .collect()
}

impl CompiledKernel for CubeclKernel {
    fn run(&self, _inputs: &[TensorView<'_>], _outputs: &mut [TensorViewMut<'_>]) -> Result<(), LowerError> {
        Err(kernel_error("this kernel runs on device memory: upload its inputs to the GPU first"))
    }

    fn run_device(&self, inputs: &[DeviceView<'_>], outputs: &[DeviceView<'_>]) -> Result<(), LowerError> {
        if inputs.len() != self.spec.inputs.len() || outputs.len() != self.spec.outputs.len() {
            return Err(kernel_error(format!(
                "the kernel takes {} inputs and {} outputs, got {} and {}",
                self.spec.inputs.len(),
                self.spec.outputs.len(),
                inputs.len(),
                outputs.len()
            )));
        }
        let first = outputs.first().ok_or_else(|| kernel_error("a kernel without outputs"))?.buffer.device();
        if let Some(v) = inputs.iter().chain(outputs).find(|v| v.buffer.device() != first) {
            return Err(switchyard_lower::foreign_buffer(first, v.buffer));
        }
        let ins = buffers("input", inputs, self.spec.inputs.iter())?;
        let outs = buffers("output", outputs, self.spec.output_types())?;
        let dev = device(first.ordinal).ok_or_else(|| device_error(format!("no device {first}")))?;
        let client = dev.client()?;
        let bindings = launch_bindings(&self.program);
        if bindings > client.max_bindings() {
            return Err(kernel_error(format!(
                "the kernel binds {bindings} buffers; {first} allows {}",
                client.max_bindings()
            )));
        }
        let p = &*self.program;
        let d = &self.data;
        match p.kind {
            Kind::Map if d.numel == 0 => Ok(()),
            Kind::Reduce { .. } if d.rows == 0 => Ok(()),
            Kind::Matmul { .. } if d.numel == 0 => Ok(()),
            Kind::Map => with_client!(client, |c, R| launch_map::<R>(c, p, d, &ins, &outs)),
            Kind::Reduce { reduction: Reduction::Var | Reduction::Std, .. } => {
                let max = u64::from(client.max_cube_count());
                let out = *outs.first().ok_or_else(|| kernel_error("a reduction without its output"))?;
                with_client!(client, |c, R| launch_moment::<R>(c, p, d, &ins, out, max * max))
            }
            Kind::Reduce { .. } => {
                let max = u64::from(client.max_cube_count());
                let out = *outs.first().ok_or_else(|| kernel_error("a reduction without its output"))?;
                let divisor = d.cols as f32;
                with_client!(client, |c, R| launch_reduce::<R>(c, p, d, &ins, out, divisor, max * max))
            }
            Kind::Matmul { operands: (a, b), .. } => {
                let max = client.max_cube_count();
                let [m, _, n] = d.mkn;
                if m.div_ceil(TILE) > max || n.div_ceil(TILE) > max || d.rows > max as usize {
                    return Err(kernel_error(format!(
                        "matmul {m}x{n} (batch {}) exceeds the launch grid",
                        d.rows
                    )));
                }
                let (a, b) = (ins.get(a).copied(), ins.get(b).copied());
                let (Some(a), Some(b), Some(c)) = (a, b, outs.first().copied()) else {
                    return Err(kernel_error("matmul operands missing"));
                };
                with_client!(client, |cl, R| launch_matmul::<R>(cl, p, d, a, b, c))
            }
        }
    }

    fn code(&self) -> Option<String> {
        Some(source::code(&self.program, &self.data))
    }
}

/// The buffers of one bank, as a launch sequence.
fn bank_arrays<R: Runtime, E: CubePrimitive>(
    buffers: &[&GpuBuffer],
    banks: &[Bank],
    bank: Bank,
) -> SequenceArg<R, Array<E>> {
    buffers
        .iter()
        .zip(banks)
        .filter(|(_, &b)| b == bank)
        // SAFETY: `buffers` checked that each buffer holds `numel` elements of the kernel's
        // type for this argument (one 32-bit word each); the program only indexes inputs
        // through views built from these very shapes and outputs below their element count.
        .map(|(buf, _)| unsafe { ArrayArg::from_raw_parts(buf.handle.clone(), buf.numel) })
        .collect()
}

fn scalars<R: Runtime, T: ScalarArgSettings + Copy + LaunchArg<RuntimeArg<R> = T>>(
    v: &[T],
) -> SequenceArg<R, T> {
    v.iter().copied().collect()
}

fn launch_map<R: Runtime>(
    client: &ComputeClient<R>,
    p: &Program,
    d: &LaunchData,
    ins: &[&GpuBuffer],
    outs: &[&GpuBuffer],
) -> Result<(), LowerError> {
    let cube_dim = CubeDim::new_1d(MAP_UNITS);
    let cube_count = cubecl::calculate_cube_count_elemwise(client, d.numel, cube_dim);
    debug_assert_eq!(slots(&p.inputs).len(), ins.len());
    // SAFETY: every array argument's length is its buffer's checked element count; the
    // program passed `Program::validate` (registers, slots and views in range), so the
    // kernel reads inputs only at view offsets inside their shapes and writes each output at
    // indices below `numel`, which is the outputs' element count.
    unsafe {
        map_kernel::launch_unchecked::<R>(
            client,
            cube_count,
            cube_dim,
            bank_arrays(ins, &p.inputs, Bank::F),
            bank_arrays(ins, &p.inputs, Bank::I),
            bank_arrays(ins, &p.inputs, Bank::B),
            bank_arrays(outs, &p.outputs, Bank::F),
            bank_arrays(outs, &p.outputs, Bank::I),
            bank_arrays(outs, &p.outputs, Bank::B),
            scalars(&d.consts_f),
            scalars(&d.consts_i),
            scalars(&d.shape),
            scalars(&d.strides),
            scalars(&d.offsets),
            d.numel as u32,
            0u32,
            p.insts.clone(),
            p.views.clone(),
            p.rank,
        );
    }
    Ok(())
}

/// The dtype a bank's buffers hold.
fn bank_dtype(bank: Bank) -> DType {
    match bank {
        Bank::F => DType::F32,
        Bank::I => DType::I32,
        Bank::B => DType::Bool,
    }
}

/// `var` or `std`: the reductions of [`moment_plan`], each reading the earlier ones' results
/// (one f32 per output element), then the map that scales the last one back into `out`.
fn launch_moment<R: Runtime>(
    client: &ComputeClient<R>,
    p: &Program,
    d: &LaunchData,
    ins: &[&GpuBuffer],
    out: &GpuBuffer,
    max_cubes: u64,
) -> Result<(), LowerError> {
    let plan = moment_plan(p, d)?;
    let mut inputs: Vec<GpuBuffer> = ins.iter().map(|&b| b.clone()).collect();
    let bytes = d.rows.checked_mul(WORD).ok_or_else(|| kernel_error("too many output elements"))?;
    for (program, data, divisor) in &plan.reductions {
        let refs: Vec<&GpuBuffer> = inputs.iter().collect();
        let result = GpuBuffer { handle: client.empty(bytes), numel: d.rows, dtype: DType::F32 };
        launch_reduce(client, program, data, &refs, &result, *divisor, max_cubes)?;
        inputs.push(result);
    }
    // The results follow the operands: mean, correction, spread, sum of squares.
    let results = &inputs[ins.len()..];
    let (Some(t), Some(s)) = (results.last(), results.get(2)) else {
        return Err(kernel_error("internal: a moment plan without its spread and sum of squares"));
    };
    let (program, data) = &plan.rescale;
    launch_map(client, program, data, &[t, s], &[out])
}

/// A reduction in as many launches as it takes: the first reduces each row, or each part of
/// a long row ([`plan_parts`]) into partials; each further launch reduces a row's partials
/// (a plain load, no producers) until one value per row is left. The last launch divides a
/// mean, `var` or `std` by `divisor`; the ones before it only add.
fn launch_reduce<R: Runtime>(
    client: &ComputeClient<R>,
    p: &Program,
    d: &LaunchData,
    ins: &[&GpuBuffer],
    out: &GpuBuffer,
    divisor: f32,
    max_cubes: u64,
) -> Result<(), LowerError> {
    let Kind::Reduce { reduction, .. } = p.kind else {
        return Err(kernel_error("not a reduction"));
    };
    let block = 1u32 << REDUCE_LOG2_BLOCK;
    let bank = reduction.bank();
    // Partial passes add; only the last one divides (and takes a root).
    let partial = match reduction {
        Reduction::Mean | Reduction::Var | Reduction::Std => Reduction::Sum,
        other => other,
    };
    let (mut program, mut data) = (p.clone(), d.clone());
    let mut input: Vec<GpuBuffer> = ins.iter().map(|&b| b.clone()).collect();
    let mut per_element = loops_per_element(&p.insts);
    loop {
        let (parts, span) = plan_parts(data.cols, block, per_element);
        if data.rows as u64 * u64::from(parts) > max_cubes {
            return Err(kernel_error(format!(
                "{} output elements of {} parts exceed the launch grid",
                data.rows, parts
            )));
        }
        let inputs: Vec<&GpuBuffer> = input.iter().collect();
        if parts == 1 {
            return launch_reduce_pass(client, &program, &data, &inputs, out, 1, span, divisor);
        }
        let numel = data.rows * parts as usize;
        let bytes = numel
            .checked_mul(WORD)
            .filter(|&b| b as u64 <= MAX_BUFFER_BYTES)
            .ok_or_else(|| kernel_error(format!("{numel} partials exceed what gpu.cubecl addresses")))?;
        let partials = GpuBuffer { handle: client.empty(bytes), numel, dtype: bank_dtype(bank) };
        let mut adding = program.clone();
        if let Kind::Reduce { reduction, .. } = &mut adding.kind {
            *reduction = partial;
        }
        launch_reduce_pass(client, &adding, &data, &inputs, &partials, parts, span, 1.0)?;
        // Next: the partials, a row of `parts` values per output element.
        let load = match bank {
            Bank::F => Inst::LoadF { slot: 0, view: 0 },
            Bank::I => Inst::LoadI { slot: 0, view: 0 },
            Bank::B => Inst::LoadB { slot: 0, view: 0 },
        };
        program = Program {
            kind: Kind::Reduce { reduction, reg: 0, kept: 1 },
            insts: vec![load],
            views: vec![LoadAddressing::Linear],
            rank: 2,
            inputs: vec![bank],
            outputs: vec![bank],
            consts: (0, 0),
        };
        data = LaunchData {
            shape: vec![data.rows as u32, parts],
            strides: vec![parts, 1],
            offsets: vec![0],
            numel,
            rows: data.rows,
            cols: parts as usize,
            ..LaunchData::default()
        };
        input = vec![partials];
        per_element = 0;
    }
}

/// One launch of the reduction kernel: `parts` cubes per row, each folding `span` elements
/// into `out[row * parts + part]`; a mean divides by `divisor`.
#[allow(clippy::too_many_arguments)]
fn launch_reduce_pass<R: Runtime>(
    client: &ComputeClient<R>,
    p: &Program,
    d: &LaunchData,
    ins: &[&GpuBuffer],
    out: &GpuBuffer,
    parts: u32,
    span: u32,
    divisor: f32,
) -> Result<(), LowerError> {
    let Kind::Reduce { reduction, reg, kept } = p.kind else {
        return Err(kernel_error("not a reduction"));
    };
    let cubes = (d.rows as u32).checked_mul(parts).ok_or_else(|| kernel_error("too many cubes"))?;
    if out.numel != cubes as usize {
        return Err(kernel_error(format!("{} partials for {cubes} cubes", out.numel)));
    }
    let cube_count = cubecl::server::CubeCountSelection::new(client, cubes).cube_count();
    let cube_dim = CubeDim::new_1d(1 << REDUCE_LOG2_BLOCK);
    let outs = [out];
    // SAFETY: as for the map kernel; cube `c < rows * parts` writes its one output at `c`,
    // below the output's checked element count, and reads inputs at views over the
    // operand's shape (elements `part * span ..` of its row, below `cols`).
    unsafe {
        reduce_kernel::launch_unchecked::<R>(
            client,
            cube_count,
            cube_dim,
            bank_arrays(ins, &p.inputs, Bank::F),
            bank_arrays(ins, &p.inputs, Bank::I),
            bank_arrays(ins, &p.inputs, Bank::B),
            bank_arrays(&outs, &p.outputs, Bank::F),
            bank_arrays(&outs, &p.outputs, Bank::I),
            bank_arrays(&outs, &p.outputs, Bank::B),
            scalars(&d.consts_f),
            scalars(&d.consts_i),
            scalars(&d.shape),
            scalars(&d.strides),
            scalars(&d.offsets),
            d.rows as u32,
            d.cols as u32,
            parts,
            span,
            divisor,
            0u32,
            p.insts.clone(),
            p.views.clone(),
            p.rank,
            kept,
            reduction,
            reg,
            REDUCE_LOG2_BLOCK,
        );
    }
    Ok(())
}

fn launch_matmul<R: Runtime>(
    client: &ComputeClient<R>,
    p: &Program,
    d: &LaunchData,
    a: &GpuBuffer,
    b: &GpuBuffer,
    c: &GpuBuffer,
) -> Result<(), LowerError> {
    let Kind::Matmul { batch, .. } = p.kind else {
        return Err(kernel_error("not a matmul"));
    };
    let [m, k, n] = d.mkn;
    let count = CubeCount::Static(n.div_ceil(TILE), m.div_ceil(TILE), d.rows as u32);
    // SAFETY: the buffers hold the operands' and the result's checked element counts; the
    // kernel reads `a` below `(ma+1)*m*k` and `b` below `(mb+1)*k*n`, where the matrix numbers
    // come from broadcast strides over the result's batch shape built from these shapes, and
    // writes `c` below `batch*m*n`, its element count.
    unsafe {
        matmul_kernel::launch_unchecked::<R>(
            client,
            count,
            CubeDim::new_2d(TILE, TILE),
            ArrayArg::from_raw_parts(a.handle.clone(), a.numel),
            ArrayArg::from_raw_parts(b.handle.clone(), b.numel),
            ArrayArg::from_raw_parts(c.handle.clone(), c.numel),
            scalars(&d.shape),
            scalars(&d.batch_strides.0),
            scalars(&d.batch_strides.1),
            m,
            k,
            n,
            SCALE_DOWN,
            SCALE_UP,
            batch,
            TILE,
        );
    }
    Ok(())
}
