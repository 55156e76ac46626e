//! The proxy-wasm 0.2.1 wire level: status codes, map and buffer kinds, the header-map encoding,
//! and guest memory access (reads, writes, and buffers handed to the module through
//! `proxy_on_memory_allocate`).

use wasmtime::{Caller, Extern, Memory};

use crate::state::HostState;

/// proxy-wasm statuses (`WasmResult` in the 0.2.1 spec).
#[allow(missing_docs)]
pub mod status {
    pub const OK: i32 = 0;
    pub const NOT_FOUND: i32 = 1;
    pub const BAD_ARGUMENT: i32 = 2;
    pub const SERIALIZATION_FAILURE: i32 = 3;
    pub const PARSE_FAILURE: i32 = 4;
    pub const INVALID_MEMORY_ACCESS: i32 = 6;
    pub const EMPTY: i32 = 7;
    pub const CAS_MISMATCH: i32 = 8;
    pub const INTERNAL_FAILURE: i32 = 10;
    pub const UNIMPLEMENTED: i32 = 12;
}

/// Header maps (`proxy_*_header_map_*`).
#[allow(missing_docs)]
pub mod map {
    pub const REQUEST_HEADERS: i32 = 0;
    pub const RESPONSE_HEADERS: i32 = 2;
    pub const HTTP_CALL_RESPONSE_HEADERS: i32 = 6;
}

/// Buffers (`proxy_get_buffer_bytes`).
#[allow(missing_docs)]
pub mod buffer {
    pub const HTTP_CALL_RESPONSE_BODY: i32 = 4;
    pub const VM_CONFIGURATION: i32 = 6;
    pub const PLUGIN_CONFIGURATION: i32 = 7;
}

/// A list of header entries as bytes.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Encodes pairs in the proxy-wasm map format: `u32` count, `u32` key/value sizes per entry, then
/// each key and value followed by a NUL (little-endian).
pub fn encode_pairs(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    let mut out = Vec::new();
    out.extend_from_slice(&len(pairs.len()));
    for (k, v) in pairs {
        out.extend_from_slice(&len(k.len()));
        out.extend_from_slice(&len(v.len()));
    }
    for (k, v) in pairs {
        out.extend_from_slice(k);
        out.push(0);
        out.extend_from_slice(v);
        out.push(0);
    }
    out
}

/// Decodes the proxy-wasm map format; `None` when the sizes do not fit the buffer.
pub fn decode_pairs(bytes: &[u8]) -> Option<Pairs> {
    let word = |at: usize| -> Option<usize> {
        let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        usize::try_from(u32::from_le_bytes(b)).ok()
    };
    let count = word(0)?;
    if count > bytes.len() / 8 {
        return None;
    }
    let mut pos = 4usize.checked_add(count.checked_mul(8)?)?;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let at = 4usize.checked_add(i.checked_mul(8)?)?;
        let (k, v) = (word(at)?, word(at.checked_add(4)?)?);
        let key = bytes.get(pos..pos.checked_add(k)?)?.to_vec();
        pos = pos.checked_add(k)?.checked_add(1)?;
        let value = bytes.get(pos..pos.checked_add(v)?)?.to_vec();
        pos = pos.checked_add(v)?.checked_add(1)?;
        out.push((key, value));
    }
    Some(out)
}

/// A failed guest memory access, reported to the module as a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadMemory;

fn memory(caller: &mut Caller<'_, HostState>) -> Result<Memory, BadMemory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => Err(BadMemory),
    }
}

fn range(ptr: i32, len: i32) -> Result<std::ops::Range<usize>, BadMemory> {
    let start = usize::try_from(ptr as u32).map_err(|_| BadMemory)?;
    let len = usize::try_from(len as u32).map_err(|_| BadMemory)?;
    Ok(start..start.checked_add(len).ok_or(BadMemory)?)
}

/// Copies `len` bytes at `ptr` out of guest memory.
pub fn read(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> Result<Vec<u8>, BadMemory> {
    let mem = memory(caller)?;
    mem.data(&*caller)
        .get(range(ptr, len)?)
        .map(<[u8]>::to_vec)
        .ok_or(BadMemory)
}

/// Reads a UTF-8 string (lossy) out of guest memory.
pub fn read_str(
    caller: &mut Caller<'_, HostState>,
    ptr: i32,
    len: i32,
) -> Result<String, BadMemory> {
    read(caller, ptr, len).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Writes bytes into guest memory at `ptr`.
pub fn write(caller: &mut Caller<'_, HostState>, ptr: i32, bytes: &[u8]) -> Result<(), BadMemory> {
    let len = i32::try_from(bytes.len()).map_err(|_| BadMemory)?;
    let mem = memory(caller)?;
    mem.data_mut(&mut *caller)
        .get_mut(range(ptr, len)?)
        .ok_or(BadMemory)?
        .copy_from_slice(bytes);
    Ok(())
}

/// Writes a little-endian `u32` at `ptr`.
pub fn write_u32(caller: &mut Caller<'_, HostState>, ptr: i32, v: u32) -> Result<(), BadMemory> {
    write(caller, ptr, &v.to_le_bytes())
}

/// Hands `bytes` to the module: allocates with `proxy_on_memory_allocate`, copies, and stores the
/// pointer and size at `out_ptr` and `out_size`. An empty value stores a null pointer.
pub fn give(
    caller: &mut Caller<'_, HostState>,
    bytes: &[u8],
    out_ptr: i32,
    out_size: i32,
) -> wasmtime::Result<Result<(), BadMemory>> {
    let size = i32::try_from(bytes.len()).map_err(|_| wasmtime::Error::msg("buffer too large"))?;
    let ptr = if bytes.is_empty() {
        0
    } else {
        let Some(alloc) = caller
            .get_export("proxy_on_memory_allocate")
            .and_then(Extern::into_func)
        else {
            return Ok(Err(BadMemory));
        };
        let alloc = alloc.typed::<i32, i32>(&*caller)?;
        let ptr = alloc.call(&mut *caller, size)?;
        if ptr == 0 {
            return Ok(Err(BadMemory));
        }
        if let Err(e) = write(caller, ptr, bytes) {
            return Ok(Err(e));
        }
        ptr
    };
    Ok(write_u32(caller, out_ptr, ptr as u32)
        .and_then(|()| write_u32(caller, out_size, size as u32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip() {
        let pairs: Pairs = vec![
            (b":path".to_vec(), b"/".to_vec()),
            (b"a".to_vec(), Vec::new()),
        ];
        assert_eq!(decode_pairs(&encode_pairs(&pairs)), Some(pairs));
        assert_eq!(decode_pairs(&[1, 0, 0, 0]), None);
    }
}
