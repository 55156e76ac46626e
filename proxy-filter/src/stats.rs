//! Counters, defined once per VM (Envoy shows them as `wasmcustom.tokenward_*`).
//!
//! `tokenward_allowed`, `tokenward_denied`, one `tokenward_denied_<code>` per catalog code,
//! `tokenward_internal_error`, `tokenward_jwks_fetch_ok`, `tokenward_jwks_fetch_failed`,
//! `tokenward_cache_hit`, `tokenward_cache_miss`, `tokenward_offloaded`,
//! `tokenward_offload_failed`, `tokenward_scanner_flagged`, `tokenward_velocity_uncounted`; and one gauge,
//! `tokenward_jwks_stale_seconds` (0 while the remote key set is fresh, else how long ago the last
//! good key set was fetched, once that is older than its `max_age` and refreshes keep failing).
//! A counter the host refuses to define is skipped silently: stats
//! never change a decision.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::host::{self, MetricType};

/// Requests allowed.
pub const ALLOWED: &str = "tokenward_allowed";
/// Requests denied (any code).
pub const DENIED: &str = "tokenward_denied";
/// Requests failed closed because a host call failed.
pub const INTERNAL_ERROR: &str = "tokenward_internal_error";
/// Key-set fetches that produced a usable key set.
pub const JWKS_FETCH_OK: &str = "tokenward_jwks_fetch_ok";
/// Key-set fetches that failed (transport, status, document).
pub const JWKS_FETCH_FAILED: &str = "tokenward_jwks_fetch_failed";
/// Signature checks answered by the cache.
pub const CACHE_HIT: &str = "tokenward_cache_hit";
/// Signature checks that missed the cache.
pub const CACHE_MISS: &str = "tokenward_cache_miss";
/// Signature checks done by Envoy's `verify_signature`.
pub const OFFLOADED: &str = "tokenward_offloaded";
/// `verify_signature` calls that failed (the check then ran in wasm).
pub const OFFLOAD_FAILED: &str = "tokenward_offload_failed";

/// Requests the scanner flagged (mode `flag`; they continue).
pub const SCANNER_FLAGGED: &str = "tokenward_scanner_flagged";
/// Requests velocity could not count (shared data failed or its table was full).
pub const VELOCITY_UNCOUNTED: &str = "tokenward_velocity_uncounted";
/// Gauge: seconds since the last good remote key set once it is stale, else 0.
pub const JWKS_STALE_SECONDS: &str = "tokenward_jwks_stale_seconds";

/// Every deny code a decision can carry (the core's request-time catalog).
pub const DENY_CODES: [&str; 18] = [
    "token_missing",
    "invalid_request",
    "token_malformed",
    "token_too_large",
    "algorithm_not_allowed",
    "key_not_found",
    "signature_invalid",
    "token_expired",
    "token_not_yet_valid",
    "issuer_invalid",
    "audience_invalid",
    "claim_missing",
    "claim_invalid",
    "token_type_invalid",
    "token_lifetime_exceeded",
    "insufficient_scope",
    "tenant_mismatch",
    "scanner_blocked",
];

thread_local! {
    static IDS: RefCell<BTreeMap<String, u32>> = const { RefCell::new(BTreeMap::new()) };
}

fn id_of(name: &str) -> Option<u32> {
    id_of_kind(name, MetricType::Counter)
}

fn id_of_kind(name: &str, kind: MetricType) -> Option<u32> {
    IDS.with(|ids| {
        let mut ids = ids.try_borrow_mut().ok()?;
        if let Some(id) = ids.get(name) {
            return Some(*id);
        }
        let id = host::define_metric(kind, name).ok()?;
        ids.insert(name.to_owned(), id);
        Some(id)
    })
}

/// Defines every counter up front (once per VM; later calls are no-ops).
pub fn define_all() {
    for name in [
        ALLOWED,
        DENIED,
        INTERNAL_ERROR,
        JWKS_FETCH_OK,
        JWKS_FETCH_FAILED,
        CACHE_HIT,
        CACHE_MISS,
        OFFLOADED,
        OFFLOAD_FAILED,
        SCANNER_FLAGGED,
        VELOCITY_UNCOUNTED,
    ] {
        let _ = id_of(name);
    }
    let _ = id_of_kind(JWKS_STALE_SECONDS, MetricType::Gauge);
    for code in DENY_CODES {
        let _ = id_of(&denied_name(code));
    }
}

/// `tokenward_denied_<code>`.
pub fn denied_name(code: &str) -> String {
    format!("{DENIED}_{code}")
}

/// Adds one to a counter.
pub fn bump(name: &str) {
    if let Some(id) = id_of(name) {
        let _ = host::increment(id, 1);
    }
}

/// Sets a gauge.
pub fn set_gauge(name: &str, value: u64) {
    if let Some(id) = id_of_kind(name, MetricType::Gauge) {
        let _ = host::record(id, value);
    }
}
