//! # tokenward-proxy-filter
//!
//! A proxy-wasm plugin (Envoy's `envoy.filters.http.wasm`) that runs `tokenward-core` in front of
//! a service: every request gets the core's decision, so Envoy answers the same 400/401/403, with
//! the same `WWW-Authenticate` and JSON body, as every other tokenward host. Allowed requests go
//! upstream with the decision's headers injected and every header the filter owns stripped first.
//!
//! The plugin `configuration` is the core's policy document plus a `filter` section
//! ([`config`]); see `proxy-filter/README.md` for every field and a complete Envoy bootstrap.
//!
//! The filter speaks the proxy-wasm 0.2.1 ABI itself: [`entry`] holds the exports the host calls
//! (the SDK's dispatcher panics when a host call fails, so it is not linked), and [`host`] the
//! imports, each returning every status as an error instead of panicking. Signature math runs in Envoy's BoringSSL through the
//! `verify_signature` foreign function when the host has it ([`crypto`]).

// Library code must never panic across the wasm/Envoy boundary (a panic kills the worker's VM):
// every `unwrap`, `expect`, `panic!` and unchecked index is a compile error (tests are exempt via
// clippy.toml). `unsafe` is denied (not forbidden): `host` and `entry` allow it for the raw ABI.
#![deny(unsafe_code)]
#![deny(missing_docs, unused_must_use)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![deny(clippy::unreachable, clippy::todo)]

pub mod config;
pub mod crypto;
pub mod der;
pub mod entry;
pub mod filter;
pub mod host;
pub mod remote;
pub mod stats;
pub mod velocity;
