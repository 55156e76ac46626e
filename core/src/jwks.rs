//! A JWKS cache as a pure state machine, and OIDC discovery parsing.
//!
//! The core does no networking and reads no clock, so the cache never fetches anything itself: the
//! host asks it what to do ([`JwksCache::poll_fetch`], [`JwksCache::on_unknown_kid`]), performs the
//! HTTP request, and reports what happened ([`JwksCache::begin_fetch`], [`JwksCache::on_fetch_ok`],
//! [`JwksCache::on_fetch_error`]). Every method takes `now` as an argument; nothing is random and
//! nothing is global, so two caches fed the same calls reach the same state.
//!
//! Guarantees:
//!
//! - a failed fetch, or a body that is not a usable key set, never replaces the last good
//!   [`Verifier`]: hosts keep validating with the old keys and can watch [`JwksCache::staleness`];
//! - no poll asks for a fetch within [`JwksConfig::cooldown_seconds`] of the last attempt, so a flood
//!   of tokens with random `kid`s costs at most one fetch per cooldown;
//! - all time arithmetic saturates, and a clock that goes backwards never panics and never wedges the
//!   machine (see [`JwksCache`], "Clocks that go backwards").
//!
//! [`Discovery::parse`] reads an OIDC discovery document (`/.well-known/openid-configuration`) and
//! checks that it names the expected issuer (OpenID Connect Discovery 1.0 §4.3).

use std::fmt;

use serde_json::{Map, Value};

use crate::error::{Warning, quote};
use crate::json::{kind, parse_object};
use crate::{Env, Error, Policy, UnixTime, Verifier};

/// Default [`JwksConfig::max_age_seconds`]: 10 minutes.
pub const DEFAULT_MAX_AGE_SECONDS: u64 = 600;
/// Default [`JwksConfig::cooldown_seconds`].
pub const DEFAULT_COOLDOWN_SECONDS: u64 = 30;
/// Default [`JwksConfig::fetch_timeout_seconds`].
pub const DEFAULT_FETCH_TIMEOUT_SECONDS: u64 = 60;
/// Default [`JwksConfig::max_body_bytes`]: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;
/// Largest discovery document [`Discovery::parse`] reads, in bytes (1 MiB).
pub const MAX_DISCOVERY_BYTES: usize = 1 << 20;

/// Longest host-supplied fetch error reason kept by [`JwksCache::on_fetch_error`], in characters.
const MAX_REASON_CHARS: usize = 256;

/// The suffix OpenID Connect Discovery 1.0 §4 appends to an issuer.
const WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// Timing and size limits of a [`JwksCache`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JwksConfig {
    /// A key set older than this is refetched ([`FetchReason::Expired`]). Default 600.
    pub max_age_seconds: u64,
    /// No fetch is asked for within this many seconds of the last attempt (its start or its end,
    /// whichever is later), whatever the reason. Default 30.
    pub cooldown_seconds: u64,
    /// A fetch begun this long ago without an outcome is given up on, and polls may ask again.
    /// Default 60.
    pub fetch_timeout_seconds: u64,
    /// Largest JWKS body [`JwksCache::on_fetch_ok`] accepts, in bytes. Default 1 MiB.
    pub max_body_bytes: usize,
}

impl Default for JwksConfig {
    fn default() -> Self {
        Self {
            max_age_seconds: DEFAULT_MAX_AGE_SECONDS,
            cooldown_seconds: DEFAULT_COOLDOWN_SECONDS,
            fetch_timeout_seconds: DEFAULT_FETCH_TIMEOUT_SECONDS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Why [`JwksCache::poll_fetch`] asks for a fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchReason {
    /// No key set has been loaded and no fetch has been attempted yet.
    Initial,
    /// The current key set is at least `max_age_seconds` old (or its age is unknown because the
    /// clock went backwards).
    Expired,
    /// The last attempt failed and keys are still needed (none loaded yet, or they expired); asked
    /// for no sooner than `cooldown_seconds` after that attempt.
    Retry,
}

impl FetchReason {
    /// `initial`, `expired` or `retry`, for logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Expired => "expired",
            Self::Retry => "retry",
        }
    }
}

impl fmt::Display for FetchReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A JWKS cache driven by the host: events in, fetch requests out, a [`Verifier`] for the last good
/// key set.
///
/// Each fetched JWKS is inserted into the policy document template as `keys.jwks` (other members of
/// `keys`, such as `pem`, are kept; a `keys.jwks` already in the template is replaced; `keys` is
/// created when absent) and loaded with [`Policy::from_json`]. Only the JWKS `keys` array is
/// inserted: other top-level members of the fetched document are ignored (RFC 7517 §5 allows them).
///
/// # Driving it
///
/// 1. Call [`poll_fetch`](Self::poll_fetch) whenever convenient (a timer, or before each request).
///    When it returns a reason, call [`begin_fetch`](Self::begin_fetch) and start the request.
/// 2. Report the outcome with [`on_fetch_ok`](Self::on_fetch_ok) (the response body) or
///    [`on_fetch_error`](Self::on_fetch_error) (network error, non-2xx status, timeout).
/// 3. When a token fails with `key_not_found`, call [`on_unknown_kid`](Self::on_unknown_kid); when it
///    returns `true` the attempt is already recorded as begun: fetch now and report as in step 2.
///
/// Outcomes are applied in the order they are reported, including a late outcome of a fetch given
/// up on after `fetch_timeout_seconds`.
///
/// # Clocks that go backwards
///
/// When `now` is earlier than a recorded instant, the elapsed time is unknown and is treated as
/// "long enough": an in-flight fetch counts as timed out, the cooldown as over, and the key set as
/// expired ([`is_stale`](Self::is_stale) is `true`, [`staleness`](Self::staleness) reports 0). The
/// next attempt records the earlier `now`, so a backwards jump costs at most one extra fetch and
/// the machine then runs on from the new clock reading.
///
/// # Example
///
/// ```
/// use jsonwebtoken::{Algorithm, EncodingKey, Header};
/// use tokenward_core::jwks::{FetchReason, JwksCache, JwksConfig};
/// use tokenward_core::{Env, UnixTime};
///
/// let template = serde_json::json!({
///     "security": { "jwt_issuer": "https://idp.example.com", "jwt_audiences": ["api"] }
/// });
/// let mut cache = JwksCache::new(template, Env::new(), JwksConfig::default());
/// let t0 = UnixTime(1_767_225_600);
///
/// // Never fetched: the cache asks for the initial fetch, once.
/// assert_eq!(cache.poll_fetch(t0), Some(FetchReason::Initial));
/// cache.begin_fetch(t0);
/// assert_eq!(cache.poll_fetch(t0), None);
///
/// // The host fetched the JWKS; the cache loads it into a verifier.
/// let body = include_str!("../../vectors/keys/jwks.json");
/// cache.on_fetch_ok(UnixTime(t0.0 + 1), body.as_bytes())?;
/// assert_eq!(cache.staleness(UnixTime(t0.0 + 11)), Some(10));
///
/// // Validate a token signed by the key behind kid "rsa-1".
/// let mut header = Header::new(Algorithm::RS256);
/// header.kid = Some("rsa-1".into());
/// let claims = serde_json::json!({
///     "iss": "https://idp.example.com", "aud": "api", "sub": "alice",
///     "iat": t0.0, "exp": t0.0 + 300,
/// });
/// let pem = include_bytes!("../../vectors/keys/rsa-2048.private.pem");
/// let key = EncodingKey::from_rsa_pem(pem).unwrap();
/// let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
/// let verifier = cache.verifier().expect("keys are loaded");
/// assert!(verifier.validate(&token, UnixTime(t0.0 + 2)).is_ok());
///
/// // A token naming an unknown kid may trigger one refetch, but not a second within the cooldown.
/// assert!(cache.on_unknown_kid(UnixTime(t0.0 + 40), "rotated-key"));
/// cache.on_fetch_error(UnixTime(t0.0 + 41), "connection refused");
/// assert!(!cache.on_unknown_kid(UnixTime(t0.0 + 42), "another-key"));
/// assert!(cache.verifier().is_some(), "the last good keys are kept");
///
/// // Ten minutes after the good fetch, the key set has expired.
/// assert_eq!(cache.poll_fetch(UnixTime(t0.0 + 601)), Some(FetchReason::Retry));
/// # Ok::<(), tokenward_core::Error>(())
/// ```
#[derive(Clone)]
pub struct JwksCache {
    template: Value,
    env: Env,
    config: JwksConfig,
    verifier: Option<Verifier>,
    warnings: Vec<Warning>,
    /// When the current key set was loaded.
    fetched_at: Option<UnixTime>,
    /// The latest of: the last `begin_fetch`, the last outcome.
    last_attempt: Option<UnixTime>,
    /// Set by `begin_fetch`, cleared by an outcome.
    in_flight: Option<UnixTime>,
    /// Whether the last outcome was a failure.
    failed: bool,
    last_error: Option<Error>,
    generation: u64,
}

impl fmt::Debug for JwksCache {
    // The environment map and the template may hold secrets: they are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksCache")
            .field("config", &self.config)
            .field("verifier", &self.verifier)
            .field("fetched_at", &self.fetched_at)
            .field("last_attempt", &self.last_attempt)
            .field("in_flight", &self.in_flight)
            .field("failed", &self.failed)
            .field("last_error", &self.last_error)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// A cache with no key set yet.
    ///
    /// `policy_doc` is a policy document (the schema of [`Policy::from_json`]) without the fetched
    /// keys; `env` is the environment map it is loaded with. A template that is not a JSON object
    /// (or whose `keys` is not an object) makes every [`on_fetch_ok`](Self::on_fetch_ok) fail.
    pub fn new(policy_doc: Value, env: Env, config: JwksConfig) -> Self {
        Self {
            template: policy_doc,
            env,
            config,
            verifier: None,
            warnings: Vec::new(),
            fetched_at: None,
            last_attempt: None,
            in_flight: None,
            failed: false,
            last_error: None,
            generation: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &JwksConfig {
        &self.config
    }

    /// Whether the host should fetch the JWKS now, and why.
    ///
    /// `None` while a fetch is in flight (begun less than `fetch_timeout_seconds` ago), within
    /// `cooldown_seconds` of the last attempt, or while the key set is younger than
    /// `max_age_seconds` and the last attempt did not fail with keys still needed. The answer
    /// changes with `now` and after [`begin_fetch`](Self::begin_fetch) (to `None`),
    /// [`on_unknown_kid`](Self::on_unknown_kid) returning `true` (to `None`),
    /// [`on_fetch_ok`](Self::on_fetch_ok) (to `None` until expiry on success, [`FetchReason::Retry`]
    /// after the cooldown on failure) and [`on_fetch_error`](Self::on_fetch_error) (as a failure).
    /// Polling changes nothing: call it as often as you like.
    pub fn poll_fetch(&self, now: UnixTime) -> Option<FetchReason> {
        if !self.gate_open(now) {
            return None;
        }
        let need = match self.fetched_at {
            None => FetchReason::Initial,
            Some(at) if expired(elapsed(at, now), self.config.max_age_seconds) => {
                FetchReason::Expired
            }
            Some(_) => return None,
        };
        Some(if self.failed {
            FetchReason::Retry
        } else {
            need
        })
    }

    /// Records that the host started a fetch at `now`.
    ///
    /// Polls answer `None` until an outcome is reported or `fetch_timeout_seconds` pass. Calling it
    /// again (for a retry after a timeout) restarts the in-flight period.
    pub fn begin_fetch(&mut self, now: UnixTime) {
        self.in_flight = Some(now);
        self.last_attempt = Some(now);
    }

    /// Whether a fetch is in flight: begun less than `fetch_timeout_seconds` before `now` and
    /// without a reported outcome.
    pub fn is_fetching(&self, now: UnixTime) -> bool {
        self.in_flight
            .is_some_and(|since| !expired(elapsed(since, now), self.config.fetch_timeout_seconds))
    }

    /// Reports a fetched JWKS body and loads it.
    ///
    /// The body must be at most `max_body_bytes` long and a strict JSON object (no duplicate
    /// members, nesting at most [`crate::MAX_DEPTH`]) with a `keys` array; the policy template with
    /// those keys inserted must then load (at least one usable key; unusable ones are skipped with
    /// `key_skipped` warnings, see [`warnings`](Self::warnings)). On success the new [`Verifier`]
    /// replaces the old one and the key set's age restarts at `now`.
    ///
    /// # Errors
    ///
    /// `jwks_invalid` saying what was wrong (for a policy that does not load, the policy error's
    /// message, which never contains a secret). The last good verifier is kept, the error is kept as
    /// [`last_error`](Self::last_error), and polls retry after the cooldown while keys are needed.
    pub fn on_fetch_ok(&mut self, now: UnixTime, body: &[u8]) -> Result<(), Error> {
        self.in_flight = None;
        self.last_attempt = Some(now);
        match self.load(body) {
            Ok(policy) => {
                self.warnings = policy.warnings().to_vec();
                self.verifier = Some(Verifier::new(policy));
                self.fetched_at = Some(now);
                self.failed = false;
                self.last_error = None;
                self.generation = self.generation.saturating_add(1);
                Ok(())
            }
            Err(reason) => {
                let err = Error::JwksInvalid { reason };
                self.failed = true;
                self.last_error = Some(err.clone());
                Err(err)
            }
        }
    }

    /// Reports a fetch that produced no body to load: a network error, a non-2xx status, a timeout.
    ///
    /// `reason` is the host's description (kept, truncated to 256 characters, in
    /// [`last_error`](Self::last_error) as `jwks_invalid` "fetch failed: ..."); it must not contain
    /// secrets. The last good verifier is kept, and polls retry after the cooldown while keys are
    /// needed.
    pub fn on_fetch_error(&mut self, now: UnixTime, reason: &str) {
        self.in_flight = None;
        self.last_attempt = Some(now);
        self.failed = true;
        let mut kept: String = reason.chars().take(MAX_REASON_CHARS).collect();
        if kept.len() < reason.len() {
            kept.push_str("...");
        }
        self.last_error = Some(Error::JwksInvalid {
            reason: format!("fetch failed: {kept}"),
        });
    }

    /// Reports a token whose `kid` no current key has; `true` means "fetch the JWKS now".
    ///
    /// `false` when the current key set does have `kid` (the token failed for another reason), when
    /// a fetch is in flight, or within `cooldown_seconds` of the last attempt. `true` records the
    /// attempt as begun at `now` (as [`begin_fetch`](Self::begin_fetch) does), so further calls and
    /// polls answer `false`/`None` until the host reports the outcome with
    /// [`on_fetch_ok`](Self::on_fetch_ok) or [`on_fetch_error`](Self::on_fetch_error), or the fetch
    /// times out. The `kid` is not stored.
    pub fn on_unknown_kid(&mut self, now: UnixTime, kid: &str) -> bool {
        let known = self
            .verifier
            .as_ref()
            .is_some_and(|v| v.policy().keys().iter().any(|k| k.kid() == Some(kid)));
        if known || !self.gate_open(now) {
            return false;
        }
        self.begin_fetch(now);
        true
    }

    /// The verifier for the last good key set; `None` until a fetch succeeds.
    pub fn verifier(&self) -> Option<&Verifier> {
        self.verifier.as_ref()
    }

    /// The policy warnings (such as `key_skipped`) from the last successful load.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The error of the last attempt, if it failed; `None` after a success.
    pub fn last_error(&self) -> Option<&Error> {
        self.last_error.as_ref()
    }

    /// When the current key set was loaded; `None` until a fetch succeeds.
    pub fn fetched_at(&self) -> Option<UnixTime> {
        self.fetched_at
    }

    /// How many key sets have been loaded; it changes exactly when [`verifier`](Self::verifier) does.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Seconds since the last good fetch; `None` until one succeeds, 0 when `now` is earlier than it.
    pub fn staleness(&self, now: UnixTime) -> Option<u64> {
        self.fetched_at.map(|at| elapsed(at, now).unwrap_or(0))
    }

    /// Whether the key set is at least `max_age_seconds` old (also when none is loaded, and when the
    /// clock reads earlier than the last good fetch). It answers what `poll_fetch` would, ignoring
    /// the cooldown and fetches in flight: the keys are due for a refresh.
    pub fn is_stale(&self, now: UnixTime) -> bool {
        self.fetched_at
            .is_none_or(|at| expired(elapsed(at, now), self.config.max_age_seconds))
    }

    /// No fetch in flight and the cooldown since the last attempt is over.
    fn gate_open(&self, now: UnixTime) -> bool {
        let cooled = self
            .last_attempt
            .is_none_or(|at| expired(elapsed(at, now), self.config.cooldown_seconds));
        cooled && !self.is_fetching(now)
    }

    /// Checks a JWKS body and loads the template with its keys.
    fn load(&self, body: &[u8]) -> Result<Policy, String> {
        let limit = self.config.max_body_bytes;
        if body.len() > limit {
            return Err(format!(
                "body is {} bytes; the limit is {limit}",
                body.len()
            ));
        }
        let mut jwks = parse_object(body).map_err(|e| format!("body is not valid: {e}"))?;
        let keys = match jwks.remove("keys") {
            Some(Value::Array(keys)) => keys,
            Some(other) => {
                return Err(format!("\"keys\" must be an array, found {}", kind(&other)));
            }
            None => return Err("document has no \"keys\" member".to_owned()),
        };
        let mut doc = self.template.clone();
        let Value::Object(root) = &mut doc else {
            return Err(format!(
                "the policy template must be a JSON object, found {}",
                kind(&self.template)
            ));
        };
        let slot = root
            .entry("keys")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(keys_doc) = slot else {
            return Err(format!(
                "the policy template's keys must be an object, found {}",
                kind(slot)
            ));
        };
        let mut set = Map::new();
        set.insert("keys".to_owned(), Value::Array(keys));
        keys_doc.insert("jwks".to_owned(), Value::Object(set));
        Policy::from_json(&doc, &self.env)
            .map_err(|e| format!("the policy does not load with this key set: {e}"))
    }
}

/// Seconds from `since` to `now`; `None` when `now` is earlier (the clock went backwards).
fn elapsed(since: UnixTime, now: UnixTime) -> Option<u64> {
    let diff = i128::from(now.0) - i128::from(since.0);
    if diff < 0 {
        return None;
    }
    Some(u64::try_from(diff).unwrap_or(u64::MAX))
}

/// Whether `limit` seconds have passed; an unknown elapsed time (backwards clock) counts as passed.
fn expired(elapsed: Option<u64>, limit: u64) -> bool {
    elapsed.is_none_or(|e| e >= limit)
}

/// The discovery document URL for an issuer: `/.well-known/openid-configuration` appended after
/// removing one terminating `/` (OpenID Connect Discovery 1.0 §4.1).
///
/// ```
/// use tokenward_core::jwks::discovery_url;
/// assert_eq!(
///     discovery_url("https://idp.example.com/tenant/"),
///     "https://idp.example.com/tenant/.well-known/openid-configuration"
/// );
/// ```
pub fn discovery_url(issuer: &str) -> String {
    let base = issuer.strip_suffix('/').unwrap_or(issuer);
    format!("{base}{WELL_KNOWN}")
}

/// The parts of an OIDC discovery document the cache needs: the issuer and the JWKS URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl Discovery {
    /// Parses a discovery document and checks it names `expected_issuer`.
    ///
    /// The body must be at most [`MAX_DISCOVERY_BYTES`] long and a strict JSON object. Its `issuer`
    /// must be a string exactly equal to `expected_issuer` (OpenID Connect Discovery 1.0 §4.3: no
    /// normalisation, a trailing `/` matters). Its `jwks_uri` must be a string starting with
    /// `https://` followed by a host; for local tests, `http://127.0.0.1`, `http://localhost` and
    /// `http://[::1]` (followed by `:`, `/` or the end) are accepted too. Schemes compare
    /// case-insensitively; whitespace and control characters are refused. Other members are ignored.
    ///
    /// ```
    /// use tokenward_core::jwks::Discovery;
    /// let body = br#"{"issuer":"https://idp.example.com","jwks_uri":"https://idp.example.com/jwks"}"#;
    /// let d = Discovery::parse(body, "https://idp.example.com")?;
    /// assert_eq!(d.jwks_uri(), "https://idp.example.com/jwks");
    /// let err = Discovery::parse(body, "https://other.example.com").unwrap_err();
    /// assert_eq!(err.code(), "discovery_invalid");
    /// # Ok::<(), tokenward_core::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// `discovery_invalid` saying what was wrong; an issuer mismatch quotes both values.
    pub fn parse(body: &[u8], expected_issuer: &str) -> Result<Self, Error> {
        let fail = |reason: String| Error::DiscoveryInvalid { reason };
        if body.len() > MAX_DISCOVERY_BYTES {
            return Err(fail(format!(
                "body is {} bytes; the limit is {MAX_DISCOVERY_BYTES}",
                body.len()
            )));
        }
        let doc = parse_object(body).map_err(|e| fail(format!("body is not valid: {e}")))?;
        let issuer = string_member(&doc, "issuer").map_err(fail)?;
        if issuer != expected_issuer {
            return Err(fail(format!(
                "issuer {} does not match the expected issuer {}",
                quote(issuer),
                quote(expected_issuer)
            )));
        }
        let jwks_uri = string_member(&doc, "jwks_uri").map_err(fail)?;
        if !acceptable_uri(jwks_uri) {
            return Err(fail(format!(
                "jwks_uri {} must be an https:// URL (http:// only for 127.0.0.1, localhost or [::1])",
                quote(jwks_uri)
            )));
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            jwks_uri: jwks_uri.to_owned(),
        })
    }

    /// The document's `issuer` (equal to the expected issuer).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The document's `jwks_uri`.
    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }
}

/// A required, non-empty string member of a discovery document.
fn string_member<'a>(doc: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match doc.get(name) {
        Some(Value::String(s)) if s.is_empty() => Err(format!("{name} must not be empty")),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("{name} must be a string, found {}", kind(other))),
        None => Err(format!("document has no {name} member")),
    }
}

/// `https://<host>...`, or `http://` to a loopback host, with no whitespace or control characters.
fn acceptable_uri(uri: &str) -> bool {
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    if let Some(rest) = strip_prefix_ignore_case(uri, "https://") {
        return !rest.is_empty() && !rest.starts_with(['/', '?', '#']);
    }
    let Some(rest) = strip_prefix_ignore_case(uri, "http://") else {
        return false;
    };
    ["127.0.0.1", "localhost", "[::1]"].iter().any(|host| {
        strip_prefix_ignore_case(rest, host)
            .is_some_and(|tail| tail.is_empty() || tail.starts_with([':', '/']))
    })
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const JWKS: &str = include_str!("../../vectors/keys/jwks.json");
    const RSA_1: &[u8] = include_bytes!("../../vectors/keys/rsa-2048.private.pem");
    const ISS: &str = "https://idp.example.com";
    const T0: i64 = 1_767_225_600;

    fn t(offset: i64) -> UnixTime {
        UnixTime(T0 + offset)
    }

    fn template() -> Value {
        json!({"security": {"jwt_issuer": ISS, "jwt_audiences": ["api"]}})
    }

    fn cache() -> JwksCache {
        JwksCache::new(template(), Env::new(), JwksConfig::default())
    }

    /// A JWKS with only the keys whose kid is in `kids`.
    fn jwks_with(kids: &[&str]) -> String {
        let mut doc: Value = serde_json::from_str(JWKS).unwrap();
        let keys = doc["keys"].as_array_mut().unwrap();
        keys.retain(|k| kids.contains(&k["kid"].as_str().unwrap()));
        doc.to_string()
    }

    fn token(kid: &str, iat: i64) -> String {
        let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(kid.into());
        let claims =
            json!({"iss": ISS, "aud": "api", "sub": "alice", "iat": iat, "exp": iat + 300});
        let key = EncodingKey::from_rsa_pem(RSA_1).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    fn loaded(at: i64) -> JwksCache {
        let mut c = cache();
        c.begin_fetch(t(at));
        c.on_fetch_ok(t(at), JWKS.as_bytes()).unwrap();
        c
    }

    fn kids(c: &JwksCache) -> Vec<String> {
        let keys = c.verifier().unwrap().policy().keys();
        keys.iter().map(|k| k.kid().unwrap().to_owned()).collect()
    }

    #[test]
    fn defaults() {
        let c = JwksConfig::default();
        assert_eq!(c.max_age_seconds, 600);
        assert_eq!(c.cooldown_seconds, 30);
        assert_eq!(c.fetch_timeout_seconds, 60);
        assert_eq!(c.max_body_bytes, 1 << 20);
    }

    #[test]
    fn initial_fetch_loads_keys_and_validates_tokens() {
        let mut c = cache();
        assert!(c.verifier().is_none());
        assert!(c.is_stale(t(0)));
        assert_eq!(c.staleness(t(0)), None);
        assert_eq!(c.poll_fetch(t(0)), Some(FetchReason::Initial));
        assert_eq!(
            c.poll_fetch(t(0)),
            Some(FetchReason::Initial),
            "polling is pure"
        );
        c.begin_fetch(t(0));
        assert!(c.is_fetching(t(1)));
        assert_eq!(c.poll_fetch(t(1)), None);
        c.on_fetch_ok(t(2), JWKS.as_bytes()).unwrap();
        assert!(!c.is_fetching(t(2)));
        assert_eq!(c.generation(), 1);
        assert_eq!(c.fetched_at(), Some(t(2)));
        assert_eq!(kids(&c), ["rsa-1", "rsa-2", "ec-256", "ec-384", "ed-1"]);
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        assert!(c.last_error().is_none());
        assert_eq!(c.poll_fetch(t(3)), None);
        let claims = c.verifier().unwrap().validate(&token("rsa-1", T0), t(5));
        assert!(claims.is_ok(), "{claims:?}");
    }

    #[test]
    fn expiry_refetch_at_max_age() {
        let mut c = loaded(0);
        assert_eq!(c.poll_fetch(t(599)), None);
        assert!(!c.is_stale(t(599)));
        assert_eq!(c.poll_fetch(t(600)), Some(FetchReason::Expired));
        assert!(c.is_stale(t(600)));
        c.begin_fetch(t(600));
        assert_eq!(c.poll_fetch(t(601)), None);
        c.on_fetch_ok(t(601), jwks_with(&["rsa-2"]).as_bytes())
            .unwrap();
        assert_eq!(kids(&c), ["rsa-2"]);
        assert_eq!(c.generation(), 2);
        assert_eq!(c.poll_fetch(t(1200)), None);
        assert_eq!(c.poll_fetch(t(1201)), Some(FetchReason::Expired));
    }

    #[test]
    fn unknown_kid_refetch_then_rate_limited() {
        let mut c = loaded(0);
        // Within the cooldown of the initial fetch: refused.
        assert!(!c.on_unknown_kid(t(29), "new"));
        // A kid the key set has is not "unknown".
        assert!(!c.on_unknown_kid(t(100), "rsa-1"));
        assert!(c.on_unknown_kid(t(100), "new"));
        // The attempt counts as begun: no second fetch while in flight.
        assert!(c.is_fetching(t(100)));
        assert!(!c.on_unknown_kid(t(100), "other"));
        assert_eq!(c.poll_fetch(t(100)), None);
        c.on_fetch_ok(t(101), jwks_with(&["rsa-1"]).as_bytes())
            .unwrap();
        // A flood of random kids within the cooldown: all refused.
        for i in 0..1000 {
            assert!(!c.on_unknown_kid(t(101 + i % 30), &format!("kid-{i}")));
        }
        assert!(c.on_unknown_kid(t(131), "kid-x"));
    }

    #[test]
    fn unknown_kid_before_any_keys() {
        let mut c = cache();
        assert!(c.on_unknown_kid(t(0), "a"));
        assert!(!c.on_unknown_kid(t(1), "a"));
        assert_eq!(c.poll_fetch(t(1)), None);
    }

    #[test]
    fn garbage_body_keeps_last_good_keys() {
        let mut c = loaded(0);
        let tiny = JwksConfig {
            max_body_bytes: 64,
            ..JwksConfig::default()
        };
        let garbage: [(&[u8], &str); 7] = [
            (b"not json", "not valid"),
            (b"[1]", "expected a JSON object"),
            (br#"{"keys":[],"keys":[]}"#, "duplicate member"),
            (br#"{"nokeys":1}"#, "no \"keys\" member"),
            (br#"{"keys":{}}"#, "must be an array, found an object"),
            (br#"{"keys":[]}"#, "holds no key"),
            (
                br#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#,
                "no usable key",
            ),
        ];
        for (i, (body, needle)) in garbage.iter().enumerate() {
            let now = t(700 + i64::try_from(i).unwrap() * 100);
            assert!(c.poll_fetch(now).is_some());
            c.begin_fetch(now);
            let err = c.on_fetch_ok(now, body).unwrap_err();
            assert_eq!(err.code(), "jwks_invalid");
            assert!(err.to_string().contains(needle), "{err}");
            assert_eq!(c.last_error(), Some(&err));
            assert_eq!(kids(&c).len(), 5, "last good keys kept");
            assert_eq!(c.fetched_at(), Some(t(0)));
            assert_eq!(c.generation(), 1);
            // Retry only after the cooldown.
            assert_eq!(c.poll_fetch(UnixTime(now.0 + 29)), None);
            assert_eq!(c.poll_fetch(UnixTime(now.0 + 30)), Some(FetchReason::Retry));
        }
        let mut small = JwksCache::new(template(), Env::new(), tiny);
        let err = small.on_fetch_ok(t(0), JWKS.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("the limit is 64"), "{err}");
        assert!(small.verifier().is_none());
        assert_eq!(small.poll_fetch(t(29)), None);
        assert_eq!(small.poll_fetch(t(30)), Some(FetchReason::Retry));
        // A good fetch clears the error.
        c.on_fetch_ok(t(5000), JWKS.as_bytes()).unwrap();
        assert!(c.last_error().is_none());
        assert_eq!(c.poll_fetch(t(5000)), None);
    }

    #[test]
    fn fetch_error_keeps_last_good_keys() {
        let mut c = loaded(0);
        assert_eq!(c.poll_fetch(t(600)), Some(FetchReason::Expired));
        c.begin_fetch(t(600));
        c.on_fetch_error(t(605), "HTTP 503");
        let err = c.last_error().unwrap();
        assert_eq!(err.code(), "jwks_invalid");
        assert!(err.to_string().contains("fetch failed: HTTP 503"), "{err}");
        assert!(c.verifier().is_some());
        let ok = c
            .verifier()
            .unwrap()
            .validate(&token("rsa-1", T0 + 600), t(610));
        assert!(ok.is_ok(), "{ok:?}");
        // The cooldown runs from the outcome (t+605), not the start.
        assert_eq!(c.poll_fetch(t(634)), None);
        assert_eq!(c.poll_fetch(t(635)), Some(FetchReason::Retry));
        let long = "x".repeat(10_000);
        c.on_fetch_error(t(640), &long);
        assert!(c.last_error().unwrap().to_string().len() < 400);
    }

    #[test]
    fn initial_fetch_error_retries_after_cooldown() {
        let mut c = cache();
        c.begin_fetch(t(0));
        c.on_fetch_error(t(1), "connection refused");
        assert!(c.verifier().is_none());
        assert_eq!(c.poll_fetch(t(30)), None);
        assert_eq!(c.poll_fetch(t(31)), Some(FetchReason::Retry));
    }

    #[test]
    fn staleness_numbers() {
        let c = loaded(0);
        assert_eq!(c.staleness(t(0)), Some(0));
        assert_eq!(c.staleness(t(42)), Some(42));
        assert_eq!(c.staleness(t(600)), Some(600));
        assert!(!c.is_stale(t(599)));
        assert!(c.is_stale(t(600)));
        let far = JwksCache {
            fetched_at: Some(UnixTime(i64::MIN)),
            ..c.clone()
        };
        assert_eq!(far.staleness(UnixTime(i64::MAX)), Some(u64::MAX));
    }

    #[test]
    fn stuck_fetch_times_out() {
        let mut c = loaded(0);
        c.begin_fetch(t(600));
        assert_eq!(c.poll_fetch(t(659)), None);
        assert!(!c.on_unknown_kid(t(659), "x"));
        assert_eq!(c.poll_fetch(t(660)), Some(FetchReason::Expired));
        // A late outcome is still applied.
        c.on_fetch_ok(t(700), JWKS.as_bytes()).unwrap();
        assert_eq!(c.fetched_at(), Some(t(700)));
    }

    #[test]
    fn time_going_backwards() {
        let mut c = loaded(1000);
        // Keys' age unknown: stale, one refetch asked for, staleness 0.
        assert_eq!(c.staleness(t(0)), Some(0));
        assert!(c.is_stale(t(0)));
        assert_eq!(c.poll_fetch(t(0)), Some(FetchReason::Expired));
        assert!(c.on_unknown_kid(t(0), "x"));
        // The attempt re-anchored the clock: no second fetch.
        assert!(!c.on_unknown_kid(t(0), "y"));
        assert_eq!(c.poll_fetch(t(1)), None);
        c.on_fetch_ok(t(1), JWKS.as_bytes()).unwrap();
        assert_eq!(c.poll_fetch(t(2)), None);
        assert_eq!(c.staleness(t(11)), Some(10));
        assert_eq!(c.poll_fetch(t(601)), Some(FetchReason::Expired));

        // In-flight from the future does not wedge the machine.
        let mut c = cache();
        c.begin_fetch(t(10_000));
        assert!(!c.is_fetching(t(0)));
        assert_eq!(c.poll_fetch(t(0)), Some(FetchReason::Initial));

        // Extreme values never overflow.
        let mut c = cache();
        c.begin_fetch(UnixTime(i64::MAX));
        assert_eq!(c.poll_fetch(UnixTime(i64::MIN)), Some(FetchReason::Initial));
        c.on_fetch_ok(UnixTime(i64::MIN), JWKS.as_bytes()).unwrap();
        assert_eq!(c.poll_fetch(UnixTime(i64::MAX)), Some(FetchReason::Expired));
        assert_eq!(c.staleness(UnixTime(i64::MAX)), Some(u64::MAX));
        let max = JwksConfig {
            max_age_seconds: u64::MAX,
            cooldown_seconds: u64::MAX,
            fetch_timeout_seconds: u64::MAX,
            max_body_bytes: usize::MAX,
        };
        let mut c = JwksCache::new(template(), Env::new(), max);
        c.on_fetch_ok(t(0), JWKS.as_bytes()).unwrap();
        assert_eq!(c.poll_fetch(UnixTime(i64::MAX)), None);
        assert!(!c.on_unknown_kid(UnixTime(i64::MAX), "x"));
    }

    #[test]
    fn template_keys_are_merged() {
        let pem = include_str!("../../vectors/keys/rsa-2048-b.public.pem");
        let doc = json!({
            "security": {"jwt_issuer": ISS, "jwt_audiences": ["api"]},
            "keys": {"pem": [{"kid": "local", "alg": "RS256", "key": pem}],
                     "jwks": {"keys": []}},
        });
        let mut c = JwksCache::new(doc, Env::new(), JwksConfig::default());
        c.on_fetch_ok(t(0), jwks_with(&["ec-256"]).as_bytes())
            .unwrap();
        assert_eq!(kids(&c), ["ec-256", "local"]);
        // Extra JWKS members are ignored; skipped keys surface as warnings.
        let body = json!({"keys": [{"kid": "enc", "kty": "RSA", "use": "enc"},
                                    serde_json::from_str::<Value>(&jwks_with(&["rsa-1"])).unwrap()["keys"][0]],
                          "extra": true});
        c.on_fetch_ok(t(1), body.to_string().as_bytes()).unwrap();
        assert_eq!(kids(&c), ["rsa-1", "local"]);
        assert_eq!(c.warnings().len(), 1);
        assert_eq!(c.warnings()[0].code(), "key_skipped");
    }

    #[test]
    fn bad_templates_and_policy_errors() {
        let mut c = JwksCache::new(json!([1]), Env::new(), JwksConfig::default());
        let err = c.on_fetch_ok(t(0), JWKS.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("template must be a JSON object"),
            "{err}"
        );
        let mut c = JwksCache::new(json!({"keys": 1}), Env::new(), JwksConfig::default());
        let err = c.on_fetch_ok(t(0), JWKS.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("keys must be an object"), "{err}");
        // A policy error is reported inside jwks_invalid, without the secret.
        let mut env = Env::new();
        env.insert("S".into(), "hunter2".into());
        let doc = json!({"security": {"jwt_issuer": ISS, "jwt_audiences": ["api"]},
                         "keys": {"secret_env": "S"}});
        let mut c = JwksCache::new(doc, env, JwksConfig::default());
        let err = c.on_fetch_ok(t(0), JWKS.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "jwks_invalid");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(!format!("{c:?}").contains("hunter2"));
        // Missing issuer in the template.
        let mut c = JwksCache::new(json!({}), Env::new(), JwksConfig::default());
        let err = c.on_fetch_ok(t(0), JWKS.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("jwt_issuer"), "{err}");
    }

    fn discovery(issuer: &Value, jwks_uri: &Value) -> Vec<u8> {
        json!({"issuer": issuer, "jwks_uri": jwks_uri, "response_types_supported": ["code"]})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn discovery_parses() {
        let body = discovery(&json!(ISS), &json!("https://idp.example.com/jwks"));
        let d = Discovery::parse(&body, ISS).unwrap();
        assert_eq!(d.issuer(), ISS);
        assert_eq!(d.jwks_uri(), "https://idp.example.com/jwks");
        for uri in [
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://localhost",
            "http://[::1]:9/k",
            "HTTPS://idp.example.com/k",
        ] {
            let body = discovery(&json!(ISS), &json!(uri));
            assert!(Discovery::parse(&body, ISS).is_ok(), "{uri}");
        }
        assert_eq!(
            discovery_url("https://idp.example.com"),
            "https://idp.example.com/.well-known/openid-configuration"
        );
    }

    #[test]
    fn discovery_issuer_mismatch() {
        let body = discovery(&json!("https://evil.example.com"), &json!("https://e/jwks"));
        let err = Discovery::parse(&body, ISS).unwrap_err();
        assert_eq!(err.code(), "discovery_invalid");
        assert_eq!(
            err.to_string(),
            "OIDC discovery document rejected: issuer \"https://evil.example.com\" does not \
             match the expected issuer \"https://idp.example.com\""
        );
        // Exact comparison: a trailing slash is a different issuer.
        let body = discovery(&json!(format!("{ISS}/")), &json!("https://e/jwks"));
        assert!(Discovery::parse(&body, ISS).is_err());
    }

    #[test]
    fn discovery_rejects_bad_documents() {
        let cases: [(Vec<u8>, &str); 10] = [
            (b"nope".to_vec(), "not valid"),
            (br#"{"issuer":"a","issuer":"a"}"#.to_vec(), "duplicate"),
            (br#"{"jwks_uri":"https://e"}"#.to_vec(), "no issuer member"),
            (
                discovery(&json!(1), &json!("https://e")),
                "issuer must be a string",
            ),
            (
                discovery(&json!(ISS), &Value::Null),
                "jwks_uri must be a string",
            ),
            (
                discovery(&json!(ISS), &json!("http://idp.example.com/k")),
                "https://",
            ),
            (
                discovery(&json!(ISS), &json!("http://localhost.evil.com/k")),
                "https://",
            ),
            (discovery(&json!(ISS), &json!("https://")), "https://"),
            (discovery(&json!(ISS), &json!("https://e/a b")), "https://"),
            (vec![b' '; MAX_DISCOVERY_BYTES + 1], "the limit is"),
        ];
        for (body, needle) in cases {
            let err = Discovery::parse(&body, ISS).unwrap_err();
            assert_eq!(err.code(), "discovery_invalid");
            assert!(err.to_string().contains(needle), "{err} / {needle}");
        }
        let body = br#"{"issuer":"","jwks_uri":"https://e"}"#;
        assert!(
            Discovery::parse(body, "")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }
}
