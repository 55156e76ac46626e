//! HMAC secrets: redacted, compared in constant time, checked against the production rules.

use std::fmt;

use subtle::ConstantTimeEq as _;

/// Minimum HMAC secret length accepted in production (RFC 7518 §3.2 asks for the hash size).
pub(crate) const MIN_SECRET_BYTES: usize = 32;

/// Well-known default and placeholder secrets, compared ASCII case-insensitively.
const PLACEHOLDERS: &[&str] = &[
    "secret",
    "changeme",
    "change-me",
    "change_me",
    "changeit",
    "password",
    "your-256-bit-secret",
    "your-384-bit-secret",
    "your-512-bit-secret",
    "your-secret-key",
    "your_secret_key",
    "your-secret",
    "your-jwt-secret",
    "jwt-secret",
    "jwt_secret",
    "jwtsecret",
    "mysecret",
    "my-secret",
    "my-secret-key",
    "secret-key",
    "secretkey",
    "supersecret",
    "super-secret",
    "default",
    "test",
    "a-string-secret-at-least-256-bits-long",
    "your-super-secret-jwt-token-with-at-least-32-characters-long",
    "please-change-this-secret",
];

/// An HMAC secret. `Debug` shows only its length; equality is constant-time.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps secret bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The secret bytes, for a crypto provider.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (the only thing messages may say about a secret).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Why production refuses this secret, or `None` when it is acceptable.
    pub(crate) fn weakness(&self) -> Option<String> {
        if self.0.len() < MIN_SECRET_BYTES {
            return Some(format!(
                "{} bytes; need at least {MIN_SECRET_BYTES}",
                self.0.len()
            ));
        }
        if is_placeholder(&self.0) {
            return Some(format!(
                "{} bytes, but a well-known placeholder or repeated pattern",
                self.0.len()
            ));
        }
        None
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([redacted; {} bytes])", self.0.len())
    }
}

/// A placeholder from the list, or a short unit repeated (`aaaa…`, `abcabc…`).
fn is_placeholder(bytes: &[u8]) -> bool {
    let trimmed = bytes.trim_ascii();
    if PLACEHOLDERS
        .iter()
        .any(|p| trimmed.eq_ignore_ascii_case(p.as_bytes()))
    {
        return true;
    }
    (1..=8).any(|period| {
        trimmed.len() > period
            && trimmed
                .iter()
                .zip(trimmed.iter().skip(period))
                .all(|(a, b)| a == b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weakness_rules() {
        assert!(
            Secret::new(b"short".to_vec())
                .weakness()
                .unwrap()
                .contains("5 bytes")
        );
        assert!(Secret::new(vec![b'a'; 40]).weakness().is_some());
        assert!(
            Secret::new(b"abcabcabcabcabcabcabcabcabcabcabcabc".to_vec())
                .weakness()
                .is_some()
        );
        assert!(
            Secret::new(b"YOUR-SUPER-SECRET-JWT-TOKEN-WITH-AT-LEAST-32-CHARACTERS-LONG".to_vec())
                .weakness()
                .is_some()
        );
        assert!(
            Secret::new(b"k9Vb3qV0fJ8m2sQeX1tYz7LrN4wP6cHd5gTaUoEiRj".to_vec())
                .weakness()
                .is_none()
        );
    }

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new(b"hunter2hunter2".to_vec());
        assert_eq!(format!("{s:?}"), "Secret([redacted; 14 bytes])");
    }
}
