//! The clock and the timer: `proxy_get_current_time_nanoseconds`,
//! `proxy_set_tick_period_milliseconds`. The clock is the world's, moved only by the test.

use wasmtime::Linker;

use super::{Ctx, done};
use crate::abi;
use crate::state::HostState;

/// Defines the time functions.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_current_time_nanoseconds",
        |mut c: Ctx<'_>, out: i32| {
            if let Some(s) = c.data_mut().enter("proxy_get_current_time_nanoseconds") {
                return s;
            }
            let now = c.data().shared.lock().now_ns;
            done(abi::write(&mut c, out, &now.to_le_bytes()))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_tick_period_milliseconds",
        |mut c: Ctx<'_>, ms: i32| {
            if let Some(s) = c.data_mut().enter("proxy_set_tick_period_milliseconds") {
                return s;
            }
            c.data_mut().tick_period_ms = ms as u32;
            abi::status::OK
        },
    )?;
    Ok(())
}
