//! Loading the module and calling into it: [`Harness`] compiles once, [`Vm`] is one instance
//! (one Envoy worker VM) with its root context, driven by the test step by step.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use wasmtime::{
    Config, Engine, ExternType, Instance, Linker, Module, Store, Val, WasmParams, WasmResults,
};

use crate::abi::{self, Pairs, status};
use crate::state::{HostState, LocalResponse, Reply, Shared};

/// The root context id of every instance.
pub const ROOT_ID: u32 = 1;

/// Fuel given to each call into the module (a runaway loop traps instead of hanging).
const FUEL_PER_CALL: u64 = 50_000_000_000;

/// The release filter, relative to the workspace root.
pub const FILTER_WASM: &str = "target/wasm32-wasip1/release/tokenward_proxy_filter.opt.wasm";

/// The compiled module, its engine and the host functions.
pub struct Harness {
    engine: Engine,
    module: Module,
    linker: Linker<HostState>,
}

/// The filter's path: `$TOKENWARD_FILTER_WASM`, else [`FILTER_WASM`] under the workspace.
pub fn filter_path() -> PathBuf {
    #[allow(clippy::disallowed_methods)]
    match std::env::var_os("TOKENWARD_FILTER_WASM") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(FILTER_WASM),
    }
}

impl Harness {
    /// Loads the release filter ([`filter_path`]).
    ///
    /// # Errors
    /// When the file is missing (the message says to run `proxy-filter/scripts/build`) or does
    /// not compile.
    pub fn filter() -> anyhow::Result<Self> {
        let path = filter_path();
        if !path.is_file() {
            bail!(
                "the filter module {} does not exist: run `proxy-filter/scripts/build` first \
                 (or set TOKENWARD_FILTER_WASM to a built .wasm)",
                path.display()
            );
        }
        Self::load(&path)
    }

    /// Compiles the module at `path` and links the host functions.
    ///
    /// # Errors
    /// When the file cannot be read or compiled.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, &bytes)?;
        let mut linker = Linker::new(&engine);
        crate::imports::add_all(&mut linker)?;
        // Imports the host does not implement answer UNIMPLEMENTED (ENOSYS for WASI).
        for import in module.imports() {
            let ExternType::Func(ty) = import.ty() else {
                continue;
            };
            let code = if import.module() == "env" {
                status::UNIMPLEMENTED
            } else {
                52
            };
            let name = import.name().to_owned();
            // Errors only for names already defined above: those keep their real definition.
            let _ = linker.func_new(
                import.module(),
                import.name(),
                ty,
                move |mut c, _, results| {
                    let _ = c.data_mut().enter(&name);
                    if let Some(r) = results.first_mut() {
                        *r = Val::I32(code);
                    }
                    Ok(())
                },
            );
        }
        Ok(Self {
            engine,
            module,
            linker,
        })
    }

    /// A new instance in `shared`, not started yet (see [`Vm::start`]).
    ///
    /// # Errors
    /// When instantiation fails.
    pub fn vm(&self, shared: &Shared, options: VmOptions) -> anyhow::Result<Vm> {
        let mut state = HostState::new(shared.clone());
        state.env = options.env;
        state.plugin_config = options.config;
        state.verify_signature = options.verify_signature;
        let mut store = Store::new(&self.engine, state);
        store.set_fuel(FUEL_PER_CALL)?;
        let instance = self.linker.instantiate(&mut store, &self.module)?;
        Ok(Vm {
            store,
            instance,
            next_id: ROOT_ID + 1,
            trap: None,
            fuel: 0,
        })
    }
}

/// How to make an instance.
#[derive(Clone, Debug)]
pub struct VmOptions {
    /// The VM environment.
    pub env: Vec<(String, String)>,
    /// The plugin configuration.
    pub config: Vec<u8>,
    /// Whether the foreign function `verify_signature` exists.
    pub verify_signature: bool,
}

impl VmOptions {
    /// A configuration with the foreign function present and no environment.
    pub fn config(config: impl Into<Vec<u8>>) -> Self {
        Self {
            env: Vec::new(),
            config: config.into(),
            verify_signature: true,
        }
    }
}

/// Where a request stands.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Passed upstream with these headers.
    Continue(Pairs),
    /// Answered locally.
    Local(LocalResponse),
    /// Paused, waiting for the module.
    Paused,
}

impl Outcome {
    /// The HTTP status the client sees (200 upstream), `None` while paused.
    pub fn status(&self) -> Option<u32> {
        match self {
            Self::Continue(_) => Some(200),
            Self::Local(r) => Some(r.status),
            Self::Paused => None,
        }
    }
    /// The `error` member of a local JSON body.
    pub fn code(&self) -> Option<String> {
        let Self::Local(r) = self else { return None };
        let body: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
        body.get("error")?.as_str().map(str::to_owned)
    }
    /// Every value of header `name` (upstream headers, or the local response's).
    pub fn header(&self, name: &str) -> Vec<String> {
        let pairs = match self {
            Self::Continue(p) => p,
            Self::Local(r) => &r.headers,
            Self::Paused => return Vec::new(),
        };
        pairs
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }
}

/// One module instance (one worker VM) with its root context.
pub struct Vm {
    store: Store<HostState>,
    instance: Instance,
    next_id: u32,
    trap: Option<String>,
    fuel: u64,
}

impl Vm {
    /// Calls export `name` if the module has it (`Ok(None)` otherwise), counting fuel. A trap
    /// is remembered ([`Vm::trap`]) and every later call fails.
    fn call<P: WasmParams, R: WasmResults>(
        &mut self,
        name: &str,
        params: P,
    ) -> anyhow::Result<Option<R>> {
        if let Some(t) = &self.trap {
            bail!("the instance trapped earlier: {t}");
        }
        let Some(func) = self.instance.get_func(&mut self.store, name) else {
            return Ok(None);
        };
        let func = func.typed::<P, R>(&self.store)?;
        self.store.set_fuel(FUEL_PER_CALL)?;
        let result = func.call(&mut self.store, params);
        let left = self.store.get_fuel()?;
        self.fuel = self.fuel.saturating_add(FUEL_PER_CALL.saturating_sub(left));
        match result {
            Ok(r) => Ok(Some(r)),
            Err(e) => {
                let msg = format!("{name}: {e:?}");
                self.trap = Some(msg.clone());
                bail!("trap in {msg}")
            }
        }
    }

    /// `_initialize` (or `_start`), the root context, `proxy_on_vm_start` and
    /// `proxy_on_configure`. Returns whether both callbacks accepted.
    ///
    /// # Errors
    /// On a trap.
    pub fn start(&mut self) -> anyhow::Result<bool> {
        if self.call::<(), ()>("_initialize", ())?.is_none() {
            self.call::<(), ()>("_start", ())?;
        }
        self.store.data_mut().effective = ROOT_ID;
        self.call::<(i32, i32), ()>("proxy_on_context_create", (ROOT_ID as i32, 0))?;
        let vm_len = self.store.data().vm_config.len() as i32;
        let vm_ok = self.call::<(i32, i32), i32>("proxy_on_vm_start", (ROOT_ID as i32, vm_len))?;
        let cfg_len = self.store.data().plugin_config.len() as i32;
        let cfg_ok =
            self.call::<(i32, i32), i32>("proxy_on_configure", (ROOT_ID as i32, cfg_len))?;
        Ok(vm_ok.unwrap_or(1) != 0 && cfg_ok.unwrap_or(0) != 0)
    }

    /// Starts a request with these headers (`:method` and `:path` included) and calls
    /// `proxy_on_request_headers` (end of stream). Returns its context id.
    ///
    /// # Errors
    /// On a trap.
    pub fn send(&mut self, headers: Pairs) -> anyhow::Result<u32> {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(ROOT_ID + 1);
        let n = headers.len() as i32;
        let state = self.store.data_mut();
        state.streams.insert(
            id,
            crate::state::Stream {
                request_headers: headers,
                ..Default::default()
            },
        );
        state.effective = id;
        self.call::<(i32, i32), ()>("proxy_on_context_create", (id as i32, ROOT_ID as i32))?;
        let state = self.store.data_mut();
        state.effective = id;
        let action =
            self.call::<(i32, i32, i32), i32>("proxy_on_request_headers", (id as i32, n, 1))?;
        if action == Some(0)
            && let Some(s) = self.store.data_mut().streams.get_mut(&id)
        {
            s.resumed = true;
        }
        Ok(id)
    }

    /// Where request `id` stands.
    pub fn outcome(&self, id: u32) -> Outcome {
        match self.store.data().streams.get(&id) {
            Some(s) => match (&s.local_response, s.resumed) {
                (Some(r), _) => Outcome::Local(r.clone()),
                (None, true) => Outcome::Continue(s.request_headers.clone()),
                (None, false) => Outcome::Paused,
            },
            None => Outcome::Paused,
        }
    }

    /// Whether the module reset request `id` (`proxy_close_stream`): the client sees the stream
    /// end without a response, and nothing reaches upstream.
    pub fn closed(&self, id: u32) -> bool {
        self.store.data().streams.get(&id).is_some_and(|s| s.closed)
    }

    /// Ends request `id`: `proxy_on_done`, `proxy_on_log`, `proxy_on_delete`.
    ///
    /// # Errors
    /// On a trap.
    pub fn finish(&mut self, id: u32) -> anyhow::Result<()> {
        self.store.data_mut().effective = id;
        self.call::<i32, i32>("proxy_on_done", id as i32)?;
        self.call::<i32, ()>("proxy_on_log", id as i32)?;
        self.call::<i32, ()>("proxy_on_delete", id as i32)?;
        self.store.data_mut().streams.remove(&id);
        Ok(())
    }

    /// [`Vm::send`] a GET with `headers`, and [`Vm::finish`] it unless it paused.
    ///
    /// # Errors
    /// On a trap.
    pub fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> anyhow::Result<(u32, Outcome)> {
        let mut pairs: Pairs = vec![
            (b":method".to_vec(), b"GET".to_vec()),
            (b":path".to_vec(), path.as_bytes().to_vec()),
            (b":authority".to_vec(), b"api.example.com".to_vec()),
        ];
        pairs.extend(
            headers
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec())),
        );
        let id = self.send(pairs)?;
        let outcome = self.outcome(id);
        if !matches!(outcome, Outcome::Paused) {
            self.finish(id)?;
        }
        Ok((id, outcome))
    }

    /// `proxy_on_tick` on the root context.
    ///
    /// # Errors
    /// On a trap.
    pub fn tick(&mut self) -> anyhow::Result<()> {
        self.store.data_mut().effective = ROOT_ID;
        self.call::<i32, ()>("proxy_on_tick", ROOT_ID as i32)?;
        Ok(())
    }

    /// Answers every pending callout of this instance with the world's responder (none: a
    /// timeout) through `proxy_on_http_call_response`. Returns how many were answered.
    ///
    /// # Errors
    /// On a trap.
    pub fn deliver_callouts(&mut self) -> anyhow::Result<usize> {
        let pending = std::mem::take(&mut self.store.data_mut().pending);
        let count = pending.len();
        for (token, callout) in pending {
            let responder = self.store.data().shared.lock().responder.clone();
            let reply = responder.map_or(Reply::Timeout, |r| r(&callout));
            let (headers, body) = match reply {
                Reply::Timeout => (Vec::new(), Vec::new()),
                Reply::Response {
                    status,
                    headers,
                    body,
                } => {
                    let mut pairs: Pairs =
                        vec![(b":status".to_vec(), status.to_string().into_bytes())];
                    pairs.extend(
                        headers
                            .into_iter()
                            .map(|(k, v)| (k.into_bytes(), v.into_bytes())),
                    );
                    (pairs, body)
                }
            };
            let (nh, nb) = (headers.len() as i32, body.len() as i32);
            let state = self.store.data_mut();
            state.reply = Some((headers, body));
            state.effective = ROOT_ID;
            let r = self.call::<(i32, i32, i32, i32, i32), ()>(
                "proxy_on_http_call_response",
                (ROOT_ID as i32, token as i32, nh, nb, 0),
            );
            self.store.data_mut().reply = None;
            r?;
        }
        Ok(count)
    }

    /// The host state (logs, calls, metrics, streams).
    pub fn state(&self) -> &HostState {
        self.store.data()
    }

    /// The host state, to set faults or properties.
    pub fn state_mut(&mut self) -> &mut HostState {
        self.store.data_mut()
    }

    /// Makes host function `name` return `status` until cleared.
    pub fn fault(&mut self, name: &str, status: i32) {
        self.store.data_mut().faults.insert(name.to_owned(), status);
    }

    /// Clears every fault.
    pub fn clear_faults(&mut self) {
        self.store.data_mut().faults.clear();
    }

    /// The value of metric `name` (0 when undefined).
    pub fn metric(&self, name: &str) -> i64 {
        self.store
            .data()
            .metrics
            .iter()
            .find(|m| m.name == name)
            .map_or(0, |m| m.value)
    }

    /// The trap that stopped this instance, if any.
    pub fn trap(&self) -> Option<&str> {
        self.trap.as_deref()
    }

    /// Fuel (wasm instructions, roughly) spent in the module so far.
    pub fn fuel(&self) -> u64 {
        self.fuel
    }

    /// The size of the module's linear memory, in bytes.
    pub fn memory_bytes(&mut self) -> usize {
        match self.instance.get_memory(&mut self.store, "memory") {
            Some(m) => m.data_size(&self.store),
            None => 0,
        }
    }
}

/// Keeps `abi` in the docs' reach (the wire helpers tests use).
pub use abi::{decode_pairs, encode_pairs};
