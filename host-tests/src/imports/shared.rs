//! Shared data with CAS: `proxy_get_shared_data` / `proxy_set_shared_data` over the world's store,
//! which every instance sees (Envoy's worker VMs). A set with a non-zero CAS that is not the
//! current one is `CAS_MISMATCH`; each successful set gets a new CAS.

use wasmtime::Linker;

use super::{Ctx, done};
use crate::abi::{self, status};
use crate::state::HostState;

/// Defines the shared data functions.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_shared_data",
        |mut c: Ctx<'_>, kp: i32, ks: i32, out_ptr: i32, out_size: i32, out_cas: i32| {
            if let Some(s) = c.data_mut().enter("proxy_get_shared_data") {
                return Ok(s);
            }
            let Ok(key) = abi::read_str(&mut c, kp, ks) else {
                return Ok(status::INVALID_MEMORY_ACCESS);
            };
            let Some((value, cas)) = c.data().shared.lock().data.get(&key).cloned() else {
                return Ok(status::NOT_FOUND);
            };
            if let Err(e) = abi::give(&mut c, &value, out_ptr, out_size)? {
                return Ok(done(Err(e)));
            }
            Ok(done(abi::write_u32(&mut c, out_cas, cas)))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_shared_data",
        |mut c: Ctx<'_>, kp: i32, ks: i32, vp: i32, vs: i32, cas: i32| {
            if let Some(s) = c.data_mut().enter("proxy_set_shared_data") {
                return s;
            }
            let (Ok(key), Ok(value)) = (abi::read_str(&mut c, kp, ks), abi::read(&mut c, vp, vs))
            else {
                return status::INVALID_MEMORY_ACCESS;
            };
            let shared = c.data().shared.clone();
            let mut world = shared.lock();
            let current = world.data.get(&key).map(|(_, c)| *c);
            if cas != 0 && current.is_some_and(|cur| cur != cas as u32) {
                return status::CAS_MISMATCH;
            }
            world.cas = world.cas.wrapping_add(1).max(1);
            let next = world.cas;
            world.data.insert(key, (value, next));
            status::OK
        },
    )?;
    Ok(())
}
