//! The root context (configuration, one per plugin per worker) and the HTTP context (one per
//! request): read the request, ask the core, answer or pass on.

use std::cell::RefCell;
use std::rc::Rc;

use tokenward_core::scanner::ScannerMode;
use tokenward_core::{Decision, Error, Policy, Request, UnixTime, Verifier};

use crate::config::{self, AuditLevel, FilterSettings};
use crate::crypto::FilterCrypto;
use crate::entry::{self, Action};
use crate::host::{self, BufferType, LogLevel, MapType};
use crate::remote::RemoteKeys;
use crate::stats;
use crate::velocity::{self, Velocity};

/// Tick period while remote keys are configured, in ms.
const TICK_MS: u32 = 250;

/// Largest plugin configuration read, in bytes (the core's own policy limit is 1 MiB).
const MAX_CONFIG_BYTES: usize = 2 << 20;

/// Logs one line; a host that refuses the log call changes nothing.
pub fn log(level: LogLevel, message: &str) {
    let _ = host::log(level, message);
}

/// Where the verifier comes from.
enum Keys {
    /// Keys in the policy document: one verifier for the configuration's lifetime.
    Inline(Verifier),
    /// A remote key set, fetched and shared between workers.
    Remote(Box<RefCell<RemoteKeys>>),
}

/// Everything a request needs, built once per configuration.
pub struct Configured {
    settings: FilterSettings,
    keys: Keys,
    /// Headers the filter writes: removed from every request before it injects its own.
    owned: Vec<String>,
    /// Credential headers removed on allow unless `forward_authorization`.
    credentials: Vec<String>,
    /// The per-client request counter, when the policy sets a scanner velocity limit.
    velocity: Option<Velocity>,
}

impl Configured {
    /// Builds the verifier and the header lists from a configuration.
    fn new(settings: FilterSettings, policy: &Policy, keys: Keys) -> Self {
        let mut owned: Vec<String> = Vec::new();
        let ctx = policy.context_config();
        for name in [
            ctx.trace_id_header(),
            ctx.context_id_header(),
            ctx.agent_name_header(),
        ] {
            owned.push(name.to_ascii_lowercase());
        }
        let mapping = policy.header_mapping();
        owned.extend(
            mapping
                .claim_headers()
                .iter()
                .map(|(_, h)| h.to_ascii_lowercase()),
        );
        if let Some(h) = mapping.payload_header() {
            owned.push(h.to_ascii_lowercase());
        }
        owned.sort();
        owned.dedup();
        let mut credentials = vec!["authorization".to_owned()];
        if let Some(h) = policy.extraction().mcp_proxy_header() {
            credentials.push(h.to_ascii_lowercase());
        }
        let scanner = policy.scanner();
        let velocity = (scanner.mode() != ScannerMode::Off
            && scanner.max_requests_per_window().is_some())
        .then(|| {
            let scope = velocity::fnv1a(format!("{:?}", scanner).as_bytes());
            Velocity::new(settings.velocity_window_seconds, scope)
        });
        Self {
            keys,
            settings,
            owned,
            credentials,
            velocity,
        }
    }
}

/// The plugin's root context.
#[derive(Default)]
pub struct Root {
    configured: Option<Rc<Configured>>,
}

impl Root {
    /// The configuration requests of this root use, once `on_configure` accepted one.
    pub fn configured(&self) -> Option<Rc<Configured>> {
        self.configured.clone()
    }

    /// `proxy_on_vm_start`: defines the stats.
    pub fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        stats::define_all();
        true
    }

    /// `proxy_on_configure`: builds the configuration, or rejects it with one log line.
    pub fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        match configure() {
            Ok(c) => {
                if matches!(c.keys, Keys::Remote(_))
                    && let Err(s) = host::set_tick_period_ms(TICK_MS)
                {
                    log(
                        LogLevel::Error,
                        &format!(
                            "configuration rejected: policy_invalid: filter.cluster: remote keys need timers, the host refused ({s:?})"
                        ),
                    );
                    return false;
                }
                self.configured = Some(Rc::new(c));
                true
            }
            Err(e) => {
                log(LogLevel::Error, &format!("configuration rejected: {e}"));
                false
            }
        }
    }

    /// `proxy_on_tick`: drives the remote key source and reports its staleness.
    pub fn on_tick(&mut self, root_id: u32) {
        let Some(configured) = self.configured.clone() else {
            return;
        };
        let Keys::Remote(remote) = &configured.keys else {
            return;
        };
        let Ok(now_ns) = host::now_nanos() else {
            // Without a clock no deadline can pass: decide the parked requests now (they fail
            // closed unless the configuration fixes `now`) rather than leave them hanging.
            let ready = match remote.try_borrow_mut() {
                Ok(mut r) => r.release_all(),
                Err(_) => return,
            };
            resume_all(&configured, root_id, ready);
            return;
        };
        let now_ms = now_ns / 1_000_000;
        let (ready, stale) = match remote.try_borrow_mut() {
            Ok(mut r) => (r.tick(now_ms), r.stale_seconds(now_ms)),
            Err(_) => return,
        };
        stats::set_gauge(stats::JWKS_STALE_SECONDS, stale);
        resume_all(&configured, root_id, ready);
    }

    /// `proxy_on_http_call_response` for a callout this root made.
    pub fn on_http_call_response(
        &mut self,
        root_id: u32,
        token_id: u32,
        num_headers: usize,
        body_size: usize,
    ) {
        let Some(configured) = self.configured.clone() else {
            return;
        };
        let Keys::Remote(remote) = &configured.keys else {
            return;
        };
        let now_ms = host::now_nanos().map_or(0, |ns| ns / 1_000_000);
        let ready = match remote.try_borrow_mut() {
            Ok(mut r) => r.on_response(token_id, num_headers, body_size, now_ms),
            Err(_) => return,
        };
        resume_all(&configured, root_id, ready);
    }
}

/// Decides parked requests again (a key set landed, or their wait is over), then hands the
/// effective context back to the root.
fn resume_all(configured: &Configured, root_id: u32, ready: Vec<u32>) {
    if ready.is_empty() {
        return;
    }
    for id in ready {
        if !entry::request_alive(id) || host::set_effective_context(id).is_err() {
            continue; // the request is gone
        }
        if let Action::Continue = decide(configured, id, false)
            && let Err(s) = host::resume_request()
        {
            log(
                LogLevel::Warn,
                &format!("cannot resume request {id} ({s:?}); resetting it"),
            );
            let _ = host::close_request();
        }
    }
    let _ = host::set_effective_context(root_id);
}

fn configure() -> Result<Configured, config::ConfigError> {
    let bytes = host::get_buffer(BufferType::PluginConfiguration, MAX_CONFIG_BYTES)
        .map_err(|s| config::ConfigError {
            code: "policy_invalid",
            field: "configuration".to_owned(),
            reason: format!("the host did not return it ({s:?})"),
        })?
        .unwrap_or_default();
    let parsed = config::parse(&bytes)?;
    let env = config::vm_env();
    if let Some(remote) = parsed.settings.remote.clone() {
        // The header lists come from the template; its keys arrive with the fetched key set.
        let template = config::template_policy(&parsed, &env)?;
        let keys = RemoteKeys::new(remote, &parsed.settings, parsed.policy_doc.clone(), env);
        return Ok(Configured::new(
            parsed.settings,
            &template,
            Keys::Remote(Box::new(RefCell::new(keys))),
        ));
    }
    let policy = config::build_policy(&parsed, &env)?;
    for w in policy.warnings() {
        log(
            LogLevel::Warn,
            &format!("policy warning {}: {}", w.code(), w.message()),
        );
    }
    let crypto = FilterCrypto::new(parsed.settings.crypto, parsed.settings.cache_size);
    let keys = Keys::Inline(Verifier::with_crypto(policy.clone(), crypto));
    Ok(Configured::new(parsed.settings, &policy, keys))
}

/// One request.
pub struct Http {
    configured: Option<Rc<Configured>>,
    context_id: u32,
}

impl Http {
    /// A request of a root with this configuration (`None`: it fails closed).
    pub fn new(configured: Option<Rc<Configured>>, context_id: u32) -> Self {
        Self {
            configured,
            context_id,
        }
    }

    /// `proxy_on_request_headers`: the decision.
    pub fn on_request_headers(&self) -> Action {
        let Some(configured) = self.configured.clone() else {
            return fail_closed("the filter has no configuration");
        };
        decide(&configured, self.context_id, true)
    }
}

/// Reads the current request, decides it and answers (deny) or edits its headers (allow).
/// With `may_wait`, a request that needs a key set still being fetched is parked instead.
fn decide(configured: &Configured, context_id: u32, may_wait: bool) -> Action {
    let (mut request, complete) = match read_request() {
        Ok(r) => r,
        Err(why) => return fail_closed(&why),
    };
    let now_ns = host::now_nanos();
    let now = match configured.settings.fixed_now {
        Some(t) => UnixTime(t),
        None => match now_ns {
            Ok(ns) => UnixTime(i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX)),
            Err(s) => return fail_closed(&format!("the clock is unavailable ({s:?})")),
        },
    };
    let now_ms = now_ns.map_or(0, |ns| ns / 1_000_000);
    if let Some(v) = &configured.velocity
        && let Some(client) = velocity::client_address()
        && let Some(count) = v.observe(&client, now_ms, may_wait)
    {
        // Counted once, on arrival; a parked request decided again reads the count.
        request = request.requests_in_window(count);
    }
    let verifier = match &configured.keys {
        Keys::Inline(v) => v.clone(),
        Keys::Remote(remote) => {
            let Ok(mut r) = remote.try_borrow_mut() else {
                return fail_closed("the key source is busy");
            };
            match r.verifier() {
                Some(v) => v.clone(),
                None if may_wait && r.wait_ms() > 0 => {
                    let deadline = now_ms.saturating_add(u64::from(r.wait_ms()));
                    r.park(context_id, deadline);
                    return Action::Pause;
                }
                None => {
                    let err = r.unavailable();
                    stats::bump(stats::DENIED);
                    stats::bump(&stats::denied_name(err.code()));
                    return send(503, None, &err.body());
                }
            }
        }
    };
    let decision = verifier.authorize(&request, now);
    if may_wait
        && let Keys::Remote(remote) = &configured.keys
        && let Some(Error::KeyNotFound { kid: Some(kid), .. }) = decision.error()
        && let Ok(mut r) = remote.try_borrow_mut()
        && r.unknown_kid(now, kid)
    {
        let deadline = now_ms.saturating_add(u64::from(r.wait_ms()));
        r.park(context_id, deadline);
        return Action::Pause;
    }
    audit(configured.settings.audit_log, &decision);
    if decision.audit().scanner == Some("flagged") {
        stats::bump(stats::SCANNER_FLAGGED);
    }
    if decision.is_allowed() {
        stats::bump(stats::ALLOWED);
        match apply_allow(configured, &request, complete, &decision) {
            Ok(()) => Action::Continue,
            Err(why) => fail_closed(&why),
        }
    } else {
        stats::bump(stats::DENIED);
        if let Some(code) = decision.code() {
            stats::bump(&stats::denied_name(code));
        }
        send(
            decision.status(),
            decision.www_authenticate(),
            &decision.body().unwrap_or_default(),
        )
    }
}

/// The request as the core sees it: `:method`, `:path` (with its query) and every regular header.
/// Non-UTF-8 bytes become U+FFFD, so such a token fails as malformed instead of vanishing.
fn read_request() -> Result<(Request, bool), String> {
    let pairs = host::get_pairs(MapType::RequestHeaders)
        .map_err(|s| format!("the request headers are unavailable ({s:?})"))?;
    let mut method = String::new();
    let mut path = String::new();
    let mut headers: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        let name = String::from_utf8_lossy(&name).into_owned();
        let value = String::from_utf8_lossy(&value).into_owned();
        match name.as_str() {
            ":method" => method = value,
            ":path" => path = value,
            n if n.starts_with(':') => {}
            _ => headers.push((name, value)),
        }
    }
    let sent = headers.len();
    let mut request = Request::new(method, path);
    for (n, v) in headers {
        request.push_header(n, v);
    }
    // The core keeps a bounded number of entries: past it, the header list is not a full picture.
    let complete = sent == request.headers().len();
    Ok((request, complete))
}

/// Strips the owned (and, unless forwarded, credential) headers the request carries, then adds
/// the decision's. `request` holds every header entry the host returned, so a name it does not
/// have needs no host call (unless the list was `complete: false`, cut at the core's limit).
fn apply_allow(
    configured: &Configured,
    request: &Request,
    complete: bool,
    decision: &Decision,
) -> Result<(), String> {
    let remove = |name: &str| {
        if complete && request.first_header(name).is_none() {
            return Ok(());
        }
        host::remove_header(MapType::RequestHeaders, name)
            .map_err(|s| format!("cannot remove header {name} ({s:?})"))
    };
    for name in &configured.owned {
        remove(name)?;
    }
    if !configured.settings.forward_authorization {
        for name in &configured.credentials {
            remove(name)?;
        }
    }
    for (name, value) in decision.headers() {
        host::add_header(MapType::RequestHeaders, name, value)
            .map_err(|s| format!("cannot add header {name} ({s:?})"))?;
    }
    Ok(())
}

/// A local reply with a JSON body (and the challenge, when there is one).
fn send(status: u16, challenge: Option<&str>, body: &str) -> Action {
    let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
    if let Some(challenge) = challenge {
        headers.push(("www-authenticate", challenge));
    }
    if let Err(s) = host::send_response(status, &headers, body.as_bytes()) {
        log(
            LogLevel::Error,
            &format!("cannot send the {status} response ({s:?}); resetting the request"),
        );
        let _ = host::close_request();
    }
    Action::Pause
}

/// A host failure: 503 with a JSON body, never an allow.
pub fn fail_closed(why: &str) -> Action {
    stats::bump(stats::INTERNAL_ERROR);
    log(LogLevel::Error, &format!("failing closed: {why}"));
    let error = tokenward_core::Error::Internal {
        reason: why.to_owned(),
    };
    let body = error.body();
    if let Err(s) = host::send_response(
        error.status(),
        &[("content-type", "application/json")],
        body.as_bytes(),
    ) {
        log(
            LogLevel::Error,
            &format!("cannot send the 503 response ({s:?}); resetting the request"),
        );
        let _ = host::close_request();
    }
    Action::Pause
}

fn audit(level: AuditLevel, decision: &Decision) {
    let level = match level {
        AuditLevel::Off => return,
        AuditLevel::Debug => LogLevel::Debug,
        AuditLevel::Info => LogLevel::Info,
        AuditLevel::Warn => LogLevel::Warn,
    };
    log(level, &decision.audit().to_json().to_string());
}
