//! The tokenward demo: mints a handful of tokens with `jsonwebtoken` (an independent signer) and the
//! dev keys from `vectors/keys/`, validates each with `tokenward-core` at a fixed `now`, and prints
//! the decision a host would act on. Run it with `scripts/demo`.

use std::error::Error as StdError;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokenward_core::{Env, Policy, UnixTime, Verifier};

// Dev-only test keys, checked in with the vectors. Never use them for anything real.
const ED25519_PRIVATE: &str = include_str!("../../vectors/keys/ed25519.private.pem");
const ED25519_PUBLIC: &str = include_str!("../../vectors/keys/ed25519.public.pem");

/// The instant every decision is taken at (2026-01-01T00:00:00Z); the core never reads a clock.
const NOW: i64 = 1_767_225_600;
const ISSUER: &str = "https://idp.example.com";
const REQUIRED_SCOPES: &[&str] = &["demo"];

fn main() -> Result<(), Box<dyn StdError>> {
    let policy = json!({
        "security": {
            "jwt_issuer": ISSUER,
            "jwt_audiences": ["api", "mcp"],
            "jwt_access_token_expiration": 3600,
        },
        "keys": { "pem": [{ "kid": "ed-1", "alg": "EdDSA", "key": ED25519_PUBLIC }] },
        "clock_skew_seconds": 60,
    });
    let policy = Policy::from_json(&policy, &Env::new())?;
    for w in policy.warnings() {
        println!("policy warning {}: {}", w.code(), w.message());
    }
    let verifier = Verifier::new(policy);

    let key = EncodingKey::from_ed_pem(ED25519_PRIVATE.as_bytes())?;
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("ed-1".to_owned());
    let mint = |claims: Value| jsonwebtoken::encode(&header, &claims, &key);
    let claims = |aud: &str, scope: &str, iat: i64| {
        json!({
            "iss": ISSUER, "sub": "user-42", "aud": aud, "scope": scope,
            "iat": iat, "exp": iat + 3600, "jti": format!("demo-{iat}"),
        })
    };

    let valid = mint(claims("api", "demo tools:read", NOW - 60))?;
    let cases = [
        ("valid", valid.clone()),
        ("expired", mint(claims("api", "demo", NOW - 7200))?),
        ("wrong audience", mint(claims("billing", "demo", NOW - 60))?),
        (
            "missing scope",
            mint(claims("mcp", "tools:read", NOW - 60))?,
        ),
        ("tampered signature", tamper_signature(&valid)),
        ("alg none", alg_none(&claims("api", "demo", NOW - 60))),
    ];

    println!(
        "policy: issuer {ISSUER}, audiences [api, mcp], required scopes {REQUIRED_SCOPES:?}, now {NOW}\n"
    );
    for (name, token) in &cases {
        println!("== {name}\ntoken: {token}");
        let decision = verifier
            .validate(token, UnixTime(NOW))
            .and_then(|claims| claims.require_scopes(REQUIRED_SCOPES).map(|()| claims));
        match decision {
            Ok(claims) => {
                let scope = claims
                    .payload()
                    .get("scope")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                println!(
                    "allow: sub={} scope=\"{scope}\"",
                    claims.sub().unwrap_or("-")
                );
            }
            Err(err) => {
                println!("deny: {} (HTTP {})", err.code(), err.status());
                if let Some(challenge) = err.www_authenticate() {
                    println!("WWW-Authenticate: {challenge}");
                }
                println!("message: {err}");
            }
        }
        println!();
    }
    Ok(())
}

/// Changes the first character of the signature segment (the last one could land on
/// non-canonical trailing bits and fail as `token_malformed` instead).
fn tamper_signature(token: &str) -> String {
    let Some((signing_input, signature)) = token.rsplit_once('.') else {
        return token.to_owned();
    };
    let mut chars = signature.chars();
    let first = match chars.next() {
        Some('A') => 'B',
        _ => 'A',
    };
    format!("{signing_input}.{first}{}", chars.as_str())
}

/// An unsigned token (`alg: none`, empty signature): the classic downgrade attack.
fn alg_none(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}
