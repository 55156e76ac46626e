//! The core's own `vectors` test, built for `wasm32-wasip1`, run by `wasi-run` under this crate's
//! wasmtime. `$TOKENWARD_CORE_VECTORS_WASM` names the module; `host-tests/scripts/test` builds it
//! with `cargo test -p tokenward-core --test vectors --target wasm32-wasip1 --no-run`.

// A test: panicking is how it fails, and it reads its own process environment.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn module() -> PathBuf {
    let Some(path) = std::env::var_os("TOKENWARD_CORE_VECTORS_WASM") else {
        panic!(
            "TOKENWARD_CORE_VECTORS_WASM is not set: build the module with `cargo test -p \
             tokenward-core --test vectors --target wasm32-wasip1 --no-run` and point the \
             variable at the .wasm it prints (host-tests/scripts/test does both)"
        );
    };
    PathBuf::from(path)
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

/// Runs the module through `wasi-run` with `args`, and `$TOKENWARD_VECTORS_DIR` set to `extra`
/// (or inherited).
fn wasi_run(args: &[&str], extra: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasi-run"));
    cmd.arg(module()).args(args);
    if let Some(dir) = extra {
        cmd.env("TOKENWARD_VECTORS_DIR", dir);
    }
    let out = cmd.output().unwrap();
    eprintln!(
        "wasi-run {args:?}: {}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// What the core test's tally must say for `vectors/`, counted here from the files themselves.
fn expected_report() -> String {
    let (mut cases, mut policy_files) = (0, 0);
    for entry in fs::read_dir(vectors_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") || !path.is_file() {
            continue;
        }
        let file: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        if file.get("expect_policy").is_some() {
            policy_files += 1;
        } else {
            cases += file["cases"].as_array().unwrap().len();
        }
    }
    assert!(cases > 0, "no cases counted in vectors/");
    format!("vectors/: {cases} token case(s), {policy_files} policy file(s), 0 failure(s)")
}

#[test]
fn core_vectors_pass_in_wasm() {
    // No `--nocapture`: wasi-run sets RUST_TEST_NOCAPTURE, so the tally reaches stderr.
    let out = wasi_run(&[], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the wasm vectors test failed");
    for line in [
        "test workspace_vectors ... ok",
        "test extra_vectors_dir ... ok",
        "test result: ok. 2 passed; 0 failed",
    ] {
        assert!(stdout.contains(line), "stdout lacks {line:?}");
    }
    // Every case in vectors/ ran, inside the wasm.
    let report = expected_report();
    assert!(stderr.contains(&report), "stderr lacks {report:?}");
}

#[test]
fn a_wrong_vector_fails_the_wasm_run() {
    // One real case with its expected outcome flipped, alone in an extra vectors directory.
    let mut file: Value =
        serde_json::from_str(&fs::read_to_string(vectors_dir().join("hs256.json")).unwrap())
            .unwrap();
    let case = &mut file["cases"][0];
    let name = case["name"].as_str().unwrap().to_owned();
    let valid = case["expect"]["valid"].as_bool().unwrap();
    case["expect"] = serde_json::json!({ "valid": !valid });
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("core-wasm-wrong-vector");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("flipped.json"), file.to_string()).unwrap();

    // The filter is passed through: only the extra directory's test runs.
    let out = wasi_run(&["extra_vectors_dir"], Some(&dir));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a flipped vector passed in wasm");
    assert!(
        stdout.contains("running 1 test"),
        "the libtest filter was not applied"
    );
    let blame = format!("flipped.json: case {name}:");
    assert!(stderr.contains(&blame), "stderr does not name {blame:?}");
    fs::remove_dir_all(&dir).unwrap();
}
