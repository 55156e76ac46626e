//! Scanner and bot detection, run before authentication.
//!
//! A request is classified as scanner traffic by its **path**, its **user agent** or its
//! **velocity** (the host's own count of requests from this client in the current window, passed
//! with [`Request::requests_in_window`]; the host counts, the core decides). The policy's
//! `scanner` block picks what a match does:
//!
//! ```yaml
//! scanner:
//!   mode: block                # off (default, also when the block is absent) | flag | block
//!   paths: ["/internal/debug"] # extends DEFAULT_PATHS
//!   user_agents: ["evilbot"]   # extends DEFAULT_USER_AGENTS
//!   max_requests_per_window: 100
//! ```
//!
//! * `off`: every request is [`Verdict::Clean`]; nothing is checked.
//! * `flag`: a match is [`Verdict::Flagged`]; the request continues and the audit record says so.
//! * `block`: a match is [`Verdict::Blocked`] holding [`Error::ScannerBlocked`] (403
//!   `scanner_blocked`).
//!
//! # Path patterns
//!
//! A pattern is one of three kinds, told apart by its first and last characters:
//!
//! * **suffix** when it starts with `*`: `*.php` matches `/index.php` and `/a/b.php`;
//! * **prefix** when it ends with `/`: `/.git/` matches `/.git/` and `/.git/config`, not the bare
//!   `/.git` (the defaults list such bare forms as exact patterns of their own);
//! * **exact** otherwise: `/.env` matches `/.env` only (not `/.env.bak`, not `/x/.env`).
//!
//! Every kind compares **ASCII case-insensitively** (`/.ENV`, `/WP-Admin/` and `/x.PHP` match too:
//! scanners vary case and a case-sensitive rule is trivially dodged). Patterns see the path only,
//! never the query. The path is tested as given and, when different, also after one round of
//! percent-decoding with repeated `/` collapsed (so `/%2eenv` and `//.git/config` still match).
//! A pattern must start with `/` or `*`, may hold `*` only as its first character, must not hold
//! `?`, and must not be one that matches every path (`*` or `/`).
//!
//! # User agents
//!
//! Patterns match as ASCII case-insensitive substrings of any `User-Agent` header value
//! (`sqlmap` matches `sqlmap/1.7.2#stable (https://sqlmap.org)`). A request without a user agent
//! is not, by itself, scanner traffic.
//!
//! # Velocity
//!
//! With `max_requests_per_window: N`, a request whose [`Request::window_count`] **exceeds** `N` is
//! a match: `N` requests pass, `N + 1` do not. Without a count from the host, or without a limit,
//! velocity is not checked. `0` is refused at load time (it would flag every counted request;
//! omit the field to disable the check).
//!
//! # Order
//!
//! Path, then user agent, then velocity; the first rule that matches names the reason. Reasons
//! quote (escape and truncate) every request-supplied value.

use std::borrow::Cow;

use serde::Deserialize;

use crate::error::quote;
use crate::{Error, Request};

/// Path patterns every scanner checks, whatever the policy adds (see the module docs for syntax).
///
/// Secrets and VCS metadata (`/.env`, `/.git/`, `/.aws/`, ...), PHP and WordPress probes
/// (`*.php`, `/wp-admin/`, `/phpmyadmin`, `/vendor/phpunit/`, ...), server and framework
/// introspection (`/server-status`, `/actuator/`, `/cgi-bin/`, ...). `*.php` means a PHP
/// application cannot sit behind a `block` scanner without traffic to it being blocked.
pub const DEFAULT_PATHS: &[&str] = &[
    // Environment files and credentials.
    "/.env",
    "/.env.local",
    "/.env.production",
    "/.env.bak",
    "/.aws/",
    "/.ssh/",
    "/.docker/",
    "/.npmrc",
    "/.htpasswd",
    "/.htaccess",
    // Version control and editor metadata.
    "/.git",
    "/.git/",
    "/.svn/",
    "/.hg/",
    "/.DS_Store",
    "/.vscode/",
    "/.idea/",
    // PHP, WordPress and friends.
    "*.php",
    "/wp-admin",
    "/wp-admin/",
    "/wp-login.php",
    "/wp-content/",
    "/wp-includes/",
    "/xmlrpc.php",
    "/phpmyadmin",
    "/phpmyadmin/",
    "/pma/",
    "/vendor/phpunit/",
    // Server and framework introspection.
    "/server-status",
    "/server-info",
    "/actuator/",
    "/cgi-bin/",
    "/jmx-console/",
    "/manager/html",
    "/solr/",
    "/HNAP1/",
    "/boaform/",
    // Dumps and backups.
    "*.sql",
    "*.bak",
    "/backup/",
];

/// User-agent substrings of well-known scanners and fuzzers (compared ASCII case-insensitively).
///
/// General-purpose clients (`curl`, `python-requests`, `Go-http-client`, `httpx`) are deliberately
/// absent: legitimate API clients send them.
pub const DEFAULT_USER_AGENTS: &[&str] = &[
    "sqlmap",
    "nikto",
    "nuclei",
    "masscan",
    "zgrab",
    "nmap",
    "dirbuster",
    "gobuster",
    "feroxbuster",
    "ffuf",
    "wfuzz",
    "wpscan",
    "acunetix",
    "nessus",
    "openvas",
    "netsparker",
    "arachni",
    "w3af",
    "skipfish",
    "whatweb",
    "havij",
    "commix",
    "xsstrike",
    "jaeles",
    "zmeu",
    "morfeus",
    "censysinspect",
];

/// The policy document's `scanner` block, as written.
#[derive(Deserialize, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScannerDoc {
    /// `off`, `flag` or `block`.
    pub(crate) mode: Option<String>,
    /// Path patterns added to [`DEFAULT_PATHS`].
    pub(crate) paths: Option<Vec<String>>,
    /// User-agent substrings added to [`DEFAULT_USER_AGENTS`].
    pub(crate) user_agents: Option<Vec<String>>,
    /// Velocity limit: more requests than this in the host's window is a match.
    pub(crate) max_requests_per_window: Option<u64>,
}

/// What a scanner match does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ScannerMode {
    /// Detection is off: every request is clean (default).
    #[default]
    Off,
    /// A match is recorded in the audit record; the request continues.
    Flag,
    /// A match is rejected with 403 `scanner_blocked`.
    Block,
}

impl ScannerMode {
    /// `off`, `flag` or `block`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Flag => "flag",
            Self::Block => "block",
        }
    }

    fn parse(field: &str, name: &str) -> Result<Self, Error> {
        match name {
            "off" => Ok(Self::Off),
            "flag" => Ok(Self::Flag),
            "block" => Ok(Self::Block),
            other => Err(Error::policy(
                field,
                format!(
                    "must be \"off\", \"flag\" or \"block\", got {}",
                    quote(other)
                ),
            )),
        }
    }
}

/// The outcome of [`Scanner::classify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No rule matched, or detection is off.
    Clean,
    /// A rule matched in `flag` mode: let the request through, record it.
    Flagged {
        /// Which rule matched, with request values quoted.
        reason: String,
    },
    /// A rule matched in `block` mode: answer with this [`Error::ScannerBlocked`] (403).
    Blocked(Error),
}

/// One compiled path pattern (stored ASCII-lowercased).
#[derive(Clone, Debug, PartialEq, Eq)]
enum PathPattern {
    /// The whole path.
    Exact(String),
    /// The path starts with this (which ends in `/`), or equals it without the `/`.
    Prefix(String),
    /// The path ends with this (the pattern without its leading `*`).
    Suffix(String),
}

impl PathPattern {
    fn compile(field: &str, raw: &str) -> Result<Self, Error> {
        let bad = |reason: &str| {
            Err(Error::policy(
                field,
                format!("{reason}, got {}", quote(raw)),
            ))
        };
        if raw.is_empty() {
            return bad("must not be empty");
        }
        if raw.contains('?') {
            return bad("must not contain \"?\" (patterns match the path, never the query)");
        }
        let lower = raw.to_ascii_lowercase();
        if let Some(suffix) = lower.strip_prefix('*') {
            if suffix.is_empty() {
                return bad("must not match every path");
            }
            if suffix.contains('*') {
                return bad("may contain \"*\" only as its first character");
            }
            return Ok(Self::Suffix(suffix.to_owned()));
        }
        if !lower.starts_with('/') {
            return bad("must start with \"/\" (or \"*\" for a suffix pattern)");
        }
        if lower.contains('*') {
            return bad("may contain \"*\" only as its first character");
        }
        if lower == "/" {
            return bad("must not match every path");
        }
        if lower.ends_with('/') {
            Ok(Self::Prefix(lower))
        } else {
            Ok(Self::Exact(lower))
        }
    }

    fn matches(&self, path: &str) -> bool {
        let path = path.as_bytes();
        match self {
            Self::Exact(p) => path.eq_ignore_ascii_case(p.as_bytes()),
            Self::Prefix(p) => {
                let p = p.as_bytes();
                path.get(..p.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(p))
            }
            Self::Suffix(s) => path
                .len()
                .checked_sub(s.len())
                .and_then(|start| path.get(start..))
                .is_some_and(|tail| tail.eq_ignore_ascii_case(s.as_bytes())),
        }
    }

    /// The pattern as configured (lowercased), for reasons.
    fn display(&self) -> String {
        match self {
            Self::Exact(p) | Self::Prefix(p) => p.clone(),
            Self::Suffix(s) => format!("*{s}"),
        }
    }
}

/// Compiled scanner detection: mode, path patterns, user-agent substrings and velocity limit.
///
/// Built from the policy's `scanner` block (see [`crate::Policy::scanner`]) or with
/// [`Scanner::new`]; [`Scanner::off`] (the default) classifies everything as clean.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Scanner {
    mode: ScannerMode,
    paths: Vec<PathPattern>,
    user_agents: Vec<String>,
    max_requests_per_window: Option<u64>,
}

impl Scanner {
    /// Detection off: [`Scanner::classify`] always answers [`Verdict::Clean`].
    pub fn off() -> Scanner {
        Scanner::default()
    }

    /// A scanner with the built-in [`DEFAULT_PATHS`] and [`DEFAULT_USER_AGENTS`] extended by
    /// `extra_paths` and `extra_user_agents`, and an optional velocity limit.
    ///
    /// # Errors
    ///
    /// `policy_invalid` naming `scanner.paths[i]` or `scanner.user_agents[i]` for an empty or
    /// malformed pattern, or `scanner.max_requests_per_window` for `Some(0)`.
    pub fn new<P, U>(
        mode: ScannerMode,
        extra_paths: P,
        extra_user_agents: U,
        max_requests_per_window: Option<u64>,
    ) -> Result<Scanner, Error>
    where
        P: IntoIterator,
        P::Item: AsRef<str>,
        U: IntoIterator,
        U::Item: AsRef<str>,
    {
        let mut paths = Vec::with_capacity(DEFAULT_PATHS.len());
        for default in DEFAULT_PATHS {
            paths.push(PathPattern::compile("scanner.paths", default)?);
        }
        for (i, raw) in extra_paths.into_iter().enumerate() {
            let pattern = PathPattern::compile(&format!("scanner.paths[{i}]"), raw.as_ref())?;
            if !paths.contains(&pattern) {
                paths.push(pattern);
            }
        }

        let mut user_agents: Vec<String> = DEFAULT_USER_AGENTS
            .iter()
            .map(|ua| ua.to_ascii_lowercase())
            .collect();
        for (i, raw) in extra_user_agents.into_iter().enumerate() {
            let raw = raw.as_ref();
            if raw.trim().is_empty() {
                return Err(Error::policy(
                    format!("scanner.user_agents[{i}]"),
                    format!("must not be empty or blank, got {}", quote(raw)),
                ));
            }
            let lower = raw.to_ascii_lowercase();
            if !user_agents.contains(&lower) {
                user_agents.push(lower);
            }
        }

        if max_requests_per_window == Some(0) {
            return Err(Error::policy(
                "scanner.max_requests_per_window",
                "must be at least 1 (omit it to disable the velocity check), got 0",
            ));
        }

        Ok(Scanner {
            mode,
            paths,
            user_agents,
            max_requests_per_window,
        })
    }

    /// Compiles the policy document's `scanner` block; an absent block is [`Scanner::off`].
    pub(crate) fn from_doc(doc: Option<ScannerDoc>) -> Result<Scanner, Error> {
        let Some(doc) = doc else {
            return Ok(Scanner::off());
        };
        let mode = match doc.mode.as_deref() {
            None => ScannerMode::Off,
            Some(name) => ScannerMode::parse("scanner.mode", name)?,
        };
        Scanner::new(
            mode,
            doc.paths.unwrap_or_default(),
            doc.user_agents.unwrap_or_default(),
            doc.max_requests_per_window,
        )
    }

    /// The configured mode.
    pub fn mode(&self) -> ScannerMode {
        self.mode
    }

    /// The velocity limit, if one is configured.
    pub fn max_requests_per_window(&self) -> Option<u64> {
        self.max_requests_per_window
    }

    /// Classifies a request: path, then user agent, then velocity; the first match names the
    /// reason. `off` mode answers [`Verdict::Clean`] without looking.
    ///
    /// ```
    /// use tokenward_core::Request;
    /// use tokenward_core::scanner::{Scanner, ScannerMode, Verdict};
    ///
    /// let scanner = Scanner::new(ScannerMode::Block, ["/internal/"], ["evilbot"], Some(100))?;
    ///
    /// let probe = Request::new("GET", "/.env");
    /// let Verdict::Blocked(err) = scanner.classify(&probe) else { panic!("not blocked") };
    /// assert_eq!(err.code(), "scanner_blocked");
    /// assert_eq!(err.status(), 403);
    ///
    /// let bot = Request::new("GET", "/tools").header("User-Agent", "sqlmap/1.7");
    /// assert!(matches!(scanner.classify(&bot), Verdict::Blocked(_)));
    ///
    /// let busy = Request::new("GET", "/tools").requests_in_window(101);
    /// assert!(matches!(scanner.classify(&busy), Verdict::Blocked(_)));
    ///
    /// let fine = Request::new("GET", "/tools").header("User-Agent", "curl/8.5").requests_in_window(100);
    /// assert_eq!(scanner.classify(&fine), Verdict::Clean);
    ///
    /// let flagging = Scanner::new(ScannerMode::Flag, [] as [&str; 0], [] as [&str; 0], None)?;
    /// assert!(matches!(flagging.classify(&probe), Verdict::Flagged { .. }));
    /// assert_eq!(Scanner::off().classify(&probe), Verdict::Clean);
    /// # Ok::<(), tokenward_core::Error>(())
    /// ```
    pub fn classify(&self, req: &Request) -> Verdict {
        if self.mode == ScannerMode::Off {
            return Verdict::Clean;
        }
        let Some(reason) = self.reason(req) else {
            return Verdict::Clean;
        };
        match self.mode {
            ScannerMode::Off => Verdict::Clean,
            ScannerMode::Flag => Verdict::Flagged { reason },
            ScannerMode::Block => Verdict::Blocked(Error::ScannerBlocked { reason }),
        }
    }

    /// The first matching rule, described, or `None`.
    fn reason(&self, req: &Request) -> Option<String> {
        let path = req.path();
        let normalized = normalize(path);
        let candidates: &[&str] = if normalized == path {
            &[path]
        } else {
            &[path, &normalized]
        };
        for pattern in &self.paths {
            if candidates.iter().any(|p| pattern.matches(p)) {
                return Some(format!(
                    "path {} matches pattern {}",
                    quote(path),
                    quote(&pattern.display())
                ));
            }
        }

        for agent in req.header_values("user-agent") {
            if let Some(pattern) = self
                .user_agents
                .iter()
                .find(|p| contains_ignore_ascii_case(agent, p))
            {
                return Some(format!(
                    "user agent {} matches pattern {}",
                    quote(agent),
                    quote(pattern)
                ));
            }
        }

        if let (Some(limit), Some(count)) = (self.max_requests_per_window, req.window_count())
            && count > limit
        {
            return Some(format!(
                "{count} requests in the window exceed the limit of {limit}"
            ));
        }
        None
    }
}

/// The path after one round of percent-decoding (lossy UTF-8), with runs of `/` collapsed.
fn normalize(path: &str) -> Cow<'_, str> {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    if !decoded.contains("//") {
        return decoded;
    }
    let mut out = String::with_capacity(decoded.len());
    let mut previous_slash = false;
    for c in decoded.chars() {
        let slash = c == '/';
        if !(slash && previous_slash) {
            out.push(c);
        }
        previous_slash = slash;
    }
    Cow::Owned(out)
}

/// Whether `haystack` contains `needle`, comparing ASCII letters case-insensitively.
fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    if needle.is_empty() {
        return true;
    }
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: [&str; 0] = [];

    fn block() -> Scanner {
        Scanner::new(ScannerMode::Block, NONE, NONE, None).unwrap()
    }

    fn reason(scanner: &Scanner, req: &Request) -> Option<String> {
        match scanner.classify(req) {
            Verdict::Clean => None,
            Verdict::Flagged { reason } => Some(reason),
            Verdict::Blocked(Error::ScannerBlocked { reason }) => Some(reason),
            Verdict::Blocked(other) => panic!("unexpected error {other:?}"),
        }
    }

    fn get(path: &str) -> Request {
        Request::new("GET", path)
    }

    fn hit(scanner: &Scanner, path: &str) -> bool {
        reason(scanner, &get(path)).is_some()
    }

    #[test]
    fn exact_pattern() {
        let s = block();
        assert!(hit(&s, "/.env"));
        assert!(hit(&s, "/.ENV"));
        assert!(!hit(&s, "/.env.example"));
        assert!(!hit(&s, "/app/.env"));
        assert!(!hit(&s, "/"));
    }

    #[test]
    fn prefix_pattern() {
        let s = block();
        assert!(hit(&s, "/.git/config"));
        assert!(hit(&s, "/.git/"));
        assert!(hit(&s, "/.git"));
        assert!(hit(&s, "/.GIT/HEAD"));
        assert!(!hit(&s, "/.gitignore"));
        assert!(!hit(&s, "/repo/.git/config"));
        assert!(hit(&s, "/wp-admin"));
        assert!(hit(&s, "/wp-admin/install"));
    }

    #[test]
    fn suffix_pattern() {
        let s = block();
        assert!(hit(&s, "/index.php"));
        assert!(hit(&s, "/a/b/shell.PhP"));
        assert!(!hit(&s, "/index.php5"));
        assert!(!hit(&s, "/php"));
        assert!(hit(&s, "/dump.sql"));
    }

    #[test]
    fn query_is_ignored() {
        let s = block();
        assert!(!hit(&s, "/tools?file=/.env"));
        assert!(!hit(&s, "/tools?x=index.php"));
        assert!(hit(&s, "/.env?x=1"));
    }

    #[test]
    fn normalized_path_also_checked() {
        let s = block();
        assert!(hit(&s, "/%2eenv"));
        assert!(hit(&s, "//.git/config"));
        assert!(hit(&s, "/x%2Ephp"));
        let r = reason(&s, &get("/%2eenv")).unwrap();
        assert!(r.contains(r#"path "/%2eenv""#), "{r}");
    }

    #[test]
    fn every_default_path_matches_itself() {
        let s = block();
        for p in DEFAULT_PATHS {
            let probe = p.replace('*', "/probe");
            assert!(hit(&s, &probe), "{p}");
        }
        for p in [
            "/.aws/credentials",
            "/phpmyadmin",
            "/.DS_Store",
            "/server-status",
            "/actuator/env",
            "/cgi-bin/luci",
            "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
            "/wp-login.php",
        ] {
            assert!(hit(&s, p), "{p}");
        }
    }

    #[test]
    fn ordinary_paths_are_clean() {
        let s = block();
        for p in [
            "/",
            "/tools",
            "/tools/run",
            "/api/v1/users/42",
            "/.well-known/jwks.json",
            "/health",
        ] {
            assert!(!hit(&s, p), "{p}");
        }
    }

    #[test]
    fn default_user_agents_case_insensitive() {
        let s = block();
        for ua in DEFAULT_USER_AGENTS {
            let req = get("/tools").header(
                "User-Agent",
                format!("Mozilla/5.0 ({}) x", ua.to_ascii_uppercase()),
            );
            assert!(reason(&s, &req).is_some(), "{ua}");
        }
        let req = get("/tools").header("user-agent", "sqlmap/1.7.2#stable (https://sqlmap.org)");
        let r = reason(&s, &req).unwrap();
        assert_eq!(
            r,
            r#"user agent "sqlmap/1.7.2#stable (https://sqlmap.org)" matches pattern "sqlmap""#
        );
    }

    #[test]
    fn every_user_agent_value_is_checked() {
        let s = block();
        let req = get("/tools")
            .header("User-Agent", "curl/8.5")
            .header("User-Agent", "Nuclei - Open-source project");
        assert!(reason(&s, &req).is_some());
    }

    #[test]
    fn ordinary_user_agents_are_clean() {
        let s = block();
        for ua in [
            "curl/8.5.0",
            "python-requests/2.31",
            "python-httpx/0.27",
            "Go-http-client/2.0",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
            "",
        ] {
            assert!(
                reason(&s, &get("/tools").header("User-Agent", ua)).is_none(),
                "{ua}"
            );
        }
        assert!(reason(&s, &get("/tools")).is_none());
    }

    #[test]
    fn configured_lists_extend_defaults() {
        let s = Scanner::new(
            ScannerMode::Block,
            ["/internal/", "*.JSP", "/debug"],
            ["EvilBot"],
            None,
        )
        .unwrap();
        assert!(hit(&s, "/internal/x"));
        assert!(hit(&s, "/a.jsp"));
        assert!(hit(&s, "/DEBUG"));
        assert!(!hit(&s, "/debug/x"));
        assert!(hit(&s, "/.env"));
        assert!(reason(&s, &get("/").header("User-Agent", "evilbot/2")).is_some());
        assert!(reason(&s, &get("/").header("User-Agent", "nikto")).is_some());
    }

    #[test]
    fn velocity_boundary() {
        let s = Scanner::new(ScannerMode::Block, NONE, NONE, Some(100)).unwrap();
        assert_eq!(
            s.classify(&get("/tools").requests_in_window(100)),
            Verdict::Clean
        );
        assert_eq!(
            s.classify(&get("/tools").requests_in_window(0)),
            Verdict::Clean
        );
        assert_eq!(s.classify(&get("/tools")), Verdict::Clean);
        assert_eq!(
            s.classify(&get("/tools").requests_in_window(101)),
            Verdict::Blocked(Error::ScannerBlocked {
                reason: "101 requests in the window exceed the limit of 100".into()
            })
        );
        assert_eq!(
            block().classify(&get("/tools").requests_in_window(u64::MAX)),
            Verdict::Clean
        );
    }

    #[test]
    fn path_rule_reported_first() {
        let s = Scanner::new(ScannerMode::Flag, NONE, NONE, Some(1)).unwrap();
        let req = get("/.env")
            .header("User-Agent", "sqlmap")
            .requests_in_window(5);
        assert_eq!(
            s.classify(&req),
            Verdict::Flagged {
                reason: r#"path "/.env" matches pattern "/.env""#.into()
            }
        );
    }

    #[test]
    fn modes() {
        let req = get("/wp-login.php");
        for (mode, expect) in [("off", "clean"), ("flag", "flagged"), ("block", "blocked")] {
            let doc = ScannerDoc {
                mode: Some(mode.into()),
                ..ScannerDoc::default()
            };
            let s = Scanner::from_doc(Some(doc)).unwrap();
            assert_eq!(s.mode().name(), mode);
            let got = match s.classify(&req) {
                Verdict::Clean => "clean",
                Verdict::Flagged { .. } => "flagged",
                Verdict::Blocked(e) => {
                    assert_eq!(e.code(), "scanner_blocked");
                    assert_eq!(e.status(), 403);
                    assert_eq!(e.www_authenticate(), None);
                    "blocked"
                }
            };
            assert_eq!(got, expect, "{mode}");
        }
        assert_eq!(Scanner::from_doc(None).unwrap(), Scanner::off());
        assert_eq!(
            Scanner::from_doc(None).unwrap().classify(&req),
            Verdict::Clean
        );
        let no_mode = Scanner::from_doc(Some(ScannerDoc::default())).unwrap();
        assert_eq!(no_mode.mode(), ScannerMode::Off);
        assert_eq!(no_mode.classify(&req), Verdict::Clean);
        let off = Scanner::new(ScannerMode::Off, NONE, ["curl"], Some(1)).unwrap();
        assert_eq!(
            off.classify(
                &get("/.env")
                    .header("User-Agent", "curl")
                    .requests_in_window(9)
            ),
            Verdict::Clean
        );
    }

    #[test]
    fn reasons_quote_request_values() {
        let s = block();
        let long = format!("/{}.php", "a\"\n".repeat(50));
        let r = reason(&s, &get(&long)).unwrap();
        assert!(r.contains("..."), "{r}");
        assert!(r.contains("\\\"") && r.contains("\\n"), "{r}");
        assert!(!r.contains('\n'));
    }

    fn field_of(err: Error) -> (String, String) {
        match err {
            Error::PolicyInvalid { field, reason } => (field, reason),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn bad_config() {
        let doc = ScannerDoc {
            mode: Some("Block".into()),
            ..ScannerDoc::default()
        };
        let (field, why) = field_of(Scanner::from_doc(Some(doc)).unwrap_err());
        assert_eq!(field, "scanner.mode");
        assert_eq!(why, r#"must be "off", "flag" or "block", got "Block""#);

        let doc = ScannerDoc {
            mode: Some("flag".into()),
            paths: Some(vec!["/ok".into(), String::new()]),
            ..ScannerDoc::default()
        };
        let err = Scanner::from_doc(Some(doc)).unwrap_err();
        assert_eq!(err.code(), "policy_invalid");
        assert_eq!(field_of(err).0, "scanner.paths[1]");

        for bad in ["*", "/", "admin", "/a*b", "**.php", "/x?y"] {
            let (field, _) =
                field_of(Scanner::new(ScannerMode::Block, [bad], NONE, None).unwrap_err());
            assert_eq!(field, "scanner.paths[0]", "{bad}");
        }

        for bad in ["", "  "] {
            let (field, _) =
                field_of(Scanner::new(ScannerMode::Block, NONE, ["ok", bad], None).unwrap_err());
            assert_eq!(field, "scanner.user_agents[1]");
        }

        let doc = ScannerDoc {
            max_requests_per_window: Some(0),
            ..ScannerDoc::default()
        };
        let (field, _) = field_of(Scanner::from_doc(Some(doc)).unwrap_err());
        assert_eq!(field, "scanner.max_requests_per_window");
        assert!(Scanner::new(ScannerMode::Block, NONE, NONE, Some(1)).is_ok());
    }

    #[test]
    fn doc_deserializes_and_rejects_unknown_fields() {
        let doc: ScannerDoc = serde_json::from_str(
            r#"{"mode":"block","paths":["/.env","/wp-admin"],"user_agents":["sqlmap"],"max_requests_per_window":100}"#,
        )
        .unwrap();
        let s = Scanner::from_doc(Some(doc)).unwrap();
        assert_eq!(s.mode(), ScannerMode::Block);
        assert_eq!(s.max_requests_per_window(), Some(100));
        assert!(serde_json::from_str::<ScannerDoc>(r#"{"mode":"block","path":[]}"#).is_err());
    }

    #[test]
    fn duplicates_are_not_repeated() {
        let s = Scanner::new(ScannerMode::Block, ["/.ENV", "/.env"], ["SQLMAP"], None).unwrap();
        assert_eq!(s.paths.len(), DEFAULT_PATHS.len());
        assert_eq!(s.user_agents.len(), DEFAULT_USER_AGENTS.len());
    }
}

#[test]
fn prefix_patterns_need_their_trailing_slash() {
    let scanner = Scanner::new(ScannerMode::Block, ["/internal/"], [] as [&str; 0], None).unwrap();
    assert!(matches!(
        scanner.classify(&Request::new("GET", "/internal/x")),
        Verdict::Blocked(_)
    ));
    assert!(matches!(
        scanner.classify(&Request::new("GET", "/internal/")),
        Verdict::Blocked(_)
    ));
    assert!(matches!(
        scanner.classify(&Request::new("GET", "/internal")),
        Verdict::Clean
    ));
    assert!(matches!(
        scanner.classify(&Request::new("GET", "/.git")),
        Verdict::Blocked(_)
    ));
}
