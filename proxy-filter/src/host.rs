//! Non-panicking wrappers over the raw proxy-wasm 0.2.1 host ABI.
//!
//! The SDK's `hostcalls::*` panic on any status they do not expect (and `get_map_value` on bad
//! UTF-8); a panic kills the worker's VM. Every function here returns the host's status as an
//! `Err` instead, and reads host-owned buffers with bounds checks. The calls into the module (the
//! exports) are in `entry`.
//!
//! On non-wasm targets (host-side unit tests) every call answers `Unimplemented`.

// The ABI is `extern "C"` imports and host-allocated buffers: this is the one module (with
// `entry`) where `unsafe` is allowed. Each block says what it relies on.
#![allow(unsafe_code)]

/// A proxy-wasm status other than `Ok`, as the host returned it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 1: the key, function, property or header does not exist.
    NotFound,
    /// 2: the host rejected an argument.
    BadArgument,
    /// 3: a value could not be (de)serialized.
    SerializationFailure,
    /// 4: a value could not be parsed.
    ParseFailure,
    /// 7: nothing to return.
    Empty,
    /// 8: shared data changed since the CAS value was read.
    CasMismatch,
    /// 10: the host failed.
    InternalFailure,
    /// 12: the host does not implement the call (or this is not a wasm build).
    Unimplemented,
    /// Any other value.
    Other(u32),
}

impl Status {
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    fn from_raw(raw: u32) -> Result<(), Self> {
        Err(match raw {
            0 => return Ok(()),
            1 => Self::NotFound,
            2 => Self::BadArgument,
            3 => Self::SerializationFailure,
            4 => Self::ParseFailure,
            7 => Self::Empty,
            8 => Self::CasMismatch,
            10 => Self::InternalFailure,
            12 => Self::Unimplemented,
            other => Self::Other(other),
        })
    }
}

/// Log levels of `proxy_log`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// 0
    Trace = 0,
    /// 1
    Debug = 1,
    /// 2
    Info = 2,
    /// 3
    Warn = 3,
    /// 4
    Error = 4,
    /// 5
    Critical = 5,
}

/// Header maps (`proxy_*_header_map_*`).
#[derive(Clone, Copy, Debug)]
pub enum MapType {
    /// The downstream request headers.
    RequestHeaders = 0,
    /// The response headers of an HTTP callout.
    HttpCallResponseHeaders = 6,
}

/// Buffers (`proxy_get_buffer_bytes`).
#[derive(Clone, Copy, Debug)]
pub enum BufferType {
    /// The body of an HTTP callout response.
    HttpCallResponseBody = 4,
    /// The plugin `configuration`.
    PluginConfiguration = 7,
}

/// A bytes-to-bytes header list.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

#[cfg(target_arch = "wasm32")]
mod raw {
    #[link(wasm_import_module = "env")]
    unsafe extern "C" {
        pub fn proxy_log(level: u32, data: *const u8, size: usize) -> u32;
        pub fn proxy_get_current_time_nanoseconds(out: *mut u64) -> u32;
        pub fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
        pub fn proxy_get_buffer_bytes(
            buffer: u32,
            start: usize,
            max: usize,
            out_data: *mut *mut u8,
            out_size: *mut usize,
        ) -> u32;
        pub fn proxy_get_header_map_pairs(
            map: u32,
            out_data: *mut *mut u8,
            out_size: *mut usize,
        ) -> u32;
        pub fn proxy_add_header_map_value(
            map: u32,
            key: *const u8,
            key_size: usize,
            value: *const u8,
            value_size: usize,
        ) -> u32;
        pub fn proxy_remove_header_map_value(map: u32, key: *const u8, key_size: usize) -> u32;
        pub fn proxy_send_local_response(
            status: u32,
            details: *const u8,
            details_size: usize,
            body: *const u8,
            body_size: usize,
            headers: *const u8,
            headers_size: usize,
            grpc_status: i32,
        ) -> u32;
        pub fn proxy_continue_stream(stream: u32) -> u32;
        pub fn proxy_close_stream(stream: u32) -> u32;
        pub fn proxy_set_effective_context(context_id: u32) -> u32;
        pub fn proxy_get_shared_data(
            key: *const u8,
            key_size: usize,
            out_data: *mut *mut u8,
            out_size: *mut usize,
            out_cas: *mut u32,
        ) -> u32;
        pub fn proxy_set_shared_data(
            key: *const u8,
            key_size: usize,
            value: *const u8,
            value_size: usize,
            cas: u32,
        ) -> u32;
        pub fn proxy_call_foreign_function(
            name: *const u8,
            name_size: usize,
            args: *const u8,
            args_size: usize,
            out_data: *mut *mut u8,
            out_size: *mut usize,
        ) -> u32;
        pub fn proxy_define_metric(
            kind: u32,
            name: *const u8,
            name_size: usize,
            out_id: *mut u32,
        ) -> u32;
        pub fn proxy_increment_metric(id: u32, offset: i64) -> u32;
        pub fn proxy_record_metric(id: u32, value: u64) -> u32;
        pub fn proxy_get_property(
            path: *const u8,
            path_size: usize,
            out_data: *mut *mut u8,
            out_size: *mut usize,
        ) -> u32;
        #[allow(clippy::too_many_arguments)]
        pub fn proxy_http_call(
            upstream: *const u8,
            upstream_size: usize,
            headers: *const u8,
            headers_size: usize,
            body: *const u8,
            body_size: usize,
            trailers: *const u8,
            trailers_size: usize,
            timeout_ms: u32,
            out_token: *mut u32,
        ) -> u32;
    }
}

/// Takes ownership of a buffer the host allocated through `proxy_on_memory_allocate`
/// (`entry::allocate`: a `Vec<u8>` with capacity exactly `size`).
#[cfg(target_arch = "wasm32")]
fn take(data: *mut u8, size: usize) -> Option<Vec<u8>> {
    if data.is_null() {
        return None;
    }
    // SAFETY: the host wrote `size` bytes into a buffer of `size` bytes it obtained from
    // `proxy_on_memory_allocate`, which reserves exactly that with the global allocator.
    Some(unsafe { Vec::from_raw_parts(data, size, size) })
}

/// `proxy_log`.
pub fn log(level: LogLevel, message: &str) -> Result<(), Status> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: pointer and length of a live `&str`.
        let raw = unsafe { raw::proxy_log(level as u32, message.as_ptr(), message.len()) };
        Status::from_raw(raw)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (level, message);
        Err(Status::Unimplemented)
    }
}

/// `proxy_get_current_time_nanoseconds`.
pub fn now_nanos() -> Result<u64, Status> {
    #[cfg(target_arch = "wasm32")]
    {
        let mut out: u64 = 0;
        // SAFETY: `out` is a live u64 the host writes.
        Status::from_raw(unsafe { raw::proxy_get_current_time_nanoseconds(&mut out) })?;
        Ok(out)
    }
    #[cfg(not(target_arch = "wasm32"))]
    Err(Status::Unimplemented)
}

/// `proxy_set_tick_period_milliseconds` (0 stops the timer).
pub fn set_tick_period_ms(period: u32) -> Result<(), Status> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: plain integer argument.
        Status::from_raw(unsafe { raw::proxy_set_tick_period_milliseconds(period) })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = period;
        Err(Status::Unimplemented)
    }
}

/// `proxy_get_buffer_bytes` for the whole buffer (up to `max` bytes). `Ok(None)`: empty.
pub fn get_buffer(buffer: BufferType, max: usize) -> Result<Option<Vec<u8>>, Status> {
    #[cfg(target_arch = "wasm32")]
    {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: out-pointers to live locals.
        let raw =
            unsafe { raw::proxy_get_buffer_bytes(buffer as u32, 0, max, &mut data, &mut size) };
        match Status::from_raw(raw) {
            Ok(()) => Ok(take(data, size)),
            Err(Status::NotFound | Status::Empty) => Ok(None),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (buffer, max);
        Err(Status::Unimplemented)
    }
}

/// Every entry of a header map, as bytes (non-UTF-8 values survive).
pub fn get_pairs(map: MapType) -> Result<Pairs, Status> {
    #[cfg(target_arch = "wasm32")]
    {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: out-pointers to live locals.
        let raw = unsafe { raw::proxy_get_header_map_pairs(map as u32, &mut data, &mut size) };
        Status::from_raw(raw)?;
        match take(data, size) {
            Some(bytes) => decode_pairs(&bytes).ok_or(Status::SerializationFailure),
            None => Ok(Vec::new()),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = map;
        Err(Status::Unimplemented)
    }
}

/// `proxy_add_header_map_value`.
pub fn add_header(map: MapType, name: &str, value: &str) -> Result<(), Status> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: pointers and lengths of live `&str`s.
        let raw = unsafe {
            raw::proxy_add_header_map_value(
                map as u32,
                name.as_ptr(),
                name.len(),
                value.as_ptr(),
                value.len(),
            )
        };
        Status::from_raw(raw)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (map, name, value);
        Err(Status::Unimplemented)
    }
}

/// `proxy_remove_header_map_value` (every entry of that name).
pub fn remove_header(map: MapType, name: &str) -> Result<(), Status> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: pointer and length of a live `&str`.
        let raw =
            unsafe { raw::proxy_remove_header_map_value(map as u32, name.as_ptr(), name.len()) };
        match Status::from_raw(raw) {
            // Some hosts answer NotFound for an absent header. Only believe it when the map really
            // holds no such entry: a header the filter must strip must never go upstream.
            Err(Status::NotFound) => {
                let pairs = get_pairs(map)?;
                if pairs
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
                {
                    Err(Status::NotFound)
                } else {
                    Ok(())
                }
            }
            other => other,
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (map, name);
        Err(Status::Unimplemented)
    }
}

/// `proxy_send_local_response`: a local reply (the caller then returns `Action::Pause`).
pub fn send_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Result<(), Status> {
    let headers = encode_pairs(headers);
    #[cfg(target_arch = "wasm32")]
    {
        const DETAILS: &str = "tokenward";
        // SAFETY: pointers and lengths of live buffers.
        let raw = unsafe {
            raw::proxy_send_local_response(
                u32::from(status),
                DETAILS.as_ptr(),
                DETAILS.len(),
                body.as_ptr(),
                body.len(),
                headers.as_ptr(),
                headers.len(),
                -1,
            )
        };
        Status::from_raw(raw)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (status, headers, body);
        Err(Status::Unimplemented)
    }
}

/// `proxy_continue_stream(HttpRequest)`: resumes a paused request.
pub fn resume_request() -> Result<(), Status> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: plain integer argument.
        Status::from_raw(unsafe { raw::proxy_continue_stream(0) })
    }
    #[cfg(not(target_arch = "wasm32"))]
    Err(Status::Unimplemented)
}

/// `proxy_close_stream(HttpRequest)`: resets the current request (the last resort when it can
/// be neither answered nor resumed).
pub fn close_request() -> Result<(), Status> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: plain integer argument.
        Status::from_raw(unsafe { raw::proxy_close_stream(0) })
    }
    #[cfg(not(target_arch = "wasm32"))]
    Err(Status::Unimplemented)
}

/// `proxy_set_effective_context`: later calls act on that (paused) request.
pub fn set_effective_context(context_id: u32) -> Result<(), Status> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: plain integer argument.
        Status::from_raw(unsafe { raw::proxy_set_effective_context(context_id) })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = context_id;
        Err(Status::Unimplemented)
    }
}

/// `proxy_get_shared_data`: `Ok(None)` when the key does not exist.
pub fn get_shared(key: &str) -> Result<Option<(Vec<u8>, u32)>, Status> {
    #[cfg(target_arch = "wasm32")]
    {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        let mut cas: u32 = 0;
        // SAFETY: pointer and length of a live `&str`; out-pointers to live locals.
        let raw = unsafe {
            raw::proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas)
        };
        match Status::from_raw(raw) {
            Ok(()) => Ok(Some((take(data, size).unwrap_or_default(), cas))),
            Err(Status::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = key;
        Err(Status::Unimplemented)
    }
}

/// `proxy_set_shared_data` with a CAS value (0: unconditional).
pub fn set_shared(key: &str, value: &[u8], cas: u32) -> Result<(), Status> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: pointers and lengths of live buffers.
        let raw = unsafe {
            raw::proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas)
        };
        Status::from_raw(raw)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (key, value, cas);
        Err(Status::Unimplemented)
    }
}

/// `proxy_call_foreign_function`. `Ok(None)`: the function returned nothing.
pub fn call_foreign(name: &str, args: &[u8]) -> Result<Option<Vec<u8>>, Status> {
    #[cfg(target_arch = "wasm32")]
    {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: pointers and lengths of live buffers; out-pointers to live locals.
        let raw = unsafe {
            raw::proxy_call_foreign_function(
                name.as_ptr(),
                name.len(),
                args.as_ptr(),
                args.len(),
                &mut data,
                &mut size,
            )
        };
        Status::from_raw(raw)?;
        Ok(take(data, size))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (name, args);
        Err(Status::Unimplemented)
    }
}

/// Metric kinds of `proxy_define_metric`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    /// 0: only ever incremented.
    Counter = 0,
    /// 1: set to a value.
    Gauge = 1,
}

/// `proxy_define_metric`.
pub fn define_metric(kind: MetricType, name: &str) -> Result<u32, Status> {
    #[cfg(target_arch = "wasm32")]
    {
        let mut id: u32 = 0;
        // SAFETY: pointer and length of a live `&str`; out-pointer to a live local.
        Status::from_raw(unsafe {
            raw::proxy_define_metric(kind as u32, name.as_ptr(), name.len(), &mut id)
        })?;
        Ok(id)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (kind, name);
        Err(Status::Unimplemented)
    }
}

/// `proxy_record_metric`: sets a gauge.
pub fn record(id: u32, value: u64) -> Result<(), Status> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: plain integer arguments.
        Status::from_raw(unsafe { raw::proxy_record_metric(id, value) })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (id, value);
        Err(Status::Unimplemented)
    }
}

/// `proxy_get_property` for a path such as `["source", "address"]` (sent NUL-separated).
/// `Ok(None)`: the property exists but has no value.
pub fn get_property(path: &[&str]) -> Result<Option<Vec<u8>>, Status> {
    let mut encoded = Vec::new();
    for (i, part) in path.iter().enumerate() {
        if i > 0 {
            encoded.push(0);
        }
        encoded.extend_from_slice(part.as_bytes());
    }
    #[cfg(target_arch = "wasm32")]
    {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: pointer and length of a live buffer; out-pointers to live locals.
        let raw = unsafe {
            raw::proxy_get_property(encoded.as_ptr(), encoded.len(), &mut data, &mut size)
        };
        Status::from_raw(raw)?;
        Ok(take(data, size))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = encoded;
        Err(Status::Unimplemented)
    }
}

/// `proxy_http_call`: an HTTP callout to `upstream` (an Envoy cluster). Returns the token that
/// `proxy_on_http_call_response` will carry. Every status other than `Ok` is an `Err`, including
/// `Unimplemented` from hosts without callouts.
pub fn http_call(
    upstream: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout_ms: u32,
) -> Result<u32, Status> {
    let headers = encode_pairs(headers);
    let trailers = encode_pairs(&[]);
    #[cfg(target_arch = "wasm32")]
    {
        let mut token: u32 = 0;
        // SAFETY: pointers and lengths of live buffers; out-pointer to a live local.
        let raw = unsafe {
            raw::proxy_http_call(
                upstream.as_ptr(),
                upstream.len(),
                headers.as_ptr(),
                headers.len(),
                body.as_ptr(),
                body.len(),
                trailers.as_ptr(),
                trailers.len(),
                timeout_ms,
                &mut token,
            )
        };
        Status::from_raw(raw)?;
        Ok(token)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (upstream, headers, body, trailers, timeout_ms);
        Err(Status::Unimplemented)
    }
}

/// `proxy_increment_metric`.
pub fn increment(id: u32, by: i64) -> Result<(), Status> {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: plain integer arguments.
        Status::from_raw(unsafe { raw::proxy_increment_metric(id, by) })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (id, by);
        Err(Status::Unimplemented)
    }
}

/// Serializes a header list in the proxy-wasm map format: `u32` count, then `u32` key and value
/// sizes per entry, then each key and value followed by a NUL byte (all little-endian).
pub fn encode_pairs(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    out.extend_from_slice(&len(pairs.len()));
    for (k, v) in pairs {
        out.extend_from_slice(&len(k.len()));
        out.extend_from_slice(&len(v.len()));
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

/// Parses the proxy-wasm map format; `None` when the sizes do not fit the buffer.
pub fn decode_pairs(bytes: &[u8]) -> Option<Pairs> {
    let word = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at.checked_add(4)?)?;
        let arr: [u8; 4] = b.try_into().ok()?;
        usize::try_from(u32::from_le_bytes(arr)).ok()
    };
    let count = word(0)?;
    // Every entry takes at least 8 size bytes and 2 NULs: reject counts the buffer cannot hold.
    if count > bytes.len() / 10 + 1 {
        return None;
    }
    let mut sizes = Vec::with_capacity(count);
    for i in 0..count {
        let at = 4usize.checked_add(i.checked_mul(8)?)?;
        sizes.push((word(at)?, word(at.checked_add(4)?)?));
    }
    let mut pos = 4usize.checked_add(count.checked_mul(8)?)?;
    let mut out = Vec::with_capacity(count);
    for (k, v) in sizes {
        let key = bytes.get(pos..pos.checked_add(k)?)?.to_vec();
        pos = pos.checked_add(k)?.checked_add(1)?;
        let value = bytes.get(pos..pos.checked_add(v)?)?.to_vec();
        pos = pos.checked_add(v)?.checked_add(1)?;
        out.push((key, value));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip() {
        let pairs = [
            (":path", "/a?b"),
            ("x-user-id", ""),
            ("authorization", "Bearer t"),
        ];
        let bytes = encode_pairs(&pairs);
        let back = decode_pairs(&bytes).unwrap();
        let back: Vec<(&str, &str)> = back
            .iter()
            .map(|(k, v)| {
                (
                    std::str::from_utf8(k).unwrap(),
                    std::str::from_utf8(v).unwrap(),
                )
            })
            .collect();
        assert_eq!(back, pairs);
    }

    #[test]
    fn truncated_pairs_are_rejected() {
        let bytes = encode_pairs(&[("a", "bc")]);
        for cut in 0..bytes.len() - 1 {
            assert_eq!(decode_pairs(&bytes[..cut]), None, "cut at {cut}");
        }
        assert_eq!(decode_pairs(&[0xff, 0xff, 0xff, 0x7f]), None);
    }

    #[test]
    fn statuses_map() {
        assert_eq!(Status::from_raw(0), Ok(()));
        assert_eq!(Status::from_raw(1), Err(Status::NotFound));
        assert_eq!(Status::from_raw(12), Err(Status::Unimplemented));
        assert_eq!(Status::from_raw(99), Err(Status::Other(99)));
    }
}
