//! Remote keys: the core's [`JwksCache`] decides, this module performs the fetches and shares the
//! result between Envoy's workers.
//!
//! Envoy runs one VM per worker. Every worker keeps its own [`JwksCache`] (fed the same bodies, it
//! reaches the same state), but only one fetches at a time:
//!
//! - shared data `<key>.lease` holds "no new fetch before T" (ms). A worker that wants to fetch
//!   writes `now + timeout` with the CAS value it read; losing the CAS race means another worker
//!   fetches. After an outcome the lease becomes `now + cooldown`, so across all workers there is at
//!   most one fetch per cooldown (unknown-`kid` refetches included);
//! - shared data `<key>.jwks` holds the last good JWKS body, written only after the fetching
//!   worker's own cache loaded it. Every worker polls it on its tick and loads a new body, so
//!   garbage and failed fetches never replace the last good key set anywhere;
//! - requests that arrive before the first key set, or whose unknown `kid` started a refetch, are
//!   paused and decided again when a key set lands or `wait_for_keys_ms` passes.

use tokenward_core::jwks::{Discovery, JwksCache, JwksConfig};
use tokenward_core::{Error, UnixTime, Verifier};

use crate::config::{FilterSettings, Remote};
use crate::crypto::FilterCrypto;
use crate::filter::log;
use crate::host::{self, BufferType, LogLevel, MapType};
use crate::stats;

/// What an HTTP callout in flight is fetching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fetching {
    Discovery,
    Jwks,
}

/// One plugin's remote key source, per worker.
pub struct RemoteKeys {
    settings: Remote,
    crypto: (crate::config::CryptoMode, usize),
    cache: JwksCache,
    verifier: Option<Verifier>,
    generation: u64,
    /// A hash of the JWKS body the verifier was built from.
    body_hash: Option<u64>,
    seen_cas: Option<u32>,
    seen_done: Option<u32>,
    jwks_uri: Option<String>,
    in_flight: Option<(u32, Fetching)>,
    want_fetch: bool,
    /// Paused requests: (context id, deadline in ms).
    waiting: Vec<(u32, u64)>,
    shared_key: String,
}

impl RemoteKeys {
    /// A source with no key set yet. `policy_doc` is the policy without the fetched keys.
    pub fn new(
        remote: Remote,
        settings: &FilterSettings,
        policy_doc: serde_json::Value,
        env: tokenward_core::Env,
    ) -> Self {
        let config = JwksConfig {
            max_age_seconds: u64::try_from(remote.max_age).unwrap_or(300),
            cooldown_seconds: u64::try_from(remote.cooldown).unwrap_or(30),
            fetch_timeout_seconds: u64::from(remote.timeout_ms.div_ceil(1000)).max(1),
            ..JwksConfig::default()
        };
        let source = format!(
            "{}|{}|{}",
            remote.cluster,
            remote.jwks_uri.as_deref().unwrap_or(""),
            remote.issuer.as_deref().unwrap_or("")
        );
        let shared_key = format!(
            "tokenward.keys.{:016x}",
            crate::velocity::fnv1a(source.as_bytes())
        );
        Self {
            jwks_uri: remote.jwks_uri.clone(),
            settings: remote,
            crypto: (settings.crypto, settings.cache_size),
            cache: JwksCache::new(policy_doc, env, config),
            verifier: None,
            generation: 0,
            body_hash: None,
            seen_cas: None,
            seen_done: None,
            in_flight: None,
            want_fetch: false,
            waiting: Vec::new(),
            shared_key,
        }
    }

    /// The verifier for the last good key set, if any.
    pub fn verifier(&self) -> Option<&Verifier> {
        self.verifier.as_ref()
    }

    /// How long a request may wait for keys, in ms.
    pub fn wait_ms(&self) -> u32 {
        self.settings.wait_ms
    }

    /// Parks a request until a key set lands (or `deadline_ms`).
    pub fn park(&mut self, context_id: u32, deadline_ms: u64) {
        self.waiting.push((context_id, deadline_ms));
    }

    /// A token named a `kid` the key set does not have: `true` when a refetch was started for it
    /// (the caller then parks the request).
    pub fn unknown_kid(&mut self, now: UnixTime, kid: &str) -> bool {
        if self.cache.on_unknown_kid(now, kid) {
            self.want_fetch = true;
            true
        } else {
            false
        }
    }

    /// Seconds since the last good key set, once it is past `max_age` and the refresh failed;
    /// 0 while fresh (or while a due refresh has not failed yet).
    pub fn stale_seconds(&self, now_ms: u64) -> u64 {
        let now = UnixTime(i64::try_from(now_ms / 1000).unwrap_or(i64::MAX));
        if self.verifier.is_none() || !self.cache.is_stale(now) || self.cache.last_error().is_none()
        {
            return 0;
        }
        self.cache.staleness(now).unwrap_or(0)
    }

    /// The error a request gets when no key set arrived in time.
    pub fn unavailable(&self) -> Error {
        self.cache
            .last_error()
            .cloned()
            .unwrap_or_else(|| Error::JwksInvalid {
                reason: "no key set has been fetched yet".to_owned(),
            })
    }

    /// The tick: load a key set another worker shared, start a fetch when the cache asks for one
    /// (and this worker wins the lease), and return the parked requests to decide now (a key set
    /// landed, or their deadline passed).
    pub fn tick(&mut self, now_ms: u64) -> Vec<u32> {
        let now = UnixTime(i64::try_from(now_ms / 1000).unwrap_or(i64::MAX));
        let landed = self.sync(now);
        let finished_elsewhere = self.other_worker_finished(now, landed);
        if self.in_flight.is_none() && (self.want_fetch || self.cache.poll_fetch(now).is_some()) {
            self.want_fetch = false;
            self.try_fetch(now, now_ms);
        }
        let mut ready = Vec::new();
        // Requests parked for an unknown kid (a key set exists) are decided once any worker's
        // fetch finished; requests waiting for the first key set keep waiting until it lands.
        let release = landed || (finished_elsewhere && self.verifier.is_some());
        self.waiting.retain(|(id, deadline)| {
            if release || now_ms >= *deadline {
                ready.push(*id);
                false
            } else {
                true
            }
        });
        ready
    }

    /// Loads the shared key set when it changed; `true` when a new verifier is in place.
    fn sync(&mut self, now: UnixTime) -> bool {
        let Ok(Some((bytes, cas))) = host::get_shared(&format!("{}.jwks", self.shared_key)) else {
            return false;
        };
        if self.seen_cas == Some(cas) || bytes.is_empty() {
            return false;
        }
        self.seen_cas = Some(cas);
        match self.cache.on_fetch_ok(now, &bytes) {
            Ok(()) => self.rebuild(&bytes),
            Err(e) => {
                log(LogLevel::Warn, &format!("shared key set not loaded: {e}"));
                false
            }
        }
    }

    fn done_key(&self) -> String {
        format!("{}.done", self.shared_key)
    }

    /// Whether another worker reported a fetch outcome since the last tick. When it did and no new
    /// key set landed, this worker's cache (which may think a fetch is in flight) hears a failure.
    fn other_worker_finished(&mut self, now: UnixTime, landed: bool) -> bool {
        let Ok(Some((_, cas))) = host::get_shared(&self.done_key()) else {
            return false;
        };
        if self.seen_done == Some(cas) {
            return false;
        }
        let first = self.seen_done.is_none();
        self.seen_done = Some(cas);
        if first && self.waiting.is_empty() {
            return false;
        }
        if !landed && self.in_flight.is_none() && self.cache.is_fetching(now) {
            self.cache.on_fetch_error(
                now,
                "the fetch another worker made did not produce a key set",
            );
        }
        true
    }

    /// Tells every worker that a fetch finished (its outcome is in `.jwks` when it succeeded).
    fn signal_done(&mut self, now_ms: u64) {
        let _ = host::set_shared(&self.done_key(), &now_ms.to_le_bytes(), 0);
        if let Ok(Some((_, cas))) = host::get_shared(&self.done_key()) {
            self.seen_done = Some(cas);
        }
    }

    /// Every parked request, to be decided now (they fail closed when the clock is gone).
    pub fn release_all(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.waiting)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// The parked requests to decide after this worker's fetch failed: those waiting on an
    /// unknown kid (a key set exists); the others wait for the first key set until their deadline.
    fn release_after_failure(&mut self) -> Vec<u32> {
        if self.verifier.is_none() {
            return Vec::new();
        }
        std::mem::take(&mut self.waiting)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// Takes in the key set the cache just loaded from `body`; `true` when one landed. The
    /// verifier (and its signature cache) is kept when the body is the one it was built from.
    fn rebuild(&mut self, body: &[u8]) -> bool {
        if self.cache.generation() == self.generation {
            return false;
        }
        self.generation = self.cache.generation();
        let hash = crate::velocity::fnv1a(body);
        if self.verifier.is_some() && self.body_hash == Some(hash) {
            return true;
        }
        self.body_hash = Some(hash);
        for w in self.cache.warnings() {
            log(
                LogLevel::Warn,
                &format!("key set warning {}: {}", w.code(), w.message()),
            );
        }
        self.verifier = self.cache.verifier().map(|v| {
            Verifier::with_crypto(
                v.policy().clone(),
                FilterCrypto::new(self.crypto.0, self.crypto.1),
            )
        });
        true
    }

    fn lease_key(&self) -> String {
        format!("{}.lease", self.shared_key)
    }

    /// Takes the cross-worker lease for `until_ms`; `false` when another worker holds it.
    fn take_lease(&self, now_ms: u64, until_ms: u64) -> bool {
        let key = self.lease_key();
        let (current, cas) = match host::get_shared(&key) {
            Ok(Some((bytes, cas))) => (read_u64(&bytes), cas),
            Ok(None) => (0, 0),
            // No shared data on this host: every worker fetches for itself.
            Err(_) => return true,
        };
        if now_ms < current {
            return false;
        }
        match host::set_shared(&key, &until_ms.to_le_bytes(), cas) {
            Ok(()) => true,
            Err(host::Status::CasMismatch) => false,
            Err(_) => true,
        }
    }

    fn set_lease(&self, until_ms: u64) {
        let _ = host::set_shared(&self.lease_key(), &until_ms.to_le_bytes(), 0);
    }

    fn try_fetch(&mut self, now: UnixTime, now_ms: u64) {
        if !self.take_lease(
            now_ms,
            now_ms.saturating_add(u64::from(self.settings.timeout_ms)),
        ) {
            return;
        }
        self.cache.begin_fetch(now);
        let (url, what) = match (&self.jwks_uri, &self.settings.issuer) {
            (Some(uri), _) => (uri.clone(), Fetching::Jwks),
            (None, Some(iss)) => (
                tokenward_core::jwks::discovery_url(iss),
                Fetching::Discovery,
            ),
            (None, None) => return,
        };
        self.dispatch(now, now_ms, &url, what);
    }

    fn dispatch(&mut self, now: UnixTime, now_ms: u64, url: &str, what: Fetching) {
        let Some((authority, path)) = split_url(url) else {
            self.failed(now, now_ms, &format!("cannot split URL {url:?}"));
            return;
        };
        let headers = [
            (":method", "GET"),
            (":path", path),
            (":authority", authority),
            ("accept", "application/json"),
        ];
        match host::http_call(
            &self.settings.cluster,
            &headers,
            &[],
            self.settings.timeout_ms,
        ) {
            Ok(token) => self.in_flight = Some((token, what)),
            Err(s) => self.failed(
                now,
                now_ms,
                &format!(
                    "dispatch_http_call to cluster {:?} failed ({s:?})",
                    self.settings.cluster
                ),
            ),
        }
    }

    fn failed(&mut self, now: UnixTime, now_ms: u64, reason: &str) {
        stats::bump(stats::JWKS_FETCH_FAILED);
        log(LogLevel::Warn, &format!("key set fetch failed: {reason}"));
        self.cache.on_fetch_error(now, reason);
        self.in_flight = None;
        self.set_lease(now_ms.saturating_add(self.cooldown_ms()));
        self.signal_done(now_ms);
    }

    fn cooldown_ms(&self) -> u64 {
        u64::try_from(self.settings.cooldown)
            .unwrap_or(0)
            .saturating_mul(1000)
    }

    /// An HTTP callout answered; returns the parked requests to decide now.
    pub fn on_response(
        &mut self,
        token: u32,
        num_headers: usize,
        body_size: usize,
        now_ms: u64,
    ) -> Vec<u32> {
        let ready = self.handle_response(token, num_headers, body_size, now_ms);
        // A failed fetch releases the requests parked on an unknown kid.
        if ready.is_empty() && self.in_flight.is_none() && self.cache.last_error().is_some() {
            return self.release_after_failure();
        }
        ready
    }

    fn handle_response(
        &mut self,
        token: u32,
        num_headers: usize,
        body_size: usize,
        now_ms: u64,
    ) -> Vec<u32> {
        let now = UnixTime(i64::try_from(now_ms / 1000).unwrap_or(i64::MAX));
        let Some((expected, what)) = self.in_flight else {
            return Vec::new();
        };
        if expected != token {
            return Vec::new();
        }
        self.in_flight = None;
        if num_headers == 0 {
            self.failed(now, now_ms, "no response (timeout or connection failure)");
            return Vec::new();
        }
        let status = host::get_pairs(MapType::HttpCallResponseHeaders)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k.as_slice() == b":status")
                    .and_then(|(_, v)| std::str::from_utf8(&v).ok()?.parse::<u16>().ok())
            });
        if !matches!(status, Some(200..=299)) {
            self.failed(now, now_ms, &format!("HTTP status {status:?}"));
            return Vec::new();
        }
        let limit = self.cache.config().max_body_bytes;
        if body_size > limit {
            self.failed(
                now,
                now_ms,
                &format!("body is {body_size} bytes; the limit is {limit}"),
            );
            return Vec::new();
        }
        let body = match host::get_buffer(BufferType::HttpCallResponseBody, body_size) {
            Ok(b) => b.unwrap_or_default(),
            Err(s) => {
                self.failed(now, now_ms, &format!("cannot read the body ({s:?})"));
                return Vec::new();
            }
        };
        match what {
            Fetching::Discovery => {
                let Some(issuer) = self.settings.issuer.clone() else {
                    return Vec::new();
                };
                match Discovery::parse(&body, &issuer) {
                    Ok(d) => {
                        let uri = d.jwks_uri().to_owned();
                        self.jwks_uri = Some(uri.clone());
                        self.dispatch(now, now_ms, &uri, Fetching::Jwks);
                    }
                    Err(e) => self.failed(now, now_ms, &e.to_string()),
                }
                Vec::new()
            }
            Fetching::Jwks => match self.cache.on_fetch_ok(now, &body) {
                Ok(()) => {
                    stats::bump(stats::JWKS_FETCH_OK);
                    let _ = host::set_shared(&format!("{}.jwks", self.shared_key), &body, 0);
                    if let Ok(Some((_, cas))) =
                        host::get_shared(&format!("{}.jwks", self.shared_key))
                    {
                        self.seen_cas = Some(cas);
                    }
                    self.set_lease(now_ms.saturating_add(self.cooldown_ms()));
                    self.signal_done(now_ms);
                    if self.rebuild(&body) {
                        std::mem::take(&mut self.waiting)
                            .into_iter()
                            .map(|(id, _)| id)
                            .collect()
                    } else {
                        Vec::new()
                    }
                }
                Err(e) => {
                    // The cache kept the last good key set and recorded the failure.
                    stats::bump(stats::JWKS_FETCH_FAILED);
                    log(
                        LogLevel::Warn,
                        &format!("fetched key set not loaded (last good kept): {e}"),
                    );
                    self.set_lease(now_ms.saturating_add(self.cooldown_ms()));
                    self.signal_done(now_ms);
                    Vec::new()
                }
            },
        }
    }
}

fn read_u64(bytes: &[u8]) -> u64 {
    bytes
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_le_bytes)
}

/// `http(s)://authority/path` to `(authority, path)` (`/` when the URL has no path).
fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    match rest.find('/') {
        Some(i) => Some((rest.get(..i)?, rest.get(i..)?)),
        None => Some((rest, "/")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split() {
        assert_eq!(
            split_url("https://idp.example/jwks?x=1"),
            Some(("idp.example", "/jwks?x=1"))
        );
        assert_eq!(
            split_url("http://127.0.0.1:8080"),
            Some(("127.0.0.1:8080", "/"))
        );
        assert_eq!(split_url("ftp://x/y"), None);
    }

    #[test]
    fn lease_bytes() {
        assert_eq!(read_u64(&42u64.to_le_bytes()), 42);
        assert_eq!(read_u64(&[1, 2]), 0);
    }
}
