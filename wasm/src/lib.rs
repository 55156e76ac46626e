//! wasm-bindgen bindings of `tokenward-core` for the `tokenward` npm package.
//!
//! This crate is glue only and stays private to the package: the public JavaScript API is the
//! hand-written `npm/src/*.js` over it. Every decision is the core's. Errors cross the boundary
//! as plain `{ code, status, message, wwwAuthenticate, claim?, reason? }` objects that the JS
//! layer turns into `TokenwardError` instances (so `instanceof` and stacks work there).
//!
//! Signature math can be done by the host (node:crypto, WebCrypto): [`Engine::prepare`] returns
//! a [`Prepared`] naming the algorithm, the candidate keys, the signing input and the signature;
//! the host verifies it and calls [`Engine::finish`] with the index of the key that verified.
//! Requests go the same way through the core's split authorize: [`Engine::authorize_prepare`]
//! (`Verifier::authorize_prepare`) returns a decision or a [`PreparedRequest`] holding the core's
//! `PendingRequest`, and [`Engine::authorize_finish`] (`Verifier::authorize_finish`) decides it.
//!
//! An engine's keys are either the policy's own or a remote JWKS held in the core's
//! [`JwksCache`]: the JS side performs the fetches the cache asks for and reports their outcome.
//! Each prepared handle keeps the verifier (an `Arc` clone) it was prepared with, so a key set
//! swapped in while the host checks a signature cannot mix two key sets.

// Library code must never panic across the wasm boundary (workspace lints deny unwrap, expect,
// panic and unchecked indexing); `unsafe` is never written here.
#![forbid(unsafe_code)]
#![deny(missing_docs, unused_must_use)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use js_sys::{Object, Reflect, Uint8Array};
use serde_json::{Map, Value, json};
use tokenward_core::jwks::{Discovery, JwksCache, JwksConfig, discovery_url};
use tokenward_core::sign::{SigningKey, TokenClaims};
use tokenward_core::{
    Algorithm, AuthorizeStep, Decision, Env, Error, KeyFamily, KeyMaterial, PendingCheck,
    PendingRequest, Policy, Request, SignatureOutcome, TokenKind, UnixTime, Verifier,
};
use wasm_bindgen::prelude::*;

/// Where an engine's keys come from.
enum Source {
    /// The policy's own keys.
    Static(Verifier),
    /// A remote JWKS, loaded into the policy template by the core's cache.
    Remote(Box<JwksCache>),
}

/// A loaded policy and its verifier (or its remote key cache).
#[wasm_bindgen]
pub struct Engine {
    source: Source,
    env: Env,
}

/// A token that passed every check up to the signature, waiting for the host's verdict.
#[wasm_bindgen]
pub struct Prepared {
    verifier: Verifier,
    generation: u64,
    check: PendingCheck,
}

/// A request whose token waits for the host's signature verdict (the core's `PendingRequest`).
#[wasm_bindgen]
pub struct PreparedRequest {
    verifier: Verifier,
    generation: u64,
    pending: PendingRequest,
}

#[wasm_bindgen]
impl Engine {
    /// Loads a policy. `policy` is a JSON document when `is_json`, else JSON or YAML text;
    /// `env` is a JSON object of strings.
    ///
    /// # Errors
    ///
    /// `policy_invalid` or `secret_refused`, as an error object.
    #[wasm_bindgen(constructor)]
    pub fn new(policy: &str, is_json: bool, env: &str) -> Result<Engine, JsValue> {
        let env = parse_env(env)?;
        let policy = if is_json {
            let doc: Value = serde_json::from_str(policy).map_err(|e| misuse(&e.to_string()))?;
            Policy::from_json(&doc, &env)
        } else {
            Policy::parse(policy, &env)
        }
        .map_err(|e| error_object(&e))?;
        Ok(Engine {
            source: Source::Static(Verifier::new(policy)),
            env,
        })
    }

    /// An engine whose keys come from a remote JWKS: `policy` (JSON or YAML text) is the template
    /// the core's [`JwksCache`] inserts each fetched key set into. Times are seconds.
    ///
    /// # Errors
    ///
    /// A misuse error when the template is not a JSON or YAML object or `env` is not an object.
    pub fn remote(
        policy: &str,
        env: &str,
        max_age: f64,
        cooldown: f64,
        timeout: f64,
        max_body: f64,
    ) -> Result<Engine, JsValue> {
        let env = parse_env(env)?;
        let doc: Value = match serde_json::from_str(policy) {
            Ok(doc) => doc,
            Err(_) => serde_yaml_ng::from_str(policy).map_err(|e| misuse(&e.to_string()))?,
        };
        if !doc.is_object() {
            return Err(misuse(&format!(
                "the policy must be an object, got {}",
                kind(&doc)
            )));
        }
        let defaults = JwksConfig::default();
        let secs = |v: f64, d: u64| {
            if v.is_finite() && v >= 0.0 {
                v as u64
            } else {
                d
            }
        };
        let config = JwksConfig {
            max_age_seconds: secs(max_age, defaults.max_age_seconds),
            cooldown_seconds: secs(cooldown, defaults.cooldown_seconds),
            fetch_timeout_seconds: secs(timeout, defaults.fetch_timeout_seconds),
            max_body_bytes: if max_body.is_finite() && max_body >= 1.0 {
                max_body as usize
            } else {
                defaults.max_body_bytes
            },
        };
        Ok(Engine {
            source: Source::Remote(Box::new(JwksCache::new(doc, env.clone(), config))),
            env,
        })
    }

    /// Load-time warnings, as a JSON array of `{ code, message }`.
    pub fn warnings(&self) -> String {
        let warnings = match &self.source {
            Source::Static(v) => v.policy().warnings(),
            Source::Remote(cache) => cache.warnings(),
        };
        let list: Vec<Value> = warnings
            .iter()
            .map(|w| json!({ "code": w.code(), "message": w.message() }))
            .collect();
        Value::Array(list).to_string()
    }

    /// Whether keys come from a remote JWKS.
    #[wasm_bindgen(getter, js_name = isRemote)]
    pub fn is_remote(&self) -> bool {
        matches!(self.source, Source::Remote(_))
    }

    /// Whether a verifier is available (always for policy keys; after a good fetch for a JWKS).
    #[wasm_bindgen(getter, js_name = hasKeys)]
    pub fn has_keys(&self) -> bool {
        match &self.source {
            Source::Static(_) => true,
            Source::Remote(cache) => cache.verifier().is_some(),
        }
    }

    /// How many key sets have been loaded (0 for policy keys: they never change).
    #[wasm_bindgen(getter)]
    pub fn generation(&self) -> f64 {
        match &self.source {
            Source::Static(_) => 0.0,
            Source::Remote(cache) => cache.generation() as f64,
        }
    }

    /// `JwksCache::poll_fetch`: the reason to fetch now (`initial`, `expired`, `retry`), if any.
    #[wasm_bindgen(js_name = pollFetch)]
    pub fn poll_fetch(&self, now: f64) -> Option<String> {
        match &self.source {
            Source::Static(_) => None,
            Source::Remote(cache) => cache.poll_fetch(time(now)).map(|r| r.name().to_owned()),
        }
    }

    /// `JwksCache::begin_fetch`.
    #[wasm_bindgen(js_name = beginFetch)]
    pub fn begin_fetch(&mut self, now: f64) {
        if let Source::Remote(cache) = &mut self.source {
            cache.begin_fetch(time(now));
        }
    }

    /// `JwksCache::on_fetch_ok` with the response body.
    ///
    /// # Errors
    ///
    /// `jwks_invalid`, as an error object (the last good key set is kept).
    #[wasm_bindgen(js_name = onFetchOk)]
    pub fn on_fetch_ok(&mut self, now: f64, body: &[u8]) -> Result<(), JsValue> {
        match &mut self.source {
            Source::Static(_) => Ok(()),
            Source::Remote(cache) => cache
                .on_fetch_ok(time(now), body)
                .map_err(|e| error_object(&e)),
        }
    }

    /// `JwksCache::on_fetch_error` (network error, non-2xx status, timeout).
    #[wasm_bindgen(js_name = onFetchError)]
    pub fn on_fetch_error(&mut self, now: f64, reason: &str) {
        if let Source::Remote(cache) = &mut self.source {
            cache.on_fetch_error(time(now), reason);
        }
    }

    /// `JwksCache::on_unknown_kid`: `true` means the fetch is recorded as begun; fetch now.
    #[wasm_bindgen(js_name = onUnknownKid)]
    pub fn on_unknown_kid(&mut self, now: f64, kid: &str) -> bool {
        match &mut self.source {
            Source::Static(_) => false,
            Source::Remote(cache) => cache.on_unknown_kid(time(now), kid),
        }
    }

    /// The state of the remote key cache at `now` as JSON text: `{ generation, fetchedAt,
    /// staleness, stale, fetching, lastError }` (`null` for policy keys).
    #[wasm_bindgen(js_name = jwksStatus)]
    pub fn jwks_status(&self, now: f64) -> String {
        let Source::Remote(cache) = &self.source else {
            return "null".to_owned();
        };
        let now = time(now);
        let mut out = Map::new();
        out.insert("generation".into(), cache.generation().into());
        out.insert("fetchedAt".into(), cache.fetched_at().map(|t| t.0).into());
        out.insert("staleness".into(), cache.staleness(now).into());
        out.insert("stale".into(), cache.is_stale(now).into());
        out.insert("fetching".into(), cache.is_fetching(now).into());
        if let Some(err) = cache.last_error() {
            out.insert("lastError".into(), error_json(err, None));
        }
        Value::Object(out).to_string()
    }

    /// Validates `token` at `now` with the in-wasm crypto, then requires `scopes`; returns the
    /// payload as JSON text.
    ///
    /// # Errors
    ///
    /// The first failing check, as an error object (`jwks_invalid` while no key set is loaded).
    pub fn verify(&self, token: &str, now: f64, scopes: Vec<String>) -> Result<String, JsValue> {
        let verifier = self.current()?;
        let check = verifier.prepare(token).map_err(|e| error_object(&e))?;
        let outcome = verifier.check_signature(&check);
        complete(verifier, check, outcome, now, &scopes)
    }

    /// [`Engine::prepare`] for the algorithm families in `delegate` (bit 1 HMAC, 2 RSA, 4 EC,
    /// 8 Ed25519), else the whole [`Engine::verify`] in wasm: returns a [`Prepared`] for the host
    /// or the payload's JSON text. One call either way, for hosts where the native round trip
    /// costs more than the in-wasm math (HMAC in Node).
    ///
    /// # Errors
    ///
    /// As [`Engine::verify`].
    #[wasm_bindgen(js_name = prepareOrVerify)]
    pub fn prepare_or_verify(
        &self,
        token: &str,
        now: f64,
        scopes: Vec<String>,
        delegate: u32,
    ) -> Result<JsValue, JsValue> {
        let verifier = self.current()?;
        let check = verifier.prepare(token).map_err(|e| error_object(&e))?;
        if delegate & family_bit(check.algorithm()) != 0 {
            return Ok(Prepared {
                verifier: verifier.clone(),
                generation: self.generation() as u64,
                check,
            }
            .into());
        }
        let outcome = verifier.check_signature(&check);
        complete(verifier, check, outcome, now, &scopes).map(JsValue::from)
    }

    /// Runs the checks up to the signature and hands the signature work to the host.
    ///
    /// # Errors
    ///
    /// `token_too_large`, `token_malformed`, `algorithm_not_allowed`, `token_type_invalid` or
    /// `key_not_found` (or `jwks_invalid` while no key set is loaded), as an error object.
    pub fn prepare(&self, token: &str) -> Result<Prepared, JsValue> {
        let verifier = self.current()?;
        let check = verifier.prepare(token).map_err(|e| error_object(&e))?;
        Ok(Prepared {
            verifier: verifier.clone(),
            generation: self.generation() as u64,
            check,
        })
    }

    /// Finishes a [`Prepared`] check: `verified` is the index of the candidate key the host
    /// verified the signature with, or -1; `-2` asks the in-wasm provider to do it.
    ///
    /// # Errors
    ///
    /// `signature_invalid`, then the claim and scope checks, as an error object.
    pub fn finish(
        &self,
        prepared: Prepared,
        verified: i32,
        now: f64,
        scopes: Vec<String>,
    ) -> Result<String, JsValue> {
        let Prepared {
            verifier, check, ..
        } = prepared;
        let outcome = match verified {
            -2 => verifier.check_signature(&check),
            i => outcome_of(&check, i),
        };
        complete(&verifier, check, outcome, now, &scopes)
    }

    /// Decides a request with the in-wasm crypto. `headers` is a flat `[name, value, ...]` list.
    /// Returns the decision as JSON text.
    ///
    /// # Errors
    ///
    /// `jwks_invalid` while no key set is loaded, as an error object.
    pub fn authorize(
        &self,
        method: &str,
        path: &str,
        query: Option<String>,
        headers: Vec<String>,
        requests_in_window: Option<f64>,
        now: f64,
    ) -> Result<String, JsValue> {
        let verifier = self.current()?;
        let request = build_request(method, path, query, &headers, requests_in_window);
        let decision = verifier.authorize(&request, time(now));
        Ok(decision_json(&decision))
    }

    /// `Verifier::authorize_prepare`: the decision's JSON text when no signature is needed or
    /// the token's key family is not in `delegate` (then the in-wasm provider checks it, as in
    /// [`Engine::prepare_or_verify`]), else a [`PreparedRequest`] for the host.
    ///
    /// # Errors
    ///
    /// `jwks_invalid` while no key set is loaded, as an error object.
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(js_name = authorizePrepare)]
    pub fn authorize_prepare(
        &self,
        method: &str,
        path: &str,
        query: Option<String>,
        headers: Vec<String>,
        requests_in_window: Option<f64>,
        now: f64,
        delegate: u32,
    ) -> Result<JsValue, JsValue> {
        let verifier = self.current()?;
        let request = build_request(method, path, query, &headers, requests_in_window);
        let now = time(now);
        let decision = match verifier.authorize_prepare(&request, now) {
            AuthorizeStep::Decided(decision) => decision,
            AuthorizeStep::NeedsSignature(pending) => {
                if delegate & family_bit(pending.check().algorithm()) != 0 {
                    return Ok(PreparedRequest {
                        verifier: verifier.clone(),
                        generation: self.generation() as u64,
                        pending,
                    }
                    .into());
                }
                let outcome = verifier.check_signature(pending.check());
                verifier.authorize_finish(pending, outcome, now)
            }
        };
        Ok(decision_json(&decision).into())
    }

    /// `Verifier::authorize_finish` with the host's verdict (`verified` as in
    /// [`Engine::finish`]). Returns the decision as JSON text.
    #[wasm_bindgen(js_name = authorizeFinish)]
    pub fn authorize_finish(&self, prepared: PreparedRequest, verified: i32, now: f64) -> String {
        let PreparedRequest {
            verifier, pending, ..
        } = prepared;
        let outcome = match verified {
            -2 => verifier.check_signature(pending.check()),
            i => outcome_of(pending.check(), i),
        };
        decision_json(&verifier.authorize_finish(pending, outcome, time(now)))
    }

    /// The raw `kid` of a token's header (`None` when it has none or does not parse).
    #[wasm_bindgen(js_name = tokenKid)]
    pub fn token_kid(token: &str) -> Option<String> {
        kid_of(token)
    }

    /// Signs `claims` (a JSON object: the typed claims of `TokenClaims` plus extra members) with
    /// a key built by the core: an HS256 `secret` (bytes) or `secret_env` (a name in this engine's
    /// environment), or a PEM private key for `alg` (RS256, ES256, EdDSA). The token validates
    /// under this engine's policy as a `refresh` or access token.
    ///
    /// # Errors
    ///
    /// `secret_refused` for a weak secret in production, `key_invalid`, `algorithm_not_allowed`
    /// and the claim errors of `tokenward_core::sign::sign`, as an error object.
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        &self,
        claims: &str,
        alg: &str,
        kid: Option<String>,
        secret: Option<Vec<u8>>,
        secret_env: Option<String>,
        pem: Option<String>,
        refresh: bool,
    ) -> Result<JsValue, JsValue> {
        let verifier = self.current()?;
        let alg = Algorithm::from_name(alg).ok_or_else(|| {
            error_object(&Error::KeyInvalid {
                reason: format!("unknown algorithm {alg:?}"),
            })
        })?;
        let key = match (secret, secret_env, pem) {
            (Some(secret), None, None) => SigningKey::from_secret(alg, &secret, kid, &self.env),
            (None, Some(name), None) => SigningKey::from_env(alg, &name, kid, &self.env),
            (None, None, Some(pem)) => SigningKey::from_pem(alg, &pem, kid),
            _ => {
                return Err(misuse(
                    "the key needs exactly one of secret, secretEnv or pem",
                ));
            }
        }
        .map_err(|e| error_object(&e))?;
        let claims = token_claims(claims)?;
        let kind = if refresh {
            TokenKind::Refresh
        } else {
            TokenKind::Access
        };
        let token = tokenward_core::sign::sign(verifier.policy(), &key, &claims, kind)
            .map_err(|e| error_object(&e))?;
        let out = Object::new();
        set(&out, "token", &token.into());
        let warnings: Vec<Value> = key
            .warnings()
            .iter()
            .map(|w| json!({ "code": w.code(), "message": w.message() }))
            .collect();
        set(&out, "warnings", &Value::Array(warnings).to_string().into());
        Ok(out.into())
    }
}

impl Engine {
    /// The verifier for the current keys, or `jwks_invalid` while no key set is loaded.
    fn current(&self) -> Result<&Verifier, JsValue> {
        match &self.source {
            Source::Static(v) => Ok(v),
            Source::Remote(cache) => cache.verifier().ok_or_else(|| {
                let reason = match cache.last_error() {
                    Some(Error::JwksInvalid { reason }) => {
                        format!("no key set loaded yet; last attempt: {reason}")
                    }
                    Some(err) => format!("no key set loaded yet; last attempt: {err}"),
                    None => "no key set loaded yet".to_owned(),
                };
                error_object(&Error::JwksInvalid { reason })
            }),
        }
    }
}

/// The OIDC discovery URL of `issuer` (`jwks::discovery_url`).
#[wasm_bindgen(js_name = discoveryUrl)]
pub fn discovery_url_of(issuer: &str) -> String {
    discovery_url(issuer)
}

/// Parses an OIDC discovery document for `issuer`: `{ issuer, jwksUri }`.
///
/// # Errors
///
/// `discovery_invalid`, as an error object.
#[wasm_bindgen(js_name = parseDiscovery)]
pub fn parse_discovery(body: &[u8], issuer: &str) -> Result<JsValue, JsValue> {
    let d = Discovery::parse(body, issuer).map_err(|e| error_object(&e))?;
    let obj = Object::new();
    set(&obj, "issuer", &d.issuer().into());
    set(&obj, "jwksUri", &d.jwks_uri().into());
    Ok(obj.into())
}

#[wasm_bindgen]
impl Prepared {
    /// The token's algorithm name (allowed, and bound to every candidate).
    #[wasm_bindgen(getter)]
    pub fn alg(&self) -> String {
        self.check.algorithm().name().to_owned()
    }

    /// Indices of the candidate keys, in policy order (never empty).
    #[wasm_bindgen(getter)]
    pub fn candidates(&self) -> Vec<u32> {
        candidates(&self.check)
    }

    /// `base64url(header) "." base64url(payload)` as bytes.
    #[wasm_bindgen(getter, js_name = signingInput)]
    pub fn signing_input(&self) -> Vec<u8> {
        self.check.signing_input().to_vec()
    }

    /// The decoded signature.
    #[wasm_bindgen(getter)]
    pub fn signature(&self) -> Vec<u8> {
        self.check.signature().to_vec()
    }

    /// Which key set the candidate indices refer to (see [`Engine::generation`]).
    #[wasm_bindgen(getter)]
    pub fn generation(&self) -> f64 {
        self.generation as f64
    }

    /// Key `index` of the key set this check was prepared with, for native import.
    pub fn key(&self, index: u32) -> JsValue {
        key_info(&self.verifier, index)
    }
}

#[wasm_bindgen]
impl PreparedRequest {
    /// The token's algorithm name.
    #[wasm_bindgen(getter)]
    pub fn alg(&self) -> String {
        self.pending.check().algorithm().name().to_owned()
    }

    /// Indices of the candidate keys, in policy order (never empty).
    #[wasm_bindgen(getter)]
    pub fn candidates(&self) -> Vec<u32> {
        candidates(self.pending.check())
    }

    /// The signing input.
    #[wasm_bindgen(getter, js_name = signingInput)]
    pub fn signing_input(&self) -> Vec<u8> {
        self.pending.check().signing_input().to_vec()
    }

    /// The decoded signature.
    #[wasm_bindgen(getter)]
    pub fn signature(&self) -> Vec<u8> {
        self.pending.check().signature().to_vec()
    }

    /// Which key set the candidate indices refer to (see [`Engine::generation`]).
    #[wasm_bindgen(getter)]
    pub fn generation(&self) -> f64 {
        self.generation as f64
    }

    /// Key `index` of the key set this request was prepared with, for native import.
    pub fn key(&self, index: u32) -> JsValue {
        key_info(&self.verifier, index)
    }
}

/// Key `index` for native import: `{ kid, alg, kty, ... }` with the material as bytes
/// (`secret` for HMAC, `n`/`e` for RSA, `crv`/`point` for EC, `x` for Ed25519).
fn key_info(verifier: &Verifier, index: u32) -> JsValue {
    let key = usize::try_from(index)
        .ok()
        .and_then(|i| verifier.policy().keys().get(i));
    let Some(key) = key else {
        return JsValue::UNDEFINED;
    };
    let obj = Object::new();
    set(&obj, "alg", &key.algorithm().name().into());
    if let Some(kid) = key.kid() {
        set(&obj, "kid", &kid.into());
    }
    let bytes = |b: &[u8]| JsValue::from(Uint8Array::from(b));
    match key.material() {
        KeyMaterial::Hmac(secret) => {
            set(&obj, "kty", &"oct".into());
            set(&obj, "secret", &bytes(secret.expose()));
        }
        KeyMaterial::Rsa { n, e } => {
            set(&obj, "kty", &"RSA".into());
            set(&obj, "n", &bytes(n));
            set(&obj, "e", &bytes(e));
        }
        KeyMaterial::Ec { family, point } => {
            set(&obj, "kty", &"EC".into());
            let crv = match family {
                KeyFamily::EcP256 => "P-256",
                KeyFamily::EcP384 => "P-384",
                _ => "unknown",
            };
            set(&obj, "crv", &crv.into());
            set(&obj, "point", &bytes(point));
        }
        KeyMaterial::Ed25519(x) => {
            set(&obj, "kty", &"OKP".into());
            set(&obj, "x", &bytes(x));
        }
        _ => set(&obj, "kty", &"unknown".into()),
    }
    obj.into()
}

fn complete(
    verifier: &Verifier,
    check: PendingCheck,
    outcome: SignatureOutcome,
    now: f64,
    scopes: &[String],
) -> Result<String, JsValue> {
    let claims = verifier
        .finish(check, outcome, time(now))
        .and_then(|c| c.require_scopes(scopes).map(|()| c))
        .map_err(|e| error_object(&e))?;
    serde_json::to_string(claims.payload()).map_err(|e| misuse(&e.to_string()))
}

/// The decision as JSON text. A `key_not_found` deny also carries `unknownKid`: the raw `kid`
/// of the token (`""` without one), for the JWKS refetch.
fn decision_json(d: &Decision) -> String {
    let mut out = Map::new();
    out.insert("allowed".into(), d.is_allowed().into());
    out.insert("status".into(), d.status().into());
    if let Some(err) = d.error() {
        out.insert("error".into(), error_json(err, d.www_authenticate()));
        if let Error::KeyNotFound { kid, .. } = err {
            out.insert("unknownKid".into(), kid.clone().unwrap_or_default().into());
        }
    }
    if let Some(h) = d.www_authenticate() {
        out.insert("wwwAuthenticate".into(), h.into());
    }
    if let Some(body) = d.body() {
        out.insert("body".into(), body.into());
    }
    if let Some(how) = d.authentication() {
        let how = match how {
            tokenward_core::Authentication::Token => "token",
            tokenward_core::Authentication::Anonymous => "anonymous",
            tokenward_core::Authentication::Disabled => "disabled",
        };
        out.insert("authentication".into(), how.into());
    }
    if let Some(c) = d.claims() {
        out.insert("claims".into(), Value::Object(c.payload().clone()));
    }
    if let Some(sub) = d.subject() {
        out.insert("subject".into(), sub.into());
    }
    let scopes: Vec<Value> = d.scopes().iter().map(|s| s.as_str().into()).collect();
    out.insert("scopes".into(), scopes.into());
    let headers: Vec<Value> = d.headers().iter().map(|(n, v)| json!([n, v])).collect();
    out.insert("headers".into(), headers.into());
    out.insert("audit".into(), d.audit().to_json());
    Value::Object(out).to_string()
}

/// The raw `kid` of a compact JWS header, if it decodes to an object with a string `kid`.
fn kid_of(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    match serde_json::from_slice::<Value>(&bytes).ok()? {
        Value::Object(mut m) => match m.remove("kid") {
            Some(Value::String(kid)) => Some(kid),
            _ => None,
        },
        _ => None,
    }
}

/// `TokenClaims` from a JSON object: typed members through their setters (a wrong type is
/// `claim_invalid`), every other member as `extra`.
fn token_claims(json: &str) -> Result<TokenClaims, JsValue> {
    let doc: Value = serde_json::from_str(json).map_err(|e| misuse(&e.to_string()))?;
    let Value::Object(map) = doc else {
        return Err(misuse("the claims must be an object"));
    };
    let invalid = |claim: &str, want: &str, got: &Value| {
        error_object(&Error::ClaimInvalid {
            claim: claim.to_owned(),
            reason: format!("must be {want}, found {}", kind(got)),
        })
    };
    let mut c = TokenClaims::new();
    for (name, value) in map {
        let text = || value.as_str().map(str::to_owned);
        let strings = || -> Option<Vec<String>> {
            value
                .as_array()?
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        c = match name.as_str() {
            "iss" | "sub" | "jti" | "email" | "session_id" | "user_type" | "rate_limit_tier"
            | "tenant_id" => {
                let Some(s) = text() else {
                    return Err(invalid(&name, "a string", &value));
                };
                match name.as_str() {
                    "iss" => c.iss(s),
                    "sub" => c.sub(s),
                    "jti" => c.jti(s),
                    "email" => c.email(s),
                    "session_id" => c.session_id(s),
                    "user_type" => c.user_type(s),
                    "rate_limit_tier" => c.rate_limit_tier(s),
                    _ => c.tenant_id(s),
                }
            }
            "aud" => match (text(), strings()) {
                (Some(s), _) => c.aud(s),
                (None, Some(list)) => c.audiences(list),
                _ => return Err(invalid(&name, "a string or an array of strings", &value)),
            },
            "scope" => match (text(), strings()) {
                (Some(s), _) => c.scope(s),
                (None, Some(list)) => c.scopes(list),
                _ => return Err(invalid(&name, "a string or an array of strings", &value)),
            },
            "roles" | "permissions" => {
                let Some(list) = strings() else {
                    return Err(invalid(&name, "an array of strings", &value));
                };
                if name == "roles" {
                    c.roles(list)
                } else {
                    c.permissions(list)
                }
            }
            "exp" | "iat" => {
                let Some(n) = value.as_i64() else {
                    return Err(invalid(&name, "an integer number of seconds", &value));
                };
                if name == "exp" { c.exp(n) } else { c.iat(n) }
            }
            _ => c.extra(name, value),
        };
    }
    Ok(c)
}

fn candidates(check: &PendingCheck) -> Vec<u32> {
    check
        .candidates()
        .iter()
        .filter_map(|h| u32::try_from(h.index()).ok())
        .collect()
}

/// The candidate of `check` whose index the host reported, or `Invalid` (-1, or a key that is
/// not a candidate: the core would refuse it anyway).
fn outcome_of(check: &PendingCheck, verified: i32) -> SignatureOutcome {
    u32::try_from(verified)
        .ok()
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| check.candidates().iter().copied().find(|h| h.index() == i))
        .map_or(SignatureOutcome::Invalid, SignatureOutcome::Verified)
}

/// The `delegate` bit of an algorithm's key family.
fn family_bit(alg: Algorithm) -> u32 {
    match alg.family() {
        KeyFamily::Hmac => 1,
        KeyFamily::Rsa => 2,
        KeyFamily::EcP256 | KeyFamily::EcP384 => 4,
        KeyFamily::Ed25519 => 8,
    }
}

fn time(now: f64) -> UnixTime {
    // The JS layer passes a finite number of seconds; `as` saturates and maps NaN to 0.
    UnixTime(now.floor() as i64)
}

fn build_request(
    method: &str,
    path: &str,
    query: Option<String>,
    headers: &[String],
    requests_in_window: Option<f64>,
) -> Request {
    let mut req = Request::new(method, path);
    for pair in headers.chunks_exact(2) {
        if let [name, value] = pair {
            req.push_header(name.as_str(), value.as_str());
        }
    }
    if let Some(q) = query {
        req = req.query(q);
    }
    if let Some(n) = requests_in_window.filter(|n| n.is_finite() && *n >= 0.0) {
        req = req.requests_in_window(n as u64);
    }
    req
}

fn parse_env(env: &str) -> Result<Env, JsValue> {
    let value: Value = serde_json::from_str(env).map_err(|e| misuse(&e.to_string()))?;
    match value {
        Value::Null => Ok(Env::new()),
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                other => Err(misuse(&format!(
                    "env.{k} must be a string, got {}",
                    kind(&other)
                ))),
            })
            .collect(),
        other => Err(misuse(&format!(
            "env must be an object, got {}",
            kind(&other)
        ))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `claim` and `reason` (jose's vocabulary) for the claim-check errors.
fn claim_of(err: &Error) -> Option<(&str, &'static str)> {
    match err {
        Error::TokenExpired { .. } => Some(("exp", "check_failed")),
        Error::TokenNotYetValid { .. } => Some(("nbf", "check_failed")),
        Error::IssuerInvalid { .. } => Some(("iss", "check_failed")),
        Error::AudienceInvalid { .. } => Some(("aud", "check_failed")),
        Error::ClaimMissing { claim } => Some((claim.as_str(), "missing")),
        Error::ClaimInvalid { claim, .. } => Some((claim.as_str(), "invalid")),
        Error::TokenLifetimeExceeded { .. } => Some(("exp", "check_failed")),
        _ => None,
    }
}

fn error_json(err: &Error, www_authenticate: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("code".into(), err.code().into());
    m.insert("status".into(), err.status().into());
    m.insert("message".into(), err.to_string().into());
    if let Some(h) = www_authenticate {
        m.insert("wwwAuthenticate".into(), h.into());
    }
    if let Some((claim, reason)) = claim_of(err) {
        m.insert("claim".into(), claim.into());
        m.insert("reason".into(), reason.into());
    }
    Value::Object(m)
}

fn error_object(err: &Error) -> JsValue {
    let obj = Object::new();
    set(&obj, "code", &err.code().into());
    set(&obj, "status", &err.status().into());
    set(&obj, "message", &err.to_string().into());
    if let Some(h) = err.www_authenticate() {
        set(&obj, "wwwAuthenticate", &h.into());
    }
    if let Some((claim, reason)) = claim_of(err) {
        set(&obj, "claim", &claim.into());
        set(&obj, "reason", &reason.into());
    }
    obj.into()
}

/// A caller mistake (bad argument), not a catalog code: the JS layer throws a `TypeError`.
fn misuse(message: &str) -> JsValue {
    let obj = Object::new();
    set(&obj, "misuse", &true.into());
    set(&obj, "message", &message.into());
    obj.into()
}

fn set(obj: &Object, name: &str, value: &JsValue) {
    // Reflect::set on a fresh plain object cannot fail; ignoring keeps the boundary panic-free.
    let _ = Reflect::set(obj, &name.into(), value);
}
