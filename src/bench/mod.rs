//! Benchmarks: the W1..W8 workloads of `shared/bench/workloads.md` (`workloads.rs`) and a
//! user's own expression (`expression.rs`), each timed after a warm-up (median and minimum of
//! N runs) against the memory-bandwidth triad measured in the same run (`timing.rs`). Used by
//! `switchyard bench` and `cargo bench`.

mod expression;
mod timing;
mod workloads;

pub use expression::{run_expression, ExpressionResult};
pub use timing::triad_gbps;
pub use workloads::{build, build_over, run, run_on, BenchResult, WORKLOADS};
