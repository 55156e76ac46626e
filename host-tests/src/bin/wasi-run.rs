//! `wasi-run <module.wasm> [args...]`: runs a WASI preview1 command, such as the core's
//! `vectors` test built for `wasm32-wasip1`, under this crate's wasmtime, and exits with the
//! guest's exit code.
//!
//! The guest gets the args after the module (so libtest filters work), `RUST_TEST_NOCAPTURE=1`,
//! the host's stdio, and read-only preopens of the workspace `vectors/` directory and, when set, of
//! `$TOKENWARD_VECTORS_DIR` (forwarded as an absolute path). Each directory is preopened at its
//! own host path: WASI resolves an absolute path by prefix against the preopens, so the paths the
//! test builds natively work unchanged. A trap (a panicking test aborts on wasm32-wasip1) exits
//! 134, as the wasmtime CLI does.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use wasmtime::{Config, Engine, Linker, Module, OptLevel, Store};
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::{DirPerms, FilePerms, I32Exit, WasiCtxBuilder};

/// What a trap exits with: 128 + SIGABRT, like `wasmtime run`.
const TRAP_EXIT: u8 = 134;
const EXTRA_VECTORS_ENV: &str = "TOKENWARD_VECTORS_DIR";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wasi-run: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let args = std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|a| anyhow::anyhow!("argument {a:?} is not UTF-8"))
        })
        .collect::<Result<Vec<String>>>()?;
    let Some(module_path) = args.first() else {
        bail!("usage: wasi-run <module.wasm> [args...]");
    };

    let mut wasi = WasiCtxBuilder::new();
    // argv[0] is the module, as for a native test binary.
    wasi.inherit_stdio().args(&args);
    // A failing test panics, which aborts on wasm32-wasip1 before libtest prints what it
    // captured: don't capture, so the failure's message reaches stderr.
    wasi.env("RUST_TEST_NOCAPTURE", "1");
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("host-tests has no parent directory")?
        .join("vectors");
    preopen_read_only(&mut wasi, &vectors)?;
    if let Some(extra) = std::env::var_os(EXTRA_VECTORS_ENV) {
        let extra = std::path::absolute(PathBuf::from(extra))
            .with_context(|| format!("{EXTRA_VECTORS_ENV} cannot be made absolute"))?;
        let guest = preopen_read_only(&mut wasi, &extra)?;
        wasi.env(EXTRA_VECTORS_ENV, guest);
    }

    // Compiling the module takes most of the run (a debug test module's code is ~4.7 MB) and
    // the guest's own work well under a second, so don't optimise it.
    let mut config = Config::new();
    config.cranelift_opt_level(OptLevel::None);
    let engine = Engine::new(&config)?;
    let module = Module::from_file(&engine, module_path)
        .with_context(|| format!("cannot load {module_path}"))?;
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
    let mut store = Store::new(&engine, wasi.build_p1());
    let instance = linker.instantiate(&mut store, &module)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    match start.call(&mut store, ()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            // An exit code that does not fit a byte still means failure, never 0 by wrapping.
            Some(I32Exit(code)) => {
                Ok(u8::try_from(*code).map_or(ExitCode::FAILURE, ExitCode::from))
            }
            None => {
                eprintln!("wasi-run: {module_path} trapped: {e:#}");
                Ok(ExitCode::from(TRAP_EXIT))
            }
        },
    }
}

/// Preopens `host` read-only at the same path in the guest, and returns that guest path.
fn preopen_read_only(wasi: &mut WasiCtxBuilder, host: &Path) -> Result<String> {
    let guest = host
        .to_str()
        .with_context(|| format!("{} is not UTF-8", host.display()))?
        .to_owned();
    wasi.preopened_dir(host, &guest, DirPerms::READ, FilePerms::READ)
        .with_context(|| format!("cannot preopen {guest}"))?;
    Ok(guest)
}
