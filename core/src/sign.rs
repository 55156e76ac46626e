//! Token issuance: signing the admin and session tokens a platform mints itself.
//!
//! The validator's rules apply in reverse: a [`SigningKey`] from a weak HMAC secret is refused in
//! production with the same `secret_refused` error [`crate::Policy::parse`] gives, and [`sign`]
//! refuses claims that the same policy would reject (`iss`, `aud`, lifetime, algorithm, `typ`,
//! required claims, size), so every token it returns validates under that policy. The core has no
//! clock and no randomness: the caller supplies `iat`, `exp` and `jti`.
//!
//! Signature math is `jsonwebtoken`'s RustCrypto provider, passed explicitly. HS256, ES256 (RFC 6979
//! deterministic nonces) and EdDSA read no randomness; RS256 (PKCS#1 v1.5) output is deterministic,
//! but the `rsa` crate blinds the private-key operation with the operating system's RNG.

use std::fmt;

use jsonwebtoken::EncodingKey;
use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
use jsonwebtoken::jwk::EllipticCurve;
use serde_json::{Map, Value};

use crate::error::{Warning, quote};
use crate::{Algorithm, Env, Error, Policy, Secret, TokenKind, b64};

/// The algorithms tokens can be issued with.
pub const SIGNING_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// Smallest RSA modulus a signing key may have, as for verification keys.
const MIN_RSA_BITS: usize = 2048;

/// Where a refused [`SigningKey::from_secret`] secret came from, in `secret_refused`.
const SECRET_SOURCE: &str = "SigningKey::from_secret";

/// The environment variable that selects dev mode, as in the policy loader.
const ENV_MODE: &str = "TOKENWARD_ENV";

/// The claims [`TokenClaims`] sets through typed methods; `extra` must not repeat them.
const TYPED_CLAIMS: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "jti",
    "email",
    "session_id",
    "user_type",
    "roles",
    "permissions",
    "rate_limit_tier",
    "scope",
    "tenant_id",
];

/// Private key material for issuing tokens, bound to one algorithm and an optional `kid`.
///
/// `Debug` shows the algorithm and `kid`, never the key material.
#[derive(Clone)]
pub struct SigningKey {
    alg: Algorithm,
    kid: Option<String>,
    encoding: EncodingKey,
    warnings: Vec<Warning>,
}

impl SigningKey {
    /// An HS256 key from raw secret bytes, under the validator's secret rules.
    ///
    /// In production (unless `env` maps `TOKENWARD_ENV` to exactly `dev`) a secret shorter than 32
    /// bytes, a well-known placeholder or a repeated pattern is refused. In dev it is accepted and
    /// [`SigningKey::warnings`] carries a `weak_secret` warning.
    ///
    /// # Errors
    ///
    /// `algorithm_not_allowed` unless `alg` is HS256; `secret_refused` for a weak secret in
    /// production (`source_name` is `SigningKey::from_secret`); `key_invalid` for an empty secret or
    /// an empty `kid`.
    pub fn from_secret(
        alg: Algorithm,
        secret: &[u8],
        kid: Option<String>,
        env: &Env,
    ) -> Result<Self, Error> {
        Self::secret_key(alg, secret, kid, env, SECRET_SOURCE)
    }

    /// An HS256 key from the secret in environment variable `name` (its UTF-8 bytes, as the policy
    /// loader reads `JWT_SECRET`); a refusal names `name`, exactly as [`crate::Policy::parse`] does.
    ///
    /// # Errors
    ///
    /// As [`SigningKey::from_secret`], and `key_invalid` when `name` is not in `env`.
    pub fn from_env(
        alg: Algorithm,
        name: &str,
        kid: Option<String>,
        env: &Env,
    ) -> Result<Self, Error> {
        let Some(secret) = env.get(name) else {
            return Err(key_invalid(format!(
                "{} is not in the environment",
                quote(name)
            )));
        };
        Self::secret_key(alg, secret.as_bytes(), kid, env, name)
    }

    fn secret_key(
        alg: Algorithm,
        secret: &[u8],
        kid: Option<String>,
        env: &Env,
        source: &str,
    ) -> Result<Self, Error> {
        check_supported(alg)?;
        if alg != Algorithm::HS256 {
            return Err(key_invalid(format!(
                "{alg} takes a PEM private key (SigningKey::from_pem), not a secret"
            )));
        }
        check_kid(kid.as_deref())?;
        let dev = env.get(ENV_MODE).is_some_and(|v| v == "dev");
        let mut warnings = Vec::new();
        if let Some(reason) = Secret::new(secret.to_vec()).weakness() {
            if !dev {
                return Err(Error::SecretRefused {
                    source_name: source.to_owned(),
                    reason,
                });
            }
            warnings.push(Warning::weak_secret(format!(
                "HMAC secret from {source} would be refused in production: {reason}; \
                 accepted because TOKENWARD_ENV=dev"
            )));
        }
        let encoding = EncodingKey::from_secret(secret)
            .map_err(|_| key_invalid("the HMAC secret is empty".to_owned()))?;
        Self::checked(alg, kid, encoding, warnings)
    }

    /// A key from a PEM private key: RS256 (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`, at
    /// least 2048 bits), ES256 (PKCS#8 P-256) or EdDSA (PKCS#8 Ed25519).
    ///
    /// # Errors
    ///
    /// `algorithm_not_allowed` for an algorithm outside HS256, RS256, ES256 and EdDSA; `key_invalid`
    /// for HS256, for a PEM that is not a private key of the algorithm's family (a public key, another
    /// curve, garbage), for an RSA key under 2048 bits, or for an empty `kid`.
    pub fn from_pem(alg: Algorithm, pem: &str, kid: Option<String>) -> Result<Self, Error> {
        check_supported(alg)?;
        check_kid(kid.as_deref())?;
        let bytes = pem.as_bytes();
        let utils = &DEFAULT_PROVIDER.key_utils;
        let encoding = match alg {
            Algorithm::RS256 => {
                let not_rsa = || {
                    key_invalid(
                        "not an RSA private key PEM (PKCS#8 PRIVATE KEY or PKCS#1 RSA PRIVATE KEY)"
                            .to_owned(),
                    )
                };
                let key = EncodingKey::from_rsa_pem(bytes).map_err(|_| not_rsa())?;
                let (n, _) = (utils.rsa_pub_components_from_private_key)(key.as_bytes())
                    .map_err(|_| not_rsa())?;
                let bits = bit_length(&n);
                if bits < MIN_RSA_BITS {
                    return Err(key_invalid(format!(
                        "RSA key is {bits} bits; need at least {MIN_RSA_BITS}"
                    )));
                }
                key
            }
            Algorithm::ES256 => {
                let not_p256 =
                    || key_invalid("not a PKCS#8 P-256 private key PEM (PRIVATE KEY)".to_owned());
                let key = EncodingKey::from_ec_pem(bytes).map_err(|_| not_p256())?;
                (utils.ec_pub_components_from_private_key)(key.as_bytes(), alg.to_jwt())
                    .map_err(|_| not_p256())?;
                key
            }
            Algorithm::EdDSA => {
                let not_ed =
                    || key_invalid("not a PKCS#8 Ed25519 private key PEM (PRIVATE KEY)".to_owned());
                let key = EncodingKey::from_ed_pem(bytes).map_err(|_| not_ed())?;
                (utils.ed_pub_components_from_private_key)(key.as_bytes(), &EllipticCurve::Ed25519)
                    .map_err(|_| not_ed())?;
                key
            }
            _ => {
                return Err(key_invalid(format!(
                    "{alg} takes a secret (SigningKey::from_secret), not a PEM key"
                )));
            }
        };
        Self::checked(alg, kid, encoding, Vec::new())
    }

    /// Builds the key once the provider accepts it for `alg`.
    fn checked(
        alg: Algorithm,
        kid: Option<String>,
        encoding: EncodingKey,
        warnings: Vec<Warning>,
    ) -> Result<Self, Error> {
        if (DEFAULT_PROVIDER.signer_factory)(&alg.to_jwt(), &encoding).is_err() {
            return Err(key_invalid(format!("the key material cannot sign {alg}")));
        }
        Ok(Self {
            alg,
            kid,
            encoding,
            warnings,
        })
    }

    /// The one algorithm this key signs with (the header `alg`).
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id written to the header `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Construction warnings (`weak_secret` in dev mode) for the host to surface.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("key", &"[redacted]")
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// The claims of a token to issue: typed setters for the registered and platform claims, plus
/// `extra` members. Only claims that were set are serialized.
///
/// [`sign`] requires `iss`, `sub`, `aud`, `exp`, `iat` and `jti`.
///
/// ```
/// use tokenward_core::sign::TokenClaims;
///
/// let claims = TokenClaims::new()
///     .iss("https://idp.example.com")
///     .sub("user-42")
///     .aud("api")
///     .iat(1_767_225_600)
///     .exp(1_767_229_200)
///     .jti("c0ffee")
///     .roles(["admin"]);
/// let payload = claims.to_payload();
/// assert_eq!(payload["aud"], "api");
/// assert_eq!(payload["roles"], serde_json::json!(["admin"]));
/// assert!(!payload.contains_key("email"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Vec<String>>,
    exp: Option<i64>,
    iat: Option<i64>,
    jti: Option<String>,
    email: Option<String>,
    session_id: Option<String>,
    user_type: Option<String>,
    roles: Option<Vec<String>>,
    permissions: Option<Vec<String>>,
    rate_limit_tier: Option<String>,
    scope: Option<String>,
    tenant_id: Option<String>,
    extra: Map<String, Value>,
}

impl TokenClaims {
    /// No claims set.
    pub fn new() -> Self {
        Self::default()
    }

    /// `iss`: must equal the policy's issuer.
    #[must_use]
    pub fn iss(mut self, iss: impl Into<String>) -> Self {
        self.iss = Some(iss.into());
        self
    }

    /// `sub`: the subject (user or service id).
    #[must_use]
    // Named after the JWT claim; this is a builder setter, not `std::ops::Sub`.
    #[allow(clippy::should_implement_trait)]
    pub fn sub(mut self, sub: impl Into<String>) -> Self {
        self.sub = Some(sub.into());
        self
    }

    /// `aud` as one audience (serialized as a string); replaces any earlier `aud`.
    #[must_use]
    pub fn aud(mut self, aud: impl Into<String>) -> Self {
        self.aud = Some(vec![aud.into()]);
        self
    }

    /// `aud` as several audiences (an array when more than one); replaces any earlier `aud`.
    #[must_use]
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.aud = Some(audiences.into_iter().map(Into::into).collect());
        self
    }

    /// `exp`: expiry, seconds since the Unix epoch.
    #[must_use]
    pub fn exp(mut self, exp: i64) -> Self {
        self.exp = Some(exp);
        self
    }

    /// `iat`: issue time, seconds since the Unix epoch (the caller's clock).
    #[must_use]
    pub fn iat(mut self, iat: i64) -> Self {
        self.iat = Some(iat);
        self
    }

    /// `jti`: the unique token id (the caller's randomness).
    #[must_use]
    pub fn jti(mut self, jti: impl Into<String>) -> Self {
        self.jti = Some(jti.into());
        self
    }

    /// `email`.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// `session_id`.
    #[must_use]
    pub fn session_id(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// `user_type` (for example `admin` or `user`).
    #[must_use]
    pub fn user_type(mut self, user_type: impl Into<String>) -> Self {
        self.user_type = Some(user_type.into());
        self
    }

    /// `roles`, an array of strings.
    #[must_use]
    pub fn roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.roles = Some(roles.into_iter().map(Into::into).collect());
        self
    }

    /// `permissions`, an array of strings.
    #[must_use]
    pub fn permissions<I, S>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions = Some(permissions.into_iter().map(Into::into).collect());
        self
    }

    /// `rate_limit_tier`.
    #[must_use]
    pub fn rate_limit_tier(mut self, tier: impl Into<String>) -> Self {
        self.rate_limit_tier = Some(tier.into());
        self
    }

    /// `scope`, the space-separated scope string (`"tools:read tools:write"`).
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// `scope` from a list of scopes, joined with spaces.
    #[must_use]
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined: Vec<String> = scopes.into_iter().map(|s| s.as_ref().to_owned()).collect();
        self.scope = Some(joined.join(" "));
        self
    }

    /// `tenant_id`.
    #[must_use]
    pub fn tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// Any other member (`nbf`, `client_id`, ...). [`sign`] refuses a name that has a typed setter.
    #[must_use]
    pub fn extra(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    /// The payload [`sign`] would serialize: `extra` members, then every typed claim that was set
    /// (a typed claim wins over an `extra` member of the same name).
    pub fn to_payload(&self) -> Map<String, Value> {
        let mut out = self.extra.clone();
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(value) = value {
                out.insert(name.to_owned(), value);
            }
        };
        let string = |v: &Option<String>| v.clone().map(Value::String);
        let strings = |v: &Option<Vec<String>>| {
            v.as_ref()
                .map(|items| Value::Array(items.iter().cloned().map(Value::String).collect()))
        };
        put("iss", string(&self.iss));
        put("sub", string(&self.sub));
        put(
            "aud",
            self.aud.as_ref().map(|aud| match aud.as_slice() {
                [one] => Value::String(one.clone()),
                many => Value::Array(many.iter().cloned().map(Value::String).collect()),
            }),
        );
        put("exp", self.exp.map(Value::from));
        put("iat", self.iat.map(Value::from));
        put("jti", string(&self.jti));
        put("email", string(&self.email));
        put("session_id", string(&self.session_id));
        put("user_type", string(&self.user_type));
        put("roles", strings(&self.roles));
        put("permissions", strings(&self.permissions));
        put("rate_limit_tier", string(&self.rate_limit_tier));
        put("scope", string(&self.scope));
        put("tenant_id", string(&self.tenant_id));
        out
    }
}

/// Signs `claims` with `key` as a compact JWS that validates under `policy` as a `kind` token.
///
/// Checks, in order: the key's algorithm is in `policy.algorithms()`; `iss`, `sub`, `aud`, `exp`,
/// `iat` and `jti` are set (`sub` and `jti` non-empty); no `extra` member repeats a typed claim;
/// `iss` equals the policy issuer; `aud` intersects the policy audiences; `exp > iat`;
/// `exp - iat` is within the `kind` lifetime (`access_lifetime` or `refresh_lifetime`); every
/// `required_claims` entry is present; the token fits `max_token_bytes`. The header carries `alg`,
/// `typ` (the policy's `typ`, else `JWT`) and the key's `kid` when it has one.
///
/// The validator applies the lifetime of the policy's own `token_kind`, so a refresh token validates
/// under a policy loaded with `token_kind: refresh` (or when it also fits the access lifetime).
///
/// ```
/// use tokenward_core::sign::{SigningKey, TokenClaims, sign};
/// use tokenward_core::{Algorithm, Env, Policy, TokenKind, UnixTime, Verifier};
///
/// let mut env = Env::new();
/// env.insert("JWT_SECRET".into(), "k9Vb3qV0fJ8m2sQeX1tYz7LrN4wP6cHd5gTaUoEiRj".into());
/// let policy = Policy::parse(
///     "security:\n  jwt_issuer: https://idp.example.com\n  jwt_audiences: [api]\n",
///     &env,
/// )?;
/// let key = SigningKey::from_env(Algorithm::HS256, "JWT_SECRET", None, &env)?;
/// let now = 1_767_225_600;
/// let claims = TokenClaims::new()
///     .iss("https://idp.example.com")
///     .sub("admin-1")
///     .aud("api")
///     .iat(now)
///     .exp(now + 900)
///     .jti("3f2a9c")
///     .user_type("admin")
///     .scope("tools:read tools:write");
/// let token = sign(&policy, &key, &claims, TokenKind::Access)?;
///
/// let validated = Verifier::new(policy).validate(&token, UnixTime(now))?;
/// assert_eq!(validated.sub(), Some("admin-1"));
/// # Ok::<(), tokenward_core::Error>(())
/// ```
///
/// # Errors
///
/// `algorithm_not_allowed`, `claim_missing`, `claim_invalid`, `issuer_invalid`,
/// `audience_invalid`, `token_lifetime_exceeded` or `token_too_large`, as listed above;
/// `key_invalid` if the provider fails to sign.
pub fn sign(
    policy: &Policy,
    key: &SigningKey,
    claims: &TokenClaims,
    kind: TokenKind,
) -> Result<String, Error> {
    if !policy.algorithms().contains(&key.alg) {
        return Err(Error::AlgorithmNotAllowed {
            alg: quote(key.alg.name()),
            allowed: policy
                .algorithms()
                .iter()
                .map(|a| a.name().to_owned())
                .collect(),
        });
    }

    let iss = claims.iss.as_deref().ok_or_else(|| missing("iss"))?;
    let sub = claims.sub.as_deref().ok_or_else(|| missing("sub"))?;
    let aud = claims
        .aud
        .as_deref()
        .filter(|aud| !aud.is_empty())
        .ok_or_else(|| missing("aud"))?;
    let exp = claims.exp.ok_or_else(|| missing("exp"))?;
    let iat = claims.iat.ok_or_else(|| missing("iat"))?;
    let jti = claims.jti.as_deref().ok_or_else(|| missing("jti"))?;
    if sub.is_empty() {
        return Err(Error::claim_invalid("sub", "must not be empty"));
    }
    if jti.is_empty() {
        return Err(Error::claim_invalid("jti", "must not be empty"));
    }
    if let Some(name) = TYPED_CLAIMS
        .iter()
        .find(|name| claims.extra.contains_key(**name))
    {
        return Err(Error::claim_invalid(
            name,
            "is set as an extra member; use its typed TokenClaims setter",
        ));
    }

    if iss != policy.issuer() {
        return Err(Error::IssuerInvalid {
            expected: quote(policy.issuer()),
            found: quote(iss),
        });
    }
    if !aud.iter().any(|a| policy.audiences().contains(a)) {
        return Err(Error::AudienceInvalid {
            found: aud.iter().map(|a| quote(a)).collect(),
            expected: policy.audiences().iter().map(|a| quote(a)).collect(),
        });
    }

    if exp <= iat {
        return Err(Error::claim_invalid(
            "exp",
            format!("expiry {exp} must be after issue time {iat}"),
        ));
    }
    let lifetime = exp.saturating_sub(iat);
    let max = match kind {
        TokenKind::Access => policy.access_lifetime(),
        TokenKind::Refresh => policy.refresh_lifetime(),
    };
    if lifetime > max {
        return Err(Error::TokenLifetimeExceeded {
            lifetime,
            max,
            kind: kind.name().to_owned(),
        });
    }

    let payload = claims.to_payload();
    if let Some(name) = policy
        .required_claims()
        .iter()
        .find(|c| !payload.contains_key(*c))
    {
        return Err(missing(name));
    }

    let mut header = Map::new();
    header.insert("alg".to_owned(), Value::from(key.alg.name()));
    header.insert("typ".to_owned(), Value::from(policy.typ().unwrap_or("JWT")));
    if let Some(kid) = &key.kid {
        header.insert("kid".to_owned(), Value::from(kid.as_str()));
    }
    let header_json = Value::Object(header).to_string();
    let payload_json = Value::Object(payload).to_string();
    let signing_input = format!(
        "{}.{}",
        b64::encode(header_json.as_bytes()),
        b64::encode(payload_json.as_bytes())
    );

    let signer = (DEFAULT_PROVIDER.signer_factory)(&key.alg.to_jwt(), &key.encoding)
        .map_err(|_| key_invalid(format!("the key material cannot sign {}", key.alg)))?;
    let signature = signer
        .try_sign(signing_input.as_bytes())
        .map_err(|_| key_invalid(format!("{} signing failed", key.alg)))?;
    let token = format!("{signing_input}.{}", b64::encode(&signature));

    if token.len() > policy.max_token_bytes() {
        return Err(Error::TokenTooLarge {
            size: token.len(),
            limit: policy.max_token_bytes(),
        });
    }
    Ok(token)
}

fn check_supported(alg: Algorithm) -> Result<(), Error> {
    if SIGNING_ALGORITHMS.contains(&alg) {
        return Ok(());
    }
    Err(Error::AlgorithmNotAllowed {
        alg: quote(alg.name()),
        allowed: SIGNING_ALGORITHMS
            .iter()
            .map(|a| a.name().to_owned())
            .collect(),
    })
}

fn check_kid(kid: Option<&str>) -> Result<(), Error> {
    if kid == Some("") {
        return Err(key_invalid("kid must not be empty".to_owned()));
    }
    Ok(())
}

fn key_invalid(reason: String) -> Error {
    Error::KeyInvalid { reason }
}

fn missing(claim: &str) -> Error {
    Error::ClaimMissing {
        claim: claim.to_owned(),
    }
}

/// Bit length of a big-endian unsigned integer.
fn bit_length(n: &[u8]) -> usize {
    let mut digits = n.iter().skip_while(|b| **b == 0);
    match digits.next() {
        None => 0,
        Some(first) => digits
            .count()
            .saturating_mul(8)
            .saturating_add(8 - first.leading_zeros() as usize),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{UnixTime, Verifier};

    const RSA_PRIVATE: &str = include_str!("../../vectors/keys/rsa-2048.private.pem");
    const RSA_PUBLIC: &str = include_str!("../../vectors/keys/rsa-2048.public.pem");
    const RSA_1024_PRIVATE: &str = include_str!("../../vectors/keys/rsa-1024.private.pem");
    const EC_PRIVATE: &str = include_str!("../../vectors/keys/ec-p256.private.pem");
    const EC_PUBLIC: &str = include_str!("../../vectors/keys/ec-p256.public.pem");
    const EC_384_PRIVATE: &str = include_str!("../../vectors/keys/ec-p384.private.pem");
    const ED_PRIVATE: &str = include_str!("../../vectors/keys/ed25519.private.pem");
    const ED_PUBLIC: &str = include_str!("../../vectors/keys/ed25519.public.pem");
    const HMAC_SECRET: &str = include_str!("../../vectors/keys/hmac.secret");
    /// rsa-2048.private.pem converted to PKCS#1 (`openssl rsa -traditional`).
    const RSA_PKCS1_PRIVATE: &str = "\
-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEAt5wkKOw7DwdSE4jG8CPJYPJcFN2FAy/CRstQChEA/2R1587W
s+ZMZ9uo8+WPfxezsq5dEhxSsXGna7nfHi1ujgj61lfQvCQanEL5v0wlPTy4CqNC
1Mx/4dgyzy5y04XWd1bPWkkFW8NEAkgVZRONjuPv7r2pj2M+MZPLcHvOwHANQsn5
WlfYZVmjcsqBqSj/f8iZIKySb3DYX4Zl/Hw68mXrucLWSgRcEtaQvw3tQX5WNEwi
tqbeWFHnm+Icg3keWt/im36pVLsFyyo62NXqZf7SFR49IJDZ+As2potwva2eeUye
vQdy/7DJGAa+36it2fKBl/75I6oiS/T4tKCQSQIDAQABAoIBABo8H7iPLyMcbIBT
tKU0X9OlMuiyUY1H14O5DN8wrcqle+la1w0OdNAJhVsQFnsA6Sa4nkjLrjnMylts
oVzqU0J34FYcZxFdkUXO62jc2Zyl3orP6BPdgnpDzi1nRCCayNmgGEbyFGds/6cv
IzYgNJj8UwNIVgAhxzhbQfV5DezV94In7iU8FjsBuMZiXAnatxFOUuNsPSZoXyhs
GpvFlmPxPwQWvgukoJWP4RVhJvZRk62t9M3dBU+1/2px0QjoLwGcj84pk+cRQnqc
L+fhdTsh5b8pRS/+zyC1tfAC5RCTXr8KNWOjly3jk5pWGmuOsbad0ryd1oHODg6l
NF6dbn8CgYEA83UYdYMRkeiWMLgMWDi26q9JmL09IcKkPKvyPZTBy9twHrCrD62i
7kiMxNr+3INNKjbz/+OriQPXYA3MFtfXHeb2h8grhwDP/v3W8uTXnq8iLcRSS6C6
st0/dHe6/teKmcB3MQnEWFImYNJikb3ypihd1xjg/wdnNDvfiVuLKh8CgYEAwRG7
HJIZCmQIYzZMiFMRe9Q3kgkNMrfLDqfGbpqncW5ML7esJ7SwTXnKsT4eSJGGXMuK
Fok1r8W0itnSACWE3uQ870Z0MqwPsMIphqf107ORlDBh0y7erKNLs7zWJb1tZs9A
l4StpE3FtXIdckQH9urvddqUaqdOgu6xJzwOSJcCgYBEcvWvhGxaM6SWigiefUOg
dCwjD4GyjkES9d0jx0E9ibLaTh2qSM14ZVl+t3vUj+4QImcz2NUPrs7NKNPq0ECh
HaDOyE7EpEvWi5P1srWU3fSkHYBt1wDm7SG8IzWmFP/Y/q4EUZSsqFw1+LDR/S/N
26eWpF4OFgzEONk+i0hzTQKBgEIv1OhngWQZhPKWE8iMSascxmwu5DJl5ZvBknoq
VIrDWCTnn4IBJIt63CzE8dbI5Ln9IPq20QvQCCOtpptcQV+z+NvCWGVirQJYnanG
/LQ1lAusRm0CXV3roTEd5IANn2qmVCtdVbXE36ljVIrunZhdU/ggFc82SekC8QJV
SURDAoGAaqUH17cihBedHT0SrnYcN7OPDtjcPpgu58+Kb8lKu+ay9JcE/ivAHtXL
Zzvh9wIT0SxGuHYhEkOvVPYHYlJs7obebeyK5vScJWAPFAEYEUywb6n/Z+SRTG7J
KQI3gdLQ2m/TNsyU8Nbc4DZqQmAPySmy4UbXGYsLaUIA+lo3Jfo=
-----END RSA PRIVATE KEY-----
";

    const ISS: &str = "https://idp.example.com";
    const NOW: i64 = 1_767_225_600;

    fn env() -> Env {
        let mut env = Env::new();
        env.insert("JWT_SECRET".into(), HMAC_SECRET.into());
        env
    }

    fn security() -> Value {
        json!({ "jwt_issuer": ISS, "jwt_audiences": ["api", "admin"] })
    }

    fn hmac_policy() -> Policy {
        Policy::from_json(&json!({ "security": security() }), &env()).unwrap()
    }

    fn pem_policy(alg: Algorithm, public: &str, extra: Value) -> Policy {
        let mut doc = json!({
            "security": security(),
            "keys": { "pem": [{ "kid": "k1", "alg": alg.name(), "key": public }] },
        });
        if let (Some(doc), Value::Object(extra)) = (doc.as_object_mut(), extra) {
            doc.extend(extra);
        }
        Policy::from_json(&doc, &Env::new()).unwrap()
    }

    fn claims() -> TokenClaims {
        TokenClaims::new()
            .iss(ISS)
            .sub("admin-1")
            .aud("api")
            .iat(NOW)
            .exp(NOW + 900)
            .jti("jti-0001")
            .email("ops@example.com")
            .session_id("sess-9")
            .user_type("admin")
            .roles(["admin", "billing"])
            .permissions(["users:write"])
            .rate_limit_tier("gold")
            .scope("tools:read tools:write")
            .tenant_id("tenant-7")
    }

    fn hmac_key() -> SigningKey {
        SigningKey::from_env(Algorithm::HS256, "JWT_SECRET", None, &env()).unwrap()
    }

    fn part(token: &str, index: usize) -> Value {
        let segment = token.split('.').nth(index).unwrap();
        serde_json::from_slice(&b64::decode(segment).unwrap()).unwrap()
    }

    #[test]
    fn every_algorithm_round_trips_through_the_verifier() {
        let cases = [
            (Algorithm::RS256, RSA_PRIVATE, RSA_PUBLIC),
            (Algorithm::RS256, RSA_PKCS1_PRIVATE, RSA_PUBLIC),
            (Algorithm::ES256, EC_PRIVATE, EC_PUBLIC),
            (Algorithm::EdDSA, ED_PRIVATE, ED_PUBLIC),
        ];
        for (alg, private, public) in cases {
            let key = SigningKey::from_pem(alg, private, Some("k1".into())).unwrap();
            assert_eq!((key.algorithm(), key.kid()), (alg, Some("k1")));
            let policy = pem_policy(alg, public, json!({}));
            let token = sign(&policy, &key, &claims(), TokenKind::Access).unwrap();
            assert_eq!(
                part(&token, 0),
                json!({ "alg": alg.name(), "typ": "JWT", "kid": "k1" })
            );
            let got = Verifier::new(policy)
                .validate(&token, UnixTime(NOW))
                .unwrap();
            assert_eq!(got.payload(), &claims().to_payload(), "{alg}");
            assert_eq!(got.sub(), Some("admin-1"));
            assert_eq!(got.jti(), Some("jti-0001"));
            assert!(got.scopes().contains("tools:write"));
            assert_eq!(got.tenant_id(), Some(&json!("tenant-7")));
            assert_eq!(got.roles(), Some(&json!(["admin", "billing"])));
            assert_eq!(got.payload()["rate_limit_tier"], "gold");
        }

        let policy = hmac_policy();
        let token = sign(&policy, &hmac_key(), &claims(), TokenKind::Access).unwrap();
        assert_eq!(part(&token, 0), json!({ "alg": "HS256", "typ": "JWT" }));
        let got = Verifier::new(policy)
            .validate(&token, UnixTime(NOW))
            .unwrap();
        assert_eq!(got.payload()["email"], "ops@example.com");
        assert_eq!(got.session_id(), Some(&json!("sess-9")));
        assert_eq!(got.user_type(), Some(&json!("admin")));
        assert_eq!(got.permissions(), Some(&json!(["users:write"])));
    }

    #[test]
    fn an_independent_verifier_accepts_the_token() {
        use jsonwebtoken::{DecodingKey, Validation};
        let key = SigningKey::from_pem(Algorithm::RS256, RSA_PRIVATE, Some("k1".into())).unwrap();
        let policy = pem_policy(Algorithm::RS256, RSA_PUBLIC, json!({}));
        let token = sign(&policy, &key, &claims(), TokenKind::Access).unwrap();

        let decoding = DecodingKey::from_rsa_pem(RSA_PUBLIC.as_bytes()).unwrap();
        let mut validation = Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_issuer(&[ISS]);
        validation.set_audience(&["api"]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = false; // NOW is fixed; the real clock is not.
        let data = jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.header.kid.as_deref(), Some("k1"));
        assert_eq!(data.claims["jti"], "jti-0001");

        let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_audience(&["api"]);
        validation.validate_exp = false;
        let ec = SigningKey::from_pem(Algorithm::ES256, EC_PRIVATE, None).unwrap();
        let policy = pem_policy(Algorithm::ES256, EC_PUBLIC, json!({}));
        let token = sign(&policy, &ec, &claims(), TokenKind::Access).unwrap();
        let decoding = DecodingKey::from_ec_pem(EC_PUBLIC.as_bytes()).unwrap();
        assert!(jsonwebtoken::decode::<Value>(&token, &decoding, &validation).is_ok());
    }

    #[test]
    fn signing_is_deterministic() {
        let keys = [
            (hmac_key(), hmac_policy()),
            (
                SigningKey::from_pem(Algorithm::RS256, RSA_PRIVATE, None).unwrap(),
                pem_policy(Algorithm::RS256, RSA_PUBLIC, json!({})),
            ),
            (
                SigningKey::from_pem(Algorithm::ES256, EC_PRIVATE, None).unwrap(),
                pem_policy(Algorithm::ES256, EC_PUBLIC, json!({})),
            ),
            (
                SigningKey::from_pem(Algorithm::EdDSA, ED_PRIVATE, None).unwrap(),
                pem_policy(Algorithm::EdDSA, ED_PUBLIC, json!({})),
            ),
        ];
        for (key, policy) in &keys {
            let a = sign(policy, key, &claims(), TokenKind::Access).unwrap();
            let b = sign(policy, key, &claims(), TokenKind::Access).unwrap();
            assert_eq!(a, b, "{}", key.algorithm());
        }
    }

    #[test]
    fn policy_typ_and_multiple_audiences() {
        let policy = pem_policy(Algorithm::EdDSA, ED_PUBLIC, json!({ "typ": "at+jwt" }));
        let key = SigningKey::from_pem(Algorithm::EdDSA, ED_PRIVATE, None).unwrap();
        let c = claims().audiences(["other", "admin"]);
        let token = sign(&policy, &key, &c, TokenKind::Access).unwrap();
        assert_eq!(part(&token, 0), json!({ "alg": "EdDSA", "typ": "at+jwt" }));
        assert_eq!(part(&token, 1)["aud"], json!(["other", "admin"]));
        let got = Verifier::new(policy)
            .validate(&token, UnixTime(NOW))
            .unwrap();
        assert_eq!(got.aud(), ["other", "admin"]);
    }

    #[test]
    fn short_secret_is_refused_in_production_like_the_policy_loader() {
        let err =
            SigningKey::from_secret(Algorithm::HS256, b"hunter2", None, &Env::new()).unwrap_err();
        assert_eq!(
            err,
            Error::SecretRefused {
                source_name: "SigningKey::from_secret".into(),
                reason: "7 bytes; need at least 32".into(),
            }
        );
        assert!(!err.to_string().contains("hunter2"));

        let mut env = Env::new();
        env.insert("JWT_SECRET".into(), "hunter2".into());
        let from_env =
            SigningKey::from_env(Algorithm::HS256, "JWT_SECRET", None, &env).unwrap_err();
        let from_policy = Policy::from_json(&json!({ "security": security() }), &env).unwrap_err();
        assert_eq!(from_env, from_policy);
        assert_eq!(from_env.code(), "secret_refused");
    }

    #[test]
    fn placeholders_are_refused_even_when_padded() {
        let short = SigningKey::from_secret(Algorithm::HS256, b"changeme", None, &Env::new());
        assert!(
            matches!(short, Err(Error::SecretRefused { ref reason, .. }) if reason.contains("8 bytes"))
        );

        let padded = format!("  changeme{}", " ".repeat(30));
        let mut env = Env::new();
        env.insert("JWT_SECRET".into(), padded.clone());
        let err = SigningKey::from_env(Algorithm::HS256, "JWT_SECRET", None, &env).unwrap_err();
        let Error::SecretRefused {
            source_name,
            reason,
        } = &err
        else {
            panic!("expected secret_refused, got {err:?}");
        };
        assert_eq!(source_name, "JWT_SECRET");
        assert!(reason.contains("placeholder"), "{reason}");
        assert!(!err.to_string().contains("changeme"));
        let from_policy = Policy::from_json(&json!({ "security": security() }), &env).unwrap_err();
        assert_eq!(err, from_policy);

        let long = b"your-super-secret-jwt-token-with-at-least-32-characters-long";
        assert_eq!(
            SigningKey::from_secret(Algorithm::HS256, long, None, &Env::new())
                .unwrap_err()
                .code(),
            "secret_refused"
        );
    }

    #[test]
    fn dev_mode_accepts_a_weak_secret_with_a_warning() {
        let mut env = Env::new();
        env.insert("TOKENWARD_ENV".into(), "dev".into());
        env.insert("JWT_SECRET".into(), "changeme".into());
        let key = SigningKey::from_env(Algorithm::HS256, "JWT_SECRET", None, &env).unwrap();
        let [warning] = key.warnings() else {
            panic!("expected one warning, got {:?}", key.warnings());
        };
        assert_eq!(warning.code(), "weak_secret");
        assert!(warning.message().contains("TOKENWARD_ENV=dev"));
        assert!(!warning.message().contains("changeme"));

        let policy = Policy::from_json(&json!({ "security": security() }), &env).unwrap();
        let token = sign(&policy, &key, &claims(), TokenKind::Access).unwrap();
        assert!(
            Verifier::new(policy)
                .validate(&token, UnixTime(NOW))
                .is_ok()
        );

        let mut prod = env.clone();
        prod.insert("TOKENWARD_ENV".into(), "production".into());
        assert!(SigningKey::from_env(Algorithm::HS256, "JWT_SECRET", None, &prod).is_err());
        assert!(hmac_key().warnings().is_empty());
    }

    #[test]
    fn lifetime_is_bounded_by_the_token_kind() {
        let policy = hmac_policy();
        let long = claims().exp(NOW + DEFAULT_ACCESS + 1);
        assert_eq!(
            sign(&policy, &hmac_key(), &long, TokenKind::Access).unwrap_err(),
            Error::TokenLifetimeExceeded {
                lifetime: DEFAULT_ACCESS + 1,
                max: DEFAULT_ACCESS,
                kind: "access".into(),
            }
        );
        let token = sign(&policy, &hmac_key(), &long, TokenKind::Refresh).unwrap();
        let refresh = Policy::from_json(
            &json!({ "security": security(), "token_kind": "refresh" }),
            &env(),
        )
        .unwrap();
        assert!(
            Verifier::new(refresh)
                .validate(&token, UnixTime(NOW))
                .is_ok()
        );
        assert_eq!(
            Verifier::new(policy)
                .validate(&token, UnixTime(NOW))
                .unwrap_err()
                .code(),
            "token_lifetime_exceeded"
        );

        let too_long = claims().exp(NOW + DEFAULT_REFRESH + 1);
        assert_eq!(
            sign(&hmac_policy(), &hmac_key(), &too_long, TokenKind::Refresh)
                .unwrap_err()
                .code(),
            "token_lifetime_exceeded"
        );
        let backwards = claims().exp(NOW);
        assert_eq!(
            sign(&hmac_policy(), &hmac_key(), &backwards, TokenKind::Access)
                .unwrap_err()
                .code(),
            "claim_invalid"
        );
    }

    const DEFAULT_ACCESS: i64 = crate::policy::DEFAULT_ACCESS_LIFETIME;
    const DEFAULT_REFRESH: i64 = crate::policy::DEFAULT_REFRESH_LIFETIME;

    #[test]
    fn required_claims_are_enforced() {
        let policy = hmac_policy();
        let key = hmac_key();
        let full = claims();
        let cases: [(&str, TokenClaims); 6] = [
            (
                "iss",
                TokenClaims {
                    iss: None,
                    ..full.clone()
                },
            ),
            (
                "sub",
                TokenClaims {
                    sub: None,
                    ..full.clone()
                },
            ),
            (
                "aud",
                TokenClaims {
                    aud: None,
                    ..full.clone()
                },
            ),
            (
                "exp",
                TokenClaims {
                    exp: None,
                    ..full.clone()
                },
            ),
            (
                "iat",
                TokenClaims {
                    iat: None,
                    ..full.clone()
                },
            ),
            (
                "jti",
                TokenClaims {
                    jti: None,
                    ..full.clone()
                },
            ),
        ];
        for (claim, c) in cases {
            assert_eq!(
                sign(&policy, &key, &c, TokenKind::Access).unwrap_err(),
                Error::ClaimMissing {
                    claim: claim.into()
                }
            );
        }
        let no_aud = full.clone().audiences(Vec::<String>::new());
        assert_eq!(
            sign(&policy, &key, &no_aud, TokenKind::Access).unwrap_err(),
            Error::ClaimMissing {
                claim: "aud".into()
            }
        );
        let empty_jti = full.clone().jti("");
        assert_eq!(
            sign(&policy, &key, &empty_jti, TokenKind::Access)
                .unwrap_err()
                .code(),
            "claim_invalid"
        );

        let strict = Policy::from_json(
            &json!({ "security": security(), "required_claims": ["client_id"] }),
            &env(),
        )
        .unwrap();
        assert_eq!(
            sign(&strict, &key, &full, TokenKind::Access).unwrap_err(),
            Error::ClaimMissing {
                claim: "client_id".into()
            }
        );
        let with_client = full.extra("client_id", "cli-1");
        let token = sign(&strict, &key, &with_client, TokenKind::Access).unwrap();
        let got = Verifier::new(strict)
            .validate(&token, UnixTime(NOW))
            .unwrap();
        assert_eq!(got.client_id(), Some(&json!("cli-1")));
    }

    #[test]
    fn issuer_audience_and_extra_members_are_checked() {
        let policy = hmac_policy();
        let key = hmac_key();
        assert_eq!(
            sign(
                &policy,
                &key,
                &claims().iss("https://evil.example"),
                TokenKind::Access
            )
            .unwrap_err(),
            Error::IssuerInvalid {
                expected: quote(ISS),
                found: quote("https://evil.example"),
            }
        );
        assert_eq!(
            sign(&policy, &key, &claims().aud("billing"), TokenKind::Access)
                .unwrap_err()
                .code(),
            "audience_invalid"
        );
        let shadow = claims().extra("sub", "root");
        assert_eq!(
            sign(&policy, &key, &shadow, TokenKind::Access).unwrap_err(),
            Error::claim_invalid(
                "sub",
                "is set as an extra member; use its typed TokenClaims setter"
            )
        );
    }

    #[test]
    fn key_algorithm_must_be_allowed_by_the_policy() {
        let key = SigningKey::from_pem(Algorithm::ES256, EC_PRIVATE, None).unwrap();
        assert_eq!(
            sign(&hmac_policy(), &key, &claims(), TokenKind::Access).unwrap_err(),
            Error::AlgorithmNotAllowed {
                alg: quote("ES256"),
                allowed: vec!["HS256".into()],
            }
        );
    }

    #[test]
    fn oversized_tokens_are_refused() {
        let policy = Policy::from_json(
            &json!({ "security": security(), "max_token_bytes": 200 }),
            &env(),
        )
        .unwrap();
        assert_eq!(
            sign(&policy, &hmac_key(), &claims(), TokenKind::Access)
                .unwrap_err()
                .code(),
            "token_too_large"
        );
    }

    #[test]
    fn weak_or_mismatched_key_material_is_refused() {
        let err = SigningKey::from_pem(Algorithm::RS256, RSA_1024_PRIVATE, None).unwrap_err();
        assert_eq!(
            err,
            Error::KeyInvalid {
                reason: "RSA key is 1024 bits; need at least 2048".into()
            }
        );
        let invalid = [
            (Algorithm::RS256, RSA_PUBLIC),
            (Algorithm::RS256, EC_PRIVATE),
            (Algorithm::RS256, "not a pem"),
            (Algorithm::ES256, EC_384_PRIVATE),
            (Algorithm::ES256, EC_PUBLIC),
            (Algorithm::ES256, ED_PRIVATE),
            (Algorithm::EdDSA, RSA_PRIVATE),
            (Algorithm::EdDSA, ED_PUBLIC),
            (Algorithm::HS256, RSA_PRIVATE),
        ];
        for (alg, pem) in invalid {
            let err = SigningKey::from_pem(alg, pem, None).unwrap_err();
            assert_eq!(err.code(), "key_invalid", "{alg}: {err}");
            assert!(!err.to_string().contains("MII"), "{err}");
        }
        assert_eq!(
            SigningKey::from_pem(Algorithm::RS256, RSA_PRIVATE, Some(String::new()))
                .unwrap_err()
                .code(),
            "key_invalid"
        );
        assert_eq!(
            SigningKey::from_pem(Algorithm::PS256, RSA_PRIVATE, None).unwrap_err(),
            Error::AlgorithmNotAllowed {
                alg: quote("PS256"),
                allowed: vec![
                    "HS256".into(),
                    "RS256".into(),
                    "ES256".into(),
                    "EdDSA".into()
                ],
            }
        );
        let secret = HMAC_SECRET.as_bytes();
        assert_eq!(
            SigningKey::from_secret(Algorithm::HS512, secret, None, &Env::new())
                .unwrap_err()
                .code(),
            "algorithm_not_allowed"
        );
        assert_eq!(
            SigningKey::from_secret(Algorithm::RS256, secret, None, &Env::new())
                .unwrap_err()
                .code(),
            "key_invalid"
        );
        assert_eq!(
            SigningKey::from_env(Algorithm::HS256, "NOPE", None, &Env::new())
                .unwrap_err()
                .code(),
            "key_invalid"
        );
    }

    #[test]
    fn debug_redacts_key_material() {
        let hmac = format!("{:?}", hmac_key());
        assert!(hmac.contains("[redacted]"), "{hmac}");
        assert!(!hmac.contains(HMAC_SECRET), "{hmac}");
        let rsa = SigningKey::from_pem(Algorithm::RS256, RSA_PRIVATE, Some("k1".into())).unwrap();
        let shown = format!("{rsa:?}");
        assert_eq!(
            shown,
            r#"SigningKey { alg: RS256, kid: Some("k1"), key: "[redacted]", warnings: [] }"#
        );
    }

    #[test]
    fn payload_serializes_only_present_claims() {
        let c = TokenClaims::new()
            .sub("s")
            .scopes(["a", "b"])
            .extra("nbf", NOW);
        assert_eq!(
            Value::Object(c.to_payload()),
            json!({ "sub": "s", "scope": "a b", "nbf": NOW })
        );
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
    }
}
