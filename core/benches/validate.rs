//! `Verifier::validate` per algorithm next to a bare `jsonwebtoken::decode` of the same token with an
//! equivalent `Validation` (exp/nbf with 60 s leeway, iss, aud, exp/iss/aud required), one group
//! per algorithm so the overhead shows as a ratio. Tokens are minted here with jsonwebtoken from the
//! dev keys in `vectors/keys/`. Run: `cargo bench -p tokenward-core --bench validate`.

// Setup failures (a key that does not load, a token that does not validate) must stop the bench:
// timing a failing path would report a number for the wrong thing.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};
use tokenward_core::{Env, Policy, UnixTime, Verifier};

const HMAC_SECRET: &str = include_str!("../../vectors/keys/hmac.secret");
const RSA_PRIVATE: &str = include_str!("../../vectors/keys/rsa-2048.private.pem");
const RSA_PUBLIC: &str = include_str!("../../vectors/keys/rsa-2048.public.pem");
const P256_PRIVATE: &str = include_str!("../../vectors/keys/ec-p256.private.pem");
const P256_PUBLIC: &str = include_str!("../../vectors/keys/ec-p256.public.pem");
const P384_PRIVATE: &str = include_str!("../../vectors/keys/ec-p384.private.pem");
const P384_PUBLIC: &str = include_str!("../../vectors/keys/ec-p384.public.pem");
const ED_PRIVATE: &str = include_str!("../../vectors/keys/ed25519.private.pem");
const ED_PUBLIC: &str = include_str!("../../vectors/keys/ed25519.public.pem");

/// tokenward's `now`. jsonwebtoken reads the system clock instead, so `exp` is far in the future
/// and the payload has no `iat` (which would trip tokenward's lifetime check).
const NOW: i64 = 1_767_225_600;
const ISSUER: &str = "https://idp.example.com";
const AUDIENCES: [&str; 2] = ["api", "mcp"];

/// About 300 bytes of JSON, shaped like a real access token.
fn payload() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "user-7f3c2a9e-4b1d-4e8a-9c6f-2d5b8a1e0f47",
        "aud": ["api", "mcp"],
        "exp": 4_102_444_800_i64,
        "nbf": NOW - 60,
        "jti": "b6c1f0a2-93de-4c55-8e21-7a0d4f9b3e18",
        "scope": "tools:read tools:write demo",
        "client_id": "tokenward-bench",
        "tenant_id": "tenant-0042",
        "roles": ["reader", "writer"],
        "session_id": "sess-5d2e9b71",
    })
}

struct Case {
    alg: Algorithm,
    name: &'static str,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The policy's `keys` member (the HMAC secret comes through the env map).
    keys: Value,
}

fn cases() -> Vec<Case> {
    let secret = HMAC_SECRET.trim();
    let pem = |kid: &str, alg: &str, key: &str| json!({ "pem": [{ "kid": kid, "alg": alg, "key": key }] });
    vec![
        Case {
            alg: Algorithm::HS256,
            name: "HS256",
            encoding: EncodingKey::from_secret(secret.as_bytes()).expect("hmac encoding key"),
            decoding: DecodingKey::from_secret(secret.as_bytes()).expect("hmac decoding key"),
            keys: json!({ "secret_env": "JWT_SECRET" }),
        },
        Case {
            alg: Algorithm::RS256,
            name: "RS256",
            encoding: EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).expect("rsa private key"),
            decoding: DecodingKey::from_rsa_pem(RSA_PUBLIC.as_bytes()).expect("rsa public key"),
            keys: pem("k1", "RS256", RSA_PUBLIC),
        },
        Case {
            alg: Algorithm::PS256,
            name: "PS256",
            encoding: EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).expect("rsa private key"),
            decoding: DecodingKey::from_rsa_pem(RSA_PUBLIC.as_bytes()).expect("rsa public key"),
            keys: pem("k1", "PS256", RSA_PUBLIC),
        },
        Case {
            alg: Algorithm::ES256,
            name: "ES256",
            encoding: EncodingKey::from_ec_pem(P256_PRIVATE.as_bytes()).expect("p-256 private key"),
            decoding: DecodingKey::from_ec_pem(P256_PUBLIC.as_bytes()).expect("p-256 public key"),
            keys: pem("k1", "ES256", P256_PUBLIC),
        },
        Case {
            alg: Algorithm::ES384,
            name: "ES384",
            encoding: EncodingKey::from_ec_pem(P384_PRIVATE.as_bytes()).expect("p-384 private key"),
            decoding: DecodingKey::from_ec_pem(P384_PUBLIC.as_bytes()).expect("p-384 public key"),
            keys: pem("k1", "ES384", P384_PUBLIC),
        },
        Case {
            alg: Algorithm::EdDSA,
            name: "EdDSA",
            encoding: EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).expect("ed25519 private key"),
            decoding: DecodingKey::from_ed_pem(ED_PUBLIC.as_bytes()).expect("ed25519 public key"),
            keys: pem("k1", "EdDSA", ED_PUBLIC),
        },
    ]
}

fn validate(c: &mut Criterion) {
    let payload = payload();
    let env = Env::from([("JWT_SECRET".to_owned(), HMAC_SECRET.trim().to_owned())]);
    for case in cases() {
        let mut header = Header::new(case.alg);
        header.kid = Some("k1".to_owned());
        let token = jsonwebtoken::encode(&header, &payload, &case.encoding).expect("mint token");

        let policy = json!({
            "security": { "jwt_issuer": ISSUER, "jwt_audiences": AUDIENCES },
            "keys": case.keys,
            "algorithms": [case.name],
            "clock_skew_seconds": 60,
        });
        let verifier = Verifier::new(Policy::from_json(&policy, &env).expect("bench policy"));
        verifier
            .validate(&token, UnixTime(NOW))
            .expect("tokenward accepts the bench token");

        let mut validation = Validation::new(case.alg);
        validation.leeway = 60;
        validation.validate_nbf = true;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&AUDIENCES);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        jsonwebtoken::decode::<Map<String, Value>>(&token, &case.decoding, &validation)
            .expect("jsonwebtoken accepts the bench token");

        let mut group = c.benchmark_group(case.name);
        group.bench_function("tokenward", |b| {
            b.iter(|| verifier.validate(black_box(&token), UnixTime(NOW)))
        });
        group.bench_function("jsonwebtoken", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Map<String, Value>>(
                    black_box(&token),
                    &case.decoding,
                    &validation,
                )
            })
        });
        group.finish();
    }
}

criterion_group!(benches, validate);
criterion_main!(benches);
