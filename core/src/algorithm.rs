//! The JWS signature algorithms tokenward accepts, and the key families they bind to.

use std::fmt;

/// A JWS signature algorithm (RFC 7518). `none` is not representable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// EdDSA on Ed25519.
    EdDSA,
}

/// The kind of key an algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyFamily {
    /// A shared HMAC secret (`kty: oct`).
    Hmac,
    /// An RSA public key.
    Rsa,
    /// An EC public key on P-256.
    EcP256,
    /// An EC public key on P-384.
    EcP384,
    /// An Ed25519 public key (`kty: OKP`).
    Ed25519,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Self; 12] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
    ];

    /// The JOSE name (`RS256`), exactly as it appears in a header.
    pub fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Parses a JOSE name, case-sensitively (`rs256` and `none` are `None`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether a key of `family` can verify this algorithm.
    pub fn fits(self, family: KeyFamily) -> bool {
        self.family() == family
    }

    /// The key family this algorithm needs.
    pub fn family(self) -> KeyFamily {
        match self {
            Self::HS256 | Self::HS384 | Self::HS512 => KeyFamily::Hmac,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512 => {
                KeyFamily::Rsa
            }
            Self::ES256 => KeyFamily::EcP256,
            Self::ES384 => KeyFamily::EcP384,
            Self::EdDSA => KeyFamily::Ed25519,
        }
    }

    pub(crate) fn to_jwt(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as J;
        match self {
            Self::HS256 => J::HS256,
            Self::HS384 => J::HS384,
            Self::HS512 => J::HS512,
            Self::RS256 => J::RS256,
            Self::RS384 => J::RS384,
            Self::RS512 => J::RS512,
            Self::PS256 => J::PS256,
            Self::PS384 => J::PS384,
            Self::PS512 => J::PS512,
            Self::ES256 => J::ES256,
            Self::ES384 => J::ES384,
            Self::EdDSA => J::EdDSA,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// JWE key-management and content-encryption algorithm names: a key carrying one is for encryption.
pub(crate) fn is_encryption_alg(name: &str) -> bool {
    matches!(
        name,
        "RSA1_5" | "RSA-OAEP" | "RSA-OAEP-256" | "RSA-OAEP-384" | "RSA-OAEP-512" | "dir"
    ) || name.starts_with("A1")
        || name.starts_with("A2")
        || name.starts_with("ECDH-ES")
        || name.starts_with("PBES2")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_sensitively() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
        }
        assert_eq!(Algorithm::from_name("rs256"), None);
        assert_eq!(Algorithm::from_name("none"), None);
    }
}
