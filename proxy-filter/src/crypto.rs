//! Signature math for the filter: Envoy's `verify_signature` foreign function (BoringSSL) for
//! RS256/384/512 and ES256/384, the in-wasm [`RustCrypto`] provider for everything else, and a
//! bounded per-worker cache of signature outcomes in front of both.
//!
//! The core still makes every decision: this only answers "does this signature verify under this
//! key". A host without the function (it answers `NotFound`) or any other host error falls back to
//! the in-wasm provider, so the decision is the same whoever does the math.
//!
//! The cache holds the outcome of one `(key, alg, signing input, signature)` check, keyed by a
//! SHA-256 digest of those. It lives inside one [`tokenward_core::Verifier`], so it is dropped with
//! it whenever the policy or key set changes. It caches only the signature math: `exp`, `nbf`,
//! audiences and scopes are checked again on every request, so a cached entry can never keep a
//! token alive past its `exp`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use sha2::{Digest, Sha256};
use tokenward_core::{Algorithm, Key, KeyMaterial, RustCrypto, SignatureVerifier};

use crate::config::CryptoMode;
use crate::{der, host, stats};

/// The foreign function Envoy registers for BoringSSL signature checks.
const VERIFY_SIGNATURE: &str = "verify_signature";

const UNKNOWN: u8 = 0;
const PRESENT: u8 = 1;
const ABSENT: u8 = 2;

/// The filter's [`SignatureVerifier`].
pub struct FilterCrypto {
    mode: CryptoMode,
    host_function: AtomicU8,
    cache: Option<Mutex<Lru>>,
}

impl FilterCrypto {
    /// A provider with `mode` and a cache of `cache_size` entries (0: no cache).
    pub fn new(mode: CryptoMode, cache_size: usize) -> Self {
        Self {
            mode,
            host_function: AtomicU8::new(UNKNOWN),
            cache: (cache_size > 0).then(|| Mutex::new(Lru::new(cache_size))),
        }
    }

    fn compute(&self, alg: Algorithm, key: &Key, input: &[u8], sig: &[u8]) -> bool {
        if self.mode == CryptoMode::Auto
            && self.host_function.load(Ordering::Relaxed) != ABSENT
            && let Some(request) = offload_request(alg, key, input, sig)
        {
            match request {
                // A signature of the wrong length for ES256/384: invalid, as in the wasm provider.
                None => return false,
                Some(args) => match host::call_foreign(VERIFY_SIGNATURE, &args) {
                    Ok(reply) => {
                        self.host_function.store(PRESENT, Ordering::Relaxed);
                        stats::bump(stats::OFFLOADED);
                        return decode_reply(reply.as_deref().unwrap_or(&[]));
                    }
                    Err(host::Status::NotFound) => {
                        self.host_function.store(ABSENT, Ordering::Relaxed);
                    }
                    // Any other host failure: this one check runs in wasm.
                    Err(_) => stats::bump(stats::OFFLOAD_FAILED),
                },
            }
        }
        RustCrypto.verify(alg, key, input, sig)
    }
}

impl SignatureVerifier for FilterCrypto {
    fn verify(&self, alg: Algorithm, key: &Key, signing_input: &[u8], signature: &[u8]) -> bool {
        let Some(cache) = &self.cache else {
            return self.compute(alg, key, signing_input, signature);
        };
        let digest = cache_key(alg, key, signing_input, signature);
        if let Ok(mut lru) = cache.lock()
            && let Some(hit) = lru.get(&digest)
        {
            stats::bump(stats::CACHE_HIT);
            return hit;
        }
        stats::bump(stats::CACHE_MISS);
        let outcome = self.compute(alg, key, signing_input, signature);
        if let Ok(mut lru) = cache.lock() {
            lru.put(digest, outcome);
        }
        outcome
    }
}

/// The key's identity within its policy (its address: the cache lives no longer than the policy
/// that owns the key), the algorithm, and both inputs, each length-prefixed.
fn cache_key(alg: Algorithm, key: &Key, input: &[u8], sig: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((std::ptr::from_ref(key) as usize as u64).to_le_bytes());
    h.update(alg.name().as_bytes());
    h.update((input.len() as u64).to_le_bytes());
    h.update(input);
    h.update((sig.len() as u64).to_le_bytes());
    h.update(sig);
    h.finalize().into()
}

/// The `verify_signature` argument for an algorithm BoringSSL covers: `None` when the algorithm
/// stays in wasm, `Some(None)` for an ECDSA signature of the wrong length.
fn offload_request(alg: Algorithm, key: &Key, input: &[u8], sig: &[u8]) -> Option<Option<Vec<u8>>> {
    let hash = match alg {
        Algorithm::RS256 | Algorithm::ES256 => "sha256",
        Algorithm::RS384 | Algorithm::ES384 => "sha384",
        Algorithm::RS512 => "sha512",
        _ => return None,
    };
    let (spki, signature) = match key.material() {
        KeyMaterial::Rsa { n, e } => (der::rsa_spki(n, e), sig.to_vec()),
        KeyMaterial::Ec { family, point } => {
            let coordinate = if alg == Algorithm::ES256 { 32 } else { 48 };
            let spki = der::ec_spki(*family, point)?;
            match der::ecdsa_signature(sig, coordinate) {
                Some(s) => (spki, s),
                None => return Some(None),
            }
        }
        _ => return None,
    };
    let mut out = Vec::with_capacity(spki.len() + signature.len() + input.len() + 16);
    field(&mut out, 1, hash.as_bytes());
    field(&mut out, 2, &spki);
    field(&mut out, 3, &signature);
    field(&mut out, 4, input);
    Some(Some(out))
}

/// One length-delimited protobuf field.
fn field(out: &mut Vec<u8>, number: u8, bytes: &[u8]) {
    out.push((number << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos = pos.checked_add(1)?;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// `result` (field 1, bool) of the reply; anything unreadable is `false` (fail closed).
fn decode_reply(bytes: &[u8]) -> bool {
    let mut pos = 0usize;
    let mut result = false;
    while pos < bytes.len() {
        let Some(tag) = read_varint(bytes, &mut pos) else {
            return false;
        };
        match (tag >> 3, tag & 7) {
            (1, 0) => match read_varint(bytes, &mut pos) {
                Some(v) => result = v != 0,
                None => return false,
            },
            (_, 0) => {
                if read_varint(bytes, &mut pos).is_none() {
                    return false;
                }
            }
            (_, 2) => {
                let Some(len) = read_varint(bytes, &mut pos).and_then(|l| usize::try_from(l).ok())
                else {
                    return false;
                };
                match pos.checked_add(len) {
                    Some(end) if end <= bytes.len() => pos = end,
                    _ => return false,
                }
            }
            _ => return false,
        }
    }
    result
}

/// A bounded least-recently-used map from digest to outcome.
struct Lru {
    capacity: usize,
    tick: u64,
    entries: HashMap<[u8; 32], (bool, u64)>,
    order: BTreeMap<u64, [u8; 32]>,
}

impl Lru {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            tick: 0,
            entries: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    fn get(&mut self, k: &[u8; 32]) -> Option<bool> {
        self.tick = self.tick.wrapping_add(1);
        let tick = self.tick;
        let entry = self.entries.get_mut(k)?;
        self.order.remove(&entry.1);
        entry.1 = tick;
        self.order.insert(tick, *k);
        Some(entry.0)
    }

    fn put(&mut self, k: [u8; 32], v: bool) {
        self.tick = self.tick.wrapping_add(1);
        if let Some(old) = self.entries.insert(k, (v, self.tick)) {
            self.order.remove(&old.1);
        }
        self.order.insert(self.tick, k);
        while self.entries.len() > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenward_core::{Env, Policy, UnixTime, Verifier};

    /// Off wasm every host call answers `Unimplemented`: the provider must fall back to the
    /// in-wasm math and give the vectors' decisions, with the cache on and off.
    #[test]
    fn falls_back_and_caches_with_the_same_decisions() {
        for file in [
            "rs256.json",
            "es256.json",
            "hs256.json",
            "ps256.json",
            "eddsa.json",
        ] {
            let path = format!("{}/../vectors/{file}", env!("CARGO_MANIFEST_DIR"));
            let doc: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let now = UnixTime(doc["now"].as_i64().unwrap());
            for cache in [0, 4] {
                let policy = Policy::from_json(&doc["policy"], &Env::new()).unwrap();
                let v = Verifier::with_crypto(policy, FilterCrypto::new(CryptoMode::Auto, cache));
                for case in doc["cases"].as_array().unwrap() {
                    let Some(token) = case["token"].as_str() else {
                        continue;
                    };
                    let want = case["expect"]["valid"].as_bool().unwrap_or(true);
                    for round in 0..2 {
                        let got = v.validate(token, now);
                        assert_eq!(
                            got.is_ok(),
                            want,
                            "{file} {} cache {cache} round {round}",
                            case["name"]
                        );
                        if let (Err(e), Some(code)) = (&got, case["expect"]["code"].as_str()) {
                            assert_eq!(e.code(), code, "{file} {}", case["name"]);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn reply_decoding() {
        assert!(decode_reply(&[0x08, 0x01]));
        assert!(!decode_reply(&[0x08, 0x00]));
        assert!(!decode_reply(&[]));
        // result false plus an error string
        assert!(!decode_reply(&[0x12, 0x03, b'b', b'a', b'd']));
        // error then result true
        assert!(decode_reply(&[0x12, 0x01, b'x', 0x08, 0x01]));
        // truncated
        assert!(!decode_reply(&[0x12, 0x05, b'x']));
        assert!(!decode_reply(&[0x08]));
        assert!(!decode_reply(&[0x0d, 0, 0, 0, 0]));
    }

    #[test]
    fn request_encoding() {
        let mut out = Vec::new();
        field(&mut out, 4, &[7u8; 200]);
        assert_eq!(&out[..3], &[0x22, 0xc8, 0x01]);
        let mut pos = 1;
        assert_eq!(read_varint(&out, &mut pos), Some(200));
    }

    #[test]
    fn lru_evicts_the_least_recent() {
        let mut lru = Lru::new(2);
        lru.put([1; 32], true);
        lru.put([2; 32], false);
        assert_eq!(lru.get(&[1; 32]), Some(true));
        lru.put([3; 32], true);
        assert_eq!(lru.get(&[2; 32]), None);
        assert_eq!(lru.get(&[1; 32]), Some(true));
        assert_eq!(lru.get(&[3; 32]), Some(true));
        assert_eq!(lru.entries.len(), 2);
        assert_eq!(lru.order.len(), 2);
    }
}
