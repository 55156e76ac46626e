//! HTTP callouts: `proxy_http_call` records the callout and hands out a token; the test answers
//! later with [`crate::vm::Vm::deliver_callouts`], which calls `proxy_on_http_call_response`.

use wasmtime::Linker;

use super::Ctx;
use crate::abi::{self, status};
use crate::state::{Callout, HostState};

/// Defines `proxy_http_call`.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_http_call",
        |mut c: Ctx<'_>,
         up: i32,
         us: i32,
         hp: i32,
         hs: i32,
         bp: i32,
         bs: i32,
         _tp: i32,
         _ts: i32,
         timeout: i32,
         out_token: i32| {
            if let Some(s) = c.data_mut().enter("proxy_http_call") {
                return s;
            }
            let (Ok(upstream), Ok(headers), Ok(body)) = (
                abi::read_str(&mut c, up, us),
                abi::read(&mut c, hp, hs),
                abi::read(&mut c, bp, bs),
            ) else {
                return status::INVALID_MEMORY_ACCESS;
            };
            let Some(headers) = abi::decode_pairs(&headers) else {
                return status::BAD_ARGUMENT;
            };
            let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
            let callout = Callout {
                upstream,
                headers: headers
                    .into_iter()
                    .map(|(k, v)| (text(k), text(v)))
                    .collect(),
                body,
                timeout_ms: timeout as u32,
            };
            let state = c.data_mut();
            state.last_token = state.last_token.wrapping_add(1).max(1);
            let token = state.last_token;
            state.shared.lock().callouts.push(callout.clone());
            state.pending.push((token, callout));
            super::done(abi::write_u32(&mut c, out_token, token))
        },
    )?;
    Ok(())
}
