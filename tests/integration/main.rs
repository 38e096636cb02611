//! The end-to-end tests of the facade and the CLI, linked into one test binary (each test
//! file links the whole engine, so one binary instead of fifteen saves most of the link
//! time). Run one file's tests with its module name as the filter:
//! `cargo test --test integration fuzz::`, `cargo test --test integration cli::`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod cache;
mod cli;
mod common;
mod concurrency;
mod device_resident;
mod differential;
mod errors;
mod expr;
mod fusion;
mod fuzz;
mod gpu;
mod huge_shapes;
mod ordinary_programs;
mod placement;
mod readme;
mod semantics;
mod snapshots;
mod third_party_backend;
