//! The WASI preview1 calls the module imports, as small stubs: `environ_sizes_get` /
//! `environ_get` (the instance's environment), `fd_write` (captured into the log), `random_get`
//! (deterministic), `proc_exit` (a trap). Other WASI imports answer `ENOSYS` (see `vm`).

use wasmtime::Linker;

use super::Ctx;
use crate::abi;
use crate::state::HostState;

const WASI: &str = "wasi_snapshot_preview1";
const ESUCCESS: i32 = 0;
const EFAULT: i32 = 21;

fn errno(r: Result<(), abi::BadMemory>) -> i32 {
    if r.is_ok() { ESUCCESS } else { EFAULT }
}

fn environ(c: &Ctx<'_>) -> Vec<Vec<u8>> {
    c.data()
        .env
        .iter()
        .map(|(k, v)| {
            let mut e = format!("{k}={v}").into_bytes();
            e.push(0);
            e
        })
        .collect()
}

/// Defines the WASI stubs.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        WASI,
        "environ_sizes_get",
        |mut c: Ctx<'_>, count: i32, size: i32| {
            let env = environ(&c);
            let total: usize = env.iter().map(Vec::len).sum();
            errno(
                abi::write_u32(&mut c, count, env.len() as u32)
                    .and_then(|()| abi::write_u32(&mut c, size, total as u32)),
            )
        },
    )?;
    linker.func_wrap(
        WASI,
        "environ_get",
        |mut c: Ctx<'_>, ptrs: i32, buf: i32| {
            let mut at = buf;
            for (i, e) in environ(&c).iter().enumerate() {
                let slot = ptrs.wrapping_add((i as i32).wrapping_mul(4));
                if abi::write_u32(&mut c, slot, at as u32)
                    .and_then(|()| abi::write(&mut c, at, e))
                    .is_err()
                {
                    return EFAULT;
                }
                at = at.wrapping_add(e.len() as i32);
            }
            ESUCCESS
        },
    )?;
    linker.func_wrap(
        WASI,
        "fd_write",
        |mut c: Ctx<'_>, _fd: i32, iovs: i32, n: i32, out: i32| {
            let mut written = 0u32;
            let mut text = Vec::new();
            for i in 0..n {
                let at = iovs.wrapping_add(i.wrapping_mul(8));
                let Ok(iov) = abi::read(&mut c, at, 8) else {
                    return EFAULT;
                };
                let word = |o: usize| {
                    iov.get(o..o + 4)
                        .and_then(|b| <[u8; 4]>::try_from(b).ok())
                        .map_or(0, u32::from_le_bytes)
                };
                let Ok(bytes) = abi::read(&mut c, word(0) as i32, word(4) as i32) else {
                    return EFAULT;
                };
                written = written.wrapping_add(bytes.len() as u32);
                text.extend_from_slice(&bytes);
            }
            let line = String::from_utf8_lossy(&text).into_owned();
            c.data_mut().logs.push((2, line));
            errno(abi::write_u32(&mut c, out, written))
        },
    )?;
    linker.func_wrap(WASI, "random_get", |mut c: Ctx<'_>, buf: i32, len: i32| {
        let mut bytes = Vec::with_capacity(len as u32 as usize);
        let state = c.data_mut();
        for _ in 0..(len as u32) {
            // xorshift64: deterministic, so runs repeat exactly.
            state.random ^= state.random << 13;
            state.random ^= state.random >> 7;
            state.random ^= state.random << 17;
            bytes.push(state.random as u8);
        }
        errno(abi::write(&mut c, buf, &bytes))
    })?;
    linker.func_wrap(
        WASI,
        "proc_exit",
        |_c: Ctx<'_>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::msg(format!("proc_exit({code})")))
        },
    )?;
    Ok(())
}
