//! Device memory as a backend exposes it: opaque buffers that live on one device, and the
//! three things the runtime may ask of that device (allocate, upload, download). The runtime
//! decides when; the backend knows how. Nothing here copies between devices on its own.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use switchyard_ir::{DType, Device, Shape};

use crate::error::{LowerError, LowerErrorKind};

/// A buffer in the memory of one device. Cheap to clone (the handle is shared); the memory
/// is released when the last clone goes. The handle's type and the byte layout belong to
/// the backend; `len` counts the bytes it holds on the device.
#[derive(Clone)]
pub struct DeviceBuffer {
    device: Device,
    len: usize,
    handle: Arc<dyn Any + Send + Sync>,
}

impl DeviceBuffer {
    /// A buffer of `len` bytes on `device`, held by `handle`.
    pub fn new(device: Device, len: usize, handle: Arc<dyn Any + Send + Sync>) -> DeviceBuffer {
        DeviceBuffer { device, len, handle }
    }

    /// The device holding it.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The backend's handle, if it is of type `T`.
    pub fn handle<T: Any>(&self) -> Option<&T> {
        self.handle.downcast_ref::<T>()
    }
}

impl fmt::Debug for DeviceBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceBuffer({} bytes on {})", self.len, self.device)
    }
}

/// A kernel argument in device memory: dtype, shape and the buffer (row-major, laid out as
/// the device's [`DeviceMemory`] stores that dtype).
#[derive(Clone, Copy, Debug)]
pub struct DeviceView<'a> {
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: &'a Shape,
    /// The memory.
    pub buffer: &'a DeviceBuffer,
}

/// One device as `switchyard devices` lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeviceInfo {
    /// Its name in plans (`gpu:0`).
    pub device: Device,
    /// The runtime driving it (`wgpu/vulkan`, `cuda`).
    pub runtime: String,
    /// The adapter's name as the driver reports it.
    pub adapter: String,
    /// A software implementation (e.g. Mesa's lavapipe), not real hardware.
    pub software: bool,
}

/// The memory of one device, as a backend offers it to the runtime. The device chooses how it
/// stores each dtype (a GPU without byte-sized loads may keep a bool in a 32-bit word); the
/// host side of `upload` and `download` is always an [`crate::TensorView`]'s layout.
pub trait DeviceMemory: Send + Sync + fmt::Debug {
    /// The device.
    fn device(&self) -> Device;
    /// A new buffer for `numel` elements of `dtype`, contents unspecified until a kernel
    /// writes them.
    fn alloc(&self, dtype: DType, numel: usize) -> Result<DeviceBuffer, LowerError>;
    /// A new buffer holding a copy of `bytes`: elements of `dtype`, host layout.
    fn upload(&self, dtype: DType, bytes: &[u8]) -> Result<DeviceBuffer, LowerError>;
    /// A copy of a buffer of `dtype` elements in host layout. Waits for the kernels writing it.
    fn download(&self, dtype: DType, buffer: &DeviceBuffer) -> Result<Vec<u8>, LowerError>;
    /// Waits until every kernel queued on the device has finished (for timing), reporting
    /// any error the device raised meanwhile. Default: nothing is ever queued.
    fn sync(&self) -> Result<(), LowerError> {
        Ok(())
    }
}

/// The error for a buffer handed to a device it does not belong to.
pub fn foreign_buffer(expected: Device, buffer: &DeviceBuffer) -> LowerError {
    LowerError::new(
        LowerErrorKind::Transfer,
        format!(
            "a buffer on `{}` was handed to `{expected}`; data never moves between devices implicitly \
             (move it with an explicit transfer first)",
            buffer.device()
        ),
    )
}
