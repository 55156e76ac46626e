//! `Verifier::validate` on arbitrary bytes: any input is `Ok` or `Err`, never a panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tokenward_core::{Env, Policy, UnixTime, Verifier};

// An HMAC secret (from the env map) plus an RS256 key, so both verifier paths are reachable.
static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    let doc = policy_doc();
    let env = Env::from([("JWT_SECRET".into(), include_str!("../../vectors/keys/hmac.secret").trim().into())]);
    Verifier::new(Policy::parse(&doc, &env).expect("fuzz policy loads"))
});

fn policy_doc() -> String {
    let pem = include_str!("../../vectors/keys/rsa-2048.public.pem").replace('\n', "\\n");
    format!(
        r#"{{"security": {{"jwt_issuer": "https://idp.example.com", "jwt_audiences": ["api", "mcp"]}},
            "keys": {{"secret_env": "JWT_SECRET", "pem": [{{"kid": "rsa-1", "alg": "RS256", "key": "{pem}"}}]}},
            "algorithms": ["HS256", "RS256"]}}"#
    )
}

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    let _ = VERIFIER.validate(&token, UnixTime(1_767_225_600));
});
