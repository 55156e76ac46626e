//! The validation pipeline: size, structure, header, key selection, signature, claims.
//!
//! [`Verifier::validate`] runs it all with the configured [`SignatureVerifier`]. Hosts whose fastest
//! crypto lives outside the core (node:crypto, async WebCrypto) split it: [`Verifier::prepare`]
//! makes every decision up to the signature and names the candidate keys, the host checks the
//! signature, and [`Verifier::finish`] takes the outcome and runs the claim checks.

use std::sync::Arc;

use serde_json::Value;

use crate::error::quote;
use crate::json::kind;
use crate::token::{self, Parsed};
use crate::{
    Algorithm, Claims, Error, Key, KeyHandle, Policy, RustCrypto, SignatureVerifier, UnixTime,
};

/// A policy plus the signature provider; cheap to share between threads and requests.
#[derive(Clone)]
pub struct Verifier {
    policy: Arc<Policy>,
    crypto: Arc<dyn SignatureVerifier>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// A token that passed every check up to the signature, waiting for the signature outcome.
///
/// Give it back to [`Verifier::finish`]; dropping it decides nothing.
#[must_use = "a pending check decides nothing until it is passed to Verifier::finish"]
#[derive(Debug)]
pub struct PendingCheck {
    alg: Algorithm,
    candidates: Vec<KeyHandle>,
    signing_input: String,
    signature: Vec<u8>,
    payload: serde_json::Map<String, Value>,
}

impl PendingCheck {
    /// The token's algorithm (allowed, and the one every candidate key is bound to).
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The keys the signature may verify under, in policy order (never empty).
    pub fn candidates(&self) -> &[KeyHandle] {
        &self.candidates
    }

    /// The signing input: `base64url(header) "." base64url(payload)` as bytes.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }

    /// The decoded signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The payload, not yet trusted (only read once the signature verified).
    pub(crate) fn payload(&self) -> &serde_json::Map<String, Value> {
        &self.payload
    }
}

/// What the host's signature check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureOutcome {
    /// The signature verified under this candidate key.
    Verified(KeyHandle),
    /// It verified under none of the candidates.
    Invalid,
}

impl Verifier {
    /// A verifier using the in-core RustCrypto provider.
    pub fn new(policy: Policy) -> Self {
        Self::with_crypto(policy, RustCrypto)
    }

    /// A verifier using another signature provider (the core still makes every decision).
    pub fn with_crypto(policy: Policy, crypto: impl SignatureVerifier + 'static) -> Self {
        Self {
            policy: Arc::new(policy),
            crypto: Arc::new(crypto),
        }
    }

    /// The policy this verifier enforces.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The key a [`KeyHandle`] names.
    pub fn key(&self, handle: KeyHandle) -> Option<&Key> {
        self.policy.keys().get(handle.index())
    }

    /// Validates a compact JWS at `now`: every check, in the fixed order.
    ///
    /// # Errors
    ///
    /// The first failing check's [`Error`]; see the catalog for the order.
    pub fn validate(&self, token: &str, now: UnixTime) -> Result<Claims, Error> {
        let pending = self.prepare(token)?;
        let outcome = self.check_signature(&pending);
        self.finish(pending, outcome, now)
    }

    /// Runs the checks up to the signature: size, structure, header, key selection.
    ///
    /// # Errors
    ///
    /// `token_too_large`, `token_malformed`, `algorithm_not_allowed`, `token_type_invalid` or
    /// `key_not_found`.
    pub fn prepare(&self, token: &str) -> Result<PendingCheck, Error> {
        let Parsed {
            header,
            payload,
            signing_input,
            signature,
            alg: alg_name,
            kid,
        } = token::parse(token, self.policy.max_token_bytes())?;

        let allowed = self.policy.algorithms();
        let Some(alg) = Algorithm::from_name(&alg_name).filter(|a| allowed.contains(a)) else {
            return Err(Error::AlgorithmNotAllowed {
                alg: quote(&alg_name),
                allowed: allowed.iter().map(|a| a.name().to_owned()).collect(),
            });
        };

        self.check_typ(header.get("typ"))?;

        let keys = self.policy.keys();
        let candidates: Vec<KeyHandle> = match &kid {
            Some(kid) => match keys.iter().position(|k| k.kid() == Some(kid.as_str())) {
                Some(index) => {
                    let bound = keys.get(index).map(Key::algorithm);
                    if bound != Some(alg) {
                        return Err(Error::AlgorithmNotAllowed {
                            alg: quote(&alg_name),
                            allowed: bound.iter().map(|a| a.name().to_owned()).collect(),
                        });
                    }
                    vec![KeyHandle(index)]
                }
                // No key has this kid: only kid-less keys bound to `alg` may verify it (a token
                // without a kid could try them anyway, so this widens nothing).
                None => {
                    let kidless: Vec<KeyHandle> = keys
                        .iter()
                        .enumerate()
                        .filter(|(_, k)| k.kid().is_none() && k.algorithm() == alg)
                        .map(|(i, _)| KeyHandle(i))
                        .collect();
                    if kidless.is_empty() {
                        return Err(Error::KeyNotFound {
                            kid: Some(kid.clone()),
                            alg: quote(&alg_name),
                        });
                    }
                    kidless
                }
            },
            None => keys
                .iter()
                .enumerate()
                .filter(|(_, k)| k.algorithm() == alg)
                .map(|(i, _)| KeyHandle(i))
                .collect(),
        };
        if candidates.is_empty() {
            return Err(Error::KeyNotFound {
                kid: None,
                alg: quote(&alg_name),
            });
        }
        Ok(PendingCheck {
            alg,
            candidates,
            signing_input,
            signature,
            payload,
        })
    }

    /// Checks the signature of a pending token with this verifier's provider.
    pub fn check_signature(&self, pending: &PendingCheck) -> SignatureOutcome {
        for &handle in &pending.candidates {
            if let Some(key) = self.key(handle)
                && self.crypto.verify(
                    pending.alg,
                    key,
                    pending.signing_input(),
                    &pending.signature,
                )
            {
                return SignatureOutcome::Verified(handle);
            }
        }
        SignatureOutcome::Invalid
    }

    /// Takes the signature outcome and runs the claim checks at `now`.
    ///
    /// A `Verified` handle that is not one of the pending check's candidates counts as `Invalid`.
    ///
    /// # Errors
    ///
    /// `signature_invalid`, then the claim checks' errors in their fixed order.
    pub fn finish(
        &self,
        pending: PendingCheck,
        outcome: SignatureOutcome,
        now: UnixTime,
    ) -> Result<Claims, Error> {
        self.finish_for(pending, outcome, now, self.policy.audiences())
    }

    /// [`Verifier::finish`] against a route's audiences instead of the policy's.
    pub(crate) fn finish_for(
        &self,
        pending: PendingCheck,
        outcome: SignatureOutcome,
        now: UnixTime,
        audiences: &[String],
    ) -> Result<Claims, Error> {
        let verified = match outcome {
            SignatureOutcome::Verified(handle) => pending.candidates.contains(&handle),
            SignatureOutcome::Invalid => false,
        };
        if !verified {
            return Err(Error::SignatureInvalid {
                alg: pending.alg.name().to_owned(),
                candidates: pending.candidates.len(),
            });
        }
        crate::claims::check(pending.payload, &self.policy, now, audiences)
    }

    fn check_typ(&self, typ: Option<&Value>) -> Result<(), Error> {
        let expected = self.policy.typ();
        match typ {
            None => match expected {
                None => Ok(()),
                Some(e) => Err(Error::TokenTypeInvalid {
                    expected: Some(quote(e)),
                    found: None,
                }),
            },
            Some(Value::String(found)) => match expected {
                Some(e) if !typ_matches(e, found) => Err(Error::TokenTypeInvalid {
                    expected: Some(quote(e)),
                    found: Some(quote(found)),
                }),
                _ => Ok(()),
            },
            Some(other) => Err(Error::TokenTypeInvalid {
                expected: expected.map(quote),
                found: Some(format!("{} (not a string)", kind(other))),
            }),
        }
    }
}

/// RFC 8725 §3.11 / RFC 7515 §4.1.9: ASCII case-insensitive, `application/` prefix optional.
fn typ_matches(expected: &str, found: &str) -> bool {
    let (e, f) = (strip_application(expected), strip_application(found));
    !f.is_empty() && e.eq_ignore_ascii_case(f)
}

fn strip_application(typ: &str) -> &str {
    const PREFIX: &str = "application/";
    match typ.get(..PREFIX.len()) {
        Some(head) if head.eq_ignore_ascii_case(PREFIX) => typ.get(PREFIX.len()..).unwrap_or(""),
        _ => typ,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typ_comparison() {
        assert!(typ_matches("at+jwt", "at+jwt"));
        assert!(typ_matches("at+jwt", "AT+JWT"));
        assert!(typ_matches("at+jwt", "application/at+jwt"));
        assert!(typ_matches("application/at+jwt", "APPLICATION/AT+JWT"));
        assert!(typ_matches("application/at+jwt", "at+jwt"));
        assert!(!typ_matches("at+jwt", "application/application/at+jwt"));
        assert!(!typ_matches("at+jwt", "JWT"));
        assert!(!typ_matches("at+jwt", ""));
    }
}
