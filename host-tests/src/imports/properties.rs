//! Properties: `proxy_get_property` / `proxy_set_property` over a map the test fills (paths are
//! NUL-separated segments, as in the ABI). Unknown paths are `NOT_FOUND`.

use wasmtime::Linker;

use super::{Ctx, done};
use crate::abi::{self, status};
use crate::state::HostState;

/// Defines the property functions.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_property",
        |mut c: Ctx<'_>, pp: i32, ps: i32, out_ptr: i32, out_size: i32| {
            if let Some(s) = c.data_mut().enter("proxy_get_property") {
                return Ok(s);
            }
            let Ok(path) = abi::read(&mut c, pp, ps) else {
                return Ok(status::INVALID_MEMORY_ACCESS);
            };
            match c.data().properties.get(&path).cloned() {
                Some(v) => Ok(done(abi::give(&mut c, &v, out_ptr, out_size)?)),
                None => Ok(status::NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_property",
        |mut c: Ctx<'_>, pp: i32, ps: i32, vp: i32, vs: i32| {
            if let Some(s) = c.data_mut().enter("proxy_set_property") {
                return s;
            }
            let (Ok(path), Ok(value)) = (abi::read(&mut c, pp, ps), abi::read(&mut c, vp, vs))
            else {
                return status::INVALID_MEMORY_ACCESS;
            };
            c.data_mut().properties.insert(path, value);
            status::OK
        },
    )?;
    Ok(())
}
