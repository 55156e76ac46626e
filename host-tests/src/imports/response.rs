//! Local responses: `proxy_send_local_response` on the effective stream.

use wasmtime::Linker;

use super::Ctx;
use crate::abi::{self, status};
use crate::state::{HostState, LocalResponse};

/// Defines `proxy_send_local_response`.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_send_local_response",
        |mut c: Ctx<'_>,
         code: i32,
         dp: i32,
         ds: i32,
         bp: i32,
         bs: i32,
         hp: i32,
         hs: i32,
         _grpc: i32| {
            if let Some(s) = c.data_mut().enter("proxy_send_local_response") {
                return s;
            }
            let (Ok(details), Ok(body), Ok(headers)) = (
                abi::read_str(&mut c, dp, ds),
                abi::read(&mut c, bp, bs),
                abi::read(&mut c, hp, hs),
            ) else {
                return status::INVALID_MEMORY_ACCESS;
            };
            let Some(headers) = abi::decode_pairs(&headers) else {
                return status::BAD_ARGUMENT;
            };
            let Some(stream) = c.data_mut().stream() else {
                return status::BAD_ARGUMENT;
            };
            stream.local_response = Some(LocalResponse {
                status: code as u32,
                headers,
                body,
                details,
            });
            status::OK
        },
    )?;
    Ok(())
}
