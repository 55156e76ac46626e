//! Claim checks (after the signature holds) and the typed claims a host gets on success.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::quote;
use crate::json::kind;
use crate::{Error, Policy, UnixTime};

/// The claims of a validated token: registered claims typed, the `scope`/`scp` set, common
/// authorization claims, and the whole payload as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims {
    payload: Map<String, Value>,
    iss: String,
    sub: Option<String>,
    aud: Vec<String>,
    exp: f64,
    nbf: Option<f64>,
    iat: Option<f64>,
    jti: Option<String>,
    scopes: BTreeSet<String>,
}

impl Claims {
    /// The whole payload.
    pub fn payload(&self) -> &Map<String, Value> {
        &self.payload
    }

    /// Consumes the claims, returning the whole payload.
    pub fn into_payload(self) -> Map<String, Value> {
        self.payload
    }

    /// `iss` (equal to the policy's issuer).
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// `sub`, when present.
    pub fn sub(&self) -> Option<&str> {
        self.sub.as_deref()
    }

    /// `aud` as a list (a single string becomes one entry).
    pub fn aud(&self) -> &[String] {
        &self.aud
    }

    /// `exp` as a NumericDate (seconds, possibly fractional).
    pub fn exp(&self) -> f64 {
        self.exp
    }

    /// `nbf`, when present.
    pub fn nbf(&self) -> Option<f64> {
        self.nbf
    }

    /// `iat`, when present.
    pub fn iat(&self) -> Option<f64> {
        self.iat
    }

    /// `jti`, when present.
    pub fn jti(&self) -> Option<&str> {
        self.jti.as_deref()
    }

    /// The granted scopes: the union of `scope` (space-separated) and `scp` (string or array).
    pub fn scopes(&self) -> &BTreeSet<String> {
        &self.scopes
    }

    /// `tenant_id`, when present (any JSON value).
    pub fn tenant_id(&self) -> Option<&Value> {
        self.payload.get("tenant_id")
    }

    /// `roles`, when present.
    pub fn roles(&self) -> Option<&Value> {
        self.payload.get("roles")
    }

    /// `permissions`, when present.
    pub fn permissions(&self) -> Option<&Value> {
        self.payload.get("permissions")
    }

    /// `user_type`, when present.
    pub fn user_type(&self) -> Option<&Value> {
        self.payload.get("user_type")
    }

    /// `session_id`, when present.
    pub fn session_id(&self) -> Option<&Value> {
        self.payload.get("session_id")
    }

    /// `client_id`, when present.
    pub fn client_id(&self) -> Option<&Value> {
        self.payload.get("client_id")
    }

    /// Checks that every scope in `required` is granted (exact, case-sensitive match).
    ///
    /// # Errors
    ///
    /// `insufficient_scope` (403) listing the required and the missing scopes.
    pub fn require_scopes<S: AsRef<str>>(&self, required: &[S]) -> Result<(), Error> {
        let missing: Vec<String> = required
            .iter()
            .map(AsRef::as_ref)
            .filter(|s| !self.scopes.contains(*s))
            .map(str::to_owned)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::InsufficientScope {
            required: required.iter().map(|s| s.as_ref().to_owned()).collect(),
            missing,
        })
    }
}

/// Runs the claim checks in their fixed order on a payload whose signature verified.
pub(crate) fn check(
    payload: Map<String, Value>,
    policy: &Policy,
    now: UnixTime,
    audiences: &[String],
) -> Result<Claims, Error> {
    let now_s = now.seconds() as f64;
    let skew = policy.clock_skew();
    let skew_f = skew as f64;

    let exp = numeric_date(&payload, "exp")?.ok_or_else(|| missing("exp"))?;
    if now_s >= exp + skew_f {
        return Err(Error::TokenExpired {
            exp: exp.ceil() as i64,
            now: now.seconds(),
            skew,
        });
    }
    let nbf = numeric_date(&payload, "nbf")?;
    if let Some(nbf) = nbf
        && nbf > now_s + skew_f
    {
        return Err(Error::TokenNotYetValid {
            nbf: nbf.ceil() as i64,
            now: now.seconds(),
            skew,
        });
    }
    let iat = numeric_date(&payload, "iat")?;
    if let Some(iat) = iat
        && iat > now_s + skew_f
    {
        return Err(Error::claim_invalid(
            "iat",
            format!(
                "issued at {} is in the future (now {now}, skew {skew}s)",
                iat.ceil() as i64
            ),
        ));
    }

    let iss = string_claim(&payload, "iss")?.ok_or_else(|| missing("iss"))?;
    if iss != policy.issuer() {
        return Err(Error::IssuerInvalid {
            expected: quote(policy.issuer()),
            found: quote(&iss),
        });
    }

    let aud = match payload.get("aud") {
        None => return Err(missing("aud")),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    other => {
                        return Err(Error::claim_invalid(
                            "aud",
                            format!("expected strings in the array, found {}", kind(other)),
                        ));
                    }
                }
            }
            out
        }
        Some(other) => {
            return Err(Error::claim_invalid(
                "aud",
                format!(
                    "expected a string or an array of strings, found {}",
                    kind(other)
                ),
            ));
        }
    };
    if !aud.iter().any(|a| audiences.contains(a)) {
        return Err(Error::AudienceInvalid {
            found: aud.iter().map(|a| quote(a)).collect(),
            expected: audiences.iter().map(|a| quote(a)).collect(),
        });
    }

    let sub = string_claim(&payload, "sub")?;
    let jti = string_claim(&payload, "jti")?;

    if let Some(name) = policy
        .required_claims()
        .iter()
        .find(|c| !payload.contains_key(*c))
    {
        return Err(missing(name));
    }

    if let Some(iat) = iat {
        let lifetime = exp - iat;
        let max = policy.lifetime();
        if lifetime > max as f64 {
            return Err(Error::TokenLifetimeExceeded {
                lifetime: lifetime.ceil() as i64,
                max,
                kind: policy.token_kind().name().to_owned(),
            });
        }
    }

    let scopes = scopes(&payload)?;
    Ok(Claims {
        payload,
        iss,
        sub,
        aud,
        exp,
        nbf,
        iat,
        jti,
        scopes,
    })
}

fn missing(claim: &str) -> Error {
    Error::ClaimMissing {
        claim: claim.to_owned(),
    }
}

fn numeric_date(payload: &Map<String, Value>, name: &str) -> Result<Option<f64>, Error> {
    match payload.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(|| {
            Error::claim_invalid(
                name,
                "expected a NumericDate (a JSON number), found an unrepresentable number",
            )
        }),
        Some(other) => Err(Error::claim_invalid(
            name,
            format!(
                "expected a NumericDate (a JSON number), found {}",
                kind(other)
            ),
        )),
    }
}

fn string_claim(payload: &Map<String, Value>, name: &str) -> Result<Option<String>, Error> {
    match payload.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Error::claim_invalid(
            name,
            format!("expected a string, found {}", kind(other)),
        )),
    }
}

fn scopes(payload: &Map<String, Value>) -> Result<BTreeSet<String>, Error> {
    let mut out = BTreeSet::new();
    let mut add_words =
        |s: &str| out.extend(s.split(' ').filter(|w| !w.is_empty()).map(str::to_owned));
    match payload.get("scope") {
        None => {}
        Some(Value::String(s)) => add_words(s),
        Some(other) => {
            return Err(Error::claim_invalid(
                "scope",
                format!("expected a space-separated string, found {}", kind(other)),
            ));
        }
    }
    match payload.get("scp") {
        None => {}
        Some(Value::String(s)) => add_words(s),
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => add_words(s),
                    other => {
                        return Err(Error::claim_invalid(
                            "scp",
                            format!("expected strings in the array, found {}", kind(other)),
                        ));
                    }
                }
            }
        }
        Some(other) => {
            return Err(Error::claim_invalid(
                "scp",
                format!(
                    "expected a string or an array of strings, found {}",
                    kind(other)
                ),
            ));
        }
    }
    Ok(out)
}
