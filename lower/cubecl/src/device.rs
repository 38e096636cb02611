//! The devices `gpu.cubecl` runs on, found without ever panicking, and their memory.
//!
//! Probing happens once per process, on first use (never at registration): CUDA devices
//! first (feature `cuda`, and only when libcuda can be loaded), then the Vulkan adapters
//! that our own `wgpu::Instance` enumerates, hardware before software (Mesa's lavapipe is a
//! `DeviceType::Cpu` adapter). `gpu:N` is entry `N` of that list. A device's cubecl client is
//! created on first use, once: cubecl's own entry points (`WgpuRuntime::client` on the default
//! device, `CudaRuntime::enumerate_devices`) panic when no device exists, so we request the
//! wgpu device ourselves and hand it to `cubecl::wgpu::init_device`.
//!
//! Memory layout on the device: `f32` and `i32` as on the host, `bool` as a `u32` 0 or 1
//! (WGSL has no byte-sized storage); every buffer holds at least one word.

use std::sync::{Arc, OnceLock};

use cubecl::client::ComputeClient;
use cubecl::server::Handle;
use cubecl::wgpu::{RuntimeOptions, WgpuRuntime, WgpuSetup};
use cubecl::Runtime;
use switchyard_ir::{ByteCount, DType, Device};

use super::limits::MAX_BUFFER_BYTES;
use switchyard_lower::{foreign_buffer, DeviceBuffer, DeviceInfo, DeviceMemory};
use switchyard_lower::{LowerError, LowerErrorKind};

/// A device error (absent device, failed client, failed transfer).
pub(crate) fn device_error(message: impl Into<String>) -> LowerError {
    LowerError::new(LowerErrorKind::Kernel, message)
}

/// The cubecl client of one device, by runtime.
#[derive(Clone)]
pub(crate) enum Client {
    /// A Vulkan adapter through wgpu (WGSL kernels).
    Wgpu(ComputeClient<WgpuRuntime>),
    /// A CUDA device.
    #[cfg(feature = "cuda")]
    Cuda(ComputeClient<cubecl::cuda::CudaRuntime>),
}

/// Runs `$body` with `$c` bound to the client of whichever runtime `$client` holds and `$R`
/// naming that runtime, so generic launch code is written once.
macro_rules! with_client {
    ($client:expr, |$c:ident, $R:ident| $body:expr) => {
        match $client {
            $crate::device::Client::Wgpu($c) => {
                #[allow(dead_code)]
                type $R = cubecl::wgpu::WgpuRuntime;
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::device::Client::Cuda($c) => {
                #[allow(dead_code)]
                type $R = cubecl::cuda::CudaRuntime;
                $body
            }
        }
    };
}
pub(crate) use with_client;

impl Client {
    /// Storage buffers one kernel may bind (inputs and outputs; cubecl keeps one more for its
    /// scalars). 31 on lavapipe; `limits::MAX_BINDINGS` is what `compile` allows anywhere.
    pub(crate) fn max_bindings(&self) -> usize {
        with_client!(self, |c, R| c.properties().hardware.max_bindings as usize)
    }

    /// Largest number of cubes along one axis of a launch grid.
    pub(crate) fn max_cube_count(&self) -> u32 {
        with_client!(self, |c, R| c.properties().hardware.max_cube_count.0)
    }
}

/// Where a device comes from, kept until its client is made.
enum Source {
    Vulkan {
        instance: wgpu::Instance,
        adapter: wgpu::Adapter,
    },
    #[cfg(feature = "cuda")]
    Cuda {
        index: usize,
    },
}

/// One device of the list: what `switchyard devices` shows, and its client once made.
pub(crate) struct GpuDevice {
    info: DeviceInfo,
    source: Source,
    /// The largest buffer the device binds, in bytes (wgpu's `max_buffer_size` and
    /// `max_storage_buffer_binding_size`; on CUDA, where our kernels address in u32,
    /// `limits::MAX_BUFFER_BYTES`).
    max_buffer_bytes: u64,
    client: OnceLock<Result<Client, String>>,
}

impl GpuDevice {
    /// What `switchyard devices` shows.
    pub(crate) fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// The largest buffer, in bytes, this device may be asked for.
    pub(crate) fn max_buffer_bytes(&self) -> u64 {
        self.max_buffer_bytes
    }

    /// The device's cubecl client, created on first use (tens of milliseconds on lavapipe).
    pub(crate) fn client(&self) -> Result<&Client, LowerError> {
        self.client
            .get_or_init(|| match &self.source {
                Source::Vulkan { instance, adapter } => vulkan_client(instance, adapter).map(Client::Wgpu),
                #[cfg(feature = "cuda")]
                Source::Cuda { index } => cuda::client(*index).map(Client::Cuda),
            })
            .as_ref()
            .map_err(|e| device_error(format!("{}: {e}", self.info.device)))
    }
}

/// What probing needs to know about an adapter to order it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AdapterSummary {
    /// The adapter's name.
    pub name: String,
    /// Discrete, integrated, virtual, other, or CPU (software).
    pub device_type: wgpu::DeviceType,
    /// The graphics API it was found through.
    pub backend: wgpu::Backend,
}

/// The order in which adapters become devices: Vulkan ones only, hardware first (discrete,
/// integrated, virtual, other), software (`DeviceType::Cpu`) last; ties keep the driver's
/// order. A pure function of the summaries, so it is testable without any driver.
pub(crate) fn order_adapters(adapters: &[AdapterSummary]) -> Vec<usize> {
    let rank = |t: wgpu::DeviceType| match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    let mut order: Vec<usize> =
        (0..adapters.len()).filter(|&i| adapters[i].backend == wgpu::Backend::Vulkan).collect();
    order.sort_by_key(|&i| rank(adapters[i].device_type));
    order
}

fn vulkan_instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::VULKAN,
        // No validation layers or debug labels, whatever the build profile.
        flags: wgpu::InstanceFlags::empty(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    })
}

/// Every device, probed once per process.
pub(crate) fn devices() -> &'static [GpuDevice] {
    static DEVICES: OnceLock<Vec<GpuDevice>> = OnceLock::new();
    DEVICES.get_or_init(probe)
}

/// Device `gpu:ordinal`, if there is one.
pub(crate) fn device(ordinal: u32) -> Option<&'static GpuDevice> {
    devices().get(ordinal as usize)
}

fn probe() -> Vec<GpuDevice> {
    let mut found: Vec<(DeviceInfo, Source, u64)> = Vec::new();
    #[cfg(feature = "cuda")]
    found.extend(cuda::probe().into_iter().map(|(name, index)| {
        let info = DeviceInfo { device: Device::CPU, runtime: "cuda".into(), adapter: name, software: false };
        (info, Source::Cuda { index }, MAX_BUFFER_BYTES)
    }));
    let instance = vulkan_instance();
    let adapters = cubecl::future::block_on(instance.enumerate_adapters(wgpu::Backends::VULKAN));
    let summaries: Vec<AdapterSummary> = adapters
        .iter()
        .map(|a| {
            let info = a.get_info();
            AdapterSummary { name: info.name, device_type: info.device_type, backend: info.backend }
        })
        .collect();
    for i in order_adapters(&summaries) {
        let s = &summaries[i];
        let info = DeviceInfo {
            device: Device::CPU,
            runtime: "wgpu/vulkan".into(),
            adapter: s.name.clone(),
            software: s.device_type == wgpu::DeviceType::Cpu,
        };
        let limits = adapters[i].limits();
        let max_buffer_bytes = limits.max_buffer_size.min(limits.max_storage_buffer_binding_size);
        found.push((
            info,
            Source::Vulkan { instance: instance.clone(), adapter: adapters[i].clone() },
            max_buffer_bytes,
        ));
    }
    found
        .into_iter()
        .enumerate()
        .map(|(n, (mut info, source, max_buffer_bytes))| {
            info.device = Device::gpu(n as u32);
            GpuDevice { info, source, max_buffer_bytes, client: OnceLock::new() }
        })
        .collect()
}

/// A cubecl client on `adapter`: we request the wgpu device ourselves (an error, not a
/// panic, when that fails) with the features and limits cubecl-wgpu would request.
fn vulkan_client(
    instance: &wgpu::Instance,
    adapter: &wgpu::Adapter,
) -> Result<ComputeClient<WgpuRuntime>, String> {
    let features = adapter
        .features()
        .difference(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS)
        .difference(wgpu::Features::all_experimental_mask());
    let request = adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("switchyard gpu.cubecl"),
        required_features: features,
        required_limits: adapter.limits(),
        memory_hints: wgpu::MemoryHints::MemoryUsage,
        trace: wgpu::Trace::Off,
        experimental_features: wgpu::ExperimentalFeatures::disabled(),
    });
    let (device, queue) =
        cubecl::future::block_on(request).map_err(|e| format!("the Vulkan adapter refused a device: {e}"))?;
    let setup = WgpuSetup {
        instance: instance.clone(),
        adapter: adapter.clone(),
        device,
        queue,
        backend: wgpu::Backend::Vulkan,
    };
    // Registers one cubecl server for this adapter; called once per device (`OnceLock`).
    let dev = cubecl::wgpu::init_device(setup, RuntimeOptions::default());
    Ok(WgpuRuntime::client(&dev))
}

#[cfg(feature = "cuda")]
mod cuda {
    //! CUDA through cudarc's dynamic loading: touch the driver API only once libcuda and
    //! libnvrtc are known to load (cudarc panics otherwise).

    use std::panic::{catch_unwind, AssertUnwindSafe};

    use cubecl::client::ComputeClient;
    use cubecl::cuda::{CudaDevice, CudaRuntime};
    use cubecl::Runtime;

    /// `(name, index)` of every CUDA device; empty without a loadable driver.
    pub(super) fn probe() -> Vec<(String, usize)> {
        // SAFETY: both only try to dlopen candidate library names and report success.
        let present =
            unsafe { cudarc::driver::sys::is_culib_present() && cudarc::nvrtc::sys::is_culib_present() };
        if !present {
            return Vec::new();
        }
        let Ok(count) =
            cudarc::driver::result::init().and_then(|()| cudarc::driver::result::device::get_count())
        else {
            return Vec::new();
        };
        (0..count.max(0))
            .map(|i| {
                let name = cudarc::driver::result::device::get(i)
                    .and_then(cudarc::driver::result::device::get_name)
                    .unwrap_or_else(|_| format!("CUDA device {i}"));
                (name, i as usize)
            })
            .collect()
    }

    /// The client of CUDA device `index`. cubecl unwraps every driver call while creating it;
    /// a broken driver would panic there, so that panic becomes an error here.
    pub(super) fn client(index: usize) -> Result<ComputeClient<CudaRuntime>, String> {
        catch_unwind(AssertUnwindSafe(|| CudaRuntime::client(&CudaDevice::new(index))))
            .map_err(|_| format!("CUDA device {index}: cubecl could not create a client"))
    }
}

/// A buffer in a device's memory: the cubecl handle, the element count and the dtype it was
/// made for (the layout depends on it).
#[derive(Clone, Debug)]
pub(crate) struct GpuBuffer {
    pub handle: Handle,
    pub numel: usize,
    pub dtype: DType,
}

/// Bytes per element on the device (every supported dtype is one 32-bit word).
pub(crate) const WORD: usize = 4;

/// Whether `dtype` has a device layout: `f32`, `i32`, and `bool` as `u32`.
pub(crate) fn storable(dtype: DType) -> bool {
    matches!(dtype, DType::F32 | DType::I32 | DType::Bool)
}

/// The memory of device `gpu:N` of `gpu.cubecl`.
#[derive(Debug)]
pub(crate) struct CubeclMemory {
    ordinal: u32,
}

impl CubeclMemory {
    /// The memory of `gpu:ordinal`, if that device exists.
    pub(crate) fn of(ordinal: u32) -> Option<Arc<dyn DeviceMemory>> {
        device(ordinal).map(|_| Arc::new(CubeclMemory { ordinal }) as Arc<dyn DeviceMemory>)
    }

    fn gpu(&self) -> Result<&'static GpuDevice, LowerError> {
        device(self.ordinal).ok_or_else(|| device_error(format!("no device gpu:{}", self.ordinal)))
    }

    fn client(&self) -> Result<&'static Client, LowerError> {
        self.gpu()?.client()
    }

    /// Bytes for `numel` elements (at least one word: wgpu refuses empty bindings), or an
    /// error naming the size when the device cannot hold one buffer that large (cubecl would
    /// panic in its device thread instead).
    fn byte_size(&self, dtype: DType, numel: usize) -> Result<usize, LowerError> {
        let limit = self.gpu()?.max_buffer_bytes().min(MAX_BUFFER_BYTES);
        let bytes = numel.checked_mul(WORD).map(|b| b.max(WORD));
        match bytes {
            Some(b) if b as u64 <= limit => Ok(b),
            _ => Err(device_error(format!(
                "{dtype}[{numel}] needs {} on gpu:{}, more than its largest buffer ({})",
                ByteCount((numel as u128).saturating_mul(WORD as u128)),
                self.ordinal,
                ByteCount(u128::from(limit))
            ))),
        }
    }

    fn wrap(&self, handle: Handle, numel: usize, dtype: DType) -> DeviceBuffer {
        let buffer = GpuBuffer { handle, numel, dtype };
        DeviceBuffer::new(Device::gpu(self.ordinal), numel * WORD, Arc::new(buffer))
    }
}

fn unsupported_dtype(dtype: DType) -> LowerError {
    device_error(format!("{dtype}: gpu.cubecl stores only f32, i32 and bool (as u32)"))
}

impl DeviceMemory for CubeclMemory {
    fn device(&self) -> Device {
        Device::gpu(self.ordinal)
    }

    fn alloc(&self, dtype: DType, numel: usize) -> Result<DeviceBuffer, LowerError> {
        if !storable(dtype) {
            return Err(unsupported_dtype(dtype));
        }
        let bytes = self.byte_size(dtype, numel)?;
        let handle = with_client!(self.client()?, |c, R| c.empty(bytes));
        Ok(self.wrap(handle, numel, dtype))
    }

    fn upload(&self, dtype: DType, bytes: &[u8]) -> Result<DeviceBuffer, LowerError> {
        if !storable(dtype) {
            return Err(unsupported_dtype(dtype));
        }
        let numel = bytes.len() / dtype.size_bytes();
        if numel * dtype.size_bytes() != bytes.len() {
            return Err(device_error(format!("{} bytes are not whole {dtype} elements", bytes.len())));
        }
        let size = self.byte_size(dtype, numel)?;
        let mut words: Vec<u8> = if dtype == DType::Bool {
            bytes.iter().flat_map(|&b| u32::from(b != 0).to_le_bytes()).collect()
        } else {
            bytes.to_vec()
        };
        words.resize(size, 0);
        let handle = with_client!(self.client()?, |c, R| c.create_from_slice(&words));
        Ok(self.wrap(handle, numel, dtype))
    }

    fn download(&self, dtype: DType, buffer: &DeviceBuffer) -> Result<Vec<u8>, LowerError> {
        if buffer.device() != self.device() {
            return Err(foreign_buffer(self.device(), buffer));
        }
        let b = buffer.handle::<GpuBuffer>().ok_or_else(|| device_error("not a gpu.cubecl buffer"))?;
        if b.dtype != dtype {
            return Err(device_error(format!("a buffer of {} read as {dtype}", b.dtype)));
        }
        let bytes = with_client!(self.client()?, |c, R| c.read_one(b.handle.clone()))
            .map_err(|e| device_error(format!("reading from {}: {e:?}", self.device())))?;
        let used = b.numel * WORD;
        let words = bytes.get(..used).ok_or_else(|| {
            device_error(format!("the device returned {} bytes for {} elements", bytes.len(), b.numel))
        })?;
        Ok(if dtype == DType::Bool {
            words.chunks_exact(WORD).map(|w| u8::from(w != [0, 0, 0, 0])).collect()
        } else {
            words.to_vec()
        })
    }

    fn sync(&self) -> Result<(), LowerError> {
        with_client!(self.client()?, |c, R| cubecl::future::block_on(c.sync()))
            .map_err(|e| device_error(format!("{}: {e:?}", self.device())))
    }
}
