//! A wasmtime-hosted proxy-wasm ABI emulator that drives the release `.wasm` artifacts.
//!
//! Placeholder member: the harness lands with the wasmtime harness issue.
