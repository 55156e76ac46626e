//! Buffers: `proxy_get_buffer_bytes` for the VM and plugin configurations and the callout
//! response body (only while `proxy_on_http_call_response` runs).

use wasmtime::Linker;

use super::{Ctx, done};
use crate::abi::{self, buffer, status};
use crate::state::HostState;

/// Defines the buffer functions.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_buffer_bytes",
        |mut c: Ctx<'_>, kind: i32, start: i32, max: i32, out_ptr: i32, out_size: i32| {
            if let Some(s) = c.data_mut().enter("proxy_get_buffer_bytes") {
                return Ok(s);
            }
            let state = c.data();
            let whole: Option<&[u8]> = match kind {
                buffer::VM_CONFIGURATION => Some(&state.vm_config),
                buffer::PLUGIN_CONFIGURATION => Some(&state.plugin_config),
                buffer::HTTP_CALL_RESPONSE_BODY => state.reply.as_ref().map(|r| r.1.as_slice()),
                _ => None,
            };
            let Some(whole) = whole else {
                return Ok(status::NOT_FOUND);
            };
            let start = (start as u32 as usize).min(whole.len());
            let end = start.saturating_add(max as u32 as usize).min(whole.len());
            let part = whole.get(start..end).unwrap_or_default().to_vec();
            Ok(done(abi::give(&mut c, &part, out_ptr, out_size)?))
        },
    )?;
    Ok(())
}
