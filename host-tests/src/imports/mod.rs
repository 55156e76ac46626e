//! The host functions, one module per ABI area. Each `add` defines its functions on the linker.
//! Every function first counts the call and, when the test faulted it, returns that status
//! without doing anything ([`HostState::enter`]).

use wasmtime::{Caller, Linker};

use crate::abi::{BadMemory, status};
use crate::state::HostState;

pub mod buffers;
pub mod foreign;
pub mod http;
pub mod log;
pub mod maps;
pub mod metrics;
pub mod properties;
pub mod response;
pub mod shared;
pub mod streams;
pub mod time;
pub mod wasi;

/// The caller type of every host function.
pub type Ctx<'a> = Caller<'a, HostState>;

/// Defines every host function on `linker`.
pub fn add_all(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    log::add(linker)?;
    time::add(linker)?;
    maps::add(linker)?;
    buffers::add(linker)?;
    properties::add(linker)?;
    response::add(linker)?;
    streams::add(linker)?;
    http::add(linker)?;
    shared::add(linker)?;
    metrics::add(linker)?;
    foreign::add(linker)?;
    wasi::add(linker)?;
    Ok(())
}

/// A memory result as a status.
pub fn done(r: Result<(), BadMemory>) -> i32 {
    match r {
        Ok(()) => status::OK,
        Err(BadMemory) => status::INVALID_MEMORY_ACCESS,
    }
}
