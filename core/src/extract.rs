//! Token extraction, request context, and the headers a host injects upstream.
//!
//! # Token sources
//!
//! [`Extraction`] reads an ordered chain of sources: `Authorization: Bearer`, the MCP proxy header
//! (default `x-mcp-proxy-auth`), a cookie (default `auth_token`) and, only when the policy opts in,
//! the `access_token` query parameter (RFC 6750 §2.3 discourages it). Every enabled source is read
//! and every token found is compared: two different tokens are `invalid_request`, the same token in
//! several sources is fine and the first source in chain order is reported.
//!
//! Rules, each failure an [`Error::InvalidRequest`] (400) unless said otherwise:
//!
//! - header values are trimmed of surrounding ASCII whitespace;
//! - `Authorization`: the scheme compares case-insensitively and is followed by one or more spaces
//!   (a tab is refused). Another scheme (`Basic ...`) or an empty value is no bearer token at all
//!   (the caller maps that to `token_missing`). Two `Authorization` entries are refused even when
//!   equal, and so is one value holding a comma-joined bearer credential next to another (Envoy
//!   joins repeated headers that way), `Bearer` with nothing after it, and a token holding
//!   whitespace or a comma;
//! - the MCP proxy header holds `Bearer <token>` or the bare token; an empty value, two entries,
//!   or a value holding whitespace or a comma is refused;
//! - cookies: every `Cookie` entry (HTTP/2 sends several) is parsed as one list joined by `; `.
//!   A pair without `=` or with an empty name is a malformed header, but only when the cookie
//!   source is enabled. Names compare case-sensitively (RFC 6265). A DQUOTE-wrapped value
//!   (`auth_token="eyJ..."`, allowed by RFC 6265) is unwrapped; values are not percent-decoded.
//!   The configured cookie named twice with different values, or with an empty value, is refused;
//! - query: the raw query (without `?`) is split on `&`, names and values are form-decoded (`+` is
//!   a space, then percent-decoding; invalid UTF-8 is refused). `access_token` given twice with
//!   different values, or empty, is refused.
//!
//! No message ever quotes a token.
//!
//! # Request context and injected headers
//!
//! [`ContextConfig::read`] reads `x-trace-id`, `x-context-id` and `x-agent-name` (names
//! configurable) from the first entry of each, trimmed, and generates nothing. A value that is
//! empty, longer than [`MAX_CONTEXT_BYTES`] or holds a control character is dropped (`None`):
//! truncating an id would forge another one, and such values would be unsafe to inject.
//!
//! [`HeaderMapping::render`] lists the headers a host injects upstream: the context headers that
//! are present, then `claim_to_headers` in claim-name order, then `payload_header`.

use std::collections::BTreeMap;
use std::fmt;

use cookie::Cookie;
use serde_json::{Map, Value};

use crate::{Error, Request};

/// Default MCP proxy header name.
pub const DEFAULT_MCP_PROXY_HEADER: &str = "x-mcp-proxy-auth";
/// Default cookie name.
pub const DEFAULT_COOKIE_NAME: &str = "auth_token";
/// The query parameter read when `extraction.query_param` is `true` (RFC 6750 §2.3).
pub const QUERY_PARAM: &str = "access_token";
/// Default trace id header.
pub const DEFAULT_TRACE_ID_HEADER: &str = "x-trace-id";
/// Default context id header.
pub const DEFAULT_CONTEXT_ID_HEADER: &str = "x-context-id";
/// Default agent name header.
pub const DEFAULT_AGENT_NAME_HEADER: &str = "x-agent-name";
/// Longest request-context value kept, in bytes; a longer one is dropped.
pub const MAX_CONTEXT_BYTES: usize = 256;

/// Header names a claim or the payload may never be injected under (framing and credentials).
const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "connection",
    "content-length",
    "cookie",
    "host",
    "keep-alive",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The `extraction` block of the policy document.
#[derive(serde::Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtractionDoc {
    /// `standard` (default) or `browser_only`.
    pub(crate) preset: Option<String>,
    /// Renames the MCP proxy header source (no effect under `browser_only`).
    pub(crate) mcp_proxy_header: Option<String>,
    /// Renames the cookie source.
    pub(crate) cookie_name: Option<String>,
    /// `true` adds the `access_token` query source to any preset.
    pub(crate) query_param: Option<bool>,
}

/// The `context_headers` block of the policy document.
#[derive(serde::Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContextHeadersDoc {
    /// Trace id header name (default `x-trace-id`).
    pub(crate) trace_id: Option<String>,
    /// Context id header name (default `x-context-id`).
    pub(crate) context_id: Option<String>,
    /// Agent name header name (default `x-agent-name`).
    pub(crate) agent_name: Option<String>,
}

/// Where a token was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// `Authorization: Bearer <token>`.
    Authorization,
    /// The MCP proxy header (default `x-mcp-proxy-auth`).
    McpProxyHeader,
    /// The configured cookie (default `auth_token`).
    Cookie,
    /// The `access_token` query parameter.
    Query,
}

impl Source {
    /// `authorization`, `mcp_proxy_header`, `cookie` or `query`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Authorization => "authorization",
            Self::McpProxyHeader => "mcp_proxy_header",
            Self::Cookie => "cookie",
            Self::Query => "query",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A token taken from a request, and where it came from.
///
/// `Debug` shows the token's length only, never the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Found {
    /// The token, as sent.
    pub token: String,
    /// The first source (in chain order) that held it.
    pub source: Source,
}

impl fmt::Debug for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Found")
            .field("token", &format_args!("<{} bytes>", self.token.len()))
            .field("source", &self.source)
            .finish()
    }
}

/// Which sources to read for a token, in chain order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extraction {
    authorization: bool,
    mcp_proxy_header: Option<String>,
    cookie_name: Option<String>,
    query: bool,
}

impl Default for Extraction {
    /// The `standard` preset.
    fn default() -> Self {
        Self::standard()
    }
}

impl Extraction {
    /// The `standard` preset: `Authorization`, `x-mcp-proxy-auth`, then the `auth_token` cookie.
    pub fn standard() -> Self {
        Self {
            authorization: true,
            mcp_proxy_header: Some(DEFAULT_MCP_PROXY_HEADER.to_owned()),
            cookie_name: Some(DEFAULT_COOKIE_NAME.to_owned()),
            query: false,
        }
    }

    /// The `browser_only` preset: only the cookie `cookie_name`.
    ///
    /// # Errors
    ///
    /// `policy_invalid` naming `extraction.cookie_name` when the name is not an RFC 6265 token.
    pub fn browser_only(cookie_name: impl Into<String>) -> Result<Self, Error> {
        let name = cookie_name.into();
        check_token_name("extraction.cookie_name", &name)?;
        Ok(Self {
            authorization: false,
            mcp_proxy_header: None,
            cookie_name: Some(name),
            query: false,
        })
    }

    /// Adds (or removes) the `access_token` query source.
    #[must_use]
    pub fn with_query_param(mut self, enabled: bool) -> Self {
        self.query = enabled;
        self
    }

    /// Builds the settings from the policy's `extraction` block (absent: `standard`).
    ///
    /// `preset` picks the sources; `mcp_proxy_header` and `cookie_name` rename theirs (under
    /// `browser_only` the MCP header stays disabled), and `query_param: true` adds the query source
    /// to any preset.
    pub(crate) fn from_doc(doc: Option<ExtractionDoc>) -> Result<Self, Error> {
        let doc = doc.unwrap_or_default();
        let mut out = match doc.preset.as_deref() {
            None | Some("standard") => Self::standard(),
            Some("browser_only") => Self {
                authorization: false,
                mcp_proxy_header: None,
                cookie_name: Some(DEFAULT_COOKIE_NAME.to_owned()),
                query: false,
            },
            Some(other) => {
                return Err(Error::policy(
                    "extraction.preset",
                    format!(
                        "must be \"standard\" or \"browser_only\", found {}",
                        crate::error::quote(other)
                    ),
                ));
            }
        };
        if let Some(name) = doc.mcp_proxy_header {
            check_token_name("extraction.mcp_proxy_header", &name)?;
            if out.mcp_proxy_header.is_some() {
                out.mcp_proxy_header = Some(name.to_ascii_lowercase());
            }
        }
        if let Some(name) = doc.cookie_name {
            check_token_name("extraction.cookie_name", &name)?;
            out.cookie_name = Some(name);
        }
        if let Some(query) = doc.query_param {
            out.query = query;
        }
        Ok(out)
    }

    /// Whether `Authorization` is read.
    pub fn reads_authorization(&self) -> bool {
        self.authorization
    }

    /// The MCP proxy header read, if that source is enabled.
    pub fn mcp_proxy_header(&self) -> Option<&str> {
        self.mcp_proxy_header.as_deref()
    }

    /// The cookie read, if that source is enabled.
    pub fn cookie_name(&self) -> Option<&str> {
        self.cookie_name.as_deref()
    }

    /// Whether the `access_token` query parameter is read.
    pub fn reads_query(&self) -> bool {
        self.query
    }

    /// Finds the request's token: `Ok(None)` when no enabled source holds one.
    ///
    /// # Errors
    ///
    /// Always [`Error::InvalidRequest`]: two different tokens, two `Authorization` entries, a
    /// comma-joined credential, an empty `Bearer`, a malformed cookie header, and the other cases
    /// in the [module documentation](self).
    ///
    /// ```
    /// use tokenward_core::Request;
    /// use tokenward_core::extract::{Extraction, Source};
    ///
    /// let standard = Extraction::standard();
    /// let req = Request::new("GET", "/mcp").header("Authorization", "bearer   abc.def.ghi");
    /// let found = standard.extract(&req)?.expect("a token");
    /// assert_eq!((found.token.as_str(), found.source), ("abc.def.ghi", Source::Authorization));
    ///
    /// // Basic credentials are no bearer token; two different tokens are a bad request.
    /// let basic = Request::new("GET", "/").header("authorization", "Basic dXNlcjpwYXNz");
    /// assert!(standard.extract(&basic)?.is_none());
    /// let two = Request::new("GET", "/")
    ///     .header("authorization", "Bearer a.b.c")
    ///     .header("cookie", "auth_token=x.y.z");
    /// assert_eq!(standard.extract(&two).unwrap_err().code(), "invalid_request");
    ///
    /// // browser_only reads the cookie alone.
    /// let browser = Extraction::browser_only("session")?;
    /// let req = Request::new("GET", "/").header("cookie", "theme=dark; session=a.b.c");
    /// assert_eq!(browser.extract(&req)?.map(|f| f.source), Some(Source::Cookie));
    /// # Ok::<(), tokenward_core::Error>(())
    /// ```
    pub fn extract(&self, req: &Request) -> Result<Option<Found>, Error> {
        let mut found: Vec<Found> = Vec::with_capacity(4);
        if self.authorization
            && let Some(token) = from_authorization(req)?
        {
            found.push(Found {
                token,
                source: Source::Authorization,
            });
        }
        if let Some(name) = &self.mcp_proxy_header
            && let Some(token) = from_mcp_header(req, name)?
        {
            found.push(Found {
                token,
                source: Source::McpProxyHeader,
            });
        }
        if let Some(name) = &self.cookie_name
            && let Some(token) = from_cookie(req, name)?
        {
            found.push(Found {
                token,
                source: Source::Cookie,
            });
        }
        if self.query
            && let Some(token) = from_query(req)?
        {
            found.push(Found {
                token,
                source: Source::Query,
            });
        }
        let mut iter = found.into_iter();
        let Some(first) = iter.next() else {
            return Ok(None);
        };
        if let Some(other) = iter.find(|f| f.token != first.token) {
            return Err(invalid(format!(
                "different tokens in the {} and {} sources",
                first.source, other.source
            )));
        }
        Ok(Some(first))
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidRequest {
        reason: reason.into(),
    }
}

fn trim(value: &str) -> &str {
    value.trim_matches(|c: char| c.is_ascii_whitespace())
}

/// A credentials value, already trimmed: a bearer token or another scheme.
enum Credentials<'a> {
    Bearer(&'a str),
    Other,
}

/// The auth-scheme of one credential: everything up to the first space, tab or comma.
fn scheme_of(value: &str) -> &str {
    value.split([' ', '\t', ',']).next().unwrap_or_default()
}

/// Parses `<scheme> <credentials>` from header `what`; the value is already trimmed.
fn parse_credentials<'a>(value: &'a str, what: &str) -> Result<Credentials<'a>, Error> {
    if value.contains(',')
        && value
            .split(',')
            .any(|part| is_bearer(scheme_of(trim(part))))
    {
        return Err(invalid(format!(
            "the {what} header holds several comma-joined credentials"
        )));
    }
    let (scheme, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if !is_bearer(scheme) {
        return Ok(Credentials::Other);
    }
    let sep_has_tab = value
        .get(scheme.len()..)
        .unwrap_or_default()
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .any(|c| c == '\t');
    if sep_has_tab {
        return Err(invalid(format!(
            "the {what} header separates the Bearer scheme from the token with a tab"
        )));
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(invalid(format!(
            "the {what} header holds Bearer with no token"
        )));
    }
    check_token(token, what)?;
    Ok(Credentials::Bearer(token))
}

fn is_bearer(scheme: &str) -> bool {
    scheme.eq_ignore_ascii_case("bearer")
}

/// Refuses a token value holding whitespace or a comma (several credentials, or garbage).
fn check_token(token: &str, what: &str) -> Result<(), Error> {
    if token.contains(',') {
        return Err(invalid(format!(
            "the {what} value holds several comma-joined credentials"
        )));
    }
    if token.chars().any(|c| c.is_ascii_whitespace()) {
        return Err(invalid(format!("the {what} token contains whitespace")));
    }
    Ok(())
}

fn from_authorization(req: &Request) -> Result<Option<String>, Error> {
    let mut values = req.header_values("authorization");
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid("the request has several Authorization headers"));
    }
    match parse_credentials(trim(value), "Authorization")? {
        Credentials::Bearer(token) => Ok(Some(token.to_owned())),
        Credentials::Other => Ok(None),
    }
}

fn from_mcp_header(req: &Request, name: &str) -> Result<Option<String>, Error> {
    let mut values = req.header_values(name);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid(format!("the request has several {name} headers")));
    }
    let value = trim(value);
    if value.is_empty() {
        return Err(invalid(format!("the {name} header is empty")));
    }
    match parse_credentials(value, name)? {
        Credentials::Bearer(token) => Ok(Some(token.to_owned())),
        Credentials::Other => {
            check_token(value, name)?;
            Ok(Some(value.to_owned()))
        }
    }
}

fn from_cookie(req: &Request, name: &str) -> Result<Option<String>, Error> {
    let entries: Vec<&str> = req.header_values("cookie").map(trim).collect();
    if entries.is_empty() {
        return Ok(None);
    }
    let joined = entries.join("; ");
    let mut found: Option<String> = None;
    for cookie in Cookie::split_parse(joined.as_str()) {
        let cookie = cookie.map_err(|e| invalid(format!("malformed Cookie header: {e}")))?;
        if cookie.name() != name {
            continue;
        }
        let value = cookie.value_trimmed();
        if value.is_empty() {
            return Err(invalid(format!("cookie {name} is empty")));
        }
        match &found {
            Some(prev) if prev != value => {
                return Err(invalid(format!(
                    "cookie {name} is given twice with different values"
                )));
            }
            Some(_) => {}
            None => {
                check_token(value, &format!("cookie {name}"))?;
                found = Some(value.to_owned());
            }
        }
    }
    Ok(found)
}

/// Form-decodes one query component: `+` is a space, then percent-decoding.
fn form_decode(raw: &str) -> Result<String, Error> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| invalid("the query string is not valid UTF-8 once percent-decoded"))
}

fn from_query(req: &Request) -> Result<Option<String>, Error> {
    let Some(raw) = req.raw_query() else {
        return Ok(None);
    };
    let mut found: Option<String> = None;
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if form_decode(name)? != QUERY_PARAM {
            continue;
        }
        let value = form_decode(value)?;
        if value.is_empty() {
            return Err(invalid(format!(
                "the {QUERY_PARAM} query parameter is empty"
            )));
        }
        match &found {
            Some(prev) if *prev != value => {
                return Err(invalid(format!(
                    "the {QUERY_PARAM} query parameter is given twice with different values"
                )));
            }
            Some(_) => {}
            None => {
                check_token(&value, QUERY_PARAM)?;
                found = Some(value);
            }
        }
    }
    Ok(found)
}

/// RFC 9110 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Checks a configured header or cookie name: a non-empty RFC 9110 token.
fn check_token_name(field: &str, name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::policy(field, "must not be empty"));
    }
    if !name.chars().all(is_tchar) {
        return Err(Error::policy(
            field,
            format!(
                "must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~), found {}",
                crate::error::quote(name)
            ),
        ));
    }
    Ok(())
}

/// The request context a host passes upstream and logs: read from headers, never generated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The trace id header's value.
    pub trace_id: Option<String>,
    /// The context id header's value.
    pub context_id: Option<String>,
    /// The agent name header's value.
    pub agent_name: Option<String>,
}

/// The header names the request context is read from and injected under (lowercased).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextConfig {
    trace_id: String,
    context_id: String,
    agent_name: String,
}

impl Default for ContextConfig {
    /// `x-trace-id`, `x-context-id`, `x-agent-name`.
    fn default() -> Self {
        Self {
            trace_id: DEFAULT_TRACE_ID_HEADER.to_owned(),
            context_id: DEFAULT_CONTEXT_ID_HEADER.to_owned(),
            agent_name: DEFAULT_AGENT_NAME_HEADER.to_owned(),
        }
    }
}

impl ContextConfig {
    /// Builds the names from the policy's `context_headers` block (absent fields: defaults).
    pub(crate) fn from_doc(doc: Option<ContextHeadersDoc>) -> Result<Self, Error> {
        let doc = doc.unwrap_or_default();
        let mut out = Self::default();
        for (field, given, slot) in [
            ("context_headers.trace_id", doc.trace_id, &mut out.trace_id),
            (
                "context_headers.context_id",
                doc.context_id,
                &mut out.context_id,
            ),
            (
                "context_headers.agent_name",
                doc.agent_name,
                &mut out.agent_name,
            ),
        ] {
            if let Some(name) = given {
                check_token_name(field, &name)?;
                *slot = name.to_ascii_lowercase();
            }
        }
        Ok(out)
    }

    /// The trace id header name.
    pub fn trace_id_header(&self) -> &str {
        &self.trace_id
    }

    /// The context id header name.
    pub fn context_id_header(&self) -> &str {
        &self.context_id
    }

    /// The agent name header name.
    pub fn agent_name_header(&self) -> &str {
        &self.agent_name
    }

    /// Reads the context: the first entry of each header, trimmed; empty, over
    /// [`MAX_CONTEXT_BYTES`] or holding a control character is `None`.
    ///
    /// ```
    /// use tokenward_core::Request;
    /// use tokenward_core::extract::ContextConfig;
    /// let req = Request::new("GET", "/").header("X-Trace-Id", " t-1 ");
    /// let ctx = ContextConfig::default().read(&req);
    /// assert_eq!(ctx.trace_id.as_deref(), Some("t-1"));
    /// assert_eq!(ctx.agent_name, None);
    /// ```
    pub fn read(&self, req: &Request) -> RequestContext {
        let get = |name: &str| {
            req.first_header(name)
                .map(trim)
                .filter(|v| !v.is_empty() && v.len() <= MAX_CONTEXT_BYTES && is_safe_value(v))
                .map(str::to_owned)
        };
        RequestContext {
            trace_id: get(&self.trace_id),
            context_id: get(&self.context_id),
            agent_name: get(&self.agent_name),
        }
    }
}

/// Whether a value may go into a header: no control character (CR, LF, NUL, tab, DEL, C1).
fn is_safe_value(value: &str) -> bool {
    !value.chars().any(char::is_control)
}

/// The claims and payload injected upstream on allow (`claim_to_headers`, `payload_header`).
///
/// Header names are lowercased at load time. A claim path is first looked up as a literal
/// top-level member (`https://example.com/roles` is one claim), then, if absent, as a dotted path
/// through nested objects (`org.id`); arrays are not indexed. Values render as: strings as is,
/// numbers and booleans as their JSON text, arrays joined with `,` (elements rendered the same way,
/// nested containers as compact JSON), objects as compact JSON. A missing or `null` claim, an
/// empty array, an array element holding a comma (it would split into two values), or a value
/// holding a control character (CR, LF, NUL, tab...) omits the header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderMapping {
    claims: Vec<(String, String)>,
    payload_header: Option<String>,
}

impl HeaderMapping {
    /// Validates the mapping: every header name a non-empty HTTP token, not a framing or
    /// credential header (`authorization`, `cookie`, `host`, `content-length`, ...), and no header
    /// name used twice.
    pub(crate) fn new(
        claim_to_headers: Option<BTreeMap<String, String>>,
        payload_header: Option<String>,
    ) -> Result<Self, Error> {
        let mut claims: Vec<(String, String)> = Vec::new();
        for (claim, header) in claim_to_headers.unwrap_or_default() {
            let field = format!("claim_to_headers.{claim}");
            if claim.is_empty() {
                return Err(Error::policy(field, "names an empty claim"));
            }
            let header = check_injected(&field, &header)?;
            if claims.iter().any(|(_, h)| *h == header) {
                return Err(Error::policy(
                    field,
                    format!("reuses header {header} for a second claim"),
                ));
            }
            claims.push((claim, header));
        }
        let payload_header = match payload_header {
            Some(name) => {
                let name = check_injected("payload_header", &name)?;
                if claims.iter().any(|(_, h)| *h == name) {
                    return Err(Error::policy(
                        "payload_header",
                        format!("{name} is already a claim_to_headers header"),
                    ));
                }
                Some(name)
            }
            None => None,
        };
        Ok(Self {
            claims,
            payload_header,
        })
    }

    /// The `(claim path, header name)` pairs, in claim-name order.
    pub fn claim_headers(&self) -> &[(String, String)] {
        &self.claims
    }

    /// The header carrying the payload segment, if configured.
    pub fn payload_header(&self) -> Option<&str> {
        self.payload_header.as_deref()
    }

    /// The headers to inject upstream, in order: the context headers that are present, the
    /// claim headers (when `payload` is given), then `payload_header` carrying exactly
    /// `payload_segment` (the token's base64url payload part).
    pub fn render(
        &self,
        ctx_cfg: &ContextConfig,
        ctx: &RequestContext,
        payload: Option<&Map<String, Value>>,
        payload_segment: Option<&str>,
    ) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (name, value) in [
            (&ctx_cfg.trace_id, &ctx.trace_id),
            (&ctx_cfg.context_id, &ctx.context_id),
            (&ctx_cfg.agent_name, &ctx.agent_name),
        ] {
            if let Some(value) = value.as_deref().filter(|v| is_safe_value(v)) {
                out.push((name.clone(), value.to_owned()));
            }
        }
        if let Some(payload) = payload {
            for (claim, header) in &self.claims {
                if let Some(value) = lookup(payload, claim)
                    .and_then(render_value)
                    .filter(|v| is_safe_value(v))
                {
                    out.push((header.clone(), value));
                }
            }
        }
        if let (Some(header), Some(segment)) = (&self.payload_header, payload_segment)
            && is_safe_value(segment)
        {
            out.push((header.clone(), segment.to_owned()));
        }
        out
    }
}

/// Validates an injected header name and returns it lowercased.
fn check_injected(field: &str, name: &str) -> Result<String, Error> {
    check_token_name(field, name)?;
    let lower = name.to_ascii_lowercase();
    if RESERVED_HEADERS.contains(&lower.as_str()) {
        return Err(Error::policy(
            field,
            format!("{lower} is a framing or credential header and cannot be injected"),
        ));
    }
    Ok(lower)
}

/// A claim by literal top-level name first, then by dotted path through nested objects.
fn lookup<'a>(payload: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = payload.get(path) {
        return Some(value);
    }
    let mut segments = path.split('.');
    let mut current = payload.get(segments.next()?)?;
    for segment in segments {
        current = current.as_object()?.get(segment)?;
    }
    Some(current)
}

/// Renders one claim value for a header; `None` omits the header.
fn render_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => {
            let mut parts: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                let part = match item {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if part.contains(',') {
                    return None;
                }
                parts.push(part);
            }
            Some(parts.join(","))
        }
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req() -> Request {
        Request::new("GET", "/")
    }

    fn token(ex: &Extraction, r: &Request) -> Option<(String, Source)> {
        ex.extract(r).unwrap().map(|f| (f.token, f.source))
    }

    fn bad(ex: &Extraction, r: &Request) -> String {
        match ex.extract(r) {
            Err(Error::InvalidRequest { reason }) => reason,
            other => panic!("expected invalid_request, got {other:?}"),
        }
    }

    fn doc(v: serde_json::Value) -> Result<Extraction, Error> {
        Extraction::from_doc(Some(serde_json::from_value(v).unwrap()))
    }

    fn auth(v: &str) -> Request {
        req().header("Authorization", v)
    }

    #[test]
    fn bearer_scheme_case_and_spaces() {
        let ex = Extraction::standard();
        for v in [
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER    a.b.c",
            "  Bearer a.b.c \t",
        ] {
            assert_eq!(
                token(&ex, &auth(v)),
                Some(("a.b.c".into(), Source::Authorization)),
                "{v:?}"
            );
        }
    }

    #[test]
    fn no_token_anywhere() {
        let ex = Extraction::standard();
        assert_eq!(token(&ex, &req()), None);
        assert_eq!(token(&ex, &auth("Basic dXNlcjpwYXNz")), None);
        assert_eq!(token(&ex, &auth("")), None);
        assert_eq!(token(&ex, &auth("Bearerabc")), None);
        assert_eq!(token(&ex, &auth(r#"Digest username="u", realm="r""#)), None);
        assert_eq!(token(&ex, &req().header("cookie", "other=1")), None);
        // The query source is off unless opted in.
        assert_eq!(token(&ex, &req().query("access_token=a.b.c")), None);
    }

    #[test]
    fn authorization_invalid_requests() {
        let ex = Extraction::standard();
        for v in [
            "Bearer",
            "bearer   ",
            "Bearer a b",
            "Bearer a.b.c, Bearer d.e.f",
            "Bearer a.b.c,Bearer a.b.c",
            "Basic dXNlcjpwYXNz, Bearer a.b.c",
            "Bearer,a.b.c",
            "Bearer a,b",
            "Bearer\ta.b.c",
        ] {
            let r = bad(&ex, &auth(v));
            assert!(!r.contains("a.b.c"), "{r}");
        }
        let two = auth("Bearer a.b.c").header("authorization", "Bearer a.b.c");
        assert!(bad(&ex, &two).contains("several Authorization"));
        let err = ex.extract(&auth("Bearer")).unwrap_err();
        assert_eq!((err.code(), err.status()), ("invalid_request", 400));
    }

    #[test]
    fn mcp_header_forms() {
        let ex = Extraction::standard();
        for v in ["Bearer a.b.c", "bearer  a.b.c", "a.b.c", " a.b.c "] {
            let r = req().header("X-MCP-Proxy-Auth", v);
            assert_eq!(
                token(&ex, &r),
                Some(("a.b.c".into(), Source::McpProxyHeader))
            );
        }
        for v in [
            "",
            "   ",
            "Bearer",
            "a b",
            "a,b",
            "Basic xyz",
            "Bearer a, Bearer b",
        ] {
            bad(&ex, &req().header("x-mcp-proxy-auth", v));
        }
        let two = req()
            .header("x-mcp-proxy-auth", "a")
            .header("x-mcp-proxy-auth", "a");
        bad(&ex, &two);
    }

    #[test]
    fn duplicates_across_sources() {
        let ex = Extraction::standard().with_query_param(true);
        let same = auth("Bearer t.t.t")
            .header("x-mcp-proxy-auth", "t.t.t")
            .header("cookie", "auth_token=t.t.t")
            .query("access_token=t.t.t");
        assert_eq!(
            token(&ex, &same),
            Some(("t.t.t".into(), Source::Authorization))
        );
        let later = req()
            .header("cookie", "auth_token=t.t.t")
            .header("x-mcp-proxy-auth", "Bearer t.t.t");
        assert_eq!(
            token(&ex, &later),
            Some(("t.t.t".into(), Source::McpProxyHeader))
        );
        let diff = auth("Bearer a.a.a").header("x-mcp-proxy-auth", "b.b.b");
        let reason = bad(&ex, &diff);
        assert!(
            reason.contains("authorization and mcp_proxy_header"),
            "{reason}"
        );
        assert!(!reason.contains("a.a.a") && !reason.contains("b.b.b"));
        bad(&ex, &auth("Bearer a.a.a").query("access_token=b.b.b"));
        bad(
            &ex,
            &req()
                .header("cookie", "auth_token=a")
                .query("access_token=b"),
        );
        // A Basic Authorization next to a cookie token is fine: Basic is no bearer token.
        let basic = auth("Basic eHg6eXk=").header("cookie", "auth_token=c.c.c");
        assert_eq!(token(&ex, &basic), Some(("c.c.c".into(), Source::Cookie)));
    }

    #[test]
    fn cookies() {
        let ex = Extraction::standard();
        let c = |v: &str| token(&ex, &req().header("Cookie", v));
        let found = Some(("a.b.c".into(), Source::Cookie));
        assert_eq!(c("auth_token=a.b.c"), found);
        assert_eq!(c("theme=dark; auth_token=a.b.c; x=1"), found);
        assert_eq!(c("auth_token=\"a.b.c\""), found);
        assert_eq!(c("auth_token=a.b.c; auth_token=a.b.c;"), found);
        assert_eq!(c("Auth_Token=a.b.c"), None);
        assert_eq!(c(""), None);
        // HTTP/2 sends one entry per cookie.
        let h2 = req()
            .header("cookie", "theme=dark")
            .header("cookie", "auth_token=a.b.c");
        assert_eq!(token(&ex, &h2), found);
        let h2_diff = req()
            .header("cookie", "auth_token=a.b.c")
            .header("cookie", "auth_token=d.e.f");
        bad(&ex, &h2_diff);
        for v in [
            "auth_token=a; auth_token=b",
            "auth_token=",
            "auth_token=\"\"",
            "auth_token=a.b.c; auth_token=",
            "novalue; auth_token=a.b.c",
            "=x; auth_token=a.b.c",
            "auth_token=a b",
            "auth_token=a,b",
        ] {
            bad(&ex, &req().header("cookie", v));
        }
        // A malformed cookie header is only an error when the cookie source is read.
        let no_cookie = Extraction {
            cookie_name: None,
            ..Extraction::standard()
        };
        assert_eq!(token(&no_cookie, &req().header("cookie", "novalue")), None);
    }

    #[test]
    fn query_opt_in_and_decoding() {
        let ex = doc(json!({ "query_param": true })).unwrap();
        let q = |raw: &str| token(&ex, &req().query(raw));
        let found = Some(("a.b.c".into(), Source::Query));
        assert_eq!(q("access_token=a.b.c"), found);
        assert_eq!(q("x=1&access_token=a%2Eb%2ec&y"), found);
        assert_eq!(q("access%5Ftoken=a.b.c"), found);
        assert_eq!(q("access_token=a.b.c&access_token=a.b.c"), found);
        assert_eq!(
            token(&ex, &Request::new("GET", "/p?access_token=a.b.c")),
            found
        );
        assert_eq!(q("x=1"), None);
        for raw in [
            "access_token=",
            "access_token",
            "access_token=a&access_token=b",
            "access_token=a+b",
            "access_token=a%20b",
            "access_token=%FF",
        ] {
            bad(&ex, &req().query(raw));
        }
    }

    #[test]
    fn presets_and_overrides() {
        assert_eq!(doc(json!({})).unwrap(), Extraction::standard());
        assert_eq!(Extraction::from_doc(None).unwrap(), Extraction::default());
        let browser = doc(json!({ "preset": "browser_only" })).unwrap();
        assert_eq!(browser, Extraction::browser_only("auth_token").unwrap());
        let all = auth("Bearer h.h.h")
            .header("x-mcp-proxy-auth", "m.m.m")
            .header("cookie", "auth_token=c.c.c")
            .query("access_token=q.q.q");
        assert_eq!(
            token(&browser, &all),
            Some(("c.c.c".into(), Source::Cookie))
        );
        assert_eq!(token(&browser, &auth("Bearer")), None);

        let custom = doc(json!({ "preset": "browser_only", "cookie_name": "sid", "mcp_proxy_header": "x-other" }))
            .unwrap();
        assert_eq!(custom.cookie_name(), Some("sid"));
        assert_eq!(custom.mcp_proxy_header(), None);
        assert!(!custom.reads_authorization());
        assert_eq!(
            token(&custom, &req().header("cookie", "auth_token=x; sid=s.s.s")),
            Some(("s.s.s".into(), Source::Cookie))
        );

        let renamed =
            doc(json!({ "mcp_proxy_header": "X-Agent-Auth", "cookie_name": "tok" })).unwrap();
        assert_eq!(
            token(&renamed, &req().header("x-agent-auth", "r.r.r")),
            Some(("r.r.r".into(), Source::McpProxyHeader))
        );
        assert_eq!(
            token(&renamed, &req().header("x-mcp-proxy-auth", "r.r.r")),
            None
        );

        let bq = doc(json!({ "preset": "browser_only", "query_param": true })).unwrap();
        assert_eq!(
            token(&bq, &req().query("access_token=q.q.q")),
            Some(("q.q.q".into(), Source::Query))
        );
        let off = doc(json!({ "query_param": false })).unwrap();
        assert!(!off.reads_query());
    }

    #[test]
    fn policy_errors_name_the_field() {
        let field = |r: Result<Extraction, Error>| match r {
            Err(Error::PolicyInvalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(doc(json!({ "preset": "api" }))), "extraction.preset");
        assert_eq!(
            field(doc(json!({ "cookie_name": "" }))),
            "extraction.cookie_name"
        );
        assert_eq!(
            field(doc(json!({ "cookie_name": "a b" }))),
            "extraction.cookie_name"
        );
        assert_eq!(
            field(doc(json!({ "mcp_proxy_header": "" }))),
            "extraction.mcp_proxy_header"
        );
        assert_eq!(
            field(Extraction::browser_only("a;b")),
            "extraction.cookie_name"
        );
        assert!(serde_json::from_value::<ExtractionDoc>(json!({ "nope": 1 })).is_err());
        let ctx = ContextConfig::from_doc(Some(ContextHeadersDoc {
            agent_name: Some(String::new()),
            ..ContextHeadersDoc::default()
        }));
        assert!(
            matches!(ctx, Err(Error::PolicyInvalid { field, .. }) if field == "context_headers.agent_name")
        );
    }

    #[test]
    fn found_debug_hides_the_token() {
        let f = Found {
            token: "secret.token.value".into(),
            source: Source::Cookie,
        };
        let shown = format!("{f:?}");
        assert!(
            !shown.contains("secret") && shown.contains("18 bytes"),
            "{shown}"
        );
        assert_eq!(Source::McpProxyHeader.to_string(), "mcp_proxy_header");
        assert_eq!(Source::Query.name(), "query");
        assert_eq!(Source::Authorization.name(), "authorization");
    }

    #[test]
    fn context_reading() {
        let cfg = ContextConfig::default();
        let r = req()
            .header("X-Trace-Id", "  t-1 ")
            .header("x-trace-id", "t-2")
            .header("x-context-id", "")
            .header("x-agent-name", "bad\r\nx-admin: 1");
        assert_eq!(
            cfg.read(&r),
            RequestContext {
                trace_id: Some("t-1".into()),
                context_id: None,
                agent_name: None,
            }
        );
        let long = req().header("x-trace-id", "x".repeat(MAX_CONTEXT_BYTES + 1));
        assert_eq!(cfg.read(&long).trace_id, None);
        let max = req().header("x-trace-id", "x".repeat(MAX_CONTEXT_BYTES));
        assert!(cfg.read(&max).trace_id.is_some());

        let custom = ContextConfig::from_doc(Some(ContextHeadersDoc {
            trace_id: Some("X-Request-Id".into()),
            ..ContextHeadersDoc::default()
        }))
        .unwrap();
        assert_eq!(custom.trace_id_header(), "x-request-id");
        assert_eq!(custom.context_id_header(), "x-context-id");
        assert_eq!(custom.agent_name_header(), "x-agent-name");
        let r = req()
            .header("x-request-id", "r-1")
            .header("x-agent-name", "claude");
        let ctx = custom.read(&r);
        assert_eq!(ctx.trace_id.as_deref(), Some("r-1"));
        assert_eq!(ctx.agent_name.as_deref(), Some("claude"));
    }

    fn mapping(
        pairs: &[(&str, &str)],
        payload_header: Option<&str>,
    ) -> Result<HeaderMapping, Error> {
        HeaderMapping::new(
            Some(
                pairs
                    .iter()
                    .map(|(c, h)| ((*c).into(), (*h).into()))
                    .collect(),
            ),
            payload_header.map(Into::into),
        )
    }

    #[test]
    fn render_every_json_type() {
        let m = mapping(
            &[
                ("sub", "X-User-Id"),
                ("roles", "x-user-roles"),
                ("n", "x-n"),
                ("f", "x-f"),
                ("b", "x-b"),
                ("obj", "x-obj"),
                ("mixed", "x-mixed"),
                ("empty", "x-empty"),
                ("null", "x-null"),
                ("absent", "x-absent"),
                ("estr", "x-estr"),
            ],
            Some("x-jwt-payload"),
        )
        .unwrap();
        let payload = json!({
            "sub": "user-1",
            "roles": ["admin", "dev"],
            "n": 42,
            "f": 1.5,
            "b": true,
            "obj": { "a": 1, "b": [1, 2] },
            "mixed": ["a", 1, false, null, { "k": "v" }],
            "empty": [],
            "null": null,
            "estr": "",
        });
        let ctx = RequestContext {
            trace_id: Some("t-1".into()),
            context_id: None,
            agent_name: Some("agent".into()),
        };
        let out = m.render(
            &ContextConfig::default(),
            &ctx,
            payload.as_object(),
            Some("eyJzdWIiOiJ1In0"),
        );
        let expected: Vec<(String, String)> = [
            ("x-trace-id", "t-1"),
            ("x-agent-name", "agent"),
            ("x-b", "true"),
            ("x-estr", ""),
            ("x-f", "1.5"),
            ("x-mixed", "a,1,false,null,{\"k\":\"v\"}"),
            ("x-n", "42"),
            ("x-obj", "{\"a\":1,\"b\":[1,2]}"),
            ("x-user-roles", "admin,dev"),
            ("x-user-id", "user-1"),
            ("x-jwt-payload", "eyJzdWIiOiJ1In0"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        assert_eq!(out, expected);

        // Without a payload (anonymous, disabled) only the context goes upstream.
        let out = m.render(&ContextConfig::default(), &ctx, None, None);
        assert_eq!(out.len(), 2);
        assert!(
            HeaderMapping::default()
                .render(
                    &ContextConfig::default(),
                    &RequestContext::default(),
                    payload.as_object(),
                    Some("x")
                )
                .is_empty()
        );
    }

    #[test]
    fn render_nested_paths() {
        let m = mapping(
            &[
                ("org.id", "x-org-id"),
                ("org.missing", "x-org-missing"),
                ("org.id.deeper", "x-deeper"),
                ("https://example.com/roles", "x-ns-roles"),
                ("a.b", "x-ab"),
                ("list.0", "x-list"),
            ],
            None,
        )
        .unwrap();
        let payload = json!({
            "org": { "id": "o-1" },
            "https://example.com/roles": ["r1"],
            "a.b": "literal",
            "a": { "b": "nested" },
            "list": ["x"],
        });
        let out = m.render(
            &ContextConfig::default(),
            &RequestContext::default(),
            payload.as_object(),
            None,
        );
        assert_eq!(
            out,
            vec![
                ("x-ab".to_owned(), "literal".to_owned()),
                ("x-ns-roles".to_owned(), "r1".to_owned()),
                ("x-org-id".to_owned(), "o-1".to_owned()),
            ]
        );
    }

    #[test]
    fn render_drops_unsafe_values() {
        let m = mapping(
            &[
                ("crlf", "x-crlf"),
                ("lf", "x-lf"),
                ("nul", "x-nul"),
                ("tab", "x-tab"),
                ("arr", "x-arr"),
                ("comma", "x-comma"),
                ("ok", "x-ok"),
                ("utf8", "x-utf8"),
            ],
            Some("x-payload"),
        )
        .unwrap();
        let payload = json!({
            "crlf": "a\r\nx-admin: true",
            "lf": "a\nb",
            "nul": "a\u{0}b",
            "tab": "a\tb",
            "arr": ["a", "b\r\nc"],
            "comma": ["a,b", "c"],
            "ok": "a, b",
            "utf8": "José",
        });
        let ctx = RequestContext {
            trace_id: Some("t\r\n".into()),
            ..RequestContext::default()
        };
        let out = m.render(
            &ContextConfig::default(),
            &ctx,
            payload.as_object(),
            Some("seg\n"),
        );
        assert_eq!(
            out,
            vec![
                ("x-ok".to_owned(), "a, b".to_owned()),
                ("x-utf8".to_owned(), "José".to_owned()),
            ]
        );
    }

    #[test]
    fn mapping_validation() {
        let field = |r: Result<HeaderMapping, Error>| match r {
            Err(Error::PolicyInvalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(mapping(&[("sub", "")], None)), "claim_to_headers.sub");
        assert_eq!(
            field(mapping(&[("sub", "x user")], None)),
            "claim_to_headers.sub"
        );
        assert_eq!(
            field(mapping(&[("sub", "x:y")], None)),
            "claim_to_headers.sub"
        );
        assert_eq!(
            field(mapping(&[("sub", "x\r\n")], None)),
            "claim_to_headers.sub"
        );
        assert_eq!(
            field(mapping(&[("sub", "Authorization")], None)),
            "claim_to_headers.sub"
        );
        assert_eq!(field(mapping(&[("", "x-a")], None)), "claim_to_headers.");
        assert_eq!(
            field(mapping(&[("a", "x-h"), ("b", "X-H")], None)),
            "claim_to_headers.b"
        );
        assert_eq!(
            field(mapping(&[("a", "x-h")], Some("x-h"))),
            "payload_header"
        );
        assert_eq!(field(mapping(&[], Some(""))), "payload_header");
        let ok = mapping(&[("sub", "X-User-Id")], Some("X-JWT-Payload")).unwrap();
        assert_eq!(
            ok.claim_headers(),
            [("sub".to_owned(), "x-user-id".to_owned())]
        );
        assert_eq!(ok.payload_header(), Some("x-jwt-payload"));
        assert_eq!(
            HeaderMapping::new(None, None).unwrap(),
            HeaderMapping::default()
        );
    }
}
