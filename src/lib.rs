//! # switchyard
//!
//! A lazy array expression-graph engine. Calls build a typed, shape-checked graph; nothing
//! runs until you ask. Then the graph is optimized, every node is placed on a backend of the
//! chosen device, and the resulting [`Plan`] can be printed, drawn (DOT), serialized (JSON)
//! and compiled into an [`Executable`] that runs many times.
//!
//! ```
//! use switchyard::prelude::*;
//!
//! let g = Graph::new();
//! let x = g.input("x", DType::F32, &[3])?;
//! let y = g.input("y", DType::F32, &[3])?;
//! let z = (((&x * 2.0)? + 1.0).exp() * &y - &x)?;
//!
//! let xs = Array::from_vec(&[3], vec![0.0f32, 1.0, 2.0])?;
//! let ys = Array::from_vec(&[3], vec![1.0f32, 1.0, 1.0])?;
//! let out = z.eval(Device::CPU, &[("x", &xs), ("y", &ys)])?;
//! assert_eq!(out.dims(), &[3]);
//! # Ok::<(), switchyard::Error>(())
//! ```
//!
//! This crate is the facade: it re-exports the stages' public types and holds the CLI.
//! It contains no engine logic. See `ARCHITECTURE.md` for the codemap.
#![warn(missing_docs)]

pub use switchyard_frontend::{
    concat, expr, stack, where_, AxisSpec, Engine, Error, Graph, Index, IntoOperand, Literal, Operand,
    Result, Tensor, TensorResultExt,
};
pub use switchyard_ir::{
    catalog, BinaryOp, Category, DType, Device, DeviceKind, InputDecl, IrError, IrErrorKind, Laziness, Op,
    OpInfo, OpSetVersion, ReduceOp, Scalar, SeededRng, Shape, UnaryOp, OP_SET_VERSION,
};
pub use switchyard_lower::{
    support_table, Backend, CacheReport, CompiledKernel, DeviceBuffer, DeviceInfo, DeviceMemory, DeviceView,
    KernelSpec, LowerError, LowerErrorKind, NodeQuery, Plan, Registry, Support, SupportTable, TensorView,
    TensorViewMut, Tolerance,
};
pub use switchyard_passes::{Options as OptimizerOptions, Report as OptimizerReport};
pub use switchyard_runtime::{
    decode_npy, encode_npy, random_array, read_npy, try_random_array, write_npy, Array, DeviceArray,
    Executable, Resident, RunStats, RuntimeError, RuntimeErrorKind,
};

#[cfg(feature = "cli")]
pub mod bench;

/// The built-in backends, for code that assembles its own [`Registry`] (the default one is
/// [`Engine::default_registry`]).
pub mod backends {
    pub use switchyard_cranelift::CraneliftBackend;
    #[cfg(feature = "gpu")]
    pub use switchyard_cubecl::CubeclBackend;
    pub use switchyard_gemm::GemmBackend;
    pub use switchyard_lower::ReferenceBackend;
}

/// The stages themselves, for code that needs more than the facade.
pub mod stages {
    pub use switchyard_frontend as frontend;
    pub use switchyard_ir as ir;
    pub use switchyard_lower as lower;
    pub use switchyard_passes as passes;
    pub use switchyard_runtime as runtime;
}

/// Everything a typical user needs: `use switchyard::prelude::*;`.
pub mod prelude {
    pub use crate::{
        concat, stack, where_, Array, AxisSpec, DType, Device, Executable, Graph, Plan, Tensor,
        TensorResultExt,
    };
}
