//! What the host knows: the world several instances share (clock, shared data, callout
//! responder) and each instance's own state (configuration, streams, faults, metrics, logs).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::abi::Pairs;

/// An HTTP callout the module made (`proxy_http_call`).
#[derive(Clone, Debug)]
pub struct Callout {
    /// The cluster (upstream) name.
    pub upstream: String,
    /// Request headers, `:path` and `:authority` included.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The timeout the module asked for.
    pub timeout_ms: u32,
}

impl Callout {
    /// The value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the test answers a callout.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A response: status, extra headers, body.
    Response {
        /// HTTP status.
        status: u16,
        /// Headers besides `:status`.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// No response: timeout or connection failure (`num_headers == 0`).
    Timeout,
}

impl Reply {
    /// A 200 with a JSON body.
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Self::Response {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }
}

/// Answers callouts; shared by every instance of a [`World`].
pub type Responder = Arc<dyn Fn(&Callout) -> Reply + Send + Sync>;

/// State shared by every instance: Envoy's process-wide clock and shared data.
pub struct World {
    /// Wall clock, in ns since the Unix epoch (`proxy_get_current_time_nanoseconds`).
    pub now_ns: u64,
    /// Shared data: key -> (value, CAS).
    pub data: BTreeMap<String, (Vec<u8>, u32)>,
    /// Last CAS handed out.
    pub cas: u32,
    /// Answers callouts (none: every callout times out).
    pub responder: Option<Responder>,
    /// Every callout any instance dispatched, in order.
    pub callouts: Vec<Callout>,
}

/// A handle on the [`World`]; clones share it.
#[derive(Clone)]
pub struct Shared(Arc<Mutex<World>>);

impl Default for Shared {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(World {
            now_ns: 1_767_225_600 * 1_000_000_000,
            data: BTreeMap::new(),
            cas: 0,
            responder: None,
            callouts: Vec::new(),
        })))
    }
}

impl Shared {
    /// Locks the world.
    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
    /// Sets the clock to `secs` since the epoch.
    pub fn set_now(&self, secs: u64) {
        self.lock().now_ns = secs.saturating_mul(1_000_000_000);
    }
    /// Moves the clock forward by `ms`.
    pub fn advance_ms(&self, ms: u64) {
        let mut w = self.lock();
        w.now_ns = w.now_ns.saturating_add(ms.saturating_mul(1_000_000));
    }
    /// The clock, in seconds.
    pub fn now(&self) -> u64 {
        self.lock().now_ns / 1_000_000_000
    }
    /// Installs the callout responder.
    pub fn respond_with(&self, f: impl Fn(&Callout) -> Reply + Send + Sync + 'static) {
        self.lock().responder = Some(Arc::new(f));
    }
    /// How many callouts were dispatched so far (all instances).
    pub fn callout_count(&self) -> usize {
        self.lock().callouts.len()
    }
}

/// One HTTP stream (request) of an instance.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    /// The request header map as the module leaves it.
    pub request_headers: Pairs,
    /// The local response, if the module sent one.
    pub local_response: Option<LocalResponse>,
    /// Whether the module resumed the stream (`proxy_continue_stream`).
    pub resumed: bool,
    /// Whether the module reset the stream (`proxy_close_stream`).
    pub closed: bool,
}

/// A `proxy_send_local_response`.
#[derive(Clone, Debug)]
pub struct LocalResponse {
    /// HTTP status.
    pub status: u32,
    /// Headers.
    pub headers: Pairs,
    /// Body.
    pub body: Vec<u8>,
    /// Details string.
    pub details: String,
}

/// A metric defined by the module.
#[derive(Clone, Debug)]
pub struct Metric {
    /// Name.
    pub name: String,
    /// Kind (0 counter, 1 gauge, 2 histogram).
    pub kind: i32,
    /// Value.
    pub value: i64,
}

/// Everything one instance's host functions read and write.
pub struct HostState {
    /// The shared world.
    pub shared: Shared,
    /// The VM environment (WASI `environ_get`).
    pub env: Vec<(String, String)>,
    /// `vm_config.configuration`.
    pub vm_config: Vec<u8>,
    /// The plugin `configuration`.
    pub plugin_config: Vec<u8>,
    /// Whether the foreign function `verify_signature` exists.
    pub verify_signature: bool,
    /// Host functions forced to return a status: name -> status.
    pub faults: BTreeMap<String, i32>,
    /// Calls made per host function (also those that faulted).
    pub calls: BTreeMap<String, u64>,
    /// Streams by context id.
    pub streams: BTreeMap<u32, Stream>,
    /// The context later calls act on.
    pub effective: u32,
    /// The tick period the module asked for (0: none).
    pub tick_period_ms: u32,
    /// Log lines (level, message), WASI stdout/stderr included as level 2.
    pub logs: Vec<(i32, String)>,
    /// Metrics, the id is the index.
    pub metrics: Vec<Metric>,
    /// Callouts dispatched by this instance and not answered yet: (token, callout).
    pub pending: Vec<(u32, Callout)>,
    /// The last callout token handed out.
    pub last_token: u32,
    /// The callout response being delivered (`proxy_on_http_call_response`).
    pub reply: Option<(Pairs, Vec<u8>)>,
    /// Seed of the deterministic WASI `random_get`.
    pub random: u64,
    /// `verify_signature` calls answered.
    pub foreign_calls: u64,
    /// Properties (`proxy_get_property`), by NUL-separated path.
    pub properties: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl HostState {
    /// A fresh state in `shared`.
    pub fn new(shared: Shared) -> Self {
        Self {
            shared,
            env: Vec::new(),
            vm_config: Vec::new(),
            plugin_config: Vec::new(),
            verify_signature: true,
            faults: BTreeMap::new(),
            calls: BTreeMap::new(),
            streams: BTreeMap::new(),
            effective: 0,
            tick_period_ms: 0,
            logs: Vec::new(),
            metrics: Vec::new(),
            pending: Vec::new(),
            last_token: 0,
            reply: None,
            random: 0x9e37_79b9_7f4a_7c15,
            foreign_calls: 0,
            properties: BTreeMap::new(),
        }
    }

    /// Counts a call to host function `name`; returns the status to fail it with, if faulted.
    pub fn enter(&mut self, name: &str) -> Option<i32> {
        *self.calls.entry(name.to_owned()).or_default() += 1;
        self.faults.get(name).copied()
    }

    /// The stream of the effective context.
    pub fn stream(&mut self) -> Option<&mut Stream> {
        self.streams.get_mut(&self.effective)
    }
}
