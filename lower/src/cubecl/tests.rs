//! Tests of `gpu.cubecl`. They need a GPU device (Mesa's lavapipe is enough); without one
//! they say why and pass, unless `SWITCHYARD_REQUIRE_GPU=1`, which makes that a failure.

use std::sync::Arc;

use switchyard_ir::elementwise::Element;
use switchyard_ir::{infer, BinaryOp, DType, Op, Shape, TensorType, UnaryOp};

use super::CubeclBackend;
use crate::backend::Backend;
use crate::conformance;
use crate::device_memory::{DeviceInfo, DeviceMemory, DeviceView};
use crate::kernel::{KernelNode, KernelSpec, Operand};

/// The backend's first device, or `None` (with the reason printed) when there is none. With
/// `SWITCHYARD_REQUIRE_GPU=1` a missing device fails the test instead.
fn gpu_or_skip() -> Option<DeviceInfo> {
    let first = CubeclBackend::new().devices().into_iter().next();
    if first.is_none() {
        let required = std::env::var("SWITCHYARD_REQUIRE_GPU").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "SWITCHYARD_REQUIRE_GPU=1 but gpu.cubecl found no device (is a Vulkan driver installed?)"
        );
        eprintln!("skipped: gpu.cubecl found no GPU device (no Vulkan adapter, no CUDA driver)");
    }
    first
}

fn t(dtype: DType, dims: &[usize]) -> TensorType {
    TensorType { dtype, shape: Shape::new(dims).unwrap() }
}

/// A spec of one op over fresh arguments.
fn single(op: Op, inputs: Vec<TensorType>) -> KernelSpec {
    let refs: Vec<&TensorType> = inputs.iter().collect();
    let ty = infer(&op, &refs).unwrap();
    let operands = (0..inputs.len()).map(Operand::Arg).collect();
    KernelSpec { inputs, nodes: vec![KernelNode { op, operands, ty }], outputs: vec![0] }
}

/// Runs `spec` on `backend` and on the reference over `args` (host bytes); both outputs.
fn run_both(backend: &CubeclBackend, spec: &KernelSpec, args: &[Vec<u8>]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let memory: Arc<dyn DeviceMemory> = backend.device_memory(0).unwrap();
    let kernel = backend.compile(spec).unwrap();
    let bufs: Vec<_> =
        spec.inputs.iter().zip(args).map(|(t, b)| memory.upload(t.dtype, b).unwrap()).collect();
    let views: Vec<DeviceView<'_>> = spec
        .inputs
        .iter()
        .zip(&bufs)
        .map(|(t, b)| DeviceView { dtype: t.dtype, shape: &t.shape, buffer: b })
        .collect();
    let out_types: Vec<TensorType> = spec.output_types().cloned().collect();
    let outs: Vec<_> = out_types.iter().map(|t| memory.alloc(t.dtype, t.shape.numel()).unwrap()).collect();
    let out_views: Vec<DeviceView<'_>> = out_types
        .iter()
        .zip(&outs)
        .map(|(t, b)| DeviceView { dtype: t.dtype, shape: &t.shape, buffer: b })
        .collect();
    kernel.run_device(&views, &out_views).unwrap();
    let got: Vec<Vec<u8>> =
        out_types.iter().zip(&outs).map(|(t, b)| memory.download(t.dtype, b).unwrap()).collect();
    let want = reference_outputs(spec, args);
    (got, want)
}

fn reference_outputs(spec: &KernelSpec, args: &[Vec<u8>]) -> Vec<Vec<u8>> {
    use crate::kernel::{TensorView, TensorViewMut};
    let kernel = crate::ReferenceBackend.compile(spec).unwrap();
    let words: Vec<Vec<u64>> = args.iter().map(|b| conformance::aligned(b)).collect();
    let views: Vec<TensorView<'_>> = spec
        .inputs
        .iter()
        .zip(args.iter().zip(&words))
        .map(|(t, (b, w))| TensorView {
            dtype: t.dtype,
            shape: &t.shape,
            data: &bytemuck::cast_slice(w)[..b.len()],
        })
        .collect();
    let out_types: Vec<TensorType> = spec.output_types().cloned().collect();
    let mut bufs: Vec<Vec<u64>> =
        out_types.iter().map(|t| vec![0u64; (t.shape.numel() * t.dtype.size_bytes()).div_ceil(8)]).collect();
    let mut outs: Vec<TensorViewMut<'_>> = out_types
        .iter()
        .zip(bufs.iter_mut())
        .map(|(t, b)| TensorViewMut {
            dtype: t.dtype,
            shape: &t.shape,
            data: &mut bytemuck::cast_slice_mut(b)[..t.shape.numel() * t.dtype.size_bytes()],
        })
        .collect();
    kernel.run(&views, &mut outs).unwrap();
    drop(outs);
    out_types
        .iter()
        .zip(&bufs)
        .map(|(t, b)| bytemuck::cast_slice::<u64, u8>(b)[..t.shape.numel() * t.dtype.size_bytes()].to_vec())
        .collect()
}

/// Floats spread over the whole f32 range (every 2^k-th bit pattern, both signs) plus the
/// conformance suite's randoms.
fn sweep_values(n: usize) -> Vec<f32> {
    let step = (u32::MAX / n as u32).max(1);
    let mut v: Vec<f32> = (0..n as u32).map(|i| f32::from_bits(i.wrapping_mul(step))).collect();
    v.extend(conformance::randoms(n, 11).into_iter().map(|x| x as f32));
    v.extend(conformance::randoms(n, 12).into_iter().map(|x| (x * 1e-3) as f32));
    v
}

/// Worst ulp distance of `got` from `want` (NaN must match NaN; mismatches count as huge).
fn worst_ulps(want: &[f32], got: &[f32]) -> (u64, usize) {
    let mut worst = (0u64, 0usize);
    for (i, (&w, &g)) in want.iter().zip(got).enumerate() {
        let d = if w.is_nan() || g.is_nan() {
            if w.is_nan() && g.is_nan() {
                0
            } else {
                u64::MAX
            }
        } else if w.is_infinite() || g.is_infinite() {
            if w == g {
                0
            } else {
                u64::MAX
            }
        } else {
            conformance::ulps_apart(DType::F32, f64::from(w), f64::from(g))
        };
        if d > worst.0 {
            worst = (d, i);
        }
    }
    worst
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// Measures the worst ulp error of every float op over a sweep of the f32 range (run with
/// `--ignored --nocapture` to re-measure the precision `gpu.cubecl` declares).
#[test]
#[ignore]
fn measure_float_precision() {
    let Some(_) = gpu_or_skip() else { return };
    let backend = CubeclBackend::new();
    let xs = sweep_values(1 << 16);
    let n = xs.len();
    for u in UnaryOp::ALL {
        if u == UnaryOp::LogicalNot {
            continue;
        }
        let spec = single(Op::Unary(u), vec![t(DType::F32, &[n])]);
        if spec.nodes[0].ty.dtype != DType::F32 || u == UnaryOp::LogicalNot {
            continue;
        }
        println!("{}", u.name());
        let (got, want) = run_both(&backend, &spec, &[f32_bytes(&xs)]);
        let (g, w) = (f32s(&got[0]), f32s(&want[0]));
        let (ulps, i) = worst_ulps(&w, &g);
        println!("{:12} worst {ulps} ulp at x={:e}: want {:e} got {:e}", u.name(), xs[i], w[i], g[i]);
    }
    let ys: Vec<f32> = xs.iter().rev().copied().collect();
    for b in [BinaryOp::Div, BinaryOp::Pow, BinaryOp::Atan2, BinaryOp::Remainder, BinaryOp::FloorDivide] {
        let spec = single(Op::Binary(b), vec![t(DType::F32, &[n]), t(DType::F32, &[n])]);
        let (got, want) = run_both(&backend, &spec, &[f32_bytes(&xs), f32_bytes(&ys)]);
        let (g, w) = (f32s(&got[0]), f32s(&want[0]));
        let (ulps, i) = worst_ulps(&w, &g);
        println!(
            "{:12} worst {ulps} ulp at ({:e}, {:e}): want {:e} got {:e}",
            b.name(),
            xs[i],
            ys[i],
            w[i],
            g[i]
        );
    }
    let _ = <f32 as Element>::DTYPE;
}

#[test]
fn conformance_passes_on_the_first_device() {
    let Some(_) = gpu_or_skip() else { return };
    let report = conformance::check(&CubeclBackend::new());
    println!("{report}");
    assert!(report.is_ok(), "{report}");
}

#[test]
fn devices_list_lavapipe_as_software_vulkan() {
    let Some(first) = gpu_or_skip() else { return };
    let devices = CubeclBackend::new().devices();
    assert_eq!(first.device, switchyard_ir::Device::gpu(0));
    for (n, d) in devices.iter().enumerate() {
        assert_eq!(d.device, switchyard_ir::Device::gpu(n as u32));
        if d.adapter.contains("llvmpipe") {
            assert!(d.software, "{d:?}");
            assert_eq!(d.runtime, "wgpu/vulkan");
        }
    }
    assert!(CubeclBackend::new().device_memory(devices.len() as u32).is_none());
}

#[test]
fn adapter_order_puts_hardware_first_and_tolerates_no_vulkan() {
    use super::device::{order_adapters, AdapterSummary};
    assert!(order_adapters(&[]).is_empty());
    let a = |name: &str, device_type, backend| AdapterSummary { name: name.into(), device_type, backend };
    let list = [
        a("llvmpipe", wgpu::DeviceType::Cpu, wgpu::Backend::Vulkan),
        a("gl", wgpu::DeviceType::IntegratedGpu, wgpu::Backend::Gl),
        a("igpu", wgpu::DeviceType::IntegratedGpu, wgpu::Backend::Vulkan),
        a("dgpu", wgpu::DeviceType::DiscreteGpu, wgpu::Backend::Vulkan),
    ];
    assert_eq!(order_adapters(&list), vec![3, 2, 0]);
}

fn f32_args(spec: &KernelSpec, seed: u64) -> Vec<Vec<u8>> {
    spec.inputs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let v: Vec<f32> = conformance::randoms(t.shape.numel(), seed + i as u64)
                .into_iter()
                .map(|x| x as f32)
                .collect();
            f32_bytes(&v)
        })
        .collect()
}

#[test]
fn a_new_constant_or_size_reuses_the_kernel_and_another_dtype_misses_with_the_reason() {
    let Some(_) = gpu_or_skip() else { return };
    let backend = CubeclBackend::new();
    // x * c + y with a broadcast y, for two constants and two sizes.
    let chain = |n: usize, c: f32, dtype: DType| {
        let x = t(dtype, &[n, 3]);
        let y = t(dtype, &[3]);
        let c = Op::Full { value: switchyard_ir::Scalar::F32(c).cast(dtype), shape: Shape::scalar() };
        let ct = t(dtype, &[]);
        let mul = Op::Binary(BinaryOp::Mul);
        let add = Op::Binary(BinaryOp::Add);
        let xy = t(dtype, &[n, 3]);
        KernelSpec {
            inputs: vec![x, y],
            nodes: vec![
                KernelNode { op: c, operands: vec![], ty: ct },
                KernelNode { op: mul, operands: vec![Operand::Arg(0), Operand::Node(0)], ty: xy.clone() },
                KernelNode { op: add, operands: vec![Operand::Node(1), Operand::Arg(1)], ty: xy },
            ],
            outputs: vec![2],
        }
    };
    for (n, c) in [(5, 2.0), (7, -1.5), (1000, 0.25)] {
        let spec = chain(n, c, DType::F32);
        let (got, want) = run_both(&backend, &spec, &f32_args(&spec, 3));
        assert_eq!(got, want, "n={n} c={c}");
    }
    let r = backend.kernel_cache().unwrap();
    assert_eq!((r.misses, r.hits), (1, 2), "{r}");
    backend.compile(&chain(5, 2.0, DType::I32)).unwrap();
    let r = backend.kernel_cache().unwrap();
    assert_eq!(r.misses, 2, "{r}");
    let reason = &r.recent_misses[1].reason;
    assert!(reason.contains("dtypes: i32,i32,i32 here, f32,f32,f32 cached"), "{reason}");
}

#[test]
fn a_program_with_too_many_buffers_is_refused() {
    // 40 inputs added in a chain: 41 bindings, more than any Vulkan adapter allows.
    let n = 40;
    let ty = t(DType::F32, &[4]);
    let mut nodes = vec![KernelNode {
        op: Op::Binary(BinaryOp::Add),
        operands: vec![Operand::Arg(0), Operand::Arg(1)],
        ty: ty.clone(),
    }];
    for i in 2..n {
        nodes.push(KernelNode {
            op: Op::Binary(BinaryOp::Add),
            operands: vec![Operand::Node(nodes.len() - 1), Operand::Arg(i)],
            ty: ty.clone(),
        });
    }
    let spec = KernelSpec { inputs: vec![ty; n], outputs: vec![nodes.len() - 1], nodes };
    let err = CubeclBackend::new().compile(&spec).unwrap_err();
    assert!(err.to_string().contains("would bind 41 buffers"), "{err}");
    assert!(CubeclBackend::new().max_fused_nodes() * 3 < super::MAX_BINDINGS);
}

#[test]
#[ignore]
fn list_verified_claims() {
    let Some(_) = gpu_or_skip() else { return };
    let report = conformance::check(&CubeclBackend::new());
    for c in report.verified() {
        println!("{} {} {} ({})", c.op, c.variant, c.dtype, c.precision);
    }
}

#[test]
fn code_shows_the_program_and_the_generated_wgsl_and_launches_stay_correct_after_it() {
    let Some(_) = gpu_or_skip() else { return };
    let backend = CubeclBackend::new();
    let map = single(Op::Unary(UnaryOp::Exp), vec![t(DType::F32, &[10, 3])]);
    let reduce = single(
        Op::Reduce {
            op: switchyard_ir::ReduceOp::Max,
            axes: [0].into_iter().collect(),
            keepdims: false,
            correction: 0,
        },
        vec![t(DType::I32, &[10, 3])],
    );
    let matmul = single(Op::Matmul, vec![t(DType::F32, &[2, 5, 3]), t(DType::F32, &[3, 4])]);
    for (spec, entry, inst) in [
        (&map, "fn map_kernel(", "UnaryF(Exp, 0)"),
        (&reduce, "fn reduce_kernel(", "LoadI"),
        (&matmul, "fn matmul_kernel(", ""),
    ] {
        let code = backend.compile(spec).unwrap().code().unwrap();
        assert!(code.starts_with("// gpu.cubecl "), "{code}");
        assert!(code.contains(inst), "{code}");
        assert!(code.contains("@compute"), "{code}");
        assert!(code.contains(entry), "{code}");
    }
    // Generating the source launches nothing and leaves no launch state behind: a launch on
    // this thread right after it computes the right values.
    let chain = |c: f32| {
        let x = t(DType::F32, &[37]);
        KernelSpec {
            inputs: vec![x.clone()],
            nodes: vec![
                KernelNode {
                    op: Op::Full { value: switchyard_ir::Scalar::F32(c), shape: Shape::scalar() },
                    operands: vec![],
                    ty: t(DType::F32, &[]),
                },
                KernelNode {
                    op: Op::Binary(BinaryOp::Mul),
                    operands: vec![Operand::Arg(0), Operand::Node(0)],
                    ty: x,
                },
            ],
            outputs: vec![1],
        }
    };
    let k = backend.compile(&chain(3.0)).unwrap();
    assert!(k.code().unwrap().contains("@compute"));
    let spec = chain(-0.5);
    let (got, want) = run_both(&backend, &spec, &f32_args(&spec, 5));
    assert_eq!(got, want);
}
