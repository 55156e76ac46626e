//! `verify_signature` as Envoy defines it, answered with `ring` (not the RustCrypto stack the
//! filter and the core use), so the offload path is an independent check of the signatures.
//!
//! Arguments (protobuf): 1 hash name (`sha256`, `sha384`, `sha512`), 2 DER SubjectPublicKeyInfo,
//! 3 signature (RSA PKCS#1 v1.5, or DER ECDSA), 4 signed text. Reply: field 1 `result` (bool).

use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

/// The arguments could not be parsed, or name an unsupported key or hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadArgument;

fn varint(bytes: &[u8], pos: &mut usize) -> Result<u64, BadArgument> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos).ok_or(BadArgument)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(BadArgument)
}

/// Length-delimited fields of a protobuf message, by field number.
fn fields(bytes: &[u8]) -> Result<Vec<(u64, &[u8])>, BadArgument> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < bytes.len() {
        let tag = varint(bytes, &mut pos)?;
        if tag & 7 != 2 {
            return Err(BadArgument);
        }
        let len = usize::try_from(varint(bytes, &mut pos)?).map_err(|_| BadArgument)?;
        let end = pos.checked_add(len).ok_or(BadArgument)?;
        out.push((tag >> 3, bytes.get(pos..end).ok_or(BadArgument)?));
        pos = end;
    }
    Ok(out)
}

/// One DER TLV: (tag, content, rest).
fn tlv(der: &[u8]) -> Result<(u8, &[u8], &[u8]), BadArgument> {
    let tag = *der.first().ok_or(BadArgument)?;
    let first = *der.get(1).ok_or(BadArgument)?;
    let (len, head) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 {
            return Err(BadArgument);
        }
        let len = der
            .get(2..2 + n)
            .ok_or(BadArgument)?
            .iter()
            .fold(0usize, |a, b| (a << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = head.checked_add(len).ok_or(BadArgument)?;
    Ok((
        tag,
        der.get(head..end).ok_or(BadArgument)?,
        der.get(end..).ok_or(BadArgument)?,
    ))
}

const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// Splits a SubjectPublicKeyInfo into (algorithm identifier contents, key bytes).
fn spki(der: &[u8]) -> Result<(&[u8], &[u8]), BadArgument> {
    let (0x30, body, _) = tlv(der)? else {
        return Err(BadArgument);
    };
    let (0x30, alg, rest) = tlv(body)? else {
        return Err(BadArgument);
    };
    let (0x03, bits, _) = tlv(rest)? else {
        return Err(BadArgument);
    };
    let (0, key) = bits.split_first().ok_or(BadArgument)? else {
        return Err(BadArgument);
    };
    Ok((alg, key))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Verifies a `verify_signature` request.
///
/// # Errors
/// [`BadArgument`] for arguments that do not parse or name an unsupported key or hash.
pub fn verify_signature(args: &[u8]) -> Result<bool, BadArgument> {
    let fields = fields(args)?;
    let get = |n: u64| {
        fields
            .iter()
            .find(|(f, _)| *f == n)
            .map(|(_, b)| *b)
            .ok_or(BadArgument)
    };
    let (hash, key, sig, text) = (get(1)?, get(2)?, get(3)?, get(4)?);
    let (alg_id, key) = spki(key)?;
    let alg: &'static dyn VerificationAlgorithm = if contains(alg_id, RSA) {
        match hash {
            b"sha256" => &signature::RSA_PKCS1_2048_8192_SHA256,
            b"sha384" => &signature::RSA_PKCS1_2048_8192_SHA384,
            b"sha512" => &signature::RSA_PKCS1_2048_8192_SHA512,
            _ => return Err(BadArgument),
        }
    } else if contains(alg_id, P256) {
        match hash {
            b"sha256" => &signature::ECDSA_P256_SHA256_ASN1,
            b"sha384" => &signature::ECDSA_P256_SHA384_ASN1,
            _ => return Err(BadArgument),
        }
    } else if contains(alg_id, P384) {
        match hash {
            b"sha256" => &signature::ECDSA_P384_SHA256_ASN1,
            b"sha384" => &signature::ECDSA_P384_SHA384_ASN1,
            _ => return Err(BadArgument),
        }
    } else {
        return Err(BadArgument);
    };
    Ok(UnparsedPublicKey::new(alg, key).verify(text, sig).is_ok())
}

/// The reply message: field 1 (`result`) as a varint.
pub fn encode_result(valid: bool) -> Vec<u8> {
    vec![0x08, u8::from(valid)]
}
