//! The one error catalog every tokenward host shares.
//!
//! Each [`Error`] variant has a stable snake_case [`Error::code`], an HTTP [`Error::status`] and, for
//! request-time errors, an RFC 6750 [`Error::www_authenticate`] rendering. Codes are never renamed: a
//! new code is added and the old one retired. The same string is the Rust `code()`, the JS `err.code`,
//! the `error` member of a JSON error body and a vector's `expect.code`.
//!
//! # Check order
//!
//! When a token has several faults, the first failing check names the code. The order is part of
//! the contract, and every host keeps it:
//!
//! 1. size (`token_too_large`);
//! 2. structure (`token_malformed`): part count, strict base64url, UTF-8, strict JSON (duplicate
//!    members, depth > 32), object header and payload, `alg` a string, `kid` a string, no `crit`;
//! 3. header: `alg` in the allowed set (`algorithm_not_allowed`), `typ` (`token_type_invalid`);
//! 4. key selection (`key_not_found`, or `algorithm_not_allowed` for a `kid` bound to another `alg`);
//! 5. signature (`signature_invalid`);
//! 6. `exp` (`token_expired`), `nbf` (`token_not_yet_valid`), `iat` (`claim_invalid` when in the
//!    future), `iss` (`issuer_invalid`), `aud` (`audience_invalid`), `sub`/`jti` types, required
//!    claims (`claim_missing`), lifetime (`token_lifetime_exceeded`);
//! 7. `scope`/`scp` types (`claim_invalid`), then required scopes (`insufficient_scope`).
//!
//! Nothing from the payload is trusted before step 5 holds: claim checks only run afterwards.

use std::fmt;

/// Longest prefix of a token-supplied value that an error message quotes.
const QUOTE_LIMIT: usize = 64;

/// Everything that can go wrong while loading a policy or validating a token.
///
/// Messages (the `Display` output) say what was expected and what was found. They never contain a
/// secret, a signature, a whole token or a whole payload; values taken from a token are truncated,
/// escaped and quoted.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request carried no token at all.
    #[error("no bearer token in the request")]
    TokenMissing,
    /// The request was malformed (two tokens, an empty `Bearer`, a bad cookie header).
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// What was wrong.
        reason: String,
    },
    /// The token is not a well-formed compact JWS.
    #[error("malformed token: {reason}")]
    TokenMalformed {
        /// What was wrong, without the token's bytes.
        reason: String,
    },
    /// The token is longer than the policy's `max_token_bytes`.
    #[error("token is {size} bytes; the limit is {limit}")]
    TokenTooLarge {
        /// Length of the token string in bytes.
        size: usize,
        /// The policy's `max_token_bytes`.
        limit: usize,
    },
    /// The header `alg` is outside the allowed set, or the selected key is bound to another one.
    #[error("algorithm {alg} is not allowed; allowed: {}", list(allowed))]
    AlgorithmNotAllowed {
        /// The token's `alg`, quoted.
        alg: String,
        /// The algorithms that would have been accepted here.
        allowed: Vec<String>,
    },
    /// No usable key matches the token's `kid` (or, without a `kid`, its `alg`).
    #[error("no usable key for kid {} and alg {alg}", kid.as_deref().map_or_else(|| "(none)".to_owned(), quote))]
    KeyNotFound {
        /// The token's `kid` as it was sent (quoted only in the message), if it had one: hosts
        /// pass it to [`crate::jwks::JwksCache::on_unknown_kid`].
        kid: Option<String>,
        /// The token's `alg`, quoted.
        alg: String,
    },
    /// The signature does not verify under any candidate key.
    #[error("signature does not verify with {alg} under {candidates} candidate key(s)")]
    SignatureInvalid {
        /// The token's `alg`.
        alg: String,
        /// How many keys were tried.
        candidates: usize,
    },
    /// `now >= exp + skew`.
    #[error("token expired at {exp}; now {now}, skew {skew}s")]
    TokenExpired {
        /// The token's `exp` (rounded up to whole seconds).
        exp: i64,
        /// The `now` the host passed in.
        now: i64,
        /// The policy's clock skew in seconds.
        skew: i64,
    },
    /// `nbf > now + skew`.
    #[error("token not valid before {nbf}; now {now}, skew {skew}s")]
    TokenNotYetValid {
        /// The token's `nbf` (rounded up to whole seconds).
        nbf: i64,
        /// The `now` the host passed in.
        now: i64,
        /// The policy's clock skew in seconds.
        skew: i64,
    },
    /// `iss` differs from the policy's `jwt_issuer`.
    #[error("issuer {found} does not match policy issuer {expected}")]
    IssuerInvalid {
        /// The policy's issuer, quoted.
        expected: String,
        /// The token's issuer, quoted.
        found: String,
    },
    /// `aud` does not intersect the policy's audiences.
    #[error(
        "audience {} does not intersect policy audiences {}",
        list(found),
        list(expected)
    )]
    AudienceInvalid {
        /// The token's audiences, quoted.
        found: Vec<String>,
        /// The policy's audiences, quoted.
        expected: Vec<String>,
    },
    /// A required claim is absent.
    #[error("required claim {claim} is missing")]
    ClaimMissing {
        /// The claim name.
        claim: String,
    },
    /// A claim is present with the wrong JSON type or an unacceptable value.
    #[error("claim {claim} is invalid: {reason}")]
    ClaimInvalid {
        /// The claim name.
        claim: String,
        /// What was expected and what was found.
        reason: String,
    },
    /// The JOSE `typ` header is missing, not a string, or not the policy's `typ`.
    #[error("token type {} does not match required type {}", found.as_deref().unwrap_or("(missing)"), expected.as_deref().unwrap_or("(any string)"))]
    TokenTypeInvalid {
        /// The policy's `typ`, quoted, if it sets one.
        expected: Option<String>,
        /// The token's `typ`, quoted or described, if present.
        found: Option<String>,
    },
    /// `exp - iat` is longer than the lifetime the policy allows for this token kind.
    #[error("token lifetime {lifetime}s (exp - iat) exceeds the {kind} token limit of {max}s")]
    TokenLifetimeExceeded {
        /// `exp - iat` in seconds.
        lifetime: i64,
        /// The policy's limit in seconds.
        max: i64,
        /// `access` or `refresh`.
        kind: String,
    },
    /// The token is valid but does not grant every required scope.
    #[error(
        "insufficient scope: missing {}; required {}",
        list(missing),
        list(required)
    )]
    InsufficientScope {
        /// Every scope the check required.
        required: Vec<String>,
        /// The required scopes the token did not grant.
        missing: Vec<String>,
    },
    /// The token's `tenant_id` does not equal the tenant the request names (or either is missing).
    #[error("tenant mismatch: {reason}")]
    TenantMismatch {
        /// What was compared, with values quoted.
        reason: String,
    },
    /// Scanner or bot traffic, blocked before authentication.
    #[error("request blocked as scanner traffic: {reason}")]
    ScannerBlocked {
        /// Which rule matched (path, user agent or velocity).
        reason: String,
    },
    /// A fetched JWKS document is unusable (not JSON, no `keys`, no usable key).
    #[error("JWKS rejected: {reason}")]
    JwksInvalid {
        /// What was wrong with the document.
        reason: String,
    },
    /// An OIDC discovery document is unusable or names another issuer.
    #[error("OIDC discovery document rejected: {reason}")]
    DiscoveryInvalid {
        /// What was wrong with the document.
        reason: String,
    },
    /// A signing key (for token issuance) cannot be used.
    #[error("signing key rejected: {reason}")]
    KeyInvalid {
        /// What was wrong, never the key material.
        reason: String,
    },
    /// The host could not decide the request (a failing host call, no key set yet): fail closed.
    #[error("internal error: {reason}")]
    Internal {
        /// What failed, for the log (never a secret or token).
        reason: String,
    },
    /// The policy document is invalid; `field` names the offending field.
    #[error("{field} {reason}")]
    PolicyInvalid {
        /// The field, as a dotted path (`security.jwt_access_token_expiration`) or env name.
        field: String,
        /// What was expected and what was found.
        reason: String,
    },
    /// An HMAC secret was refused in production (too short or a well-known placeholder).
    #[error(
        "HMAC secret from {source_name} refused: {reason}; generate one with `openssl rand -base64 48` (or set TOKENWARD_ENV=dev for local development)"
    )]
    SecretRefused {
        /// Where the secret came from (`JWT_SECRET`, `keys.jwks.keys[0]`), never the secret.
        source_name: String,
        /// Why, described by length only.
        reason: String,
    },
}

impl Error {
    /// The stable machine code of this error.
    ///
    /// ```
    /// use tokenward_core::Error;
    /// assert_eq!(Error::TokenMissing.code(), "token_missing");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Self::TokenMissing => "token_missing",
            Self::InvalidRequest { .. } => "invalid_request",
            Self::TokenMalformed { .. } => "token_malformed",
            Self::TokenTooLarge { .. } => "token_too_large",
            Self::AlgorithmNotAllowed { .. } => "algorithm_not_allowed",
            Self::KeyNotFound { .. } => "key_not_found",
            Self::SignatureInvalid { .. } => "signature_invalid",
            Self::TokenExpired { .. } => "token_expired",
            Self::TokenNotYetValid { .. } => "token_not_yet_valid",
            Self::IssuerInvalid { .. } => "issuer_invalid",
            Self::AudienceInvalid { .. } => "audience_invalid",
            Self::ClaimMissing { .. } => "claim_missing",
            Self::ClaimInvalid { .. } => "claim_invalid",
            Self::TokenTypeInvalid { .. } => "token_type_invalid",
            Self::TokenLifetimeExceeded { .. } => "token_lifetime_exceeded",
            Self::InsufficientScope { .. } => "insufficient_scope",
            Self::TenantMismatch { .. } => "tenant_mismatch",
            Self::ScannerBlocked { .. } => "scanner_blocked",
            Self::JwksInvalid { .. } => "jwks_invalid",
            Self::DiscoveryInvalid { .. } => "discovery_invalid",
            Self::KeyInvalid { .. } => "key_invalid",
            Self::Internal { .. } => "internal_error",
            Self::PolicyInvalid { .. } => "policy_invalid",
            Self::SecretRefused { .. } => "secret_refused",
        }
    }

    /// The HTTP status a host answers with: 400, 401, 403, 503 for `internal_error`, or 500 for
    /// configuration errors.
    pub fn status(&self) -> u16 {
        if let Self::Internal { .. } = self {
            return 503;
        }
        match self.class() {
            Some(Class::InvalidRequest) => 400,
            Some(Class::InsufficientScope | Class::Forbidden) => 403,
            Some(Class::Missing | Class::InvalidToken) => 401,
            None => 500,
        }
    }

    /// The fixed, human-readable `error_description` for this code (no token-derived data).
    pub fn description(&self) -> &'static str {
        match self {
            Self::TokenMissing => "no bearer token was presented",
            Self::InvalidRequest { .. } => "the request is malformed",
            Self::TokenMalformed { .. } => "the token is malformed",
            Self::TokenTooLarge { .. } => "the token is too large",
            Self::AlgorithmNotAllowed { .. } => "the token algorithm is not allowed",
            Self::KeyNotFound { .. } => "no key matches the token",
            Self::SignatureInvalid { .. } => "the token signature is invalid",
            Self::TokenExpired { .. } => "the token has expired",
            Self::TokenNotYetValid { .. } => "the token is not yet valid",
            Self::IssuerInvalid { .. } => "the token issuer is not accepted",
            Self::AudienceInvalid { .. } => "the token audience is not accepted",
            Self::ClaimMissing { .. } => "a required claim is missing",
            Self::ClaimInvalid { .. } => "a claim is invalid",
            Self::TokenTypeInvalid { .. } => "the token type is not accepted",
            Self::TokenLifetimeExceeded { .. } => "the token lifetime is too long",
            Self::InsufficientScope { .. } => "the token does not grant the required scope",
            Self::TenantMismatch { .. } => "the token is not valid for this tenant",
            Self::ScannerBlocked { .. } => "the request was blocked as scanner traffic",
            Self::JwksInvalid { .. } => "the key set is unusable",
            Self::DiscoveryInvalid { .. } => "the discovery document is unusable",
            Self::KeyInvalid { .. } => "the signing key is unusable",
            Self::Internal { .. } => "the authorization service could not decide this request",
            Self::PolicyInvalid { .. } => "the policy is invalid",
            Self::SecretRefused { .. } => "the HMAC secret was refused",
        }
    }

    /// The RFC 6750 `WWW-Authenticate` value for request-time errors; `None` for policy errors
    /// and for 403s that are not about scope (`tenant_mismatch`, `scanner_blocked`).
    ///
    /// ```
    /// use tokenward_core::Error;
    /// let e = Error::InsufficientScope { required: vec!["tools:read".into()], missing: vec!["tools:read".into()] };
    /// assert_eq!(
    ///     e.www_authenticate().as_deref(),
    ///     Some(r#"Bearer error="insufficient_scope", scope="tools:read", error_description="the token does not grant the required scope""#)
    /// );
    /// ```
    pub fn www_authenticate(&self) -> Option<String> {
        self.www_authenticate_with(None)
    }

    /// As [`Error::www_authenticate`], adding RFC 9728 `resource_metadata="<url>"` to every 401.
    ///
    /// ```
    /// use tokenward_core::Error;
    /// let url = "https://mcp.example.com/.well-known/oauth-protected-resource";
    /// assert_eq!(
    ///     Error::TokenMissing.www_authenticate_with(Some(url)).as_deref(),
    ///     Some(r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource""#)
    /// );
    /// ```
    pub fn www_authenticate_with(&self, resource_metadata: Option<&str>) -> Option<String> {
        let class = self.class()?;
        let mut params: Vec<String> = Vec::with_capacity(4);
        match class {
            Class::Missing => {}
            Class::Forbidden => return None,
            Class::InvalidRequest => params.push("error=\"invalid_request\"".to_owned()),
            Class::InvalidToken => params.push("error=\"invalid_token\"".to_owned()),
            Class::InsufficientScope => params.push("error=\"insufficient_scope\"".to_owned()),
        }
        if let Self::InsufficientScope { required, .. } = self {
            params.push(format!("scope=\"{}\"", escape_param(&required.join(" "))));
        }
        if !matches!(class, Class::Missing) {
            params.push(format!("error_description=\"{}\"", self.description()));
        }
        if let Some(url) = resource_metadata.filter(|_| self.status() == 401) {
            params.push(format!("resource_metadata=\"{}\"", escape_param(url)));
        }
        if params.is_empty() {
            return Some("Bearer".to_owned());
        }
        Some(format!("Bearer {}", params.join(", ")))
    }

    /// The JSON error body a host answers with: `{"error": code, "error_description": ...}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "error": self.code(), "error_description": self.description() })
            .to_string()
    }

    fn class(&self) -> Option<Class> {
        Some(match self {
            Self::TokenMissing => Class::Missing,
            Self::InvalidRequest { .. } => Class::InvalidRequest,
            Self::InsufficientScope { .. } => Class::InsufficientScope,
            Self::TenantMismatch { .. } | Self::ScannerBlocked { .. } => Class::Forbidden,
            Self::PolicyInvalid { .. }
            | Self::SecretRefused { .. }
            | Self::JwksInvalid { .. }
            | Self::DiscoveryInvalid { .. }
            | Self::KeyInvalid { .. }
            | Self::Internal { .. } => return None,
            _ => Class::InvalidToken,
        })
    }

    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        Self::TokenMalformed {
            reason: reason.into(),
        }
    }

    pub(crate) fn policy(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::PolicyInvalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn claim_invalid(claim: &str, reason: impl Into<String>) -> Self {
        Self::ClaimInvalid {
            claim: claim.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The RFC 6750 error class of a code.
#[derive(Clone, Copy)]
enum Class {
    Missing,
    InvalidRequest,
    InvalidToken,
    InsufficientScope,
    Forbidden,
}

/// Escapes a value for an RFC 7235 quoted-string (backslash and double quote).
fn escape_param(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A load-time warning returned to the host (the policy loaded, but something deserves attention).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    code: &'static str,
    message: String,
}

impl Warning {
    /// `weak_secret`: dev mode accepted a secret that production would refuse.
    pub(crate) fn weak_secret(message: String) -> Self {
        Self {
            code: "weak_secret",
            message,
        }
    }

    /// `key_skipped`: a configured key can never verify anything and was left out.
    pub(crate) fn key_skipped(message: String) -> Self {
        Self {
            code: "key_skipped",
            message,
        }
    }

    /// The stable snake_case warning code (`weak_secret`, `key_skipped`).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// What happened and what to do, never containing a secret.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Quotes a value taken from a token or policy for a message: escaped, truncated, in quotes.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(QUOTE_LIMIT) + 8);
    out.push('"');
    for (count, c) in value.chars().enumerate() {
        if count == QUOTE_LIMIT {
            out.push_str("...");
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}

/// Renders a list of already-quoted values as `[a, b]`.
fn list(values: &[String]) -> String {
    format!("[{}]", values.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_truncates_and_escapes() {
        assert_eq!(quote("a\"b\n"), r#""a\"b\n""#);
        let long = "x".repeat(100);
        assert_eq!(quote(&long), format!("\"{}...\"", "x".repeat(64)));
    }

    #[test]
    fn statuses_follow_classes() {
        assert_eq!(Error::TokenMissing.status(), 401);
        assert_eq!(
            Error::TokenMissing.www_authenticate().as_deref(),
            Some("Bearer")
        );
        assert_eq!(Error::InvalidRequest { reason: "x".into() }.status(), 400);
        assert_eq!(Error::malformed("x").status(), 401);
        assert_eq!(Error::policy("f", "bad").status(), 500);
        let internal = Error::Internal {
            reason: "host call failed".into(),
        };
        assert_eq!(
            (internal.code(), internal.status()),
            ("internal_error", 503)
        );
        assert_eq!(internal.www_authenticate(), None);
        assert_eq!(Error::policy("f", "bad").www_authenticate(), None);
        assert_eq!(
            Error::malformed("x").www_authenticate().as_deref(),
            Some(r#"Bearer error="invalid_token", error_description="the token is malformed""#)
        );
    }
}
