//! The optimizer's tests, linked into one test binary (one link instead of nine); run one
//! file's tests with its module name as the filter: `cargo test -p switchyard-passes --test
//! integration rules::`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;
mod cost;
mod determinism;
mod differential;
mod limits;
mod must_not;
mod origins;
mod rules;
mod sharing;
mod text;
