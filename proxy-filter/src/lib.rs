//! proxy-wasm filter that runs `tokenward-core` inside Envoy.
//!
//! Placeholder member: the filter lands with the Envoy filter issue.
