//! JSON documents the fuzzer edits: the base configurations, the JWKS served, token headers and
//! claims, and [`Mutation`], one edit at a fuzzer-chosen path.

use std::sync::LazyLock;

use arbitrary::{Arbitrary, Result, Unstructured};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value, json};

/// The issuer every base configuration and token uses.
pub const ISSUER: &str = "https://idp.example.com";
/// The environment variable holding the HMAC secret.
pub const SECRET_ENV: &str = "TW_SECRET";
/// The HMAC test secret (`vectors/keys/hmac.secret`).
pub fn secret() -> &'static str {
    include_str!("../../../vectors/keys/hmac.secret").trim()
}

/// Object keys the edits pick from: every policy, route, scanner, extraction, `filter`, JWK, JOSE
/// header and claim field name. [`crate::feedback`] also looks for them in log lines.
#[rustfmt::skip]
pub const KEYS: &[&str] = &[
    "security", "jwt_issuer", "jwt_audiences", "jwt_access_token_expiration",
    "jwt_refresh_token_expiration", "keys", "secret_env", "jwks", "pem", "kid", "alg", "key",
    "algorithms", "clock_skew_seconds", "max_token_bytes", "required_claims", "typ", "token_kind",
    "routes", "path", "path_prefix", "methods", "scopes", "all_of", "any_of", "auth_mode",
    "audiences", "tenant", "header", "path_segment", "scanner", "mode", "paths", "user_agents",
    "max_requests_per_window", "scope_hierarchy", "claim_to_headers", "payload_header",
    "extraction", "preset", "cookie_name", "query_param", "mcp_proxy_header", "context_headers",
    "trace_id", "context_id", "agent_name", "resource", "resource_metadata", "filter",
    "forward_authorization", "cache_size", "audit_log", "crypto", "fixed_now", "cluster",
    "jwks_uri", "issuer", "max_age_seconds", "cooldown_seconds", "timeout_ms", "wait_for_keys_ms",
    "kty", "use", "n", "e", "x", "y", "crv", "k", "key_ops", "iss", "aud", "sub", "exp", "nbf",
    "iat", "jti", "scope", "scp", "tenant_id", "roles", "crit", "cty", "b64", "jku", "x5u",
];

/// String values the edits pick from (algorithms, modes, kids, URLs, scopes).
#[rustfmt::skip]
pub const WORDS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "PS256", "ES256", "ES384", "EdDSA", "none", "JWT",
    "at+jwt", ISSUER, "https://idp.example.com/jwks", "http://idp", "api", "web", "mcp", "idp",
    "hs-1", "rsa-1", "rsa-2", "ec-256", "k1", "admin", "user", "tools:read", "acme", "/", "/admin",
    "/t/", "*.bak", "x-user-id", "x-tenant-id", "authorization", "auth_token", "disabled",
    "optional", "required", "block", "flag", "off", "auto", "wasm", "debug", "info", "warn",
    "standard", "browser_only", "access", "refresh", "sig", "enc", "oct", "RSA", "EC", "OKP",
    "P-256", "P-384", "Ed25519", "AQAB", "", "changeme", "dev", "GET", "POST", "OPTIONS",
];

/// A JSON value at most [`MAX_DEPTH`] deep, drawn with a bias to the dictionaries.
#[derive(Clone, Debug)]
pub struct Json(pub Value);

/// At most this many steps of a [`Mutation`] path are walked.
pub const MAX_PATH: usize = 5;

/// How deep a fuzzed JSON value nests.
pub const MAX_DEPTH: usize = 3;

fn pick<'a>(u: &mut Unstructured<'_>, list: &[&'a str]) -> Result<&'a str> {
    Ok(*u.choose(list)?)
}

fn value(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let kinds = if depth >= MAX_DEPTH { 7 } else { 9 };
    Ok(match u.int_in_range(0..=kinds - 1)? {
        0 => Value::String(pick(u, WORDS)?.to_owned()),
        1 => Value::Bool(u.arbitrary()?),
        2 => json!(u.int_in_range(-2i64..=86_401)?),
        3 => json!(u.arbitrary::<i64>()?),
        4 => Value::String(u.arbitrary()?),
        5 => Value::Null,
        6 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        7 => {
            let n = u.int_in_range(0..=4)?;
            Value::Array((0..n).map(|_| value(u, depth + 1)).collect::<Result<_>>()?)
        }
        _ => {
            let n = u.int_in_range(0..=4)?;
            let mut map = Map::new();
            for _ in 0..n {
                let k = key(u)?;
                map.insert(k, value(u, depth + 1)?);
            }
            Value::Object(map)
        }
    })
}

fn key(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(if u.ratio(7, 8)? {
        pick(u, KEYS)?.to_owned()
    } else {
        u.arbitrary()?
    })
}

impl<'a> Arbitrary<'a> for Json {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        value(u, 0).map(Self)
    }
}

/// What a [`Mutation`] does where its path ends.
#[derive(Clone, Debug, Arbitrary)]
pub enum Edit {
    /// A change that keeps the type (see [`tweak`]).
    Tweak(u8),
    /// Replaces the value.
    Replace(Json),
    /// Removes the value from its object or array.
    Remove,
    /// Adds a key (a known field name, mostly) to an object, or appends to an array.
    Insert(Json),
}

/// One edit of a document. The path selects an existing child at each step (index modulo the
/// number of children) and ends early at a scalar, so edits land on values the document has;
/// [`Edit::Insert`] adds what it lacks.
#[derive(Clone, Debug, Arbitrary)]
pub struct Mutation {
    /// Child selectors, from the root.
    pub path: Vec<u8>,
    /// The edit.
    pub edit: Edit,
    /// The key [`Edit::Insert`] adds: `KEYS[i % KEYS.len()]`, or the fuzzed name when `i` is
    /// 224 or more.
    pub key: (u8, String),
}

impl Mutation {
    /// Applies the edit to `doc`.
    pub fn apply(&self, doc: &mut Value) {
        apply(doc, self.path.get(..MAX_PATH).unwrap_or(&self.path), self);
    }
}

fn apply(v: &mut Value, path: &[u8], m: &Mutation) {
    let Some((sel, rest)) = path.split_first() else {
        return edit(v, m);
    };
    let sel = usize::from(*sel);
    // Whether the path ends at this child (no more steps, or nothing below it to step into).
    let ends = |child: &Value| rest.is_empty() || !has_children(child);
    match v {
        Value::Object(map) if !map.is_empty() => {
            let Some(k) = map.keys().nth(sel % map.len()).cloned() else {
                return;
            };
            if matches!(m.edit, Edit::Remove) && map.get(&k).is_some_and(ends) {
                map.remove(&k);
            } else if let Some(child) = map.get_mut(&k) {
                apply(child, rest, m);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = sel % a.len();
            if matches!(m.edit, Edit::Remove) && a.get(i).is_some_and(ends) {
                a.remove(i);
            } else if let Some(child) = a.get_mut(i) {
                apply(child, rest, m);
            }
        }
        _ => edit(v, m),
    }
}

fn has_children(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn edit(v: &mut Value, m: &Mutation) {
    match &m.edit {
        Edit::Tweak(t) => tweak(v, *t),
        Edit::Replace(j) => *v = j.0.clone(),
        Edit::Remove => *v = Value::Null,
        Edit::Insert(j) => match v {
            Value::Object(map) => {
                let (i, name) = &m.key;
                let key = KEYS
                    .get(usize::from(*i))
                    .map_or(name.clone(), |k| (*k).to_owned());
                map.insert(key, j.0.clone());
            }
            Value::Array(a) => a.push(j.0.clone()),
            other => *other = j.0.clone(),
        },
    }
}

/// Numbers the tweaks pick from: bounds of the policy's ranges, and of the integer types.
const NUMBERS: &[i64] = &[
    0,
    1,
    -1,
    2,
    59,
    60,
    61,
    86_400,
    86_401,
    3_600,
    3_601,
    604_800,
    31_536_000,
    31_536_001,
    60_000,
    60_001,
    1_000_000,
    1_000_001,
    1_767_225_600,
    4_294_967_295,
    i64::MAX,
    i64::MIN,
];

/// A change that keeps the JSON type: another word, a boundary number or a neighbour, the other
/// boolean, an array or object with one member removed or doubled.
pub fn tweak(v: &mut Value, t: u8) {
    let t = usize::from(t);
    match v {
        Value::String(s) => match t % 4 {
            0 | 1 => *s = WORDS[t / 4 % WORDS.len()].to_owned(),
            2 => s.push_str(&s.clone()),
            _ => {
                s.pop();
            }
        },
        Value::Number(n) => {
            let x = n.as_i64().unwrap_or(0);
            *v = json!(match t % 4 {
                0 | 1 => NUMBERS[t / 4 % NUMBERS.len()],
                2 => x.saturating_add(1),
                _ => x.saturating_sub(1),
            });
        }
        Value::Bool(b) => *b = !*b,
        Value::Array(a) if !a.is_empty() => {
            let i = t / 2 % a.len();
            if t % 2 == 0 {
                a.remove(i);
            } else {
                let dup = a[i].clone();
                a.push(dup);
            }
        }
        Value::Object(map) if !map.is_empty() => {
            if let Some(k) = map.keys().nth(t % map.len()).cloned() {
                map.remove(&k);
            }
        }
        other => *other = Value::String(WORDS[t % WORDS.len()].to_owned()),
    }
}

/// The JWKs of `vectors/keys/jwks.json` (RS256 `rsa-1`, `rsa-2`, ES256 `ec-256`, ES384, EdDSA)
/// plus an `oct` HS256 key `hs-1` holding the test secret.
pub fn keys() -> &'static Value {
    static KEYS: LazyLock<Value> = LazyLock::new(|| {
        let file: Value =
            match serde_json::from_str(include_str!("../../../vectors/keys/jwks.json")) {
                Ok(v) => v,
                Err(e) => panic!("vectors/keys/jwks.json: {e}"),
            };
        let mut keys = vec![json!({
            "kty": "oct", "kid": "hs-1", "alg": "HS256", "k": B64.encode(secret()),
        })];
        if let Some(Value::Array(a)) = file.get("keys") {
            keys.extend(a.iter().cloned());
        }
        json!({ "keys": keys })
    });
    &KEYS
}

/// The base configurations.
#[derive(Clone, Copy, Debug, Arbitrary)]
pub enum Base {
    /// HS256 with the secret from the environment, a claim header, a small signature cache.
    Secret,
    /// Every test key inline (HS256, RS256, ES256, ES384, EdDSA).
    InlineJwks,
    /// Remote keys from `jwks_uri` through cluster `idp`.
    RemoteJwks,
    /// Remote keys found through the issuer's discovery document.
    RemoteDiscovery,
    /// Routes with scopes (and a hierarchy), tenants, audiences, disabled paths; the query source.
    Routes,
    /// The scanner in block mode, with a velocity limit.
    Scanner,
}

impl Base {
    /// The document.
    pub fn doc(self) -> Value {
        let security = json!({ "jwt_issuer": ISSUER, "jwt_audiences": ["api", "mcp"] });
        let inline = json!({ "jwks": keys() });
        let algorithms = json!(["HS256", "RS256", "ES256", "ES384", "EdDSA"]);
        match self {
            Self::Secret => json!({
                "security": security,
                "keys": { "secret_env": SECRET_ENV },
                "algorithms": ["HS256"],
                "filter": { "claim_to_headers": { "sub": "x-user-id" }, "cache_size": 16 },
            }),
            Self::InlineJwks => json!({
                "security": security, "keys": inline, "algorithms": algorithms,
                "claim_to_headers": { "sub": "x-user-id", "tenant_id": "x-tenant-id" },
                "payload_header": "x-jwt-payload",
                "filter": { "crypto": "auto", "audit_log": "debug" },
            }),
            Self::RemoteJwks => json!({
                "security": security, "algorithms": algorithms,
                "filter": {
                    "cluster": "idp", "jwks_uri": format!("{ISSUER}/jwks"),
                    "max_age_seconds": 60, "cooldown_seconds": 5, "timeout_ms": 1000,
                    "wait_for_keys_ms": 3000, "claim_to_headers": { "sub": "x-user-id" },
                },
            }),
            Self::RemoteDiscovery => json!({
                "security": security,
                "filter": {
                    "cluster": "idp", "issuer": ISSUER, "max_age_seconds": 30,
                    "cooldown_seconds": 0, "timeout_ms": 500, "wait_for_keys_ms": 1000,
                },
            }),
            Self::Routes => json!({
                "security": security, "keys": inline, "algorithms": algorithms,
                "scope_hierarchy": { "admin": ["user", "tools:execute"], "tools:execute": ["tools:read"] },
                "extraction": { "query_param": true },
                "required_claims": ["sub"],
                "routes": [
                    { "path_prefix": "/", "methods": ["OPTIONS"], "auth_mode": "disabled" },
                    { "path": "/health", "auth_mode": "disabled" },
                    { "path_prefix": "/admin", "methods": ["GET", "POST"], "scopes": { "all_of": ["admin"] } },
                    { "path_prefix": "/any", "scopes": { "any_of": ["tools:read", "reports"] } },
                    { "path_prefix": "/tools", "audiences": ["mcp"] },
                    { "path_prefix": "/t/", "tenant": { "path_segment": 1 } },
                    { "path_prefix": "/h", "tenant": { "header": "x-tenant-id" } },
                    { "path_prefix": "/opt", "auth_mode": "optional" },
                ],
                "claim_to_headers": { "sub": "x-user-id", "roles": "x-user-roles" },
            }),
            Self::Scanner => json!({
                "security": security, "keys": { "secret_env": SECRET_ENV }, "algorithms": ["HS256"],
                "scanner": {
                    "mode": "block", "paths": ["/internal/debug", "/backup/", "*.bak"],
                    "user_agents": ["evilbot"], "max_requests_per_window": 3,
                },
                "routes": [{ "path": "/health", "auth_mode": "disabled" }],
            }),
        }
    }
}
