//! `cargo bench`: the W1..W8 workloads (see `shared/bench/workloads.md`), one JSON object per
//! line, on rayon's default pool (`RAYON_NUM_THREADS` to change it). `SWITCHYARD_WORKLOAD=W3`
//! runs one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

fn main() {
    let only = std::env::var("SWITCHYARD_WORKLOAD").ok();
    let triad = switchyard::bench::triad_gbps();
    for id in switchyard::bench::WORKLOADS {
        if only.as_deref().is_some_and(|w| w != id) {
            continue;
        }
        match switchyard::bench::run(id, 7, triad) {
            Ok(r) => println!("{}", serde_json::to_string(&r).unwrap_or_default()),
            Err(e) => eprintln!("{id}: error: {e}"),
        }
    }
}
