//! Coverage for libFuzzer from what the host saw. The filter runs as wasmtime JIT code without
//! sanitizer-coverage instrumentation, so new behaviour inside it would look like nothing new.
//! These functions mark what it did in libFuzzer's extra counters: each host function called,
//! each decision status and code, each configuration accepted or refused, and the known field
//! names and codes in its log lines. Inputs that make it do something new then
//! count as new coverage. Only words from fixed lists count, so fuzzed values (a kid, a path)
//! quoted in a log line cannot grow the corpus without bound.

use tokenward_host_tests::{Outcome, Vm};

use crate::drive::HOST_FUNCTIONS;
use crate::json::KEYS;

/// The error catalog's codes (`core/src/error.rs`) and words of the filter's own log lines.
pub const CODES: &[&str] = &[
    "algorithm_not_allowed",
    "audience_invalid",
    "claim_invalid",
    "claim_missing",
    "discovery_invalid",
    "insufficient_scope",
    "internal_error",
    "invalid_request",
    "invalid_token",
    "issuer_invalid",
    "jwks_invalid",
    "key_invalid",
    "key_not_found",
    "key_skipped",
    "policy_invalid",
    "scanner_blocked",
    "secret_refused",
    "signature_invalid",
    "tenant_mismatch",
    "token_expired",
    "token_lifetime_exceeded",
    "token_malformed",
    "token_missing",
    "token_not_yet_valid",
    "token_too_large",
    "token_type_invalid",
    "weak_secret",
    "rejected",
    "failing",
    "fetch",
    "failed",
    "warning",
    "resume",
    "UTF",
    "JSON",
    "YAML",
];

const STATUSES: &[u32] = &[200, 400, 401, 403, 404, 429, 500, 503];

// Regions of the counter array, one per kind of observation.
const CALLS: usize = 0;
const STATUS: usize = 64;
const CODE: usize = 80;
const LOG_KEY: usize = 128;
const LOG_CODE: usize = 256;
const LOG_LEVEL: usize = 320;
const START: usize = 328;
const CODE_BY_STATUS: usize = 512;

/// A started worker: whether its configuration was accepted.
pub fn started(accepted: bool) {
    counters::hit(START + usize::from(accepted));
}

/// A decided request: its status, code and challenge.
pub fn outcome(o: &Outcome) {
    let status = o.status().unwrap_or(0);
    let s = STATUSES
        .iter()
        .position(|x| *x == status)
        .unwrap_or(STATUSES.len());
    counters::hit(STATUS + s);
    if let Some(code) = o.code() {
        let c = position(CODES, &code);
        counters::hit(CODE + c);
        counters::hit(CODE_BY_STATUS + c * (STATUSES.len() + 1) + s);
    }
    if !o.header("www-authenticate").is_empty() {
        counters::hit(STATUS + STATUSES.len() + 1);
    }
}

/// Log lines from `from` on: their level and the known words in them. Returns the new length.
pub fn logs(vm: &Vm, from: usize) -> usize {
    let logs = &vm.state().logs;
    for (level, line) in logs.iter().skip(from) {
        counters::hit(LOG_LEVEL + usize::try_from(*level).unwrap_or(7).min(7));
        for word in line
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.len() > 1)
        {
            if let Some(k) = KEYS.iter().position(|k| *k == word) {
                counters::hit(LOG_KEY + k);
            }
            if let Some(c) = CODES.iter().position(|c| *c == word) {
                counters::hit(LOG_CODE + c);
            }
        }
    }
    logs.len()
}

/// The host functions called.
pub fn calls(vm: &Vm) {
    for name in vm.state().calls.keys() {
        counters::hit(CALLS + position(HOST_FUNCTIONS, name));
    }
}

/// The index of `s` in `list`, or `list.len()`.
fn position(list: &[&str], s: &str) -> usize {
    list.iter().position(|x| *x == s).unwrap_or(list.len())
}

/// libFuzzer's extra counters: on Linux it treats every byte of the ELF section
/// `__libfuzzer_extra_counters` as a coverage counter (bucketed like its edge counters) and
/// clears them before each input. Placing a static in a named section is an `unsafe` attribute.
#[allow(unsafe_code)]
mod counters {
    use std::sync::atomic::{AtomicU8, Ordering};

    const LEN: usize = 2048;

    #[used]
    #[unsafe(link_section = "__libfuzzer_extra_counters")]
    static COUNTERS: [AtomicU8; LEN] = [const { AtomicU8::new(0) }; LEN];

    /// Marks feature `i` as seen in this input. Only presence counts: hit counts would reward
    /// inputs for repeating the same request, which grows the corpus and nothing else.
    pub fn hit(i: usize) {
        if let Some(c) = COUNTERS.get(i % LEN) {
            c.store(1, Ordering::Relaxed);
        }
    }
}
