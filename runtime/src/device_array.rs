//! `DeviceArray`: an array resident in the memory of one device (a GPU). Upload once, run
//! many plans on it, download when asked. Moving one between devices is always a call the
//! user makes (`upload`, `to_host`); nothing else copies it.

use std::fmt;
use std::sync::Arc;

use switchyard_ir::{DType, Device, Shape, TensorType};
use switchyard_lower::{DeviceBuffer, DeviceMemory, DeviceView};

use crate::array::Array;
use crate::error::{RuntimeError, RuntimeErrorKind};

/// An immutable n-dimensional array in device memory. Cloning is cheap (the buffer is
/// shared). Its bytes are laid out as an [`Array`]'s (row-major, bool one byte).
#[derive(Clone)]
pub struct DeviceArray {
    dtype: DType,
    shape: Shape,
    buffer: DeviceBuffer,
    memory: Arc<dyn DeviceMemory>,
}

impl DeviceArray {
    /// Copies a host array into `memory`'s device (an explicit transfer).
    pub fn upload(array: &Array, memory: &Arc<dyn DeviceMemory>) -> Result<DeviceArray, RuntimeError> {
        let buffer = memory.upload(array.dtype(), array.as_bytes())?;
        Ok(DeviceArray { dtype: array.dtype(), shape: array.shape().clone(), buffer, memory: memory.clone() })
    }

    /// Wraps a buffer a kernel filled. The caller guarantees its length.
    pub(crate) fn from_buffer(
        dtype: DType,
        shape: Shape,
        buffer: DeviceBuffer,
        memory: Arc<dyn DeviceMemory>,
    ) -> DeviceArray {
        DeviceArray { dtype, shape, buffer, memory }
    }

    /// Copies the array back to host memory (an explicit transfer; waits for its kernels).
    pub fn to_host(&self) -> Result<Array, RuntimeError> {
        let bytes = self.memory.download(self.dtype, &self.buffer)?;
        Array::from_bytes(self.dtype, self.shape.clone(), &bytes).map_err(|e| {
            RuntimeError::new(RuntimeErrorKind::Kernel, format!("downloading from {}: {e}", self.device()))
        })
    }

    /// The device holding it.
    pub fn device(&self) -> Device {
        self.buffer.device()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// Dtype and shape together.
    pub fn ty(&self) -> TensorType {
        TensorType { dtype: self.dtype, shape: self.shape.clone() }
    }

    /// Size in bytes on the device.
    pub fn size_bytes(&self) -> usize {
        self.buffer.len()
    }

    /// A kernel argument view of the array.
    pub fn view(&self) -> DeviceView<'_> {
        DeviceView { dtype: self.dtype, shape: &self.shape, buffer: &self.buffer }
    }
}

impl fmt::Debug for DeviceArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceArray({}{} on {})", self.dtype, self.shape, self.device())
    }
}

impl fmt::Display for DeviceArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{} on {}", self.dtype, self.shape, self.device())
    }
}

/// A value wherever it lives: in host memory or on a device. Plans that move data with
/// `to_device` produce and take both.
#[derive(Clone, Debug)]
pub enum Resident {
    /// In host memory.
    Host(Array),
    /// In a device's memory.
    Device(DeviceArray),
}

impl Resident {
    /// The device holding it (`cpu` for host memory).
    pub fn device(&self) -> Device {
        match self {
            Resident::Host(_) => Device::CPU,
            Resident::Device(d) => d.device(),
        }
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            Resident::Host(a) => a.dtype(),
            Resident::Device(d) => d.dtype(),
        }
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        match self {
            Resident::Host(a) => a.shape(),
            Resident::Device(d) => d.shape(),
        }
    }

    /// A host copy: the array itself when it is on the host, else a download (explicit).
    pub fn to_host(&self) -> Result<Array, RuntimeError> {
        match self {
            Resident::Host(a) => Ok(a.clone()),
            Resident::Device(d) => d.to_host(),
        }
    }
}
