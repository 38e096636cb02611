//! Names of devices, as the IR refers to them (`to_device`). Whether a device exists is the
//! runtime's business; the IR only names it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A kind of device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// The host CPU.
    Cpu,
    /// A GPU.
    Gpu,
}

/// A device: a kind and an ordinal (`cpu`, `gpu:1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Device {
    /// The kind of device.
    pub kind: DeviceKind,
    /// Which device of that kind, counted from 0.
    pub ordinal: u32,
}

impl Device {
    /// The host CPU.
    pub const CPU: Device = Device { kind: DeviceKind::Cpu, ordinal: 0 };

    /// GPU number `ordinal`.
    pub fn gpu(ordinal: u32) -> Device {
        Device { kind: DeviceKind::Gpu, ordinal }
    }

    /// Parses `cpu`, `gpu`, `gpu:N` (also `cpu:0`).
    pub fn parse(text: &str) -> Result<Device, String> {
        let (kind, ordinal) = match text.split_once(':') {
            Some((k, n)) => {
                let n = n
                    .parse::<u32>()
                    .map_err(|_| format!("bad device ordinal in `{text}`; expected e.g. `gpu:0`"))?;
                (k, n)
            }
            None => (text, 0),
        };
        let kind = match kind {
            "cpu" => DeviceKind::Cpu,
            "gpu" => DeviceKind::Gpu,
            _ => return Err(format!("unknown device `{text}`; expected `cpu`, `gpu` or `gpu:N`")),
        };
        if kind == DeviceKind::Cpu && ordinal != 0 {
            return Err(format!("unknown device `{text}`: there is one CPU device, `cpu`"));
        }
        Ok(Device { kind, ordinal })
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Gpu => "gpu",
        })
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DeviceKind::Cpu => f.write_str("cpu"),
            DeviceKind::Gpu => write!(f, "gpu:{}", self.ordinal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!(Device::parse("cpu"), Ok(Device::CPU));
        assert_eq!(Device::parse("gpu"), Ok(Device::gpu(0)));
        assert_eq!(Device::parse("gpu:2"), Ok(Device::gpu(2)));
        assert!(Device::parse("tpu").unwrap_err().contains("tpu"));
        assert!(Device::parse("gpu:x").is_err());
    }
}
