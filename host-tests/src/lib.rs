//! # tokenward-host-tests
//!
//! A proxy-wasm ABI 0.2.1 host on wasmtime that drives the release filter module
//! (`target/wasm32-wasip1/release/tokenward_proxy_filter.opt.wasm`) deterministically: the test
//! moves the clock, writes the configuration, answers each HTTP callout (or lets it time out),
//! and can make any host function return an error status. Several [`Vm`]s made with one
//! [`Shared`] share the clock and the shared-data store, like Envoy's worker VMs.
//!
//! - [`abi`]: statuses, map encoding, guest memory;
//! - [`imports`]: the host functions, one module per ABI area;
//! - [`crypto`]: the `verify_signature` foreign function, on `ring`;
//! - [`state`]: what the host functions read and write;
//! - [`vm`]: loading the module and calling into it (with fuel accounting).

pub mod abi;
pub mod crypto;
pub mod imports;
pub mod state;
pub mod vm;

pub use state::{Callout, HostState, Reply, Shared};
pub use vm::{Harness, Outcome, Vm, VmOptions};
