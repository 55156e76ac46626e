//! Helpers shared by the tests: HS256 tokens, configurations.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use tokenward_host_tests::{Shared, Vm, VmOptions};

/// The HMAC secret the scenario policies use (32+ bytes, not a placeholder).
pub const SECRET: &str = "host-tests-secret-0123456789-abcdefghijkl";
pub const ISSUER: &str = "https://idp.example.com";

/// A policy with one inline HS256 secret from the environment.
pub fn hs_policy(filter: Value) -> Value {
    json!({
        "security": { "jwt_issuer": ISSUER, "jwt_audiences": ["api"] },
        "keys": { "secret_env": "TW_SECRET" },
        "algorithms": ["HS256"],
        "filter": filter,
    })
}

/// Signs `claims` with HS256 (`ring`'s HMAC: independent of the code under test).
pub fn hs256(claims: &Value, kid: Option<&str>) -> String {
    let mut header = json!({ "alg": "HS256", "typ": "JWT" });
    if let Some(k) = kid {
        header["kid"] = json!(k);
    }
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", B64.encode(tag.as_ref()))
}

/// Claims valid from `iat` for `ttl` seconds.
pub fn claims(sub: &str, iat: u64, ttl: u64) -> Value {
    json!({ "iss": ISSUER, "aud": "api", "sub": sub, "iat": iat, "exp": iat + ttl })
}

/// A started instance with this configuration and `TW_SECRET` set.
pub fn vm(shared: &Shared, config: &Value) -> Vm {
    let mut options = VmOptions::config(config.to_string());
    options.env = vec![("TW_SECRET".into(), SECRET.into())];
    let mut vm = crate::harness().vm(shared, options).unwrap();
    assert!(
        vm.start().unwrap(),
        "configuration refused: {:?}",
        vm.state().logs
    );
    vm
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}
