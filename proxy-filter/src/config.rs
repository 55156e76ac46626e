//! The plugin `configuration`: the core's policy document plus a `filter` section.
//!
//! JSON or YAML. The `filter` section is removed before the rest goes to
//! [`tokenward_core::Policy::from_json`] (the policy schema refuses unknown top-level fields).
//! `filter.claim_to_headers` and `filter.payload_header` are moved into the policy document (the
//! core renders and validates them); giving one in both places is an error.

use serde::Deserialize;
use serde_json::Value;
use tokenward_core::{Env, Policy};

/// Default `filter.cache_size`: verified signatures kept per worker.
pub const DEFAULT_CACHE_SIZE: usize = 1024;
/// Largest `filter.cache_size`.
pub const MAX_CACHE_SIZE: usize = 1_000_000;
/// Default `filter.max_age_seconds` for a remote key set.
pub const DEFAULT_MAX_AGE: i64 = 300;
/// Default `filter.cooldown_seconds` between unknown-`kid` refetches.
pub const DEFAULT_COOLDOWN: i64 = 30;
/// Default `filter.timeout_ms` of a key-set fetch.
pub const DEFAULT_TIMEOUT_MS: u32 = 5000;
/// Default `filter.wait_for_keys_ms`: how long a request waits for the first key set.
pub const DEFAULT_WAIT_MS: u32 = 10_000;

/// Default `filter.velocity_window_seconds`: the window scanner velocity counts requests in.
pub const DEFAULT_VELOCITY_WINDOW: u32 = 60;

/// The audit log level (`filter.audit_log`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditLevel {
    /// No audit lines.
    Off,
    /// `debug`.
    Debug,
    /// `info` (the default).
    Info,
    /// `warn`.
    Warn,
}

/// Where signature math runs (`filter.crypto`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CryptoMode {
    /// Envoy's `verify_signature` (BoringSSL) for RS256/384/512 and ES256/384 when the host has
    /// it; the in-wasm provider for everything else (the default).
    Auto,
    /// Always the in-wasm provider.
    Wasm,
}

/// Remote key source settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remote {
    /// The Envoy cluster that reaches the JWKS (and discovery) server.
    pub cluster: String,
    /// `jwks_uri`, when given directly.
    pub jwks_uri: Option<String>,
    /// The OIDC issuer whose discovery document names the `jwks_uri`.
    pub issuer: Option<String>,
    /// Largest age of a key set before it is refetched, seconds.
    pub max_age: i64,
    /// Least time between two unknown-`kid` refetches, seconds.
    pub cooldown: i64,
    /// Fetch timeout, milliseconds.
    pub timeout_ms: u32,
    /// How long a request waits for the first key set, milliseconds.
    pub wait_ms: u32,
}

/// The filter's own settings (`filter` section), defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterSettings {
    /// Keep the `Authorization` (and MCP proxy) header on allowed requests. Default `false`
    /// (stripped, as Envoy's `jwt_authn` does without `forward: true`).
    pub forward_authorization: bool,
    /// Verified-signature cache entries per worker; 0 disables it. Default 1024.
    pub cache_size: usize,
    /// Audit log level. Default `info`.
    pub audit_log: AuditLevel,
    /// Signature math placement. Default `auto`.
    pub crypto: CryptoMode,
    /// Conformance testing only: use this `now` instead of Envoy's clock.
    pub fixed_now: Option<i64>,
    /// Remote keys, when configured.
    pub remote: Option<Remote>,
    /// The window of `scanner.max_requests_per_window`, seconds. Default 60.
    pub velocity_window_seconds: u32,
}

impl Default for FilterSettings {
    fn default() -> Self {
        Self {
            forward_authorization: false,
            cache_size: DEFAULT_CACHE_SIZE,
            audit_log: AuditLevel::Info,
            crypto: CryptoMode::Auto,
            fixed_now: None,
            remote: None,
            velocity_window_seconds: DEFAULT_VELOCITY_WINDOW,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FilterDoc {
    forward_authorization: Option<bool>,
    cache_size: Option<usize>,
    audit_log: Option<AuditLevel>,
    crypto: Option<CryptoMode>,
    fixed_now: Option<i64>,
    claim_to_headers: Option<Value>,
    payload_header: Option<Value>,
    cluster: Option<String>,
    jwks_uri: Option<String>,
    issuer: Option<String>,
    max_age_seconds: Option<i64>,
    cooldown_seconds: Option<i64>,
    timeout_ms: Option<u32>,
    wait_for_keys_ms: Option<u32>,
    velocity_window_seconds: Option<u32>,
}

/// A configuration that did not load: the field and the reason, for one log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The catalog code: `policy_invalid`, or `secret_refused` for a weak HMAC secret.
    pub code: &'static str,
    /// The offending field (`filter.cache_size`, `security.jwt_issuer`, `configuration`).
    pub field: String,
    /// What was wrong.
    pub reason: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.code, self.field, self.reason)
    }
}

fn err(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        code: "policy_invalid",
        field: field.into(),
        reason: reason.into(),
    }
}

/// The policy document (without `filter`) and the filter settings, before the policy is built.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The core's policy document.
    pub policy_doc: Value,
    /// The filter's settings.
    pub settings: FilterSettings,
}

/// Splits and checks a plugin configuration.
pub fn parse(bytes: &[u8]) -> Result<Parsed, ConfigError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| err("configuration", format!("is not UTF-8: {e}")))?;
    let mut doc: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text)
            .map_err(|e| err("configuration", format!("is not valid JSON: {e}")))?
    } else if text.trim().is_empty() {
        return Err(err(
            "configuration",
            "is empty; it must hold a policy document",
        ));
    } else {
        serde_yaml_ng::from_str(text)
            .map_err(|e| err("configuration", format!("is not valid YAML: {e}")))?
    };
    let Some(map) = doc.as_object_mut() else {
        return Err(err("configuration", "must be a JSON or YAML object"));
    };
    let filter_value = map.remove("filter").unwrap_or(Value::Null);
    let filter: FilterDoc = match filter_value {
        Value::Null => FilterDoc::default(),
        other => serde_path_to_error::deserialize(other).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." || path.is_empty() {
                "filter".to_owned()
            } else {
                format!("filter.{path}")
            };
            err(field, e.into_inner().to_string())
        })?,
    };
    for (name, value) in [
        ("claim_to_headers", filter.claim_to_headers.clone()),
        ("payload_header", filter.payload_header.clone()),
    ] {
        if let Some(value) = value {
            if map.contains_key(name) {
                return Err(err(
                    format!("filter.{name}"),
                    format!("is also given at the top level; set {name} in one place"),
                ));
            }
            map.insert(name.to_owned(), value);
        }
    }
    let settings = settings(filter)?;
    Ok(Parsed {
        policy_doc: doc,
        settings,
    })
}

fn settings(doc: FilterDoc) -> Result<FilterSettings, ConfigError> {
    let defaults = FilterSettings::default();
    let cache_size = doc.cache_size.unwrap_or(defaults.cache_size);
    if cache_size > MAX_CACHE_SIZE {
        return Err(err(
            "filter.cache_size",
            format!("must be at most {MAX_CACHE_SIZE}, got {cache_size}"),
        ));
    }
    if let Some(now) = doc.fixed_now
        && now < 0
    {
        return Err(err("filter.fixed_now", format!("must be >= 0, got {now}")));
    }
    let velocity_window_seconds = doc
        .velocity_window_seconds
        .unwrap_or(defaults.velocity_window_seconds);
    if !(1..=86_400).contains(&velocity_window_seconds) {
        return Err(err(
            "filter.velocity_window_seconds",
            format!("must be between 1 and 86400, got {velocity_window_seconds}"),
        ));
    }
    let remote = remote(&doc)?;
    Ok(FilterSettings {
        velocity_window_seconds,
        forward_authorization: doc
            .forward_authorization
            .unwrap_or(defaults.forward_authorization),
        cache_size,
        audit_log: doc.audit_log.unwrap_or(defaults.audit_log),
        crypto: doc.crypto.unwrap_or(defaults.crypto),
        fixed_now: doc.fixed_now,
        remote,
    })
}

fn remote(doc: &FilterDoc) -> Result<Option<Remote>, ConfigError> {
    let any_remote = doc.jwks_uri.is_some()
        || doc.issuer.is_some()
        || doc.max_age_seconds.is_some()
        || doc.cooldown_seconds.is_some()
        || doc.timeout_ms.is_some()
        || doc.wait_for_keys_ms.is_some();
    let Some(cluster) = doc.cluster.clone() else {
        if any_remote {
            return Err(err(
                "filter.cluster",
                "is required with jwks_uri or issuer (the Envoy cluster that reaches it)",
            ));
        }
        return Ok(None);
    };
    if cluster.is_empty() {
        return Err(err("filter.cluster", "must not be empty"));
    }
    match (&doc.jwks_uri, &doc.issuer) {
        (None, None) => {
            return Err(err(
                "filter.jwks_uri",
                "or filter.issuer is required with filter.cluster",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(err(
                "filter.issuer",
                "and filter.jwks_uri are exclusive: give one",
            ));
        }
        (Some(uri), None) => check_url("filter.jwks_uri", uri)?,
        (None, Some(iss)) => check_url("filter.issuer", iss)?,
    }
    let max_age = doc.max_age_seconds.unwrap_or(DEFAULT_MAX_AGE);
    if !(1..=86_400).contains(&max_age) {
        return Err(err(
            "filter.max_age_seconds",
            format!("must be between 1 and 86400, got {max_age}"),
        ));
    }
    let cooldown = doc.cooldown_seconds.unwrap_or(DEFAULT_COOLDOWN);
    if !(0..=86_400).contains(&cooldown) {
        return Err(err(
            "filter.cooldown_seconds",
            format!("must be between 0 and 86400, got {cooldown}"),
        ));
    }
    let timeout_ms = doc.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
    if !(1..=60_000).contains(&timeout_ms) {
        return Err(err(
            "filter.timeout_ms",
            format!("must be between 1 and 60000, got {timeout_ms}"),
        ));
    }
    let wait_ms = doc.wait_for_keys_ms.unwrap_or(DEFAULT_WAIT_MS);
    if wait_ms > 60_000 {
        return Err(err(
            "filter.wait_for_keys_ms",
            format!("must be at most 60000, got {wait_ms}"),
        ));
    }
    Ok(Some(Remote {
        cluster,
        jwks_uri: doc.jwks_uri.clone(),
        issuer: doc.issuer.clone(),
        max_age,
        cooldown,
        timeout_ms,
        wait_ms,
    }))
}

fn check_url(field: &str, url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') => Ok(()),
        _ => Err(err(
            field,
            format!(
                "must be an http(s) URL with a host, got {:?}",
                truncate(url)
            ),
        )),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// The environment the policy sees: the VM's environment (Envoy's
/// `vm_config.environment_variables`), UTF-8 entries only.
pub fn vm_env() -> Env {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Builds the core policy from a parsed configuration.
pub fn build_policy(parsed: &Parsed, env: &Env) -> Result<Policy, ConfigError> {
    Policy::from_json(&parsed.policy_doc, env).map_err(|e| match &e {
        tokenward_core::Error::PolicyInvalid { field, reason } => {
            err(field.clone(), reason.clone())
        }
        tokenward_core::Error::SecretRefused { source_name, .. } => ConfigError {
            code: "secret_refused",
            field: source_name.clone(),
            reason: e.to_string(),
        },
        other => ConfigError {
            code: other.code(),
            field: "policy".to_owned(),
            reason: other.to_string(),
        },
    })
}

const TEMPLATE_X: &str = "oNNpNMhnh7iJh4L_J4v9aGlkZNUgX44Jr3e1-zxR1vA";
const TEMPLATE_Y: &str = "78dFarb34n7FC4o6TylqTkGxa6aXoe3X7PpD7y4umxM";

/// The policy of a remote-keys configuration, loaded with a placeholder key so its non-key fields
/// are checked now (the real keys arrive with the fetched key set).
pub fn template_policy(parsed: &Parsed, env: &Env) -> Result<Policy, ConfigError> {
    let mut doc = parsed.policy_doc.clone();
    if let Some(map) = doc.as_object_mut() {
        let mut jwks = serde_json::Map::new();
        // A well-formed P-256 public key (vectors/keys/ec-p256), used only to load the template.
        jwks.insert(
            "keys".to_owned(),
            serde_json::json!([{"kty": "EC", "crv": "P-256", "alg": "ES256", "kid": "template",
                "x": TEMPLATE_X, "y": TEMPLATE_Y}]),
        );
        map.insert(
            "keys".to_owned(),
            serde_json::json!({ "jwks": Value::Object(jwks) }),
        );
        if let Some(Value::Array(algs)) = map.get_mut("algorithms")
            && !algs.iter().any(|a| a == "ES256")
        {
            algs.push(Value::String("ES256".to_owned()));
        }
    }
    let parsed = Parsed {
        policy_doc: doc,
        settings: parsed.settings.clone(),
    };
    build_policy(&parsed, env)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#""security": {"jwt_issuer": "https://idp.example", "jwt_audiences": ["api"]},
        "keys": {"secret_env": "S"}"#;

    fn env() -> Env {
        let mut env = Env::new();
        env.insert(
            "S".into(),
            "k9Vb3qV0fJ8m2sQeX1tYz7LrN4wP6cHd5gTaUoEiRj".into(),
        );
        env
    }

    #[test]
    fn defaults_match_the_documentation() {
        let parsed = parse(format!("{{{POLICY}}}").as_bytes()).unwrap();
        let s = parsed.settings.clone();
        assert!(!s.forward_authorization);
        assert_eq!(s.cache_size, 1024);
        assert_eq!(s.audit_log, AuditLevel::Info);
        assert_eq!(s.crypto, CryptoMode::Auto);
        assert_eq!(s.fixed_now, None);
        assert_eq!(s.remote, None);
        build_policy(&parsed, &env()).unwrap();
    }

    #[test]
    fn filter_section_is_removed_and_headers_moved() {
        let doc = format!(
            r#"{{{POLICY}, "filter": {{"claim_to_headers": {{"sub": "x-user-id"}}, "audit_log": "off",
               "forward_authorization": true, "fixed_now": 1767225600}}}}"#
        );
        let parsed = parse(doc.as_bytes()).unwrap();
        assert!(parsed.policy_doc.get("filter").is_none());
        assert_eq!(parsed.policy_doc["claim_to_headers"]["sub"], "x-user-id");
        assert_eq!(parsed.settings.audit_log, AuditLevel::Off);
        assert_eq!(parsed.settings.fixed_now, Some(1_767_225_600));
        let policy = build_policy(&parsed, &env()).unwrap();
        assert_eq!(policy.header_mapping().claim_headers().len(), 1);
    }

    #[test]
    fn yaml_is_accepted() {
        let doc = "security:\n  jwt_issuer: https://idp.example\n  jwt_audiences: [api]\nkeys:\n  secret_env: S\nfilter:\n  cache_size: 0\n";
        let parsed = parse(doc.as_bytes()).unwrap();
        assert_eq!(parsed.settings.cache_size, 0);
        build_policy(&parsed, &env()).unwrap();
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                r#"{"filter": {"cache_sise": 1}}"#.to_owned(),
                "filter.cache_sise",
            ),
            (
                r#"{"filter": {"cache_size": "x"}}"#.to_owned(),
                "filter.cache_size",
            ),
            (
                r#"{"filter": {"cache_size": 2000000}}"#.to_owned(),
                "filter.cache_size",
            ),
            (
                r#"{"filter": {"jwks_uri": "https://x/jwks"}}"#.to_owned(),
                "filter.cluster",
            ),
            (
                r#"{"filter": {"cluster": "c"}}"#.to_owned(),
                "filter.jwks_uri",
            ),
            (
                r#"{"filter": {"cluster": "c", "jwks_uri": "ftp://x"}}"#.to_owned(),
                "filter.jwks_uri",
            ),
            (
                r#"{"filter": {"audit_log": "loud"}}"#.to_owned(),
                "filter.audit_log",
            ),
            (
                r#"{"filter": {"fixed_now": -1}}"#.to_owned(),
                "filter.fixed_now",
            ),
            (
                r#"{"payload_header": "x-p", "filter": {"payload_header": "x-q"}}"#.to_owned(),
                "filter.payload_header",
            ),
            ("[1]".to_owned(), "configuration"),
            ("{".to_owned(), "configuration"),
            (String::new(), "configuration"),
        ];
        for (doc, field) in cases {
            let e = parse(doc.as_bytes()).unwrap_err();
            assert_eq!(e.field, field, "{doc}: {e}");
        }
        let e = parse(&[0xff, 0xfe]).unwrap_err();
        assert_eq!(e.field, "configuration");
    }

    #[test]
    fn policy_errors_name_the_policy_field() {
        let parsed =
            parse(br#"{"security": {"jwt_audiences": ["api"]}, "keys": {"secret_env": "S"}}"#)
                .unwrap();
        let e = build_policy(&parsed, &env()).unwrap_err();
        assert_eq!(e.field, "security.jwt_issuer", "{e}");
    }
}
