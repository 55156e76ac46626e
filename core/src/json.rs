//! Strict JSON for JOSE headers and JWT payloads: duplicate member names and deep nesting are errors.
//!
//! `serde_json` keeps the last of two duplicate members, which lets two parsers of one token see two
//! different claim sets (RFC 8725 §3.10 warns of exactly that). This module parses through a
//! [`DeserializeSeed`] that refuses duplicates at any depth and any container nested deeper than
//! [`MAX_DEPTH`] (the outermost object is level 1).

use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Deepest container nesting accepted; the outermost object is level 1.
pub const MAX_DEPTH: usize = 32;

/// Parses `bytes` as one strict JSON value.
///
/// # Errors
///
/// A message naming the fault (syntax, duplicate member, depth), without echoing the input.
pub(crate) fn parse_strict(bytes: &[u8]) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict { depth: 0 }.deserialize(&mut de).map_err(describe)?;
    de.end().map_err(describe)?;
    Ok(value)
}

/// Parses `bytes` as a strict JSON object.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    match parse_strict(bytes)? {
        Value::Object(map) => Ok(map),
        other => Err(format!("expected a JSON object, found {}", kind(&other))),
    }
}

/// The JSON type name of a value, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn describe(e: serde_json::Error) -> String {
    // serde_json's messages carry a position and our own custom texts, never the input itself.
    e.to_string()
}

/// The seed: `depth` is the level of the container that holds the value being parsed.
#[derive(Clone, Copy)]
struct Strict {
    depth: usize,
}

impl Strict {
    fn enter<E: serde::de::Error>(self) -> Result<Self, E> {
        let depth = self.depth.saturating_add(1);
        if depth > MAX_DEPTH {
            return Err(E::custom(format!(
                "JSON nesting deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(Self { depth })
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.enter::<A::Error>()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.enter::<A::Error>()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(A::Error::custom(format!(
                    "duplicate member name {}",
                    crate::error::quote(&key)
                )));
            }
            let value = map.next_value_seed(inner)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        let mut s = String::new();
        for _ in 1..levels {
            s.push_str("{\"a\":");
        }
        s.push_str("{}");
        for _ in 1..levels {
            s.push('}');
        }
        s
    }

    #[test]
    fn depth_limit_is_inclusive() {
        assert!(parse_object(nested(32).as_bytes()).is_ok());
        let err = parse_object(nested(33).as_bytes()).unwrap_err();
        assert!(err.contains("nesting"), "{err}");
    }

    #[test]
    fn duplicates_rejected_at_any_depth() {
        assert!(
            parse_object(br#"{"a":1,"a":2}"#)
                .unwrap_err()
                .contains("duplicate")
        );
        assert!(
            parse_object(br#"{"x":{"a":1,"a":2}}"#)
                .unwrap_err()
                .contains("duplicate")
        );
        assert!(parse_object(br#"{"x":[{"a":1,"b":2}],"y":{"a":1}}"#).is_ok());
    }

    #[test]
    fn non_objects_and_trailing_data() {
        assert!(parse_object(b"[1]").is_err());
        assert!(parse_object(br#"{"a":1} x"#).is_err());
        assert!(parse_object(br#"{"a":1}"#).is_ok());
    }
}
