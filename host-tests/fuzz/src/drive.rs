//! Running an [`Input`] against fresh instances of the filter and checking the properties.

use std::sync::OnceLock;

use serde_json::{Value, json};
use tokenward_host_tests::{Callout, Harness, Outcome, Reply, Shared, Vm, VmOptions};

use crate::feedback;
use crate::input::{
    Advance, Config, Credential, EnvSpec, Fault, FaultStatus, HeaderName, Input, MAX_OPS,
    MAX_START_FAULTS, Method, Op, PathSpec, Place, ReplySpec, Req, Scheme, Source, TokenSpec,
};
use crate::json::{ISSUER, SECRET_ENV, keys, secret};

/// The host functions faults pick from: every `proxy_*` function the harness implements.
pub const HOST_FUNCTIONS: &[&str] = &[
    "proxy_log",
    "proxy_get_current_time_nanoseconds",
    "proxy_set_tick_period_milliseconds",
    "proxy_get_buffer_bytes",
    "proxy_get_header_map_pairs",
    "proxy_set_header_map_pairs",
    "proxy_get_header_map_value",
    "proxy_add_header_map_value",
    "proxy_replace_header_map_value",
    "proxy_remove_header_map_value",
    "proxy_get_property",
    "proxy_set_property",
    "proxy_send_local_response",
    "proxy_set_effective_context",
    "proxy_continue_stream",
    "proxy_close_stream",
    "proxy_done",
    "proxy_http_call",
    "proxy_get_shared_data",
    "proxy_set_shared_data",
    "proxy_define_metric",
    "proxy_increment_metric",
    "proxy_record_metric",
    "proxy_get_metric",
    "proxy_call_foreign_function",
];

/// The failure statuses of the ABI (`OK` excluded: a fault is a failure).
pub const FAULT_STATUSES: &[i32] = &[1, 2, 3, 4, 6, 7, 8, 10, 12];

/// Paths the routes and the scanner of the base configurations know.
pub const PATHS: &[&str] = &[
    "/",
    "/health",
    "/admin",
    "/admin/users",
    "/any",
    "/tools/x",
    "/t/acme/x",
    "/t/other/x",
    "/h",
    "/opt",
    "/.env",
    "/backup/db",
    "/x.bak",
    "/internal/debug",
    "/api",
    "*",
];

/// Header names the policies read or own.
pub const HEADER_NAMES: &[&str] = &[
    "authorization",
    "x-mcp-proxy-auth",
    "cookie",
    "x-user-id",
    "x-user-roles",
    "x-tenant-id",
    "x-jwt-payload",
    "x-trace-id",
    "x-context-id",
    "x-agent-name",
    "user-agent",
    "x-forwarded-for",
    "x-real-ip",
    "host",
    ":authority",
    "content-type",
    "Authorization",
];

/// Client addresses (`source.address`).
pub const SOURCES: &[&str] = &[
    "10.0.0.1:5000",
    "10.0.0.2:1234",
    "[::1]:8080",
    "::1",
    "10.0.0.1",
];

/// At most this many extra headers per request.
const MAX_HEADERS: usize = 24;

/// The filter module, compiled once per process.
pub fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| match Harness::filter() {
        Ok(h) => h,
        Err(e) => panic!("{e:#}"),
    })
}

/// Runs one input; panics when a property fails.
pub fn run(input: Input) {
    let (config, strip) = render(&input.config);
    let options = VmOptions {
        env: env(&input.env),
        config,
        verify_signature: !input.no_foreign_verify,
    };
    let shared = Shared::default();
    let mut d = Driver {
        shared,
        workers: Vec::new(),
        open: Vec::new(),
        strip,
        trace: trace(),
    };
    for _ in 0..if input.two_workers { 2 } else { 1 } {
        let vm = match harness().vm(&d.shared, options.clone()) {
            Ok(vm) => vm,
            Err(e) => panic!("instantiating the filter: {e:#}"),
        };
        d.workers.push(Worker { vm, logs: 0 });
    }
    for f in input.start_faults.iter().take(MAX_START_FAULTS) {
        d.fault(f);
    }
    for w in 0..d.workers.len() {
        let r = d.workers[w].vm.start();
        let accepted = d.check(w, "start", r);
        feedback::started(accepted);
        if d.trace {
            let last = d.workers[w].vm.state().logs.last().cloned();
            eprintln!("worker {w}: configuration accepted: {accepted}; last log: {last:?}");
        }
    }
    for op in input.ops.iter().take(MAX_OPS) {
        if d.trace {
            let text = format!("{op:?}");
            eprintln!("op {}", text.get(..60).unwrap_or(&text));
        }
        d.op(op);
        d.poll();
    }
    // Then an ordinary request on every worker, settled: does the filter still work?
    for w in 0..d.workers.len() {
        d.op(&Op::Request(Box::new(Req::ordinary(w == 1))));
    }
    d.op(&Op::Settle { steps: 7 });
    d.poll();
    while let Some(open) = d.open.pop() {
        let r = d.workers[open.worker].vm.finish(open.id);
        d.check(open.worker, "finish", r);
    }
    for w in &mut d.workers {
        w.logs = feedback::logs(&w.vm, w.logs);
        feedback::calls(&w.vm);
    }
}

/// The configuration bytes, and whether the credential-stripping property applies to it: a JSON
/// document that names no `authorization` header anywhere (a claim or context header could be
/// renamed to it) and does not set `filter.forward_authorization: true`.
fn render(config: &Config) -> (Vec<u8>, bool) {
    match config {
        Config::Base { base, edits } => {
            let mut doc = base.doc();
            for e in edits {
                e.apply(&mut doc);
            }
            let text = doc.to_string();
            let forwards = doc.pointer("/filter/forward_authorization") == Some(&Value::Bool(true));
            let names = text
                .to_ascii_lowercase()
                .replace("forward_authorization", "")
                .contains("authorization");
            (text.into_bytes(), !forwards && !names)
        }
        Config::Raw(bytes) => (bytes.clone(), false),
    }
}

/// `TOKENWARD_FUZZ_TRACE=1`: print each worker's configuration result and each decision to
/// stderr (to see what a corpus or crash input does).
fn trace() -> bool {
    #[allow(clippy::disallowed_methods)]
    std::env::var_os("TOKENWARD_FUZZ_TRACE").is_some_and(|v| v == "1")
}

fn env(spec: &EnvSpec) -> Vec<(String, String)> {
    match spec {
        EnvSpec::Secret => vec![(SECRET_ENV.into(), secret().into())],
        EnvSpec::Empty => Vec::new(),
        EnvSpec::DevWeak => vec![
            ("TOKENWARD_ENV".into(), "dev".into()),
            (SECRET_ENV.into(), "changeme".into()),
        ],
        EnvSpec::Raw(pairs) => pairs.clone(),
    }
}

struct Worker {
    vm: Vm,
    /// Log lines already given to [`feedback::logs`].
    logs: usize,
}

/// A request not ended yet.
struct Open {
    worker: usize,
    id: u32,
    /// Decided and checked.
    decided: bool,
    keep_open: bool,
    /// Every request header name was lowercase.
    lowercase: bool,
}

struct Driver {
    shared: Shared,
    workers: Vec<Worker>,
    open: Vec<Open>,
    strip: bool,
    trace: bool,
}

impl Driver {
    /// Property 1: a call into the module returned an error, which the harness only does on a
    /// trap (it remembers the trap, and every later call fails too).
    fn check<T, E: std::fmt::Display>(&self, worker: usize, what: &str, r: Result<T, E>) -> T {
        match r {
            Ok(v) => v,
            Err(e) => {
                let vm = &self.workers[worker].vm;
                let logs: Vec<_> = vm.state().logs.iter().rev().take(6).rev().collect();
                panic!(
                    "the filter trapped in {what} (worker {worker}): {e:#}\n\
                     faults: {:?}\nlast logs: {logs:#?}",
                    vm.state().faults,
                );
            }
        }
    }

    fn worker(&self, second: bool) -> usize {
        if second && self.workers.len() > 1 {
            1
        } else {
            0
        }
    }

    fn fault(&mut self, f: &Fault) {
        let name = HOST_FUNCTIONS[usize::from(f.function) % HOST_FUNCTIONS.len()];
        let status = match f.status {
            FaultStatus::Known(i) => FAULT_STATUSES[usize::from(i) % FAULT_STATUSES.len()],
            FaultStatus::Other(s) => i32::from_ne_bytes(s.max(1).to_ne_bytes()),
        };
        let w = self.worker(f.second);
        self.workers[w].vm.fault(name, status);
    }

    fn advance(&self, a: &Advance) {
        match a {
            Advance::Ms(ms) => self.shared.advance_ms(u64::from(*ms)),
            Advance::Secs(s) => self.shared.advance_ms(u64::from(*s) * 1000),
            Advance::Back(s) => self
                .shared
                .set_now(self.shared.now().saturating_sub(u64::from(*s))),
        }
    }

    fn op(&mut self, op: &Op) {
        match op {
            Op::Request(req) => self.request(req),
            Op::Tick { second, advance } => {
                self.advance(advance);
                let w = self.worker(*second);
                let r = self.workers[w].vm.tick();
                self.check(w, "tick", r);
            }
            Op::Deliver { second, reply } => {
                let w = self.worker(*second);
                self.deliver(w, reply);
            }
            Op::Settle { steps } => {
                for _ in 0..=(steps % 16) {
                    self.shared.advance_ms(250);
                    for w in 0..self.workers.len() {
                        let r = self.workers[w].vm.tick();
                        self.check(w, "tick", r);
                        self.deliver(w, &ReplySpec::Auto);
                    }
                }
            }
            Op::Fault(f) => self.fault(f),
            Op::ClearFaults { second } => {
                let w = self.worker(*second);
                self.workers[w].vm.clear_faults();
            }
            Op::Finish { which } => {
                if !self.open.is_empty() {
                    let open = self.open.remove(usize::from(*which) % self.open.len());
                    let r = self.workers[open.worker].vm.finish(open.id);
                    self.check(open.worker, "finish", r);
                }
            }
            Op::Clock(a) => self.advance(a),
        }
    }

    /// Answers worker `w`'s pending callouts with `reply`.
    fn deliver(&mut self, w: usize, reply: &ReplySpec) {
        let reply = reply.clone();
        self.shared.respond_with(move |c| answer(&reply, c));
        let r = self.workers[w].vm.deliver_callouts();
        self.check(w, "deliver_callouts", r);
    }

    fn request(&mut self, req: &Req) {
        let now = i64::try_from(self.shared.now()).unwrap_or(i64::MAX);
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let method: Option<Vec<u8>> = match &req.method {
            Method::Get => Some(b"GET".to_vec()),
            Method::Post => Some(b"POST".to_vec()),
            Method::Options => Some(b"OPTIONS".to_vec()),
            Method::Delete => Some(b"DELETE".to_vec()),
            Method::Raw(m) => Some(m.clone()),
            Method::Missing => None,
        };
        let mut path: Option<Vec<u8>> = match &req.path {
            PathSpec::Known(i, query) => {
                let mut p = PATHS[usize::from(*i) % PATHS.len()].as_bytes().to_vec();
                if let Some(q) = query {
                    p.push(b'?');
                    p.extend_from_slice(q.as_bytes());
                }
                Some(p)
            }
            PathSpec::Raw(p) => Some(p.clone()),
            PathSpec::Missing => None,
        };
        let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        if let Some(c) = &req.credential {
            credential(c, now, &mut path, &mut headers);
        }
        for h in req.headers.iter().take(MAX_HEADERS) {
            let name = match &h.name {
                HeaderName::Known(i) => HEADER_NAMES[usize::from(*i) % HEADER_NAMES.len()]
                    .as_bytes()
                    .to_vec(),
                HeaderName::Raw(n) => n.clone(),
            };
            headers.push((name, h.value.clone()));
        }
        if let Some(m) = method {
            pairs.push((b":method".to_vec(), m));
        }
        if let Some(p) = path {
            pairs.push((b":path".to_vec(), p));
        }
        pairs.push((b":authority".to_vec(), b"api.example.com".to_vec()));
        let lowercase = headers
            .iter()
            .all(|(n, _)| !n.iter().any(u8::is_ascii_uppercase));
        pairs.extend(headers);
        let worker = self.worker(req.second);
        let source = match &req.source {
            Source::Same => None,
            Source::Known(i) => Some(SOURCES[usize::from(*i) % SOURCES.len()].as_bytes().to_vec()),
            Source::Raw(b) => Some(b.clone()),
        };
        let vm = &mut self.workers[worker].vm;
        if let Some(address) = source {
            let key = b"source\0address".to_vec();
            vm.state_mut().properties.insert(key, address);
        }
        let r = vm.send(pairs);
        let id = self.check(worker, "send", r);
        self.open.push(Open {
            worker,
            id,
            decided: false,
            keep_open: req.keep_open,
            lowercase,
        });
    }

    /// Checks the requests decided since the last poll, and ends those not kept open.
    fn poll(&mut self) {
        let mut i = 0;
        while let Some(open) = self.open.get_mut(i) {
            let worker = &self.workers[open.worker];
            let outcome = worker.vm.outcome(open.id);
            if open.decided || matches!(outcome, Outcome::Paused) {
                i += 1;
                continue;
            }
            open.decided = true;
            feedback::outcome(&outcome);
            if self.trace {
                eprintln!(
                    "request {}: {:?} {:?}",
                    open.id,
                    outcome.status(),
                    outcome.code()
                );
            }
            // Property 2: an allowed request never takes the client's `authorization` upstream.
            if self.strip
                && open.lowercase
                && let Outcome::Continue(upstream) = &outcome
                && upstream
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case(b"authorization"))
            {
                panic!(
                    "request {} was allowed with its authorization header: {outcome:?}\n\
                     faults: {:?}",
                    open.id,
                    worker.vm.state().faults
                );
            }
            if open.keep_open {
                i += 1;
                continue;
            }
            let open = self.open.remove(i);
            let r = self.workers[open.worker].vm.finish(open.id);
            self.check(open.worker, "finish", r);
        }
        for w in &mut self.workers {
            w.logs = feedback::logs(&w.vm, w.logs);
        }
    }
}

/// Puts the credential where `c` says.
fn credential(
    c: &Credential,
    now: i64,
    path: &mut Option<Vec<u8>>,
    headers: &mut Vec<(Vec<u8>, Vec<u8>)>,
) {
    let token = match &c.token {
        TokenSpec::Built(b) => b.mint(now).into_bytes(),
        TokenSpec::Raw(bytes) => bytes.clone(),
        TokenSpec::Flipped { built, at, xor } => {
            let mut t = built.mint(now).into_bytes();
            let len = t.len();
            if let Some(b) = t.get_mut(usize::from(*at) % len.max(1)) {
                *b ^= (*xor).max(1);
            }
            t
        }
    };
    let scheme: &[u8] = match &c.scheme {
        Scheme::Bearer => b"Bearer ",
        Scheme::Lower => b"bearer ",
        Scheme::Bare => b"",
        Scheme::DoubleSpace => b"Bearer  ",
        Scheme::Basic => b"Basic ",
        Scheme::Raw(s) => s.as_bytes(),
    };
    let header = |name: &str| (name.as_bytes().to_vec(), [scheme, &token].concat());
    match &c.place {
        Place::Authorization => headers.push(header("authorization")),
        Place::McpProxy => headers.push(header("x-mcp-proxy-auth")),
        Place::Cookie => headers.push((b"cookie".to_vec(), [b"auth_token=", &token[..]].concat())),
        Place::Query => {
            let p = path.get_or_insert_with(|| b"/".to_vec());
            p.extend_from_slice(if p.contains(&b'?') { b"&" } else { b"?" });
            p.extend_from_slice(b"access_token=");
            p.extend_from_slice(&token);
        }
        Place::Twice(second) => {
            headers.push(header("authorization"));
            headers.push((b"authorization".to_vec(), second.clone()));
        }
    }
}

/// The answer to callout `c`.
fn answer(reply: &ReplySpec, c: &Callout) -> Reply {
    match reply {
        ReplySpec::Auto => {
            let path = c.header(":path").unwrap_or("");
            if path.contains("well-known") {
                Reply::json(
                    json!({ "issuer": ISSUER, "jwks_uri": format!("{ISSUER}/jwks") }).to_string(),
                )
            } else {
                Reply::json(keys().to_string())
            }
        }
        ReplySpec::Keys(edits) => {
            let mut doc = keys().clone();
            for e in edits {
                e.apply(&mut doc);
            }
            Reply::json(doc.to_string())
        }
        ReplySpec::Raw {
            status,
            headers,
            body,
        } => Reply::Response {
            status: *status,
            headers: headers.clone(),
            body: body.clone(),
        },
        ReplySpec::Json(v) => Reply::json(v.0.to_string()),
        ReplySpec::Timeout => Reply::Timeout,
    }
}
