//! One request, one decision, one audit record.
//!
//! [`Verifier::authorize`] runs, in order: scanner detection, route match, auth mode, token
//! extraction, token validation (with the route's audiences), the `resource` audience, scopes,
//! tenant. Every decision, allow or deny, carries an [`AuditRecord`] for the host to log.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::extract::RequestContext;
use crate::routes::{AuthMode, Route, ScopeRequirement, TenantSource};
use crate::scanner::Verdict;
use crate::{Claims, Error, PendingCheck, Request, SignatureOutcome, UnixTime, Verifier};

/// How an allowed request was authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authentication {
    /// A valid token.
    Token,
    /// `optional` mode and no token: anonymous.
    Anonymous,
    /// `disabled` mode: nothing was checked.
    Disabled,
}

/// The outcome of [`Verifier::authorize`].
#[derive(Clone, Debug)]
pub struct Decision {
    outcome: Result<Authentication, Error>,
    www_authenticate: Option<String>,
    claims: Option<Claims>,
    scopes: BTreeSet<String>,
    context: RequestContext,
    headers: Vec<(String, String)>,
    audit: AuditRecord,
}

impl Decision {
    /// Whether the request may go on.
    pub fn is_allowed(&self) -> bool {
        self.outcome.is_ok()
    }

    /// How an allowed request was authenticated (`None` on deny).
    pub fn authentication(&self) -> Option<Authentication> {
        self.outcome.as_ref().ok().copied()
    }

    /// 200 on allow; the error's 400/401/403 on deny.
    pub fn status(&self) -> u16 {
        self.outcome.as_ref().map_or_else(Error::status, |_| 200)
    }

    /// The error code on deny.
    pub fn code(&self) -> Option<&'static str> {
        self.outcome.as_ref().err().map(Error::code)
    }

    /// The error on deny.
    pub fn error(&self) -> Option<&Error> {
        self.outcome.as_ref().err()
    }

    /// The `WWW-Authenticate` value to send on deny (RFC 6750, plus RFC 9728 on 401s).
    pub fn www_authenticate(&self) -> Option<&str> {
        self.www_authenticate.as_deref()
    }

    /// The JSON body to send on deny: `{"error": code, "error_description": ...}`.
    pub fn body(&self) -> Option<String> {
        self.outcome.as_ref().err().map(Error::body)
    }

    /// The validated claims (allow with a token only).
    pub fn claims(&self) -> Option<&Claims> {
        self.claims.as_ref()
    }

    /// `sub` of the validated token.
    pub fn subject(&self) -> Option<&str> {
        self.claims.as_ref().and_then(Claims::sub)
    }

    /// The granted scopes after the hierarchy's expansion (empty without a token).
    pub fn scopes(&self) -> &BTreeSet<String> {
        &self.scopes
    }

    /// The request context read from the configured headers.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// Headers to set on the upstream request (allow only), in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The audit record of this decision.
    pub fn audit(&self) -> &AuditRecord {
        &self.audit
    }
}

/// What a host logs for every decision. Holds only the listed claims, never a token or secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AuditRecord {
    /// The `now` of the decision.
    pub time: i64,
    /// The request's trace id, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// The error code on deny.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// 200 on allow, else the deny status.
    pub status: u16,
    /// `sub` of a token whose signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// `client_id` of a token whose signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `iss` of a token whose signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// `aud` of a token whose signature verified, as the token gave it (string or array).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Value>,
    /// The matched route's `path` or `path_prefix` (absent for the default rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// The scopes the rule required (`all_of` then `any_of`), when it required any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes_required: Option<Vec<String>>,
    /// `jti` of a token whose signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// `flagged` or `blocked` when scanner detection matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scanner: Option<&'static str>,
}

impl AuditRecord {
    /// The record as JSON (absent values omitted).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    fn fill_from(&mut self, payload: &Map<String, Value>) {
        let string = |name: &str| payload.get(name).and_then(Value::as_str).map(str::to_owned);
        self.sub = string("sub");
        self.client_id = string("client_id");
        self.iss = string("iss");
        self.jti = string("jti");
        self.aud = payload
            .get("aud")
            .filter(|a| a.is_string() || a.is_array())
            .cloned();
    }
}

/// What [`Verifier::authorize_prepare`] found: a decision, or a token waiting for its signature.
#[derive(Debug)]
#[must_use = "a pending request decides nothing until it is passed to Verifier::authorize_finish"]
pub enum AuthorizeStep {
    /// Decided without a signature check (scanner, route, mode, extraction or header failure).
    Decided(Decision),
    /// A token passed every check up to the signature.
    NeedsSignature(PendingRequest),
}

/// A request whose token waits for its signature outcome.
#[derive(Debug)]
pub struct PendingRequest {
    check: PendingCheck,
    route_index: Option<usize>,
    tenant: Option<String>,
    payload_segment: Option<String>,
    context: RequestContext,
    audit: AuditRecord,
}

impl PendingRequest {
    /// The signature check to perform: algorithm, candidate keys, signing input, signature.
    pub fn check(&self) -> &PendingCheck {
        &self.check
    }
}

/// The effective rule for one request.
struct Rule<'p> {
    route: Option<&'p Route>,
    mode: AuthMode,
    scopes: Option<&'p ScopeRequirement>,
    audiences: &'p [String],
    tenant: Option<&'p TenantSource>,
}

impl Verifier {
    /// Decides one request at `now`: allow (claims, scopes, context, headers to inject) or deny
    /// (status, code, `WWW-Authenticate`, JSON body). Never panics and never fails: a bad token is
    /// a deny decision.
    ///
    /// ```
    /// use tokenward_core::{Env, Policy, Request, UnixTime, Verifier};
    ///
    /// let doc = r#"{"security": {"jwt_issuer": "https://idp.example.com", "jwt_audiences": ["api"]},
    ///               "routes": [{"path": "/health", "auth_mode": "disabled"}]}"#;
    /// let mut env = Env::new();
    /// env.insert("JWT_SECRET".into(), "k9Vb3qV0fJ8m2sQeX1tYz7LrN4wP6cHd5gTaUoEiRj".into());
    /// let verifier = Verifier::new(Policy::parse(doc, &env)?);
    ///
    /// let health = verifier.authorize(&Request::new("GET", "/health"), UnixTime(1_767_225_600));
    /// assert!(health.is_allowed());
    ///
    /// let denied = verifier.authorize(&Request::new("GET", "/api"), UnixTime(1_767_225_600));
    /// assert_eq!(denied.status(), 401);
    /// assert_eq!(denied.code(), Some("token_missing"));
    /// assert_eq!(denied.www_authenticate(), Some("Bearer"));
    /// assert_eq!(denied.audit().to_json()["decision"], "deny");
    /// # Ok::<(), tokenward_core::Error>(())
    /// ```
    pub fn authorize(&self, req: &Request, now: UnixTime) -> Decision {
        match self.authorize_prepare(req, now) {
            AuthorizeStep::Decided(decision) => decision,
            AuthorizeStep::NeedsSignature(pending) => {
                let outcome = self.check_signature(&pending.check);
                self.authorize_finish(pending, outcome, now)
            }
        }
    }

    /// The first half of [`Verifier::authorize`] for hosts whose signature math lives outside the
    /// core (async WebCrypto, node:crypto, Envoy's BoringSSL): every decision up to the signature.
    /// Check the signature of [`PendingRequest::check`] and pass the outcome to
    /// [`Verifier::authorize_finish`]; the result equals [`Verifier::authorize`]'s.
    pub fn authorize_prepare(&self, req: &Request, now: UnixTime) -> AuthorizeStep {
        let policy = self.policy();
        let context = policy.context_config().read(req);
        let mut audit = AuditRecord {
            time: now.seconds(),
            trace_id: context.trace_id.clone(),
            ..AuditRecord::default()
        };

        match policy.scanner().classify(req) {
            Verdict::Clean => {}
            Verdict::Flagged { .. } => audit.scanner = Some("flagged"),
            Verdict::Blocked(err) => {
                audit.scanner = Some("blocked");
                return AuthorizeStep::Decided(self.deny(err, context, audit));
            }
        }

        let route_index = self.route_index(req);
        let rule = self.rule(route_index);
        audit.route = rule.route.map(|r| r.pattern().to_owned());
        if let Some(scopes) = rule.scopes.filter(|s| !s.is_empty()) {
            audit.scopes_required = Some(scopes.listed());
        }

        if rule.mode == AuthMode::Disabled {
            return AuthorizeStep::Decided(self.allow(
                Authentication::Disabled,
                None,
                None,
                context,
                audit,
            ));
        }

        let found = match policy.extraction().extract(req) {
            Ok(found) => found,
            Err(err) => return AuthorizeStep::Decided(self.deny(err, context, audit)),
        };
        let Some(found) = found else {
            let needs_token = rule.scopes.is_some_and(|s| !s.is_empty()) || rule.tenant.is_some();
            if rule.mode == AuthMode::Optional && !needs_token {
                return AuthorizeStep::Decided(self.allow(
                    Authentication::Anonymous,
                    None,
                    None,
                    context,
                    audit,
                ));
            }
            return AuthorizeStep::Decided(self.deny(Error::TokenMissing, context, audit));
        };

        let token = found.token;
        let check = match self.prepare(&token) {
            Ok(p) => p,
            Err(err) => return AuthorizeStep::Decided(self.deny(err, context, audit)),
        };
        let tenant = rule.tenant.and_then(|t| t.read(req)).map(str::to_owned);
        let payload_segment = token.split('.').nth(1).map(str::to_owned);
        AuthorizeStep::NeedsSignature(PendingRequest {
            check,
            route_index,
            tenant,
            payload_segment,
            context,
            audit,
        })
    }

    /// The second half of [`Verifier::authorize`]: takes the signature outcome for
    /// [`PendingRequest::check`] and decides.
    pub fn authorize_finish(
        &self,
        pending: PendingRequest,
        outcome: SignatureOutcome,
        now: UnixTime,
    ) -> Decision {
        let PendingRequest {
            check,
            route_index,
            tenant,
            payload_segment,
            context,
            mut audit,
        } = pending;
        let policy = self.policy();
        let rule = self.rule(route_index);
        if let SignatureOutcome::Verified(handle) = outcome
            && check.candidates().contains(&handle)
        {
            audit.fill_from(check.payload());
        }
        let claims = match self.finish_for(check, outcome, now, rule.audiences) {
            Ok(c) => c,
            Err(err) => return self.deny(err, context, audit),
        };

        if let Some(resource) = policy.resource()
            && !claims.aud().iter().any(|a| a == resource)
        {
            let err = Error::AudienceInvalid {
                found: claims
                    .aud()
                    .iter()
                    .map(|a| crate::error::quote(a))
                    .collect(),
                expected: vec![crate::error::quote(resource)],
            };
            return self.deny(err, context, audit);
        }

        let granted = policy.scope_hierarchy().expand(claims.scopes());
        if let Some(scopes) = rule.scopes
            && let Err(err) = scopes.check(&granted)
        {
            return self.deny(err, context, audit);
        }

        if rule.tenant.is_some() {
            let token_tenant = claims.tenant_id().and_then(Value::as_str);
            let reason = match (token_tenant, tenant.as_deref()) {
                (Some(t), Some(w)) if t == w => None,
                (None, _) => Some("the token has no string tenant_id claim".to_owned()),
                (Some(_), None) => Some("the request names no tenant to compare with".to_owned()),
                (Some(t), Some(w)) => Some(format!(
                    "token tenant_id {} differs from request tenant {}",
                    crate::error::quote(t),
                    crate::error::quote(w)
                )),
            };
            if let Some(reason) = reason {
                return self.deny(Error::TenantMismatch { reason }, context, audit);
            }
        }

        let mut decision = self.allow(
            Authentication::Token,
            Some(claims),
            payload_segment.as_deref(),
            context,
            audit,
        );
        decision.scopes = granted;
        decision
    }

    fn route_index(&self, req: &Request) -> Option<usize> {
        self.policy()
            .routes()
            .iter()
            .position(|r| r.matches(req.method(), req.path()))
    }

    fn rule(&self, route_index: Option<usize>) -> Rule<'_> {
        let policy = self.policy();
        let route = route_index.and_then(|i| policy.routes().get(i));
        Rule {
            route,
            mode: route
                .and_then(|r| r.auth_mode)
                .unwrap_or(policy.auth_mode()),
            scopes: route.map(|r| &r.scopes),
            audiences: route
                .and_then(|r| r.audiences.as_deref())
                .unwrap_or(policy.audiences()),
            tenant: route.and_then(|r| r.tenant.as_ref()),
        }
    }

    fn allow(
        &self,
        how: Authentication,
        claims: Option<Claims>,
        payload_segment: Option<&str>,
        context: RequestContext,
        mut audit: AuditRecord,
    ) -> Decision {
        audit.decision = "allow";
        audit.status = 200;
        let policy = self.policy();
        let headers = policy.header_mapping().render(
            policy.context_config(),
            &context,
            claims.as_ref().map(Claims::payload),
            payload_segment,
        );
        Decision {
            outcome: Ok(how),
            www_authenticate: None,
            scopes: claims
                .as_ref()
                .map(|c| c.scopes().clone())
                .unwrap_or_default(),
            claims,
            context,
            headers,
            audit,
        }
    }

    fn deny(&self, err: Error, context: RequestContext, mut audit: AuditRecord) -> Decision {
        audit.decision = "deny";
        audit.code = Some(err.code());
        audit.status = err.status();
        Decision {
            www_authenticate: err.www_authenticate_with(self.policy().resource_metadata()),
            outcome: Err(err),
            claims: None,
            scopes: BTreeSet::new(),
            context,
            headers: Vec::new(),
            audit,
        }
    }
}
