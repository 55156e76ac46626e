//! The few DER structures the `verify_signature` offload needs: a SubjectPublicKeyInfo for RSA and
//! EC public keys (RFC 5480, RFC 8017 §A.1.1) and an ECDSA signature (`r || s` to
//! `SEQUENCE { INTEGER r, INTEGER s }`, RFC 3279 §2.2.3).

use tokenward_core::KeyFamily;

/// `rsaEncryption` (1.2.840.113549.1.1.1).
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// `id-ecPublicKey` (1.2.840.10045.2.1).
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `prime256v1` (1.2.840.10045.3.1.7).
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `secp384r1` (1.3.132.0.34).
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or(&[]);
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// A positive INTEGER from big-endian magnitude bytes.
fn uint(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let trimmed = magnitude.get(skip..).unwrap_or(&[]);
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    match trimmed.first() {
        None => content.push(0),
        Some(first) => {
            if first & 0x80 != 0 {
                content.push(0);
            }
            content.extend_from_slice(trimmed);
        }
    }
    tlv(0x02, &content)
}

fn spki(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(key.len() + 1);
    bits.push(0); // no unused bits
    bits.extend_from_slice(key);
    let mut body = tlv(0x30, algorithm);
    body.extend_from_slice(&tlv(0x03, &bits));
    tlv(0x30, &body)
}

/// The SubjectPublicKeyInfo of an RSA key from its modulus and exponent.
pub fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut alg = tlv(0x06, OID_RSA);
    alg.extend_from_slice(&[0x05, 0x00]);
    let mut key = uint(n);
    key.extend_from_slice(&uint(e));
    spki(&alg, &tlv(0x30, &key))
}

/// The SubjectPublicKeyInfo of an uncompressed EC point on P-256 or P-384.
pub fn ec_spki(family: KeyFamily, point: &[u8]) -> Option<Vec<u8>> {
    let curve = match family {
        KeyFamily::EcP256 => OID_P256,
        KeyFamily::EcP384 => OID_P384,
        _ => return None,
    };
    let mut alg = tlv(0x06, OID_EC);
    alg.extend_from_slice(&tlv(0x06, curve));
    Some(spki(&alg, point))
}

/// The DER form of a JWS ECDSA signature (`r || s`, each `coordinate` bytes); `None` when the
/// length is wrong (the in-wasm provider rejects those too).
pub fn ecdsa_signature(raw: &[u8], coordinate: usize) -> Option<Vec<u8>> {
    if raw.len() != coordinate.checked_mul(2)? {
        return None;
    }
    let (r, s) = raw.split_at(coordinate);
    let mut body = uint(r);
    body.extend_from_slice(&uint(s));
    Some(tlv(0x30, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(uint(&[0x00, 0x00, 0x01]), [0x02, 0x01, 0x01]);
        assert_eq!(uint(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(uint(&[]), [0x02, 0x01, 0x00]);
        assert_eq!(uint(&[0x01, 0x00, 0x01]), [0x02, 0x03, 0x01, 0x00, 0x01]);
    }

    #[test]
    fn long_lengths() {
        let v = tlv(0x04, &[0u8; 300]);
        assert_eq!(&v[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(v.len(), 304);
    }

    #[test]
    fn rsa_spki_matches_the_pem_key() {
        // vectors/keys/rsa-2048.public.pem decoded: n, e recovered by hand from the DER below.
        let pem = include_str!("../../vectors/keys/rsa-2048.public.pem");
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        // SPKI: 30 82 01 22 | 30 0d <alg> | 03 82 01 0f 00 | 30 82 01 0a | 02 82 01 01 00 <n:256> | 02 03 <e>
        let n = &der[33..33 + 256];
        let e = &der[der.len() - 3..];
        assert_eq!(rsa_spki(n, e), der);
    }

    #[test]
    fn ec_spki_matches_the_pem_key() {
        for (file, family) in [
            (
                include_str!("../../vectors/keys/ec-p256.public.pem"),
                KeyFamily::EcP256,
            ),
            (
                include_str!("../../vectors/keys/ec-p384.public.pem"),
                KeyFamily::EcP384,
            ),
        ] {
            let b64: String = file.lines().filter(|l| !l.starts_with("-----")).collect();
            use base64::Engine;
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            let point_len = if family == KeyFamily::EcP256 { 65 } else { 97 };
            let point = &der[der.len() - point_len..];
            assert_eq!(ec_spki(family, point).unwrap(), der);
        }
        assert_eq!(ec_spki(KeyFamily::Rsa, &[4]), None);
    }

    #[test]
    fn ecdsa_signature_to_der() {
        let mut raw = vec![0u8; 64];
        raw[31] = 1; // r = 1
        raw[32] = 0x80; // s has its high bit set
        let der = ecdsa_signature(&raw, 32).unwrap();
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
        assert_eq!(ecdsa_signature(&raw[..63], 32), None);
    }
}
