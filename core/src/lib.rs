//! # tokenward-core
//!
//! The no-IO JWT / OAuth2 access-token validation core that every tokenward host (the npm package,
//! the Envoy filter, the wasmtime harness) runs. It is deterministic: it reads no clock, does no
//! networking, uses no randomness and keeps no global state. Hosts pass in `now`, the token bytes,
//! the policy document and the environment map, and get a typed decision out.
//!
//! Signature math goes through the [`SignatureVerifier`] boundary, so a host with faster native
//! crypto can verify while the core keeps every decision; [`Verifier::prepare`] and
//! [`Verifier::finish`] split a validation around that step.
//!
//! ```
//! use tokenward_core::{Env, Policy, UnixTime, Verifier};
//!
//! let doc = r#"
//! security:
//!   jwt_issuer: "https://idp.example.com"
//!   jwt_audiences: [api]
//! keys:
//!   secret_env: JWT_SECRET
//! "#;
//! let mut env = Env::new();
//! env.insert("JWT_SECRET".into(), "k9Vb3qV0fJ8m2sQeX1tYz7LrN4wP6cHd5gTaUoEiRj".into());
//! let verifier = Verifier::new(Policy::parse(doc, &env)?);
//! let err = verifier.validate("not-a-token", UnixTime(1_767_225_600)).unwrap_err();
//! assert_eq!(err.code(), "token_malformed");
//! # Ok::<(), tokenward_core::Error>(())
//! ```

// Library code must never panic across a wasm or Envoy boundary: these lints make every
// `unwrap`, `expect`, `panic!` and unchecked index a compile error (tests are exempt via
// clippy.toml). `unsafe` is never needed here.
#![forbid(unsafe_code)]
#![deny(missing_docs, unused_must_use)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![deny(clippy::unreachable, clippy::todo)]

mod algorithm;
mod authorize;
mod b64;
mod claims;
mod crypto;
mod error;
pub mod extract;
mod json;
pub mod jwks;
mod keys;
mod policy;
mod request;
pub mod routes;
pub mod scanner;
mod secret;
pub mod sign;
mod time;
mod token;
mod verifier;

pub use algorithm::{Algorithm, KeyFamily};
pub use authorize::{AuditRecord, Authentication, AuthorizeStep, Decision, PendingRequest};

pub use claims::Claims;
pub use crypto::{RustCrypto, SignatureVerifier};
pub use error::{Error, Warning};
pub use json::MAX_DEPTH;
pub use keys::{Key, KeyHandle, KeyMaterial};
pub use policy::{Env, Policy, TokenKind};
pub use request::{MAX_HEADERS, Request};
pub use secret::Secret;
pub use time::UnixTime;
pub use verifier::{PendingCheck, SignatureOutcome, Verifier};
