//! Strict base64url (RFC 7515 §2): URL alphabet, no padding, canonical trailing bits.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Decodes one strict base64url segment; `None` for `=`, `+`, `/`, whitespace or stray bits.
pub(crate) fn decode(segment: &str) -> Option<Vec<u8>> {
    // URL_SAFE_NO_PAD requires no padding and rejects non-zero trailing bits by default.
    URL_SAFE_NO_PAD.decode(segment).ok()
}

/// Encodes bytes as base64url without padding.
#[allow(dead_code)]
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strictness() {
        assert_eq!(decode("YQ").as_deref(), Some(&b"a"[..]));
        assert!(decode("YQ==").is_none());
        assert!(decode("YR").is_none(), "non-canonical trailing bits");
        assert!(decode("Y Q").is_none());
        assert!(decode("+/8").is_none());
        assert_eq!(decode("-_8").as_deref(), Some(&[0xfb, 0xff][..]));
    }
}
