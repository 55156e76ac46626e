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
//! For requests, [`Engine::authorize_prepare`] and [`Engine::authorize_finish`] do the same
//! around the core's unchanged [`Verifier::authorize`]: the host's outcome is handed to the core
//! through [`HostOutcome`], a [`SignatureVerifier`] that answers for exactly that signing input
//! and signature and falls back to the in-wasm [`RustCrypto`] for anything else.

// Library code must never panic across the wasm boundary (workspace lints deny unwrap, expect,
// panic and unchecked indexing); `unsafe` is never written here.
#![forbid(unsafe_code)]
#![deny(missing_docs, unused_must_use)]

use std::sync::{Arc, Mutex, PoisonError};

use js_sys::{Object, Reflect, Uint8Array};
use serde_json::{Map, Value, json};
use tokenward_core::extract::Found;
use tokenward_core::{
    Algorithm, Env, Error, Key, KeyFamily, KeyMaterial, PendingCheck, Policy, Request, RustCrypto,
    SignatureOutcome, SignatureVerifier, UnixTime, Verifier,
};
use wasm_bindgen::prelude::*;

/// A loaded policy and its verifier.
#[wasm_bindgen]
pub struct Engine {
    verifier: Verifier,
    slot: Arc<Mutex<Option<Outcome>>>,
}

/// A token that passed every check up to the signature, waiting for the host's verdict.
#[wasm_bindgen]
pub struct Prepared {
    check: PendingCheck,
}

/// A request whose token (if any) waits for the host's signature verdict.
#[wasm_bindgen]
pub struct PreparedRequest {
    request: Request,
    check: Option<PendingCheck>,
}

/// The host's verdict on one signing input and signature.
struct Outcome {
    signing_input: Vec<u8>,
    signature: Vec<u8>,
    /// Address of the key (inside the verifier's `Arc<Policy>`, which never moves) that verified.
    verified: Option<usize>,
}

/// A [`SignatureVerifier`] that answers with the host's verdict for the one signature it was
/// given, and with [`RustCrypto`] for anything else (so a mismatch can only cost time).
pub struct HostOutcome {
    slot: Arc<Mutex<Option<Outcome>>>,
}

impl SignatureVerifier for HostOutcome {
    fn verify(&self, alg: Algorithm, key: &Key, signing_input: &[u8], signature: &[u8]) -> bool {
        {
            let guard = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(o) = guard.as_ref()
                && o.signing_input == signing_input
                && o.signature == signature
            {
                return o.verified == Some(key_addr(key));
            }
        }
        RustCrypto.verify(alg, key, signing_input, signature)
    }
}

fn key_addr(key: &Key) -> usize {
    std::ptr::from_ref(key) as usize
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
        let slot = Arc::new(Mutex::new(None));
        let verifier = Verifier::with_crypto(policy, HostOutcome { slot: slot.clone() });
        Ok(Engine { verifier, slot })
    }

    /// Load-time warnings, as a JSON array of `{ code, message }`.
    pub fn warnings(&self) -> String {
        let list: Vec<Value> = self
            .verifier
            .policy()
            .warnings()
            .iter()
            .map(|w| json!({ "code": w.code(), "message": w.message() }))
            .collect();
        Value::Array(list).to_string()
    }

    /// How many keys the policy holds.
    #[wasm_bindgen(js_name = keyCount)]
    pub fn key_count(&self) -> u32 {
        u32::try_from(self.verifier.policy().keys().len()).unwrap_or(u32::MAX)
    }

    /// Key `index` for native import: `{ kid, alg, kty, ... }` with the material as bytes
    /// (`secret` for HMAC, `n`/`e` for RSA, `crv`/`point` for EC, `x` for Ed25519).
    pub fn key(&self, index: u32) -> JsValue {
        let key = usize::try_from(index)
            .ok()
            .and_then(|i| self.verifier.policy().keys().get(i));
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

    /// Validates `token` at `now` with the in-wasm crypto, then requires `scopes`; returns the
    /// payload as JSON text.
    ///
    /// # Errors
    ///
    /// The first failing check, as an error object.
    pub fn verify(&self, token: &str, now: f64, scopes: Vec<String>) -> Result<String, JsValue> {
        let pending = self.verifier.prepare(token).map_err(|e| error_object(&e))?;
        let outcome = RustCrypto.check(&self.verifier, &pending);
        self.complete(pending, outcome, now, &scopes)
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
        let check = self.verifier.prepare(token).map_err(|e| error_object(&e))?;
        if delegate & family_bit(check.algorithm()) != 0 {
            return Ok(Prepared { check }.into());
        }
        let outcome = RustCrypto.check(&self.verifier, &check);
        self.complete(check, outcome, now, &scopes)
            .map(JsValue::from)
    }

    /// Runs the checks up to the signature and hands the signature work to the host.
    ///
    /// # Errors
    ///
    /// `token_too_large`, `token_malformed`, `algorithm_not_allowed`, `token_type_invalid` or
    /// `key_not_found`, as an error object.
    pub fn prepare(&self, token: &str) -> Result<Prepared, JsValue> {
        let check = self.verifier.prepare(token).map_err(|e| error_object(&e))?;
        Ok(Prepared { check })
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
        let check = prepared.check;
        let outcome = match verified {
            -2 => RustCrypto.check(&self.verifier, &check),
            i => outcome_of(&check, i),
        };
        self.complete(check, outcome, now, &scopes)
    }

    /// Decides a request with the in-wasm crypto. `headers` is a flat `[name, value, ...]` list.
    /// Returns the decision as JSON text.
    pub fn authorize(
        &self,
        method: &str,
        path: &str,
        query: Option<String>,
        headers: Vec<String>,
        requests_in_window: Option<f64>,
        now: f64,
    ) -> String {
        let request = build_request(method, path, query, &headers, requests_in_window);
        self.decide(&request, None, now)
    }

    /// Builds the request and, when it carries a token that passes the pre-signature checks,
    /// exposes that token's signature work to the host.
    #[wasm_bindgen(js_name = authorizePrepare)]
    pub fn authorize_prepare(
        &self,
        method: &str,
        path: &str,
        query: Option<String>,
        headers: Vec<String>,
        requests_in_window: Option<f64>,
    ) -> PreparedRequest {
        let request = build_request(method, path, query, &headers, requests_in_window);
        let check = match self.verifier.policy().extraction().extract(&request) {
            Ok(Some(Found { token, .. })) => self.verifier.prepare(&token).ok(),
            _ => None,
        };
        PreparedRequest { request, check }
    }

    /// Decides a [`PreparedRequest`] with the host's verdict (`verified` as in
    /// [`Engine::finish`]; ignored when the request needed no signature). Returns JSON text.
    #[wasm_bindgen(js_name = authorizeFinish)]
    pub fn authorize_finish(&self, prepared: PreparedRequest, verified: i32, now: f64) -> String {
        let PreparedRequest { request, check } = prepared;
        let outcome = match (check, verified) {
            (Some(check), i) if i >= -1 => {
                let addr = match outcome_of(&check, i) {
                    SignatureOutcome::Verified(h) => self.verifier.key(h).map(key_addr),
                    SignatureOutcome::Invalid => None,
                };
                Some(Outcome {
                    signing_input: check.signing_input().to_vec(),
                    signature: check.signature().to_vec(),
                    verified: addr,
                })
            }
            _ => None,
        };
        self.decide(&request, outcome, now)
    }
}

impl Engine {
    fn complete(
        &self,
        pending: PendingCheck,
        outcome: SignatureOutcome,
        now: f64,
        scopes: &[String],
    ) -> Result<String, JsValue> {
        let claims = self
            .verifier
            .finish(pending, outcome, time(now))
            .and_then(|c| c.require_scopes(scopes).map(|()| c))
            .map_err(|e| error_object(&e))?;
        serde_json::to_string(claims.payload()).map_err(|e| misuse(&e.to_string()))
    }

    fn decide(&self, request: &Request, outcome: Option<Outcome>, now: f64) -> String {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = outcome;
        let d = self.verifier.authorize(request, time(now));
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = None;

        let mut out = Map::new();
        out.insert("allowed".into(), d.is_allowed().into());
        out.insert("status".into(), d.status().into());
        if let Some(err) = d.error() {
            out.insert("error".into(), error_json(err, d.www_authenticate()));
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
}

#[wasm_bindgen]
impl PreparedRequest {
    /// Whether the host has a signature to check (else pass any `verified`).
    #[wasm_bindgen(getter, js_name = needsSignature)]
    pub fn needs_signature(&self) -> bool {
        self.check.is_some()
    }

    /// The token's algorithm name, or an empty string.
    #[wasm_bindgen(getter)]
    pub fn alg(&self) -> String {
        self.check
            .as_ref()
            .map_or_else(String::new, |c| c.algorithm().name().to_owned())
    }

    /// Indices of the candidate keys (empty without a signature to check).
    #[wasm_bindgen(getter)]
    pub fn candidates(&self) -> Vec<u32> {
        self.check.as_ref().map(candidates).unwrap_or_default()
    }

    /// The signing input (empty without a signature to check).
    #[wasm_bindgen(getter, js_name = signingInput)]
    pub fn signing_input(&self) -> Vec<u8> {
        self.check
            .as_ref()
            .map(|c| c.signing_input().to_vec())
            .unwrap_or_default()
    }

    /// The decoded signature (empty without a signature to check).
    #[wasm_bindgen(getter)]
    pub fn signature(&self) -> Vec<u8> {
        self.check
            .as_ref()
            .map(|c| c.signature().to_vec())
            .unwrap_or_default()
    }
}

/// The in-wasm provider over a pending check's candidates.
trait CheckWith {
    fn check(&self, verifier: &Verifier, pending: &PendingCheck) -> SignatureOutcome;
}

impl CheckWith for RustCrypto {
    fn check(&self, verifier: &Verifier, pending: &PendingCheck) -> SignatureOutcome {
        for &h in pending.candidates() {
            if let Some(key) = verifier.key(h)
                && self.verify(
                    pending.algorithm(),
                    key,
                    pending.signing_input(),
                    pending.signature(),
                )
            {
                return SignatureOutcome::Verified(h);
            }
        }
        SignatureOutcome::Invalid
    }
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
