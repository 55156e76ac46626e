//! `proxy_log`.

use wasmtime::Linker;

use super::Ctx;
use crate::abi::{self, status};
use crate::state::HostState;

/// Defines `proxy_log`.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_log",
        |mut c: Ctx<'_>, level: i32, ptr: i32, len: i32| {
            if let Some(s) = c.data_mut().enter("proxy_log") {
                return s;
            }
            match abi::read_str(&mut c, ptr, len) {
                Ok(m) => {
                    c.data_mut().logs.push((level, m));
                    status::OK
                }
                Err(_) => status::INVALID_MEMORY_ACCESS,
            }
        },
    )?;
    Ok(())
}
