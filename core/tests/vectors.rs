//! Runs the shared conformance vectors (`vectors/*.json` at the workspace root) against the core,
//! plus every `*.json` file in `$TOKENWARD_VECTORS_DIR` when that variable is set. Fails listing
//! each case whose result differs from its `expect`.

// A test harness: panicking is how it fails, and it reads its own process environment.
#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use tokenward_core::{AuthorizeStep, Env, Error, Policy, Request, UnixTime, Verifier};

/// The workspace corpus must not shrink below what the issue asks for.
const MIN_WORKSPACE_CASES: usize = 150;
const MIN_WORKSPACE_POLICY_FILES: usize = 15;

#[derive(Default)]
struct Tally {
    cases: usize,
    policy_files: usize,
    failures: Vec<String>,
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    files
}

fn load_policy(doc: &Value, env: &Env) -> Result<Policy, Error> {
    match doc {
        Value::String(text) => Policy::parse(text, env),
        other => Policy::from_json(other, env),
    }
}

fn env_of(file: &Value) -> Result<Env, String> {
    match file.get("env") {
        None | Some(Value::Null) => Ok(Env::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(format!("env.{k} is not a string: {other}")),
            })
            .collect(),
        Some(other) => Err(format!("env is not an object: {other}")),
    }
}

fn run_file(path: &Path, tally: &mut Tally) {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let fail = |tally: &mut Tally, what: String| tally.failures.push(format!("{name}: {what}"));
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return fail(tally, format!("unreadable: {e}")),
    };
    let file: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return fail(tally, format!("not JSON: {e}")),
    };
    let env = match env_of(&file) {
        Ok(env) => env,
        Err(e) => return fail(tally, e),
    };
    let Some(doc) = file.get("policy") else {
        return fail(tally, "has no policy".to_owned());
    };
    let loaded = load_policy(doc, &env);

    if let Some(expect) = file.get("expect_policy") {
        tally.policy_files += 1;
        for problem in check_policy(&loaded, expect) {
            fail(tally, format!("expect_policy: {problem}"));
        }
        return;
    }

    let Some(cases) = file.get("cases").and_then(Value::as_array) else {
        return fail(tally, "has neither cases nor expect_policy".to_owned());
    };
    let Some(now) = file.get("now").and_then(Value::as_i64) else {
        return fail(tally, "has no integer now".to_owned());
    };
    let verifier = match loaded {
        Ok(policy) => Verifier::new(policy),
        Err(e) => {
            tally.cases += cases.len();
            return fail(
                tally,
                format!(
                    "policy does not load ({}: {e}); {} case(s) not run",
                    e.code(),
                    cases.len()
                ),
            );
        }
    };
    for (i, case) in cases.iter().enumerate() {
        tally.cases += 1;
        let case_name = case
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{i}"), str::to_owned);
        for problem in check_case(&verifier, case, UnixTime(now)) {
            fail(tally, format!("case {case_name}: {problem}"));
        }
    }
}

fn check_policy(loaded: &Result<Policy, Error>, expect: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let want_valid = expect.get("valid").and_then(Value::as_bool);
    match (loaded, want_valid) {
        (Ok(policy), Some(true) | None) => {
            if let Some(want) = expect.get("warnings").and_then(Value::as_array) {
                let want: BTreeSet<&str> = want.iter().filter_map(Value::as_str).collect();
                let got: BTreeSet<&str> = policy.warnings().iter().map(|w| w.code()).collect();
                if want != got {
                    problems.push(format!("expected warnings {want:?}, got {got:?}"));
                }
            }
        }
        (Ok(_), Some(false)) => problems.push(format!(
            "expected the policy to fail with {}, but it loaded",
            expect
                .get("code")
                .map_or_else(|| "an error".to_owned(), Value::to_string)
        )),
        (Err(e), Some(true) | None) => {
            problems.push(format!(
                "expected the policy to load, got {}: {e}",
                e.code()
            ));
        }
        (Err(e), Some(false)) => {
            if let Some(code) = expect.get("code").and_then(Value::as_str)
                && e.code() != code
            {
                problems.push(format!("expected code {code}, got {}: {e}", e.code()));
            }
            if let Some(needle) = expect.get("message_contains").and_then(Value::as_str)
                && !e.to_string().contains(needle)
            {
                problems.push(format!(
                    "expected the message to contain {needle:?}, got {:?}",
                    e.to_string()
                ));
            }
        }
    }
    problems
}

fn request_of(spec: &Value) -> Result<Request, String> {
    let method = spec
        .get("method")
        .and_then(Value::as_str)
        .ok_or("request.method is not a string")?;
    let path = spec
        .get("path")
        .and_then(Value::as_str)
        .ok_or("request.path is not a string")?;
    let mut req = Request::new(method, path);
    if let Some(headers) = spec.get("headers") {
        let headers = headers
            .as_object()
            .ok_or("request.headers is not an object")?;
        for (name, value) in headers {
            match value {
                Value::String(v) => req.push_header(name.as_str(), v.as_str()),
                Value::Array(values) => {
                    for v in values {
                        let v = v
                            .as_str()
                            .ok_or_else(|| format!("request.headers.{name} holds a non-string"))?;
                        req.push_header(name.as_str(), v);
                    }
                }
                _ => return Err(format!("request.headers.{name} is not a string or array")),
            }
        }
    }
    if let Some(q) = spec.get("query") {
        req = req.query(q.as_str().ok_or("request.query is not a string")?);
    }
    if let Some(n) = spec.get("requests_in_window") {
        req = req.requests_in_window(
            n.as_u64()
                .ok_or("request.requests_in_window is not a u64")?,
        );
    }
    Ok(req)
}

fn check_request(verifier: &Verifier, spec: &Value, expect: &Value, now: UnixTime) -> Vec<String> {
    let mut problems = Vec::new();
    let req = match request_of(spec) {
        Ok(r) => r,
        Err(e) => return vec![e],
    };
    let d = verifier.authorize(&req, now);
    // The split a host with external crypto uses must decide exactly the same.
    let split = match verifier.authorize_prepare(&req, now) {
        AuthorizeStep::Decided(d) => d,
        AuthorizeStep::NeedsSignature(p) => {
            let outcome = verifier.check_signature(p.check());
            verifier.authorize_finish(p, outcome, now)
        }
    };
    if (split.status(), split.code(), split.headers(), split.audit())
        != (d.status(), d.code(), d.headers(), d.audit())
    {
        problems.push("authorize_prepare/authorize_finish disagree with authorize".to_owned());
    }
    let want_valid = expect.get("valid").and_then(Value::as_bool).unwrap_or(true);
    let got = || {
        format!(
            "{} ({})",
            d.code().unwrap_or("allow"),
            d.error().map(ToString::to_string).unwrap_or_default()
        )
    };
    if d.is_allowed() != want_valid {
        problems.push(format!(
            "expected {}, got {}",
            if want_valid {
                "allow".to_owned()
            } else {
                format!(
                    "deny {}",
                    expect.get("code").and_then(Value::as_str).unwrap_or("")
                )
            },
            got()
        ));
        return problems;
    }
    if let Some(code) = expect.get("code").and_then(Value::as_str)
        && d.code() != Some(code)
    {
        problems.push(format!("expected {code}, got {}", got()));
    }
    if let Some(status) = expect.get("status").and_then(Value::as_u64)
        && u64::from(d.status()) != status
    {
        problems.push(format!("expected status {status}, got {}", d.status()));
    }
    match expect.get("www_authenticate") {
        Some(Value::String(needle)) => match d.www_authenticate() {
            Some(h) if h.contains(needle.as_str()) => {}
            other => problems.push(format!(
                "expected WWW-Authenticate containing {needle:?}, got {other:?}"
            )),
        },
        Some(Value::Null) => {
            if let Some(h) = d.www_authenticate() {
                problems.push(format!("expected no WWW-Authenticate, got {h:?}"));
            }
        }
        _ => {}
    }
    if expect
        .get("www_authenticate_absent")
        .and_then(Value::as_bool)
        == Some(true)
        && let Some(h) = d.www_authenticate()
    {
        problems.push(format!("expected no WWW-Authenticate, got {h:?}"));
    }
    let injected: Map<String, Value> = d
        .headers()
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone())))
        .collect();
    if let Some(Value::Object(want)) = expect.get("headers") {
        let want: Map<String, Value> = want
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        let mut sub = Vec::new();
        subset(&want, &injected, &mut sub);
        problems.extend(sub.into_iter().map(|p| format!("header {p}")));
    }
    if let Some(Value::Array(absent)) = expect.get("headers_absent") {
        for name in absent.iter().filter_map(Value::as_str) {
            if let Some(v) = injected.get(&name.to_ascii_lowercase()) {
                problems.push(format!("header {name} should be absent, got {v}"));
            }
        }
    }
    if let Some(Value::Object(want)) = expect.get("audit") {
        let audit = d.audit().to_json();
        let got = audit.as_object().cloned().unwrap_or_default();
        let mut sub = Vec::new();
        subset(want, &got, &mut sub);
        problems.extend(sub.into_iter().map(|p| format!("audit {p}")));
    }
    if let Some(Value::Object(want)) = expect.get("claims") {
        match d.claims() {
            Some(c) => subset(want, c.payload(), &mut problems),
            None => problems.push("expected claims, the decision has none".to_owned()),
        }
    }
    problems
}

fn check_case(verifier: &Verifier, case: &Value, now: UnixTime) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(spec) = case.get("request") {
        let Some(expect) = case.get("expect") else {
            return vec!["has no expect".to_owned()];
        };
        return check_request(verifier, spec, expect, now);
    }
    let Some(token) = case.get("token").and_then(Value::as_str) else {
        return vec!["has no string token".to_owned()];
    };
    let Some(expect) = case.get("expect") else {
        return vec!["has no expect".to_owned()];
    };
    let required: Vec<String> = case
        .get("required_scopes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let result = verifier
        .validate(token, now)
        .and_then(|claims| claims.require_scopes(&required).map(|()| claims));
    let want_valid = expect.get("valid").and_then(Value::as_bool).unwrap_or(true);
    match (&result, want_valid) {
        (Ok(claims), true) => {
            if let Some(Value::Object(want)) = expect.get("claims") {
                subset(want, claims.payload(), &mut problems);
            }
        }
        (Ok(_), false) => problems.push(format!(
            "expected {} but the token was accepted",
            expect
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or("a rejection")
        )),
        (Err(e), true) => problems.push(format!("expected valid, got {}: {e}", e.code())),
        (Err(e), false) => {
            if let Some(code) = expect.get("code").and_then(Value::as_str)
                && e.code() != code
            {
                problems.push(format!("expected {code}, got {}: {e}", e.code()));
            }
            if let Some(status) = expect.get("status").and_then(Value::as_u64)
                && u64::from(e.status()) != status
            {
                problems.push(format!(
                    "expected status {status}, got {} ({})",
                    e.status(),
                    e.code()
                ));
            }
        }
    }
    problems
}

fn subset(want: &Map<String, Value>, got: &Map<String, Value>, problems: &mut Vec<String>) {
    for (k, v) in want {
        match got.get(k) {
            Some(g) if g == v => {}
            Some(g) => problems.push(format!("claim {k}: expected {v}, got {g}")),
            None => problems.push(format!("claim {k}: expected {v}, missing")),
        }
    }
}

fn report(label: &str, tally: &Tally) {
    eprintln!(
        "{label}: {} token case(s), {} policy file(s), {} failure(s)",
        tally.cases,
        tally.policy_files,
        tally.failures.len()
    );
}

#[test]
fn workspace_vectors() {
    // No `..`: under WASI (wasm32-wasip1) a path must start with a preopened directory's path.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("vectors");
    let mut tally = Tally::default();
    for file in json_files(&dir) {
        run_file(&file, &mut tally);
    }
    report("vectors/", &tally);
    assert!(
        tally.failures.is_empty(),
        "{} vector failure(s):\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
    assert!(
        tally.cases >= MIN_WORKSPACE_CASES,
        "only {} token cases in vectors/",
        tally.cases
    );
    assert!(
        tally.policy_files >= MIN_WORKSPACE_POLICY_FILES,
        "only {} policy files in vectors/",
        tally.policy_files
    );
}

#[test]
fn extra_vectors_dir() {
    let Some(dir) = std::env::var_os("TOKENWARD_VECTORS_DIR") else {
        eprintln!("TOKENWARD_VECTORS_DIR not set: no extra vectors");
        return;
    };
    let dir = PathBuf::from(dir);
    let files = json_files(&dir);
    assert!(
        !files.is_empty(),
        "TOKENWARD_VECTORS_DIR={} holds no *.json file",
        dir.display()
    );
    let mut tally = Tally::default();
    for file in files {
        run_file(&file, &mut tally);
    }
    report(&dir.display().to_string(), &tally);
    assert!(
        tally.failures.is_empty(),
        "{} vector failure(s):\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}
