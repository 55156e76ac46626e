//! Foreign functions: `proxy_call_foreign_function`. Only `verify_signature` exists (when the
//! instance was made with it), answered by [`crate::crypto`] with `ring`; any other name is
//! `NOT_FOUND`, as in Envoy.

use wasmtime::Linker;

use super::{Ctx, done};
use crate::abi::{self, status};
use crate::state::HostState;

/// Defines `proxy_call_foreign_function`.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_call_foreign_function",
        |mut c: Ctx<'_>, np: i32, ns: i32, ap: i32, asz: i32, out_ptr: i32, out_size: i32| {
            if let Some(s) = c.data_mut().enter("proxy_call_foreign_function") {
                return Ok(s);
            }
            let (Ok(name), Ok(args)) = (abi::read_str(&mut c, np, ns), abi::read(&mut c, ap, asz))
            else {
                return Ok(status::INVALID_MEMORY_ACCESS);
            };
            if name != "verify_signature" || !c.data().verify_signature {
                return Ok(status::NOT_FOUND);
            }
            let Ok(valid) = crate::crypto::verify_signature(&args) else {
                return Ok(status::BAD_ARGUMENT);
            };
            c.data_mut().foreign_calls += 1;
            let reply = crate::crypto::encode_result(valid);
            Ok(done(abi::give(&mut c, &reply, out_ptr, out_size)?))
        },
    )?;
    Ok(())
}
