//! Auth modes, route rules, scope requirements and hierarchy, tenant binding.
//!
//! Routes are ordered; the first whose path and method match wins, and the policy-level settings
//! are the default rule when none does. A route's `audiences` replace `security.jwt_audiences` for
//! that route; its `auth_mode` defaults to the policy's.
//!
//! ```
//! use std::collections::BTreeSet;
//! use tokenward_core::{Env, Policy};
//!
//! let doc = r#"{"security": {"jwt_issuer": "https://idp.example.com", "jwt_audiences": ["api"]},
//!   "scope_hierarchy": {"admin": ["user"], "user": ["tools:read"]},
//!   "routes": [{"path": "/health", "auth_mode": "disabled"},
//!              {"path_prefix": "/tools", "methods": ["POST"], "scopes": {"any_of": ["tools:read"]}}]}"#;
//! let env = Env::from([("JWT_SECRET".to_owned(), "k9Vb3qV0fJ8m2sQeX1tYz7LrN4wP6cHd5gTaUoEiRj".to_owned())]);
//! let policy = Policy::parse(doc, &env)?;
//!
//! let tools = &policy.routes()[1];
//! assert!(tools.matches("POST", "/tools/run"));
//! assert!(!tools.matches("POST", "/tools-x"));
//! assert!(!tools.matches("GET", "/tools/run"));
//!
//! let granted = policy.scope_hierarchy().expand(&BTreeSet::from(["admin".to_owned()]));
//! assert!(granted.contains("tools:read"));
//! # Ok::<(), tokenward_core::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::Error;
use crate::Request;
use crate::error::quote;

/// Whether a request needs a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// A valid token is required (default).
    #[default]
    Required,
    /// No token: allowed as anonymous; a bad token is still rejected.
    Optional,
    /// Nothing is extracted or checked; the decision says so.
    Disabled,
}

impl AuthMode {
    /// `required`, `optional` or `disabled`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
            Self::Disabled => "disabled",
        }
    }

    pub(crate) fn parse(field: &str, name: &str) -> Result<Self, Error> {
        match name {
            "required" => Ok(Self::Required),
            "optional" => Ok(Self::Optional),
            "disabled" => Ok(Self::Disabled),
            other => Err(Error::policy(
                field,
                format!(
                    "must be \"required\", \"optional\" or \"disabled\", got {}",
                    quote(other)
                ),
            )),
        }
    }
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopesDoc {
    all_of: Option<Vec<String>>,
    any_of: Option<Vec<String>>,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenantDoc {
    header: Option<String>,
    path_segment: Option<usize>,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteDoc {
    path: Option<String>,
    path_prefix: Option<String>,
    methods: Option<Vec<String>>,
    auth_mode: Option<String>,
    scopes: Option<ScopesDoc>,
    audiences: Option<Vec<String>>,
    tenant: Option<TenantDoc>,
}

/// Required scopes: every `all_of` entry, and at least one `any_of` entry when that list is set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeRequirement {
    all_of: Vec<String>,
    any_of: Vec<String>,
}

impl ScopeRequirement {
    /// Whether the requirement asks for nothing.
    pub fn is_empty(&self) -> bool {
        self.all_of.is_empty() && self.any_of.is_empty()
    }

    /// Every scope named: `all_of` entries, then `any_of` entries (the `scope="..."` list of a 403).
    pub fn listed(&self) -> Vec<String> {
        let mut out = self.all_of.clone();
        out.extend(
            self.any_of
                .iter()
                .filter(|s| !self.all_of.contains(s))
                .cloned(),
        );
        out
    }

    /// Checks `granted` (already expanded by the hierarchy).
    ///
    /// # Errors
    ///
    /// `insufficient_scope` listing every named scope as required and the unmet ones as missing.
    pub fn check(&self, granted: &BTreeSet<String>) -> Result<(), Error> {
        let mut missing: Vec<String> = self
            .all_of
            .iter()
            .filter(|s| !granted.contains(*s))
            .cloned()
            .collect();
        if !self.any_of.is_empty() && !self.any_of.iter().any(|s| granted.contains(s)) {
            let alternatives: Vec<String> = self
                .any_of
                .iter()
                .filter(|s| !missing.contains(s))
                .cloned()
                .collect();
            missing.extend(alternatives);
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::InsufficientScope {
            required: self.listed(),
            missing,
        })
    }

    fn from_doc(field: &str, doc: Option<ScopesDoc>) -> Result<Self, Error> {
        let doc = doc.unwrap_or_default();
        let all_of = names(&format!("{field}.all_of"), doc.all_of.unwrap_or_default())?;
        let any_of = names(&format!("{field}.any_of"), doc.any_of.unwrap_or_default())?;
        Ok(Self { all_of, any_of })
    }
}

/// Scopes that imply other scopes, expanded transitively. Cycles are refused at load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeHierarchy {
    implies: BTreeMap<String, Vec<String>>,
}

impl ScopeHierarchy {
    pub(crate) fn from_doc(doc: Option<BTreeMap<String, Vec<String>>>) -> Result<Self, Error> {
        let implies = doc.unwrap_or_default();
        for (scope, implied) in &implies {
            if scope.is_empty() || implied.iter().any(String::is_empty) {
                return Err(Error::policy(
                    format!("scope_hierarchy.{scope}"),
                    "scope names must not be empty",
                ));
            }
        }
        let hierarchy = Self { implies };
        for start in hierarchy.implies.keys() {
            if let Some(path) = hierarchy.cycle_from(start) {
                return Err(Error::policy(
                    "scope_hierarchy",
                    format!("has a cycle: {}", path.join(" -> ")),
                ));
            }
        }
        Ok(hierarchy)
    }

    /// Depth-first search for a path from `start` back to `start`.
    fn cycle_from(&self, start: &str) -> Option<Vec<String>> {
        let mut stack: Vec<(String, Vec<String>)> =
            vec![(start.to_owned(), vec![start.to_owned()])];
        let mut seen = BTreeSet::new();
        while let Some((scope, path)) = stack.pop() {
            for next in self.implies.get(&scope).into_iter().flatten() {
                let mut next_path = path.clone();
                next_path.push(next.clone());
                if next == start {
                    return Some(next_path);
                }
                if seen.insert(next.clone()) {
                    stack.push((next.clone(), next_path));
                }
            }
        }
        None
    }

    /// `granted` plus everything it implies, transitively.
    pub fn expand(&self, granted: &BTreeSet<String>) -> BTreeSet<String> {
        let mut out = granted.clone();
        let mut todo: Vec<&String> = granted.iter().collect();
        while let Some(scope) = todo.pop() {
            for implied in self.implies.get(scope).into_iter().flatten() {
                if out.insert(implied.clone()) {
                    todo.push(implied);
                }
            }
        }
        out
    }
}

/// Where a route takes the tenant a token's `tenant_id` must equal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantSource {
    /// A request header (first entry).
    Header(String),
    /// A path segment, counted from 0 after the leading slash.
    PathSegment(usize),
}

impl TenantSource {
    /// The tenant the request names, if it names one.
    pub fn read<'r>(&self, req: &'r Request) -> Option<&'r str> {
        match self {
            Self::Header(name) => req
                .first_header(name)
                .map(str::trim)
                .filter(|v| !v.is_empty()),
            Self::PathSegment(n) => req
                .path()
                .strip_prefix('/')
                .unwrap_or(req.path())
                .split('/')
                .nth(*n)
                .filter(|s| !s.is_empty()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PathMatch {
    Exact(String),
    Prefix(String),
}

/// One route rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    matcher: PathMatch,
    methods: Option<Vec<String>>,
    pub(crate) auth_mode: Option<AuthMode>,
    pub(crate) scopes: ScopeRequirement,
    pub(crate) audiences: Option<Vec<String>>,
    pub(crate) tenant: Option<TenantSource>,
}

impl Route {
    /// The rule's `path` or `path_prefix`, as the audit record names it.
    pub fn pattern(&self) -> &str {
        match &self.matcher {
            PathMatch::Exact(p) | PathMatch::Prefix(p) => p,
        }
    }

    /// Whether the rule matches this method and path (query excluded).
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if let Some(methods) = &self.methods
            && !methods.iter().any(|m| m == method)
        {
            return false;
        }
        match &self.matcher {
            PathMatch::Exact(p) => path == p,
            PathMatch::Prefix(p) if p.ends_with('/') => path.starts_with(p.as_str()),
            PathMatch::Prefix(p) => path
                .strip_prefix(p.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
        }
    }

    pub(crate) fn from_doc(index: usize, doc: RouteDoc) -> Result<Self, Error> {
        let field = format!("routes[{index}]");
        let matcher = match (doc.path, doc.path_prefix) {
            (Some(p), None) => PathMatch::Exact(p),
            (None, Some(p)) => PathMatch::Prefix(p),
            (Some(_), Some(_)) => {
                return Err(Error::policy(
                    field,
                    "must give either path or path_prefix, not both",
                ));
            }
            (None, None) => return Err(Error::policy(field, "must give path or path_prefix")),
        };
        let (PathMatch::Exact(p) | PathMatch::Prefix(p)) = &matcher;
        if !p.starts_with('/') {
            return Err(Error::policy(
                format!("{field}.path"),
                format!("must start with \"/\", got {}", quote(p)),
            ));
        }
        let methods = match doc.methods {
            None => None,
            Some(list) if list.is_empty() => {
                return Err(Error::policy(
                    format!("{field}.methods"),
                    "must not be empty (omit it to match every method)",
                ));
            }
            Some(list) => Some(names(&format!("{field}.methods"), list)?),
        };
        let auth_mode = doc
            .auth_mode
            .map(|m| AuthMode::parse(&format!("{field}.auth_mode"), &m))
            .transpose()?;
        let scopes = ScopeRequirement::from_doc(&format!("{field}.scopes"), doc.scopes)?;
        let audiences = match doc.audiences {
            None => None,
            Some(list) if list.is_empty() => {
                return Err(Error::policy(
                    format!("{field}.audiences"),
                    "must list at least one audience",
                ));
            }
            Some(list) => Some(names(&format!("{field}.audiences"), list)?),
        };
        let tenant = match doc.tenant {
            None => None,
            Some(TenantDoc {
                header: Some(h),
                path_segment: None,
            }) if !h.is_empty() => Some(TenantSource::Header(h)),
            Some(TenantDoc {
                header: None,
                path_segment: Some(n),
            }) => Some(TenantSource::PathSegment(n)),
            Some(_) => {
                return Err(Error::policy(
                    format!("{field}.tenant"),
                    "must give exactly one of header (a non-empty name) or path_segment",
                ));
            }
        };
        Ok(Self {
            matcher,
            methods,
            auth_mode,
            scopes,
            audiences,
            tenant,
        })
    }
}

fn names(field: &str, list: Vec<String>) -> Result<Vec<String>, Error> {
    if let Some(i) = list.iter().position(String::is_empty) {
        return Err(Error::policy(
            format!("{field}[{i}]"),
            "must not be an empty string",
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(json: serde_json::Value) -> Route {
        Route::from_doc(0, serde_json::from_value(json).unwrap()).unwrap()
    }

    #[test]
    fn prefix_matches_on_segment_boundaries() {
        let r = route(serde_json::json!({"path_prefix": "/tools"}));
        assert!(r.matches("GET", "/tools"));
        assert!(r.matches("GET", "/tools/x"));
        assert!(!r.matches("GET", "/tools-x"));
        let r = route(serde_json::json!({"path_prefix": "/t/"}));
        assert!(r.matches("GET", "/t/acme"));
        assert!(!r.matches("GET", "/t"));
        let r = route(serde_json::json!({"path": "/health", "methods": ["GET"]}));
        assert!(r.matches("GET", "/health"));
        assert!(!r.matches("GET", "/health/"));
        assert!(!r.matches("POST", "/health"));
    }

    #[test]
    fn hierarchy_expands_transitively_and_refuses_cycles() {
        let h = ScopeHierarchy::from_doc(Some(BTreeMap::from([
            ("admin".to_owned(), vec!["user".to_owned()]),
            ("user".to_owned(), vec!["read".to_owned()]),
        ])))
        .unwrap();
        let got = h.expand(&BTreeSet::from(["admin".to_owned()]));
        assert_eq!(
            got,
            BTreeSet::from(["admin".to_owned(), "user".to_owned(), "read".to_owned()])
        );
        let err = ScopeHierarchy::from_doc(Some(BTreeMap::from([
            ("a".to_owned(), vec!["b".to_owned()]),
            ("b".to_owned(), vec!["a".to_owned()]),
        ])))
        .unwrap_err();
        assert!(err.to_string().contains("scope_hierarchy"), "{err}");
    }

    #[test]
    fn any_of_and_all_of() {
        let req = ScopeRequirement {
            all_of: vec!["a".into()],
            any_of: vec!["x".into(), "y".into()],
        };
        assert!(
            req.check(&BTreeSet::from(["a".to_owned(), "y".to_owned()]))
                .is_ok()
        );
        let err = req.check(&BTreeSet::from(["a".to_owned()])).unwrap_err();
        assert!(err.www_authenticate().unwrap().contains("scope=\"a x y\""));
    }

    #[test]
    fn tenant_segments() {
        let req = Request::new("GET", "/t/acme/x");
        assert_eq!(TenantSource::PathSegment(1).read(&req), Some("acme"));
        assert_eq!(TenantSource::PathSegment(5).read(&req), None);
    }
}
