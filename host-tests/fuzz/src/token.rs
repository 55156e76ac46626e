//! Tokens built from a valid structure (fuzzed header and claims, a fuzzed lifetime around the
//! harness clock) and really signed with the test keys of `vectors/keys/`, so they get past the
//! parser into key selection, signature and claim checks. Signing uses `ring`, independently of
//! the code under test, and is deterministic (PKCS#1 v1.5; ECDSA with a fixed nonce source).

use std::sync::LazyLock;

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use serde_json::{Value, json};

use crate::json::{ISSUER, Mutation, secret};

/// How the token is signed (and the `alg` its header names before the header edits).
#[derive(Clone, Debug, Arbitrary)]
pub enum SignAlg {
    /// HMAC-SHA256 with the test secret (`kid` `hs-1` inline).
    Hs256,
    /// HMAC-SHA384 with the test secret.
    Hs384,
    /// HMAC-SHA512 with the test secret.
    Hs512,
    /// RS256 with `rsa-2048` (`kid` `rsa-1`).
    Rs256,
    /// ES256 with `ec-p256` (`kid` `ec-256`).
    Es256,
    /// `alg: none` and an empty signature.
    Unsigned,
    /// `alg: HS256` and these bytes as the signature.
    Garbage(Vec<u8>),
}

impl SignAlg {
    fn name(&self) -> &'static str {
        match self {
            Self::Hs256 | Self::Garbage(_) => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::Unsigned => "none",
        }
    }
    fn kid(&self) -> &'static str {
        match self {
            Self::Rs256 => "rsa-1",
            Self::Es256 => "ec-256",
            _ => "hs-1",
        }
    }
}

/// The header's `kid`.
#[derive(Clone, Debug, Arbitrary)]
pub enum Kid {
    /// The kid of the signing key.
    Matching,
    /// No `kid`.
    Absent,
    /// A kid of the test key set, or one no key set has.
    Known(u8),
    /// Any string.
    Raw(String),
}

const KIDS: &[&str] = &[
    "hs-1", "rsa-1", "rsa-2", "ec-256", "ec-384", "ed-1", "k1", "unknown",
];

/// `iat` and `exp` around the harness clock.
#[derive(Clone, Debug, Arbitrary)]
pub enum Lifetime {
    /// Issued now, valid for 10 minutes.
    Normal,
    /// Issued `iat_offset` seconds from now, valid for `ttl` seconds.
    Around {
        /// Seconds from now (negative: in the past).
        iat_offset: i16,
        /// Seconds from `iat` to `exp`.
        ttl: i32,
    },
    /// Any values, `nbf` included.
    Absolute {
        /// `iat`.
        iat: i64,
        /// `exp`.
        exp: i64,
        /// `nbf`.
        nbf: i64,
    },
}

/// A token built from a valid one.
#[derive(Clone, Debug, Arbitrary)]
pub struct Built {
    /// The signature.
    pub alg: SignAlg,
    /// The `kid`.
    pub kid: Kid,
    /// `iat`, `exp`.
    pub lifetime: Lifetime,
    /// Edits of the JOSE header.
    pub header: Vec<Mutation>,
    /// Edits of the claims.
    pub claims: Vec<Mutation>,
}

impl Built {
    /// A valid HS256 token (`kid` `hs-1`, issued now for 10 minutes).
    pub fn ordinary() -> Self {
        Self {
            alg: SignAlg::Hs256,
            kid: Kid::Matching,
            lifetime: Lifetime::Normal,
            header: Vec::new(),
            claims: Vec::new(),
        }
    }

    /// The compact token at clock `now` (seconds).
    pub fn mint(&self, now: i64) -> String {
        let mut header = json!({ "alg": self.alg.name(), "typ": "JWT" });
        let kid = match &self.kid {
            Kid::Matching => Some(self.alg.kid().to_owned()),
            Kid::Absent => None,
            Kid::Known(i) => Some(KIDS[usize::from(*i) % KIDS.len()].to_owned()),
            Kid::Raw(s) => Some(s.clone()),
        };
        if let Some(kid) = kid {
            header["kid"] = Value::String(kid);
        }
        let (iat, exp) = match &self.lifetime {
            Lifetime::Normal => (now, now.saturating_add(600)),
            Lifetime::Around { iat_offset, ttl } => {
                let iat = now.saturating_add(i64::from(*iat_offset));
                (iat, iat.saturating_add(i64::from(*ttl)))
            }
            Lifetime::Absolute { iat, exp, .. } => (*iat, *exp),
        };
        let mut claims = json!({
            "iss": ISSUER, "aud": "api", "sub": "u1", "iat": iat, "exp": exp, "jti": "jti-1",
            "scope": "user tools:read", "tenant_id": "acme", "roles": ["a", "b"],
        });
        if let Lifetime::Absolute { nbf, .. } = &self.lifetime {
            claims["nbf"] = json!(nbf);
        }
        for m in &self.header {
            m.apply(&mut header);
        }
        for m in &self.claims {
            m.apply(&mut claims);
        }
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let signature = sign(&self.alg, input.as_bytes());
        format!("{input}.{}", B64.encode(signature))
    }
}

fn sign(alg: &SignAlg, input: &[u8]) -> Vec<u8> {
    let hmac = |a| {
        let key = ring::hmac::Key::new(a, secret().as_bytes());
        ring::hmac::sign(&key, input).as_ref().to_vec()
    };
    match alg {
        SignAlg::Hs256 => hmac(ring::hmac::HMAC_SHA256),
        SignAlg::Hs384 => hmac(ring::hmac::HMAC_SHA384),
        SignAlg::Hs512 => hmac(ring::hmac::HMAC_SHA512),
        SignAlg::Rs256 => {
            let key = &KEYS.0;
            let mut sig = vec![0; key.public().modulus_len()];
            if let Err(e) = key.sign(&RSA_PKCS1_SHA256, &*RNG, input, &mut sig) {
                panic!("RS256 signing: {e}");
            }
            sig
        }
        SignAlg::Es256 => match KEYS.1.sign(&*RNG, input) {
            Ok(sig) => sig.as_ref().to_vec(),
            Err(e) => panic!("ES256 signing: {e}"),
        },
        SignAlg::Unsigned => Vec::new(),
        SignAlg::Garbage(bytes) => bytes.clone(),
    }
}

// ring's fixed "random" source (its test API, deprecated but present in 0.17.14, pinned by the
// lockfile): ECDSA nonces still mix in the key and the message, so signatures are valid and the
// same input always mints the same token.
#[allow(deprecated)]
static RNG: LazyLock<ring::test::rand::FixedByteRandom> =
    LazyLock::new(|| ring::test::rand::FixedByteRandom { byte: 0x5a });

static KEYS: LazyLock<(RsaKeyPair, EcdsaKeyPair)> = LazyLock::new(|| {
    let rsa = RsaKeyPair::from_pkcs8(&pem(include_str!(
        "../../../vectors/keys/rsa-2048.private.pem"
    )));
    let ec = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &pem(include_str!("../../../vectors/keys/ec-p256.private.pem")),
        &*RNG,
    );
    match (rsa, ec) {
        (Ok(rsa), Ok(ec)) => (rsa, ec),
        (rsa, ec) => panic!("test keys: rsa {:?}, ec {:?}", rsa.err(), ec.err()),
    }
});

/// The DER inside a PEM block.
fn pem(text: &str) -> Vec<u8> {
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    match STANDARD.decode(b64) {
        Ok(der) => der,
        Err(e) => panic!("PEM: {e}"),
    }
}
