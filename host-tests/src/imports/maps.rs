//! Header maps: `proxy_{get,set}_header_map_pairs`, `proxy_{get,add,replace,remove}_header_map_value`.
//! The request map is the effective stream's; the callout response map exists only while
//! `proxy_on_http_call_response` runs. Names compare ASCII case-insensitively and are stored
//! lowercase, as in Envoy.

use wasmtime::Linker;

use super::{Ctx, done};
use crate::abi::{self, Pairs, map, status};
use crate::state::HostState;

fn map_mut(state: &mut HostState, kind: i32) -> Option<&mut Pairs> {
    match kind {
        map::REQUEST_HEADERS => state.stream().map(|s| &mut s.request_headers),
        map::HTTP_CALL_RESPONSE_HEADERS => state.reply.as_mut().map(|r| &mut r.0),
        _ => None,
    }
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Applies `f` to map `kind`; `NOT_FOUND` when that map does not exist now.
fn with_map(c: &mut Ctx<'_>, kind: i32, f: impl FnOnce(&mut Pairs) -> i32) -> i32 {
    match map_mut(c.data_mut(), kind) {
        Some(m) => f(m),
        None => status::NOT_FOUND,
    }
}

/// Defines the header map functions.
pub fn add(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_header_map_pairs",
        |mut c: Ctx<'_>, kind: i32, out_ptr: i32, out_size: i32| {
            if let Some(s) = c.data_mut().enter("proxy_get_header_map_pairs") {
                return Ok(s);
            }
            let Some(pairs) = map_mut(c.data_mut(), kind).map(|m| abi::encode_pairs(m)) else {
                return Ok(status::NOT_FOUND);
            };
            Ok(done(abi::give(&mut c, &pairs, out_ptr, out_size)?))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_header_map_pairs",
        |mut c: Ctx<'_>, kind: i32, ptr: i32, size: i32| {
            if let Some(s) = c.data_mut().enter("proxy_set_header_map_pairs") {
                return s;
            }
            let Ok(bytes) = abi::read(&mut c, ptr, size) else {
                return status::INVALID_MEMORY_ACCESS;
            };
            let Some(pairs) = abi::decode_pairs(&bytes) else {
                return status::BAD_ARGUMENT;
            };
            with_map(&mut c, kind, |m| {
                *m = pairs;
                status::OK
            })
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_value",
        |mut c: Ctx<'_>, kind: i32, kp: i32, ks: i32, out_ptr: i32, out_size: i32| {
            if let Some(s) = c.data_mut().enter("proxy_get_header_map_value") {
                return Ok(s);
            }
            let Ok(key) = abi::read(&mut c, kp, ks) else {
                return Ok(status::INVALID_MEMORY_ACCESS);
            };
            let value = map_mut(c.data_mut(), kind).and_then(|m| {
                m.iter()
                    .find(|(k, _)| same(k, &key))
                    .map(|(_, v)| v.clone())
            });
            match value {
                Some(v) => Ok(done(abi::give(&mut c, &v, out_ptr, out_size)?)),
                None => Ok(status::NOT_FOUND),
            }
        },
    )?;
    for (name, replace) in [
        ("proxy_add_header_map_value", false),
        ("proxy_replace_header_map_value", true),
    ] {
        linker.func_wrap(
            "env",
            name,
            move |mut c: Ctx<'_>, kind: i32, kp: i32, ks: i32, vp: i32, vs: i32| {
                if let Some(s) = c.data_mut().enter(name) {
                    return s;
                }
                let (Ok(key), Ok(value)) = (abi::read(&mut c, kp, ks), abi::read(&mut c, vp, vs))
                else {
                    return status::INVALID_MEMORY_ACCESS;
                };
                let key = key.to_ascii_lowercase();
                with_map(&mut c, kind, |m| {
                    if replace {
                        m.retain(|(k, _)| !same(k, &key));
                    }
                    m.push((key, value));
                    status::OK
                })
            },
        )?;
    }
    linker.func_wrap(
        "env",
        "proxy_remove_header_map_value",
        |mut c: Ctx<'_>, kind: i32, kp: i32, ks: i32| {
            if let Some(s) = c.data_mut().enter("proxy_remove_header_map_value") {
                return s;
            }
            let Ok(key) = abi::read(&mut c, kp, ks) else {
                return status::INVALID_MEMORY_ACCESS;
            };
            with_map(&mut c, kind, |m| {
                m.retain(|(k, _)| !same(k, &key));
                status::OK
            })
        },
    )?;
    Ok(())
}
