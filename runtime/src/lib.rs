//! `switchyard-runtime`: buffers, arrays and execution.
//!
//! What it is: 64-byte-aligned host buffers, the [`Array`] type for inputs and results,
//! `.npy` reading and writing, seeded random arrays, the executor that runs a plan's kernels
//! in order and frees intermediates after their last use, and [`Executable`].
//!
//! What it is not: it never decides placement and never rewrites graphs; it follows the plan.
//!
//! Invariants:
//! - Host buffers are 64-byte aligned and hold exactly their array's bytes.
//! - An intermediate is freed after the last kernel that reads it, as the plan says.
#![warn(missing_docs)]

mod array;
mod buffer;
mod device_array;
mod error;
mod executable;
mod npy;
mod pool;
mod random;

pub use array::{Array, HostElement};
pub use buffer::{AlignedBuffer, AllocError};
pub use device_array::{DeviceArray, Resident};
pub use error::{RuntimeError, RuntimeErrorKind};
pub use executable::{Executable, RunStats};
pub use npy::{decode_npy, encode_npy, read_npy, write_npy};
pub use random::{random_array, try_random_array};
