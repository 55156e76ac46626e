//! Every vector (`vectors/` and `$TOKENWARD_VECTORS_DIR`) through the filter gives the same
//! status, code, `WWW-Authenticate` and injected headers as `tokenward_core` natively, under
//! `crypto: auto` with the `verify_signature` offload, `auto` on a host without it, and `wasm`.
//! Token cases go in as `Authorization: Bearer`, `required_scopes` as a route, as in
//! `proxy-filter/tests/e2e.py`; unlike HTTP, this host carries every header value unchanged.
//! Every case comes from its own client (`source.address`); a `requests_in_window: N` case, when
//! its policy counts, follows `N - 1` identical requests from that client, so the filter's own
//! velocity counter reaches `N`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokenward_core::{Policy, Request, UnixTime, Verifier};
use tokenward_host_tests::{Outcome, Shared, VmOptions};

struct Case {
    name: String,
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    /// `requests_in_window`, when the case gives one.
    window: Option<u64>,
}

/// Whether a policy has the filter count requests (scanner on with a velocity limit).
fn counts(policy: &serde_json::Map<String, Value>) -> bool {
    let scanner = &policy.get("scanner").cloned().unwrap_or(Value::Null);
    scanner["mode"].as_str().is_some_and(|m| m != "off")
        && scanner["max_requests_per_window"].is_u64()
}

fn files() -> Vec<PathBuf> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")];
    if let Some(d) = std::env::var_os("TOKENWARD_VECTORS_DIR") {
        dirs.push(PathBuf::from(d));
    }
    let mut out = Vec::new();
    for d in dirs {
        let mut f: Vec<PathBuf> = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        f.sort();
        out.extend(f);
    }
    out
}

/// The cases of a file as requests, plus the scope routes they need; skipped cases with why.
fn cases(file: &Value) -> (Vec<Case>, Vec<Value>, Vec<String>) {
    let mut routes: BTreeMap<String, String> = BTreeMap::new();
    let (mut out, skipped) = (Vec::new(), Vec::new());
    for (i, case) in file["cases"].as_array().unwrap().iter().enumerate() {
        let name = case["name"]
            .as_str()
            .map_or_else(|| format!("#{i}"), str::to_owned);
        if let Some(spec) = case.get("request") {
            let mut headers = Vec::new();
            for (k, v) in spec["headers"].as_object().into_iter().flatten() {
                match v {
                    Value::Array(vs) => headers.extend(
                        vs.iter()
                            .map(|v| (k.clone(), v.as_str().unwrap().to_owned())),
                    ),
                    v => headers.push((k.clone(), v.as_str().unwrap().to_owned())),
                }
            }
            out.push(Case {
                name,
                method: spec["method"].as_str().unwrap().to_owned(),
                path: spec["path"].as_str().unwrap().to_owned(),
                query: spec["query"].as_str().map(str::to_owned),
                headers,
                window: spec["requests_in_window"].as_u64(),
            });
            continue;
        }
        let token = case["token"].as_str().unwrap();
        let mut path = "/__tw_vector".to_owned();
        if let Some(scopes) = case["required_scopes"].as_array().filter(|s| !s.is_empty()) {
            let mut s: Vec<&str> = scopes.iter().map(|v| v.as_str().unwrap()).collect();
            s.sort_unstable();
            let key = serde_json::to_string(&s).unwrap();
            let n = routes.len();
            path = routes
                .entry(key)
                .or_insert_with(|| format!("/__tw_scopes/{n}"))
                .clone();
        }
        out.push(Case {
            name,
            method: "GET".into(),
            path,
            query: None,
            headers: vec![("authorization".into(), format!("Bearer {token}"))],
            window: None,
        });
    }
    let routes = routes
        .into_iter()
        .map(|(k, p)| json!({ "path": p, "scopes": { "all_of": serde_json::from_str::<Value>(&k).unwrap() } }))
        .collect();
    (out, routes, skipped)
}

fn compare(case: &Case, got: &Outcome, want: &tokenward_core::Decision) -> Option<String> {
    if want.is_allowed() {
        let Outcome::Continue(_) = got else {
            return Some(format!(
                "native allows, filter gives {:?} {:?}",
                got.status(),
                got.code()
            ));
        };
        let mut names: Vec<&str> = want.headers().iter().map(|(k, _)| k.as_str()).collect();
        names.dedup();
        for name in names {
            let expected: Vec<&str> = want
                .headers()
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect();
            if got.header(name) != expected {
                return Some(format!(
                    "header {name}: native {expected:?}, filter {:?}",
                    got.header(name)
                ));
            }
        }
        if !got.header("authorization").is_empty() {
            return Some("authorization forwarded".into());
        }
        return None;
    }
    let status = Some(u32::from(want.status()));
    let challenge: Vec<String> = want
        .www_authenticate()
        .map(str::to_owned)
        .into_iter()
        .collect();
    if got.status() != status
        || got.code().as_deref() != want.code()
        || got.header("www-authenticate") != challenge
    {
        return Some(format!(
            "native {status:?} {:?} {challenge:?}, filter {:?} {:?} {:?} ({})",
            want.code(),
            got.status(),
            got.code(),
            got.header("www-authenticate"),
            case.headers.len()
        ));
    }
    None
}

#[test]
fn vectors_match_the_core() {
    let (mut ran, mut offloaded, mut failures, mut skipped) =
        (0usize, 0u64, Vec::new(), Vec::new());
    for path in files() {
        let fname = path.file_name().unwrap().to_string_lossy().into_owned();
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if file.get("cases").is_none() {
            continue;
        }
        let Some(policy) = file["policy"].as_object() else {
            skipped.push(format!("{fname}: policy given as text"));
            continue;
        };
        let env: tokenward_core::Env = file["env"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let now = file["now"].as_i64().unwrap();
        let counted = counts(policy);
        let (cases, routes, skip) = cases(&file);
        skipped.extend(skip.into_iter().map(|s| format!("{fname}: {s}")));
        let mut doc = Value::Object(policy.clone());
        if !routes.is_empty() {
            let mut all = routes.clone();
            all.extend(doc["routes"].as_array().cloned().unwrap_or_default());
            doc["routes"] = Value::Array(all);
        }
        let native = match Policy::from_json(&doc, &env) {
            Ok(p) => Verifier::new(p),
            Err(e) => {
                failures.push(format!("{fname}: policy does not load natively: {e}"));
                continue;
            }
        };
        for (mode, host_fn) in [("auto", true), ("auto", false), ("wasm", true)] {
            let label = format!(
                "{fname}[{mode}{}]",
                if host_fn { "" } else { ", no verify_signature" }
            );
            let mut cfg = doc.clone();
            cfg["filter"] = json!({ "fixed_now": now, "crypto": mode, "audit_log": "off" });
            let options = VmOptions {
                env: env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                config: cfg.to_string().into_bytes(),
                verify_signature: host_fn,
            };
            let shared = Shared::default();
            let mut vm = crate::harness().vm(&shared, options).unwrap();
            if !vm.start().unwrap() {
                failures.push(format!(
                    "{label}: configuration refused: {:?}",
                    vm.state().logs
                ));
                continue;
            }
            for (n, case) in cases.iter().enumerate() {
                ran += 1;
                let mut req = Request::new(case.method.clone(), case.path.clone());
                if let Some(q) = &case.query {
                    req = req.query(q.clone());
                }
                if let Some(w) = case.window {
                    req = req.requests_in_window(w);
                }
                for (k, v) in &case.headers {
                    req.push_header(k.clone(), v.clone());
                }
                let want = native.authorize(&req, UnixTime(now));
                let full_path = match &case.query {
                    Some(q) => format!("{}?{q}", case.path),
                    None => case.path.clone(),
                };
                let mut pairs = vec![
                    (b":method".to_vec(), case.method.as_bytes().to_vec()),
                    (b":path".to_vec(), full_path.into_bytes()),
                ];
                pairs.extend(
                    case.headers
                        .iter()
                        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec())),
                );
                vm.state_mut().properties.insert(
                    b"source\0address".to_vec(),
                    format!("10.0.{}.{}:40000", n / 256, n % 256).into_bytes(),
                );
                let primes = if counted {
                    case.window.unwrap_or(1) - 1
                } else {
                    0
                };
                assert!(
                    primes <= 1000,
                    "{label} case {}: {primes} primes",
                    case.name
                );
                for _ in 0..primes {
                    let id = vm.send(pairs.clone()).unwrap();
                    vm.finish(id).unwrap();
                }
                let id = match vm.send(pairs) {
                    Ok(id) => id,
                    Err(e) => {
                        failures.push(format!("{label} case {}: {e:#}", case.name));
                        break;
                    }
                };
                let got = vm.outcome(id);
                vm.finish(id).unwrap();
                if let Some(p) = compare(case, &got, &want) {
                    failures.push(format!("{label} case {}: {p}", case.name));
                }
            }
            if mode == "auto" && host_fn {
                offloaded += vm.state().foreign_calls;
            }
            assert!(vm.trap().is_none(), "{label}: {:?}", vm.trap());
        }
    }
    for s in &skipped {
        println!("skip {s}");
    }
    println!(
        "vectors: {ran} case runs, {} skipped, {offloaded} verify_signature calls",
        skipped.len()
    );
    assert!(offloaded > 0, "the verify_signature offload never ran");
    assert!(ran > 300, "only {ran} case runs");
    assert!(
        failures.is_empty(),
        "{} mismatch(es):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
