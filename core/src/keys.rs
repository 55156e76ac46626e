//! Verification keys: loading from JWKS, PEM and HMAC secrets, and binding each to one algorithm.
//!
//! RFC 8725 §3.1: every key verifies exactly one algorithm. A key's `alg` binds it when present;
//! otherwise the single algorithm of the policy's `algorithms` that fits the key type does. A key
//! that cannot be bound, or is for encryption, or is too weak, never verifies anything: loading
//! skips it with a `key_skipped` warning. Header parameters (`jwk`, `jku`, `x5u`, `x5c`) never supply
//! keys: only the policy does.

use jsonwebtoken::DecodingKey;
use serde_json::Value;

use crate::error::{Warning, quote};
use crate::{Algorithm, Error, KeyFamily, Secret, b64, crypto};

/// Minimum RSA modulus size in bits (RFC 8725 §3.5, NIST SP 800-131A).
const MIN_RSA_BITS: usize = 2048;

/// Identifies one key of a policy, for [`crate::SignatureOutcome::Verified`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyHandle(pub(crate) usize);

impl KeyHandle {
    /// The key's position in [`crate::Policy::keys`].
    pub fn index(self) -> usize {
        self.0
    }
}

/// Public key material, for hosts that import keys into native crypto.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyMaterial {
    /// An HMAC secret.
    Hmac(Secret),
    /// RSA modulus and exponent, big-endian.
    Rsa {
        /// Modulus.
        n: Vec<u8>,
        /// Public exponent.
        e: Vec<u8>,
    },
    /// An uncompressed SEC1 EC point (`04 || x || y`).
    Ec {
        /// The key family (P-256 or P-384).
        family: KeyFamily,
        /// The point bytes.
        point: Vec<u8>,
    },
    /// A raw 32-byte Ed25519 public key.
    Ed25519(Vec<u8>),
}

impl KeyMaterial {
    fn family(&self) -> KeyFamily {
        match self {
            Self::Hmac(_) => KeyFamily::Hmac,
            Self::Rsa { .. } => KeyFamily::Rsa,
            Self::Ec { family, .. } => *family,
            Self::Ed25519(_) => KeyFamily::Ed25519,
        }
    }

    fn decoding_key(&self) -> Option<DecodingKey> {
        match self {
            Self::Hmac(s) => DecodingKey::from_secret(s.expose()).ok(),
            Self::Rsa { n, e } => Some(DecodingKey::from_rsa_raw_components(n, e)),
            Self::Ec { point, .. } => Some(DecodingKey::from_ec_der(point)),
            Self::Ed25519(x) => Some(DecodingKey::from_ed_der(x)),
        }
    }
}

/// One usable key, bound to exactly one algorithm.
#[derive(Clone, Debug)]
pub struct Key {
    kid: Option<String>,
    alg: Algorithm,
    material: KeyMaterial,
    decoding: DecodingKey,
}

impl Key {
    /// The key id, if the key has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key family.
    pub fn family(&self) -> KeyFamily {
        self.material.family()
    }

    /// The public key material.
    pub fn material(&self) -> &KeyMaterial {
        &self.material
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }
}

/// A key before binding: where it came from, its declared `alg`, its material.
pub(crate) struct Candidate {
    pub(crate) source: String,
    pub(crate) kid: Option<String>,
    pub(crate) alg: Option<String>,
    pub(crate) material: KeyMaterial,
}

/// Collects usable keys and `key_skipped` warnings while a policy loads.
pub(crate) struct KeyLoader<'a> {
    pub(crate) allowed: Option<&'a [Algorithm]>,
    pub(crate) dev: bool,
    pub(crate) keys: Vec<Key>,
    /// Where each of `keys` came from (same index), for secret messages.
    pub(crate) sources: Vec<String>,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) skipped: Vec<String>,
}

impl<'a> KeyLoader<'a> {
    pub(crate) fn new(allowed: Option<&'a [Algorithm]>, dev: bool) -> Self {
        Self {
            allowed,
            dev,
            keys: Vec::new(),
            sources: Vec::new(),
            warnings: Vec::new(),
            skipped: Vec::new(),
        }
    }

    fn skip(&mut self, source: &str, kid: Option<&str>, reason: &str) {
        let who = match kid {
            Some(k) => format!("{source} (kid {})", quote(k)),
            None => source.to_owned(),
        };
        let message = format!("{who} skipped: {reason}; it will never verify a token");
        self.skipped.push(format!("{who}: {reason}"));
        self.warnings.push(Warning::key_skipped(message));
    }

    /// Loads one JWK from a JWKS `keys` array.
    pub(crate) fn add_jwk(&mut self, index: usize, jwk: &Value) {
        let source = format!("keys.jwks.keys[{index}]");
        match parse_jwk(jwk) {
            Ok(candidate) => self.add(Candidate {
                source,
                ..candidate
            }),
            Err((kid, reason)) => self.skip(&source, kid.as_deref(), &reason),
        }
    }

    /// Loads one PEM entry.
    pub(crate) fn add_pem(
        &mut self,
        index: usize,
        kid: Option<String>,
        alg: Option<String>,
        pem: &str,
    ) {
        let source = format!("keys.pem[{index}]");
        match parse_pem(pem) {
            Some(material) => self.add(Candidate {
                source,
                kid,
                alg,
                material,
            }),
            None => self.skip(
                &source,
                kid.as_deref(),
                "not a PEM public key (RSA SPKI/PKCS#1, EC P-256/P-384 or Ed25519 SPKI)",
            ),
        }
    }

    /// Binds and checks a candidate (HMAC secrets are checked later by `check_secrets`).
    pub(crate) fn add(&mut self, c: Candidate) {
        let family = c.material.family();
        let alg = match bind(c.alg.as_deref(), family, self.allowed) {
            Ok(alg) => alg,
            Err(reason) => return self.skip(&c.source, c.kid.as_deref(), &reason),
        };
        if let Some(kid) = &c.kid
            && self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
        {
            return self.skip(&c.source, Some(kid), "another key already uses this kid");
        }
        if let KeyMaterial::Rsa { n, .. } = &c.material {
            let bits = bit_length(n);
            if bits < MIN_RSA_BITS {
                let reason = format!("RSA key is {bits} bits; need at least {MIN_RSA_BITS}");
                return self.skip(&c.source, c.kid.as_deref(), &reason);
            }
        }
        let Some(decoding) = c
            .material
            .decoding_key()
            .filter(|d| crypto::key_is_usable(alg, d))
        else {
            return self.skip(&c.source, c.kid.as_deref(), "key material does not decode");
        };
        self.keys.push(Key {
            kid: c.kid,
            alg,
            material: c.material,
            decoding,
        });
        self.sources.push(c.source);
    }

    /// Applies the secret rules to every bound HMAC key.
    ///
    /// # Errors
    ///
    /// `secret_refused` for a weak HMAC secret in production.
    pub(crate) fn check_secrets(&mut self) -> Result<(), Error> {
        for (key, source) in self.keys.iter().zip(&self.sources) {
            let KeyMaterial::Hmac(secret) = &key.material else {
                continue;
            };
            if let Some(reason) = secret.weakness() {
                if !self.dev {
                    return Err(Error::SecretRefused {
                        source_name: source.clone(),
                        reason,
                    });
                }
                self.warnings.push(Warning::weak_secret(format!(
                    "HMAC secret from {source} would be refused in production: {reason}; \
                     accepted because TOKENWARD_ENV=dev"
                )));
            }
        }
        Ok(())
    }
}

/// Binds a key to its one algorithm, or says why it cannot be bound.
fn bind(
    declared: Option<&str>,
    family: KeyFamily,
    allowed: Option<&[Algorithm]>,
) -> Result<Algorithm, String> {
    match declared {
        Some(name) => {
            if crate::algorithm::is_encryption_alg(name) {
                return Err(format!("alg {} is an encryption algorithm", quote(name)));
            }
            let alg = Algorithm::from_name(name).ok_or_else(|| {
                format!("alg {} is not a supported signature algorithm", quote(name))
            })?;
            if !alg.fits(family) {
                return Err(format!("alg {alg} does not fit a {family:?} key"));
            }
            if let Some(list) = allowed
                && !list.contains(&alg)
            {
                return Err(format!("alg {alg} is outside the policy's algorithms"));
            }
            Ok(alg)
        }
        None => {
            let Some(list) = allowed else {
                return Err("the key has no alg and the policy has no algorithms list".to_owned());
            };
            let mut fitting = list.iter().copied().filter(|a| a.fits(family));
            match (fitting.next(), fitting.next()) {
                (Some(alg), None) => Ok(alg),
                (None, _) => Err(format!(
                    "no algorithm in the policy's algorithms fits a {family:?} key"
                )),
                (Some(_), Some(_)) => Err(format!(
                    "the key has no alg and several of the policy's algorithms fit a {family:?} key"
                )),
            }
        }
    }
}

type Skip = (Option<String>, String);

fn str_member<'v>(jwk: &'v Value, name: &str) -> Result<Option<&'v str>, String> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("member {name} is not a string")),
    }
}

fn decode_member(jwk: &Value, name: &str) -> Result<Vec<u8>, String> {
    let s = str_member(jwk, name)?.ok_or_else(|| format!("member {name} is missing"))?;
    b64::decode(s).ok_or_else(|| format!("member {name} is not base64url"))
}

/// Reads an RFC 7517 JWK into a candidate (source filled in by the caller).
fn parse_jwk(jwk: &Value) -> Result<Candidate, Skip> {
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err((None, "kid is not a string".to_owned())),
    };
    let fail = |reason: String| (kid.clone(), reason);
    if !jwk.is_object() {
        return Err(fail("not a JSON object".to_owned()));
    }
    match str_member(jwk, "use").map_err(fail)? {
        None | Some("sig") => {}
        Some("enc") => return Err(fail("use is \"enc\" (an encryption key)".to_owned())),
        Some(other) => return Err(fail(format!("use {} is not \"sig\"", quote(other)))),
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err(fail("key_ops does not include \"verify\"".to_owned()));
        }
    }
    let alg = str_member(jwk, "alg").map_err(fail)?.map(str::to_owned);
    let kty = str_member(jwk, "kty")
        .map_err(fail)?
        .ok_or_else(|| fail("kty is missing".to_owned()))?;
    let material = match kty {
        "RSA" => {
            let n = decode_member(jwk, "n").map_err(fail)?;
            let e = decode_member(jwk, "e").map_err(fail)?;
            KeyMaterial::Rsa { n, e }
        }
        "EC" => {
            let (family, size) = match str_member(jwk, "crv").map_err(fail)? {
                Some("P-256") => (KeyFamily::EcP256, 32),
                Some("P-384") => (KeyFamily::EcP384, 48),
                Some(other) => {
                    return Err(fail(format!("EC curve {} is not supported", quote(other))));
                }
                None => return Err(fail("crv is missing".to_owned())),
            };
            let x = decode_member(jwk, "x").map_err(fail)?;
            let y = decode_member(jwk, "y").map_err(fail)?;
            if x.len() != size || y.len() != size {
                return Err(fail(format!("EC coordinates must be {size} bytes")));
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            KeyMaterial::Ec { family, point }
        }
        "OKP" => {
            match str_member(jwk, "crv").map_err(fail)? {
                Some("Ed25519") => {}
                Some(other) => {
                    return Err(fail(format!("OKP curve {} is not supported", quote(other))));
                }
                None => return Err(fail("crv is missing".to_owned())),
            }
            let x = decode_member(jwk, "x").map_err(fail)?;
            if x.len() != 32 {
                return Err(fail("Ed25519 x must be 32 bytes".to_owned()));
            }
            KeyMaterial::Ed25519(x)
        }
        "oct" => {
            let k = decode_member(jwk, "k").map_err(fail)?;
            if k.is_empty() {
                return Err(fail("k is empty".to_owned()));
            }
            KeyMaterial::Hmac(Secret::new(k))
        }
        other => return Err(fail(format!("kty {} is not supported", quote(other)))),
    };
    Ok(Candidate {
        source: String::new(),
        kid,
        alg,
        material,
    })
}

/// Reads a PEM public key of any supported family.
fn parse_pem(pem: &str) -> Option<KeyMaterial> {
    let bytes = pem.as_bytes();
    if let Ok(key) = DecodingKey::from_rsa_pem(bytes)
        && let Some((n, e)) = key.try_get_as_bytes().ok().and_then(crypto::rsa_components)
    {
        return Some(KeyMaterial::Rsa { n, e });
    }
    if let Ok(key) = DecodingKey::from_ec_pem(bytes) {
        let point = key.try_get_as_bytes().ok()?.to_vec();
        let family = match point.len() {
            65 => KeyFamily::EcP256,
            97 => KeyFamily::EcP384,
            _ => return None,
        };
        return Some(KeyMaterial::Ec { family, point });
    }
    if let Ok(key) = DecodingKey::from_ed_pem(bytes) {
        let x = key.try_get_as_bytes().ok()?.to_vec();
        return (x.len() == 32).then_some(KeyMaterial::Ed25519(x));
    }
    None
}

/// Bit length of a big-endian unsigned integer.
fn bit_length(n: &[u8]) -> usize {
    let mut digits = n.iter().skip_while(|b| **b == 0);
    match digits.next() {
        None => 0,
        Some(first) => {
            let rest = digits.count();
            rest.saturating_mul(8)
                .saturating_add(8 - first.leading_zeros() as usize)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0, 1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[0, 0x7f, 0]), 15);
    }

    #[test]
    fn binding_rules() {
        use Algorithm::*;
        assert_eq!(bind(Some("RS256"), KeyFamily::Rsa, None), Ok(RS256));
        assert!(bind(Some("RS256"), KeyFamily::Rsa, Some(&[PS256])).is_err());
        assert!(bind(Some("ES256"), KeyFamily::Rsa, None).is_err());
        assert!(
            bind(Some("RSA-OAEP"), KeyFamily::Rsa, None)
                .unwrap_err()
                .contains("encryption")
        );
        assert!(bind(None, KeyFamily::Rsa, None).is_err());
        assert_eq!(bind(None, KeyFamily::Rsa, Some(&[RS256, ES256])), Ok(RS256));
        assert!(bind(None, KeyFamily::Rsa, Some(&[RS256, PS256])).is_err());
        assert_eq!(bind(None, KeyFamily::Hmac, Some(&[HS512])), Ok(HS512));
    }
}
