//! The policy document every host shares, and its environment-map overrides.
//!
//! One schema, JSON or YAML: the operators' `security:` block plus tokenward's own top-level fields
//! (`keys`, `algorithms`, `clock_skew_seconds`, `max_token_bytes`, `required_claims`, `typ`,
//! `token_kind`). Unknown fields are errors naming the field. Values from the environment map
//! (`JWT_ISSUER`, `JWT_ACCESS_TOKEN_EXPIRATION`, `JWT_REFRESH_TOKEN_EXPIRATION`, `JWT_AUDIENCES`,
//! `JWT_SECRET`, `TOKENWARD_ENV`) override the document's, and the effective value is validated.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Warning, quote};
use crate::extract::{ContextConfig, ContextHeadersDoc, Extraction, ExtractionDoc, HeaderMapping};
use crate::keys::{Candidate, KeyLoader, KeyMaterial};
use crate::routes::{AuthMode, Route, RouteDoc, ScopeHierarchy};
use crate::scanner::{Scanner, ScannerDoc};
use crate::{Algorithm, Error, Key, Secret};

/// The environment map a host passes in (the core never reads the process environment).
pub type Env = BTreeMap<String, String>;

/// Largest policy document [`Policy::parse`] reads, in bytes.
pub const MAX_POLICY_BYTES: usize = 1 << 20;

/// Default `security.jwt_access_token_expiration`: 30 days.
pub const DEFAULT_ACCESS_LIFETIME: i64 = 2_592_000;
/// Default `security.jwt_refresh_token_expiration`: 180 days.
pub const DEFAULT_REFRESH_LIFETIME: i64 = 15_552_000;
/// Default `clock_skew_seconds`.
pub const DEFAULT_CLOCK_SKEW: i64 = 60;
/// Default `max_token_bytes` (8 KiB).
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8192;

const MAX_ACCESS_LIFETIME: i64 = 31_536_000;
const MAX_CLOCK_SKEW: i64 = 3600;
const MAX_TOKEN_BYTES_LIMIT: i64 = 1_048_576;

const ENV_ISSUER: &str = "JWT_ISSUER";
const ENV_ACCESS: &str = "JWT_ACCESS_TOKEN_EXPIRATION";
const ENV_REFRESH: &str = "JWT_REFRESH_TOKEN_EXPIRATION";
const ENV_AUDIENCES: &str = "JWT_AUDIENCES";
const ENV_SECRET: &str = "JWT_SECRET";
const ENV_MODE: &str = "TOKENWARD_ENV";

/// Which lifetime limit applies to `exp - iat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TokenKind {
    /// Access tokens: `security.jwt_access_token_expiration`.
    #[default]
    Access,
    /// Refresh tokens: `security.jwt_refresh_token_expiration`.
    Refresh,
}

impl TokenKind {
    /// `access` or `refresh`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Doc {
    security: Option<SecurityDoc>,
    keys: Option<KeysDoc>,
    algorithms: Option<Vec<String>>,
    clock_skew_seconds: Option<i64>,
    max_token_bytes: Option<i64>,
    required_claims: Option<Vec<String>>,
    typ: Option<String>,
    token_kind: Option<String>,
    extraction: Option<ExtractionDoc>,
    context_headers: Option<ContextHeadersDoc>,
    claim_to_headers: Option<BTreeMap<String, String>>,
    payload_header: Option<String>,
    auth_mode: Option<String>,
    scope_hierarchy: Option<BTreeMap<String, Vec<String>>>,
    routes: Option<Vec<RouteDoc>>,
    resource_metadata: Option<String>,
    resource: Option<String>,
    scanner: Option<ScannerDoc>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SecurityDoc {
    jwt_issuer: Option<String>,
    jwt_access_token_expiration: Option<i64>,
    jwt_refresh_token_expiration: Option<i64>,
    jwt_audiences: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysDoc {
    jwks: Option<JwksDoc>,
    pem: Option<Vec<PemDoc>>,
    secret_env: Option<String>,
}

/// An RFC 7517 JWK Set. Its JWKs stay JSON values: each is checked on its own and a bad one is
/// skipped with a warning, as real JWKS endpoints publish keys we must not use.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JwksDoc {
    keys: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PemDoc {
    kid: Option<String>,
    alg: Option<String>,
    key: String,
}

/// A loaded, validated policy: effective settings and the usable keys, each bound to one algorithm.
#[derive(Clone, Debug)]
pub struct Policy {
    issuer: String,
    audiences: Vec<String>,
    access_lifetime: i64,
    refresh_lifetime: i64,
    clock_skew: i64,
    max_token_bytes: usize,
    required_claims: Vec<String>,
    typ: Option<String>,
    token_kind: TokenKind,
    allowed: Vec<Algorithm>,
    keys: Vec<Key>,
    warnings: Vec<Warning>,
    dev: bool,
    extraction: Extraction,
    context: ContextConfig,
    header_mapping: HeaderMapping,
    auth_mode: AuthMode,
    hierarchy: ScopeHierarchy,
    routes: Vec<Route>,
    resource_metadata: Option<String>,
    resource: Option<String>,
    scanner: Scanner,
}

impl Policy {
    /// Parses a policy document: JSON when it starts with `{`, YAML otherwise.
    ///
    /// # Errors
    ///
    /// `policy_invalid` naming the field (syntax, unknown field, wrong type, out of range, no usable
    /// key) or `secret_refused` for a weak HMAC secret in production.
    pub fn parse(doc: &str, env: &Env) -> Result<Self, Error> {
        if doc.len() > MAX_POLICY_BYTES {
            return Err(Error::policy(
                "policy",
                format!(
                    "document is {} bytes; the limit is {MAX_POLICY_BYTES}",
                    doc.len()
                ),
            ));
        }
        let parsed = if doc.trim_start().starts_with('{') {
            let mut de = serde_json::Deserializer::from_str(doc);
            let parsed = serde_path_to_error::deserialize(&mut de).map_err(|e| type_error(&e))?;
            if let Err(e) = de.end() {
                return Err(Error::policy("policy", format!("is not valid JSON: {e}")));
            }
            parsed
        } else if doc.trim().is_empty() {
            Doc::default()
        } else {
            let de = serde_yaml_ng::Deserializer::from_str(doc);
            serde_path_to_error::deserialize(de).map_err(|e| type_error(&e))?
        };
        Self::build(parsed, env)
    }

    /// Loads a policy document already parsed as JSON (a host's object, a vector's `policy`).
    ///
    /// # Errors
    ///
    /// As [`Policy::parse`].
    pub fn from_json(doc: &Value, env: &Env) -> Result<Self, Error> {
        let parsed = serde_path_to_error::deserialize(doc).map_err(|e| type_error(&e))?;
        Self::build(parsed, env)
    }

    fn build(doc: Doc, env: &Env) -> Result<Self, Error> {
        let dev = env.get(ENV_MODE).is_some_and(|v| v == "dev");
        let security = doc.security.unwrap_or_default();

        let issuer = match env.get(ENV_ISSUER) {
            Some(v) => Setting::env(v.clone(), ENV_ISSUER).some(),
            None => Setting::doc(security.jwt_issuer),
        };
        let issuer = issuer.require("security.jwt_issuer", ENV_ISSUER)?;
        if issuer.value.is_empty() {
            return Err(issuer.fail("security.jwt_issuer", "must not be empty"));
        }

        let audiences = match env.get(ENV_AUDIENCES) {
            Some(v) => Setting::env(split_list(v), ENV_AUDIENCES),
            None => Setting::doc(security.jwt_audiences),
        };
        let audiences = audiences.require("security.jwt_audiences", ENV_AUDIENCES)?;
        if audiences.value.is_empty() {
            return Err(audiences.fail("security.jwt_audiences", "must list at least one audience"));
        }
        if let Some(i) = audiences.value.iter().position(String::is_empty) {
            let field = format!("security.jwt_audiences[{i}]");
            return Err(audiences.fail(&field, "must not be an empty string"));
        }

        let access = env_number(env, ENV_ACCESS, "security.jwt_access_token_expiration")?
            .unwrap_or(Setting::doc(security.jwt_access_token_expiration))
            .or(DEFAULT_ACCESS_LIFETIME);
        let access_field = "security.jwt_access_token_expiration";
        if !(1..=MAX_ACCESS_LIFETIME).contains(&access.value) {
            let reason = format!(
                "must be between 1 and {MAX_ACCESS_LIFETIME} seconds, got {}",
                access.value
            );
            return Err(access.fail(access_field, &reason));
        }

        let refresh_field = "security.jwt_refresh_token_expiration";
        let refresh = env_number(env, ENV_REFRESH, refresh_field)?
            .unwrap_or(Setting::doc(security.jwt_refresh_token_expiration))
            .or(DEFAULT_REFRESH_LIFETIME);
        if refresh.value <= 0 {
            let reason = format!("must be greater than 0 seconds, got {}", refresh.value);
            return Err(refresh.fail(refresh_field, &reason));
        }
        if refresh.value < access.value {
            let reason = format!(
                "({}s) must not be shorter than {access_field} ({}s)",
                refresh.value, access.value
            );
            return Err(refresh.fail(refresh_field, &reason));
        }

        let clock_skew = doc.clock_skew_seconds.unwrap_or(DEFAULT_CLOCK_SKEW);
        if !(0..=MAX_CLOCK_SKEW).contains(&clock_skew) {
            return Err(Error::policy(
                "clock_skew_seconds",
                format!("must be between 0 and {MAX_CLOCK_SKEW} seconds, got {clock_skew}"),
            ));
        }

        let max_token_bytes = match doc.max_token_bytes {
            None => DEFAULT_MAX_TOKEN_BYTES,
            Some(n) => match usize::try_from(n) {
                Ok(bytes) if (1..=MAX_TOKEN_BYTES_LIMIT).contains(&n) => bytes,
                _ => {
                    return Err(Error::policy(
                        "max_token_bytes",
                        format!("must be between 1 and {MAX_TOKEN_BYTES_LIMIT} bytes, got {n}"),
                    ));
                }
            },
        };

        let token_kind = match doc.token_kind.as_deref() {
            None | Some("access") => TokenKind::Access,
            Some("refresh") => TokenKind::Refresh,
            Some(other) => {
                return Err(Error::policy(
                    "token_kind",
                    format!("must be \"access\" or \"refresh\", got {}", quote(other)),
                ));
            }
        };

        if doc.typ.as_deref() == Some("") {
            return Err(Error::policy("typ", "must not be an empty string"));
        }

        let required_claims = doc.required_claims.unwrap_or_default();
        if let Some(i) = required_claims.iter().position(String::is_empty) {
            return Err(Error::policy(
                format!("required_claims[{i}]"),
                "must not be an empty string",
            ));
        }

        let algorithms = match &doc.algorithms {
            None => None,
            Some(names) => Some(parse_algorithms(names)?),
        };

        let extraction = Extraction::from_doc(doc.extraction)?;
        let context = ContextConfig::from_doc(doc.context_headers)?;
        let header_mapping = HeaderMapping::new(doc.claim_to_headers, doc.payload_header)?;
        let auth_mode = match doc.auth_mode {
            None => AuthMode::Required,
            Some(m) => AuthMode::parse("auth_mode", &m)?,
        };
        let hierarchy = ScopeHierarchy::from_doc(doc.scope_hierarchy)?;
        let routes = doc
            .routes
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, r)| Route::from_doc(i, r))
            .collect::<Result<Vec<_>, _>>()?;
        let resource_metadata = non_empty("resource_metadata", doc.resource_metadata)?;
        let resource = non_empty("resource", doc.resource)?;
        let scanner = Scanner::from_doc(doc.scanner)?;

        let mut loader = KeyLoader::new(algorithms.as_deref(), dev);
        match doc.keys {
            Some(keys) => {
                if let Some(jwks) = keys.jwks {
                    for (index, jwk) in jwks.keys.iter().enumerate() {
                        loader.add_jwk(index, jwk);
                    }
                }
                for (index, pem) in keys.pem.unwrap_or_default().into_iter().enumerate() {
                    loader.add_pem(index, pem.kid, pem.alg, &pem.key);
                }
                if let Some(name) = keys.secret_env {
                    let Some(secret) = env.get(&name) else {
                        return Err(Error::policy(
                            "keys.secret_env",
                            format!("names {}, which is not in the environment", quote(&name)),
                        ));
                    };
                    loader.add(env_secret(name, secret, algorithms.as_deref()));
                }
            }
            None => match env.get(ENV_SECRET) {
                Some(secret) => {
                    loader.add(env_secret(
                        ENV_SECRET.to_owned(),
                        secret,
                        algorithms.as_deref(),
                    ));
                }
                None => {
                    return Err(Error::policy(
                        "keys",
                        "is required: give keys.jwks, keys.pem or keys.secret_env, \
                         or set JWT_SECRET in the environment",
                    ));
                }
            },
        }
        loader.check_secrets()?;

        if loader.keys.is_empty() {
            let reason = if loader.skipped.is_empty() {
                "holds no key".to_owned()
            } else {
                format!("holds no usable key: {}", loader.skipped.join("; "))
            };
            return Err(Error::policy("keys", reason));
        }

        let allowed = match &algorithms {
            Some(list) => list.clone(),
            None => {
                let mut union: Vec<Algorithm> = loader.keys.iter().map(Key::algorithm).collect();
                union.sort();
                union.dedup();
                union
            }
        };

        Ok(Self {
            issuer: issuer.value,
            audiences: audiences.value,
            access_lifetime: access.value,
            refresh_lifetime: refresh.value,
            clock_skew,
            max_token_bytes,
            required_claims,
            typ: doc.typ,
            token_kind,
            allowed,
            keys: std::mem::take(&mut loader.keys),
            warnings: std::mem::take(&mut loader.warnings),
            dev,
            extraction,
            context,
            header_mapping,
            auth_mode,
            hierarchy,
            routes,
            resource_metadata,
            resource,
            scanner,
        })
    }

    /// The exact `iss` a token must carry (`security.jwt_issuer` / `JWT_ISSUER`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The accepted audiences; a token's `aud` must intersect them.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// Access-token lifetime limit in seconds (default 2592000).
    pub fn access_lifetime(&self) -> i64 {
        self.access_lifetime
    }

    /// Refresh-token lifetime limit in seconds (default 15552000).
    pub fn refresh_lifetime(&self) -> i64 {
        self.refresh_lifetime
    }

    /// The lifetime limit for this policy's [`TokenKind`].
    pub fn lifetime(&self) -> i64 {
        match self.token_kind {
            TokenKind::Access => self.access_lifetime,
            TokenKind::Refresh => self.refresh_lifetime,
        }
    }

    /// Clock skew in seconds applied to `exp`, `nbf` and `iat` (default 60).
    pub fn clock_skew(&self) -> i64 {
        self.clock_skew
    }

    /// Largest accepted token string in bytes, inclusive (default 8192).
    pub fn max_token_bytes(&self) -> usize {
        self.max_token_bytes
    }

    /// Claims that must be present in every token.
    pub fn required_claims(&self) -> &[String] {
        &self.required_claims
    }

    /// The required JOSE `typ`, if any.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// Which lifetime limit applies.
    pub fn token_kind(&self) -> TokenKind {
        self.token_kind
    }

    /// The allowed `alg` set: the policy's `algorithms`, or the union of the keys' algorithms.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.allowed
    }

    /// The usable keys, each bound to one algorithm; [`crate::KeyHandle::index`] points in here.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Load-time warnings (`weak_secret`, `key_skipped`) for the host to surface.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Whether `TOKENWARD_ENV` was exactly `dev`.
    pub fn is_dev(&self) -> bool {
        self.dev
    }

    /// Token extraction settings (`extraction`; default: the `standard` preset).
    pub fn extraction(&self) -> &Extraction {
        &self.extraction
    }

    /// Request context header names (`context_headers`).
    pub fn context_config(&self) -> &ContextConfig {
        &self.context
    }

    /// Headers injected upstream on allow (`claim_to_headers`, `payload_header`).
    pub fn header_mapping(&self) -> &HeaderMapping {
        &self.header_mapping
    }

    /// The policy-level auth mode (`auth_mode`; default `required`).
    pub fn auth_mode(&self) -> AuthMode {
        self.auth_mode
    }

    /// The scope hierarchy (`scope_hierarchy`; default empty).
    pub fn scope_hierarchy(&self) -> &ScopeHierarchy {
        &self.hierarchy
    }

    /// The ordered route rules (`routes`; default none: every request gets the policy's rule).
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The RFC 9728 metadata URL put on every 401 (`resource_metadata`).
    pub fn resource_metadata(&self) -> Option<&str> {
        self.resource_metadata.as_deref()
    }

    /// The RFC 8707 resource URI one `aud` entry must equal (`resource`).
    pub fn resource(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    /// Scanner detection (`scanner`; default `off`).
    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }
}

fn non_empty(field: &str, value: Option<String>) -> Result<Option<String>, Error> {
    match value {
        Some(v) if v.is_empty() => Err(Error::policy(field, "must not be an empty string")),
        other => Ok(other),
    }
}

/// A setting and where its effective value came from, so messages can say `(from JWT_ISSUER)`.
struct Setting<T> {
    value: T,
    from_env: Option<&'static str>,
}

impl<T> Setting<T> {
    fn env(value: T, name: &'static str) -> Self {
        Self {
            value,
            from_env: Some(name),
        }
    }

    fn fail(&self, field: &str, reason: &str) -> Error {
        match self.from_env {
            Some(name) => Error::policy(field, format!("{reason} (from {name})")),
            None => Error::policy(field, reason),
        }
    }
}

impl<T> Setting<Option<T>> {
    fn doc(value: Option<T>) -> Self {
        Self {
            value,
            from_env: None,
        }
    }

    fn require(self, field: &str, env_name: &str) -> Result<Setting<T>, Error> {
        match self.value {
            Some(value) => Ok(Setting {
                value,
                from_env: self.from_env,
            }),
            None => Err(Error::policy(
                field,
                format!("is required (or set {env_name})"),
            )),
        }
    }

    fn or(self, default: T) -> Setting<T> {
        Setting {
            value: self.value.unwrap_or(default),
            from_env: self.from_env,
        }
    }
}

impl<T> Setting<T> {
    fn some(self) -> Setting<Option<T>> {
        Setting {
            value: Some(self.value),
            from_env: self.from_env,
        }
    }
}

/// An integer env override, or `None` when the entry is absent.
fn env_number(
    env: &Env,
    name: &'static str,
    field: &str,
) -> Result<Option<Setting<Option<i64>>>, Error> {
    let Some(raw) = env.get(name) else {
        return Ok(None);
    };
    let trimmed = raw.trim();
    let digits = trimmed.strip_prefix('-').unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::policy(
            field,
            format!(
                "must be a whole number of seconds, got {} (from {name})",
                quote(raw)
            ),
        ));
    }
    match trimmed.parse::<i64>() {
        Ok(n) => Ok(Some(Setting::env(n, name).some())),
        Err(_) => Err(Error::policy(
            field,
            format!("is out of range, got {} (from {name})", quote(raw)),
        )),
    }
}

/// Splits a comma-separated env list: entries trimmed, empty entries dropped.
fn split_list(raw: &str) -> Option<Vec<String>> {
    Some(
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

fn parse_algorithms(names: &[String]) -> Result<Vec<Algorithm>, Error> {
    if names.is_empty() {
        return Err(Error::policy(
            "algorithms",
            "must list at least one algorithm",
        ));
    }
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let Some(alg) = Algorithm::from_name(name) else {
            let supported: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
            let reason = if name.eq_ignore_ascii_case("none") {
                "is \"none\": unsigned tokens are never accepted".to_owned()
            } else {
                format!(
                    "is {}, not a supported signature algorithm (one of {}; names are case-sensitive)",
                    quote(name),
                    supported.join(", ")
                )
            };
            return Err(Error::policy(format!("algorithms[{i}]"), reason));
        };
        if !out.contains(&alg) {
            out.push(alg);
        }
    }
    Ok(out)
}

/// The kid-less HMAC key from an env secret: bound to the policy's one HMAC algorithm, else HS256.
fn env_secret(source: String, secret: &str, algorithms: Option<&[Algorithm]>) -> Candidate {
    Candidate {
        source,
        kid: None,
        alg: algorithms
            .is_none()
            .then(|| Algorithm::HS256.name().to_owned()),
        material: KeyMaterial::Hmac(Secret::new(secret.as_bytes().to_vec())),
    }
}

/// A deserialisation failure as `policy_invalid` naming the field path.
fn type_error<E: fmt::Display>(e: &serde_path_to_error::Error<E>) -> Error {
    let path = e.path().to_string();
    let field = if path.is_empty() || path == "." {
        "policy".to_owned()
    } else {
        path
    };
    Error::policy(field, format!("is invalid: {}", e.inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "k9Vb3qV0fJ8m2sQeX1tYz7LrN4wP6cHd5gTaUoEiRj";

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn yaml_and_env_only() {
        let doc = "security:\n  jwt_issuer: https://idp\n  jwt_audiences: [api]\n";
        let p = Policy::parse(doc, &env(&[("JWT_SECRET", SECRET)])).unwrap();
        assert_eq!(p.issuer(), "https://idp");
        assert_eq!(p.algorithms(), &[Algorithm::HS256]);
        assert_eq!(p.access_lifetime(), DEFAULT_ACCESS_LIFETIME);
        let p = Policy::parse(
            "",
            &env(&[
                ("JWT_SECRET", SECRET),
                ("JWT_ISSUER", "i"),
                ("JWT_AUDIENCES", " a, ,b "),
            ]),
        )
        .unwrap();
        assert_eq!(p.audiences(), &["a".to_owned(), "b".to_owned()]);
    }

    #[test]
    fn messages_name_fields() {
        let e = env(&[("JWT_SECRET", SECRET)]);
        let doc = r#"{"security":{"jwt_issuer":"i","jwt_audiences":["a"],"jwt_access_token_expiration":0}}"#;
        let err = Policy::parse(doc, &e).unwrap_err();
        assert_eq!(
            err.to_string(),
            "security.jwt_access_token_expiration must be between 1 and 31536000 seconds, got 0"
        );
        let doc = r#"{"security":{"jwt_issuer":"i","jwt_audiences":["a"],"jwt_isuer":"x"}}"#;
        let err = Policy::parse(doc, &e).unwrap_err();
        assert_eq!(err.code(), "policy_invalid");
        assert!(err.to_string().contains("jwt_isuer"), "{err}");
        let mut e2 = e.clone();
        e2.insert("JWT_ACCESS_TOKEN_EXPIRATION".into(), "1h".into());
        let doc = r#"{"security":{"jwt_issuer":"i","jwt_audiences":["a"]}}"#;
        let err = Policy::parse(doc, &e2).unwrap_err();
        assert!(
            err.to_string().contains("JWT_ACCESS_TOKEN_EXPIRATION"),
            "{err}"
        );
    }

    #[test]
    fn secrets_are_never_echoed() {
        let doc = r#"{"security":{"jwt_issuer":"i","jwt_audiences":["a"]}}"#;
        let err = Policy::parse(doc, &env(&[("JWT_SECRET", "hunter2-is-short")])).unwrap_err();
        assert_eq!(err.code(), "secret_refused");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("openssl rand"), "{err}");
        let p = Policy::parse(
            doc,
            &env(&[("JWT_SECRET", "hunter2-is-short"), ("TOKENWARD_ENV", "dev")]),
        )
        .unwrap();
        assert_eq!(p.warnings().len(), 1);
        assert!(!p.warnings()[0].message().contains("hunter2"));
    }
}
