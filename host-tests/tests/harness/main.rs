//! Drives the release filter module through the wasmtime host. Build it first with
//! `proxy-filter/scripts/build` (or set `TOKENWARD_FILTER_WASM`).

// A test harness: panicking is how it fails, and it reads its own process environment.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    missing_docs
)]

use std::sync::OnceLock;

use tokenward_host_tests::Harness;

mod common;
mod faults;
mod fuel;
mod load;
mod remote;
mod remote_faults;
mod smoke;
mod vectors;

/// The module, compiled once per test binary.
pub fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| match Harness::filter() {
        Ok(h) => h,
        Err(e) => panic!("{e:#}"),
    })
}
