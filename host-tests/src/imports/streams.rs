//! Stream and context control: `proxy_set_effective_context`, `proxy_continue_stream`,
//! `proxy_close_stream`, `proxy_done`.

use wasmtime::Linker;

use super::Ctx;
use crate::abi::status;
use crate::state::HostState;

/// Defines the stream functions.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_set_effective_context",
        |mut c: Ctx<'_>, id: i32| {
            if let Some(s) = c.data_mut().enter("proxy_set_effective_context") {
                return s;
            }
            let id = id as u32;
            let state = c.data_mut();
            if id == crate::vm::ROOT_ID || state.streams.contains_key(&id) {
                state.effective = id;
                status::OK
            } else {
                status::BAD_ARGUMENT
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_continue_stream",
        |mut c: Ctx<'_>, _kind: i32| {
            if let Some(s) = c.data_mut().enter("proxy_continue_stream") {
                return s;
            }
            match c.data_mut().stream() {
                Some(s) => {
                    s.resumed = true;
                    status::OK
                }
                None => status::NOT_FOUND,
            }
        },
    )?;
    linker.func_wrap("env", "proxy_close_stream", |mut c: Ctx<'_>, _kind: i32| {
        if let Some(s) = c.data_mut().enter("proxy_close_stream") {
            return s;
        }
        match c.data_mut().stream() {
            Some(s) => {
                s.closed = true;
                status::OK
            }
            None => status::NOT_FOUND,
        }
    })?;
    linker.func_wrap("env", "proxy_done", |mut c: Ctx<'_>| {
        if let Some(s) = c.data_mut().enter("proxy_done") {
            return s;
        }
        status::OK
    })?;
    Ok(())
}
