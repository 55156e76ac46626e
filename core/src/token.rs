//! The structure step: a compact JWS split, strictly decoded and parsed, without trusting anything.

use serde_json::{Map, Value};

use crate::error::quote;
use crate::json::{self, kind};
use crate::{Error, b64};

/// A token that passed the size and structure checks. Nothing in it is trusted yet.
pub(crate) struct Parsed {
    pub(crate) header: Map<String, Value>,
    pub(crate) payload: Map<String, Value>,
    /// `header.payload`, the bytes the signature covers.
    pub(crate) signing_input: String,
    pub(crate) signature: Vec<u8>,
    pub(crate) alg: String,
    pub(crate) kid: Option<String>,
}

/// Runs the size and structure checks, in that order.
///
/// # Errors
///
/// `token_too_large` when `token.len() > max_bytes`, else `token_malformed` naming the fault.
pub(crate) fn parse(token: &str, max_bytes: usize) -> Result<Parsed, Error> {
    if token.len() > max_bytes {
        return Err(Error::TokenTooLarge {
            size: token.len(),
            limit: max_bytes,
        });
    }
    if token.is_empty() {
        return Err(Error::malformed("the token is empty"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
        return Err(match parts.len() {
            5 => Error::malformed(
                "5 dot-separated parts is a JWE; only compact JWS (3 parts) is supported",
            ),
            n => Error::malformed(format!(
                "expected 3 dot-separated parts (compact JWS), found {n}"
            )),
        });
    };
    let header_bytes = segment(header_b64, "header")?;
    let payload_bytes = segment(payload_b64, "payload")?;
    let signature = segment(signature_b64, "signature")?;

    let header = json::parse_object(&header_bytes)
        .map_err(|e| Error::malformed(format!("header is not a strict JSON object: {e}")))?;
    let payload = json::parse_object(&payload_bytes)
        .map_err(|e| Error::malformed(format!("payload is not a strict JSON object: {e}")))?;

    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.clone(),
        Some(other) => {
            return Err(Error::malformed(format!(
                "header alg is {}, not a string",
                kind(other)
            )));
        }
        None => return Err(Error::malformed("header has no alg")),
    };
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(other) => {
            return Err(Error::malformed(format!(
                "header kid is {}, not a string",
                kind(other)
            )));
        }
    };
    if let Some(crit) = header.get("crit") {
        let names = match crit {
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| kind(v).to_owned(), quote))
                .collect::<Vec<_>>()
                .join(", "),
            other => kind(other).to_owned(),
        };
        return Err(Error::malformed(format!(
            "header crit [{names}] names extensions this verifier does not implement"
        )));
    }
    Ok(Parsed {
        header,
        payload,
        signing_input: format!("{header_b64}.{payload_b64}"),
        signature,
        alg,
        kid,
    })
}

fn segment(part: &str, what: &str) -> Result<Vec<u8>, Error> {
    b64::decode(part).ok_or_else(|| {
        Error::malformed(format!(
            "{what} is not strict base64url (URL alphabet, no padding, no whitespace)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        b64::encode(s.as_bytes())
    }

    fn code(token: &str) -> &'static str {
        match parse(token, 8192) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn structure_faults_are_malformed() {
        let h = enc(r#"{"alg":"HS256"}"#);
        let p = enc(r#"{"sub":"a"}"#);
        assert_eq!(code(&format!("{h}.{p}.")), "ok");
        assert_eq!(code(""), "token_malformed");
        assert_eq!(code(&format!("{h}.{p}")), "token_malformed");
        assert_eq!(code(&format!("{h}.{p}.a.b.c")), "token_malformed");
        assert_eq!(code(&format!("{h}=.{p}.")), "token_malformed");
        assert_eq!(code(&format!(" {h}.{p}.")), "token_malformed");
        assert_eq!(
            code(&format!("{}.{p}.", enc(r#"{"alg":1}"#))),
            "token_malformed"
        );
        assert_eq!(
            code(&format!(
                "{}.{p}.",
                enc(r#"{"alg":"HS256","crit":["b64"]}"#)
            )),
            "token_malformed"
        );
        assert_eq!(
            code(&format!("{}.{p}.", enc(r#"{"alg":"HS256","kid":null}"#))),
            "token_malformed"
        );
        assert_eq!(code(&format!("{h}.{}.", enc("[1]"))), "token_malformed");
    }

    #[test]
    fn size_limit_is_inclusive_and_first() {
        let h = enc(r#"{"alg":"HS256"}"#);
        let p = enc(r#"{"sub":"a"}"#);
        let t = format!("{h}.{p}.");
        assert!(parse(&t, t.len()).is_ok());
        assert_eq!(
            parse(&t, t.len() - 1).err().map(|e| e.code()),
            Some("token_too_large")
        );
        assert_eq!(
            parse("x".repeat(10).as_str(), 5).err().map(|e| e.code()),
            Some("token_too_large")
        );
    }
}
