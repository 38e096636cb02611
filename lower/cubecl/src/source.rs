//! What `plan --code` shows for a `gpu.cubecl` kernel: its program, one instruction a line,
//! as a comment header, then the shader source cubecl generates for it (WGSL on a Vulkan
//! adapter).
//!
//! The source comes from the same kernel definition a launch compiles: the struct the
//! `#[cube(launch_unchecked)]` macro generates for each kernel (`MapKernel`, `ReduceKernel`,
//! `MatmulKernel`), built from the program (its `#[comptime]` arguments) and the compilation
//! arguments of the runtime ones (buffer counts per bank, scalar sequence lengths), which are
//! built directly, without a `KernelLauncher`: a launcher dropped without launching would
//! leave its scalars in a thread-local that the next launch on the thread would read. For the
//! same reason, and so that a panic while expanding the kernel stays contained, the source is
//! generated on a short-lived thread. Any failure gives the listing with a note, never a panic.

use std::fmt::Write as _;

use cubecl::prelude::*;
use cubecl::wgpu::{WgpuRuntime, WgslCompiler};
use cubecl::{CubeTask, WgpuCompilationOptions};

use super::device::{devices, Client};
use super::fused::map_kernel;
use super::limits::{MAP_UNITS, REDUCE_LOG2_BLOCK, TILE};
use super::matmul::matmul_kernel;
use super::program::{bank_counts, Bank, Kind, LaunchData, Program};
use super::reduce::reduce_kernel;

/// The program as text, one instruction a line, each line starting with `prefix`.
pub fn describe(program: &Program, data: &LaunchData, prefix: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{prefix}gpu.cubecl {:?} kernel, rank {}, views {:?}",
        program.kind, program.rank, program.views
    );
    let _ = writeln!(
        out,
        "{prefix}inputs {:?}, outputs {:?}, constants f32 {:?} i32 {:?}",
        program.inputs, program.outputs, data.consts_f, data.consts_i
    );
    for (pc, inst) in program.insts.iter().enumerate() {
        let _ = writeln!(out, "{prefix}{pc:3}: {inst:?}");
    }
    if let Kind::Matmul { .. } = program.kind {
        let _ = writeln!(out, "{prefix}m, k, n = {:?}, batch {:?}", data.mkn, data.shape);
    }
    out
}

/// The listing as a comment header followed by the generated source of the first device
/// (WGSL on a Vulkan adapter); the listing with a note when there is no source to show.
pub fn code(program: &Program, data: &LaunchData) -> String {
    match generated(program) {
        Ok(text) => format!("{}{text}", describe(program, data, "// ")),
        Err(note) => format!("{}; {note}\n", describe(program, data, "; ")),
    }
}

/// The shader source of `program` on the first device, or why there is none.
pub fn generated(program: &Program) -> Result<String, String> {
    let device = devices().first().ok_or("no GPU device: the generated source is not shown")?;
    let client = device.client().map_err(|e| format!("the generated source is not shown: {e}"))?;
    match client {
        Client::Wgpu(c) => {
            let c = c.clone();
            std::thread::scope(|s| {
                s.spawn(move || wgsl(&c, program))
                    .join()
                    .unwrap_or_else(|_| Err("cubecl panicked while generating the WGSL".to_string()))
            })
        }
        #[cfg(feature = "cuda")]
        Client::Cuda(_) => Err("the generated CUDA C is not shown (only WGSL is extracted)".to_string()),
    }
}

/// `n` compilation arguments of buffers (each a plain binding, no aliasing).
fn arrays<E: CubePrimitive>(n: usize) -> SequenceCompilationArg<Array<E>> {
    (0..n).map(|_| ArrayCompilationArg { inplace: None }).collect()
}

/// The compilation argument of a sequence of `n` run-time scalars.
fn scalars<T: LaunchArg<CompilationArg = ()>>(n: usize) -> SequenceCompilationArg<T> {
    (0..n).map(|_| ()).collect()
}

/// Compiles `kernel` to WGSL.
fn compile<K: CubeKernel>(kernel: K) -> Result<String, String> {
    let addr = kernel.address_type();
    KernelTask::<WgslCompiler, K>::new(kernel)
        .compile(
            &mut WgslCompiler::default(),
            &WgpuCompilationOptions::default(),
            ExecutionMode::Unchecked,
            addr,
        )
        .map(|k| k.source)
        .map_err(|e| format!("cubecl could not generate the WGSL: {e:?}"))
}

fn settings(cube_dim: CubeDim) -> KernelSettings {
    KernelSettings::default().cube_dim(cube_dim).address_type(AddressType::U32)
}

/// The WGSL of `program`, compiled as its launch would compile it.
fn wgsl(client: &ComputeClient<WgpuRuntime>, p: &Program) -> Result<String, String> {
    type R = WgpuRuntime;
    let [in_f, in_i, in_b] = bank_counts(&p.inputs);
    let [out_f, out_i, out_b] = bank_counts(&p.outputs);
    let rank = p.rank;
    let views = p.views.len();
    match p.kind {
        Kind::Map => compile(map_kernel::MapKernel::<R>::new(
            settings(CubeDim::new_1d(MAP_UNITS)),
            client.clone(),
            arrays(in_f),
            arrays(in_i),
            arrays(in_b),
            arrays(out_f),
            arrays(out_i),
            arrays(out_b),
            scalars(p.consts.0),
            scalars(p.consts.1),
            scalars(rank),
            scalars(views * rank),
            scalars(views),
            (),
            (),
            p.insts.clone(),
            p.views.clone(),
            rank,
        )),
        Kind::Reduce { reduction, reg, kept } => compile(reduce_kernel::ReduceKernel::<R>::new(
            settings(CubeDim::new_1d(1 << REDUCE_LOG2_BLOCK)),
            client.clone(),
            arrays(in_f),
            arrays(in_i),
            arrays(in_b),
            arrays(out_f),
            arrays(out_i),
            arrays(out_b),
            scalars(p.consts.0),
            scalars(p.consts.1),
            scalars(rank),
            scalars(views * rank),
            scalars(views),
            (),
            (),
            (),
            (),
            (),
            (),
            p.insts.clone(),
            p.views.clone(),
            rank,
            kept,
            reduction,
            reg,
            REDUCE_LOG2_BLOCK,
        )),
        Kind::Matmul { batch, .. } => {
            if p.outputs != [Bank::F] {
                return Err("not an f32 matmul".to_string());
            }
            compile(matmul_kernel::MatmulKernel::<R>::new(
                settings(CubeDim::new_2d(TILE, TILE)),
                client.clone(),
                ArrayCompilationArg { inplace: None },
                ArrayCompilationArg { inplace: None },
                ArrayCompilationArg { inplace: None },
                scalars(batch),
                scalars(batch),
                scalars(batch),
                (),
                (),
                (),
                (),
                (),
                batch,
                TILE,
            ))
        }
    }
}
