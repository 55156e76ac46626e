//! # tokenward-host-fuzz
//!
//! One cargo-fuzz target, `filter`: the release filter module (`$TOKENWARD_FILTER_WASM`, else the
//! harness's default path), compiled once, gets a fresh instance (one or two workers sharing a
//! clock and shared data) per input, and the input drives it:
//!
//! - a configuration: one of a few valid base documents (inline HS256 secret, inline JWKS with
//!   HS256/RS256/ES256 keys, remote JWKS by `jwks_uri` or by discovery, routes with scopes and
//!   tenants, the scanner) with JSON values set, removed or appended at fuzzer-chosen paths, or
//!   raw fuzzer bytes;
//! - then operations: requests (method, path, headers, a credential that is raw bytes or a token
//!   built from a valid one with fuzzed header and claims and really signed, HS/RS/ES), ticks and
//!   clock moves, callout replies (fuzzed JWKS, bodies, statuses, timeouts), and host-call faults.
//!
//! Properties ([`run`] panics when one fails):
//! 1. the module never traps (a trap ends the instance; in Envoy it kills the worker's VM);
//! 2. an allowed request never goes upstream with an `authorization` header when the
//!    configuration was a JSON document without `filter.forward_authorization: true` and every
//!    request header name was lowercase (as Envoy delivers them).
//!
//! The filter runs as JIT code that libFuzzer does not instrument, so [`feedback`] turns what the
//! host sees (host calls made, decision codes, statuses, field names in log lines) into libFuzzer
//! extra counters.

// A fuzz harness: panicking is how it reports, so clippy's panic lints stay at their defaults.
// `unsafe` is denied, not forbidden: `feedback::counters` places its array in libFuzzer's section.
#![deny(unsafe_code)]
#![deny(missing_docs, unused_must_use)]

pub mod drive;
pub mod feedback;
pub mod input;
pub mod json;
pub mod token;

pub use drive::run;
pub use input::Input;
