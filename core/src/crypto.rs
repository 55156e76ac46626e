//! The signature-math boundary.
//!
//! The core decides everything (parsing, key selection, algorithm binding, claims); only the
//! signature check itself goes through a [`SignatureVerifier`]. The default, [`RustCrypto`], runs
//! `jsonwebtoken`'s RustCrypto provider, passed explicitly (never installed as a process default).
//! Hosts with native crypto (node:crypto, WebCrypto, Envoy's BoringSSL) implement the trait, or use
//! [`crate::Verifier::prepare`] / [`crate::Verifier::finish`] to do the math outside the core.

use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;

use crate::{Algorithm, Key};

/// Verifies one signature. Implementations must not panic; any internal failure is `false`.
pub trait SignatureVerifier: Send + Sync {
    /// Whether `signature` is a valid `alg` signature of `signing_input` under `key`.
    ///
    /// The core only calls this with an `alg` the key is bound to.
    fn verify(&self, alg: Algorithm, key: &Key, signing_input: &[u8], signature: &[u8]) -> bool;
}

/// The in-wasm provider: `jsonwebtoken`'s RustCrypto backend (HMAC, RSA, RSA-PSS, ECDSA, Ed25519).
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCrypto;

impl SignatureVerifier for RustCrypto {
    fn verify(&self, alg: Algorithm, key: &Key, signing_input: &[u8], signature: &[u8]) -> bool {
        if !alg.fits(key.family()) {
            return false;
        }
        let Ok(verifier) = (DEFAULT_PROVIDER.verifier_factory)(&alg.to_jwt(), key.decoding_key())
        else {
            return false;
        };
        verifier.verify(signing_input, &signature.to_vec()).is_ok()
    }
}

/// Whether the provider can build a verifier for this key at all (load-time key check).
pub(crate) fn key_is_usable(alg: Algorithm, key: &jsonwebtoken::DecodingKey) -> bool {
    (DEFAULT_PROVIDER.verifier_factory)(&alg.to_jwt(), key).is_ok()
}

/// `(n, e)` of a PKCS#1 DER RSA public key.
pub(crate) fn rsa_components(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    (DEFAULT_PROVIDER
        .key_utils
        .rsa_pub_components_from_public_key)(der)
    .ok()
}
