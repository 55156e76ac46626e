//! Fuel per request (wasm instructions executed, deterministic), per algorithm and crypto mode:
//! cold (the first request of a fresh instance), warm (a new token once the instance has verified
//! another one with the same key), cached (that token again: the signature cache hits).
//!
//! Tokens and keys are the jose-minted vectors (`vectors/<alg>.json`: its policy, `now` as the
//! filter's `fixed_now`), so no signing code is needed here. Each row measures the vector named
//! `valid_with_kid`; the warm-up token is another valid case of the same file. Modes: `wasm`
//! (`crypto: wasm`, the math in the module) and `offload` (`crypto: auto` with the harness's
//! `verify_signature`, for the algorithms the filter offloads: RS256, ES256). Offloaded math runs
//! natively and costs no fuel, so those rows show what stays in wasm.
//!
//! Prints the table; fails when a figure grows >10% over `host-tests/fuel-baseline.json`, or when
//! a row is missing from either side. `TOKENWARD_FUEL_UPDATE=1` rewrites the baseline instead (do
//! it on purpose, in the change that moves the figures).
//! Run: `cargo test -p tokenward-host-tests --test harness fuel -- --nocapture`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokenward_host_tests::{Shared, Vm, VmOptions};

/// `(algorithm, vector file, offload)`.
const ROWS: [(&str, &str, bool); 7] = [
    ("HS256", "hs256.json", false),
    ("RS256", "rs256.json", false),
    ("RS256", "rs256.json", true),
    ("PS256", "ps256.json", false),
    ("ES256", "es256.json", false),
    ("ES256", "es256.json", true),
    ("EdDSA", "eddsa.json", false),
];

const KINDS: [&str; 3] = ["cold", "warm", "cached"];

/// Growth allowed over the baseline, in percent.
const TOLERANCE_PERCENT: u64 = 10;

fn baseline_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuel-baseline.json")
}

/// One vector file as an instance factory plus its two tokens (measured, warm-up).
struct Vector {
    options: VmOptions,
    measured: String,
    warm_up: String,
}

fn vector(file: &str, offload: bool) -> Vector {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors")
        .join(file);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut policy = doc["policy"].clone();
    policy["filter"] = json!({
        "fixed_now": doc["now"],
        "crypto": if offload { "auto" } else { "wasm" },
        "audit_log": "off",
        "cache_size": 64,
    });
    let valid: Vec<&Value> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["expect"]["valid"] == json!(true)
                && c.get("request").is_none()
                && c["required_scopes"].as_array().is_none_or(Vec::is_empty)
        })
        .collect();
    let token = |c: &Value| c["token"].as_str().unwrap().to_owned();
    let measured = valid
        .iter()
        .find(|c| c["name"] == "valid_with_kid")
        .map(|c| token(c))
        .unwrap_or_else(|| panic!("{file}: no valid_with_kid case"));
    let warm_up = valid
        .iter()
        .find(|c| c["name"] != "valid_with_kid")
        .map(|c| token(c))
        .unwrap_or_else(|| panic!("{file}: no second valid case"));
    let env = doc["env"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    Vector {
        options: VmOptions {
            env,
            config: policy.to_string().into_bytes(),
            verify_signature: offload,
        },
        measured,
        warm_up,
    }
}

/// Sends `token` and returns the fuel its request cost; it must be allowed.
fn request(vm: &mut Vm, label: &str, token: &str) -> u64 {
    let before = vm.fuel();
    let (_, o) = vm
        .get("/", &[("authorization", &format!("Bearer {token}"))])
        .unwrap();
    assert_eq!(o.status(), Some(200), "{label}: {o:?}");
    vm.fuel() - before
}

fn started(options: &VmOptions, label: &str) -> Vm {
    let mut vm = crate::harness()
        .vm(&Shared::default(), options.clone())
        .unwrap();
    assert!(vm.start().unwrap(), "{label}: {:?}", vm.state().logs);
    vm
}

fn measure() -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (alg, file, offload) in ROWS {
        let mode = if offload { "offload" } else { "wasm" };
        let label = format!("{alg} {mode}");
        let v = vector(file, offload);
        let mut cold = started(&v.options, &label);
        out.insert(
            format!("{label} cold"),
            request(&mut cold, &label, &v.measured),
        );
        let mut vm = started(&v.options, &label);
        request(&mut vm, &label, &v.warm_up);
        let calls = vm.state().foreign_calls;
        out.insert(
            format!("{label} warm"),
            request(&mut vm, &label, &v.measured),
        );
        let offloaded = vm.state().foreign_calls - calls;
        assert_eq!(
            offloaded,
            u64::from(offload),
            "{label}: verify_signature calls for the warm request"
        );
        let hits = vm.metric("tokenward_cache_hit");
        out.insert(
            format!("{label} cached"),
            request(&mut vm, &label, &v.measured),
        );
        assert_eq!(
            vm.metric("tokenward_cache_hit"),
            hits + 1,
            "{label}: the cached request did not hit"
        );
        assert!(cold.trap().is_none() && vm.trap().is_none(), "{label}");
    }
    out
}

fn print_table(got: &BTreeMap<String, u64>) {
    println!("| algorithm | crypto | cold | warm | cached |\n| --- | --- | ---: | ---: | ---: |");
    for (alg, _, offload) in ROWS {
        let mode = if offload { "offload" } else { "wasm" };
        let cells: Vec<String> = KINDS
            .iter()
            .map(|k| got[&format!("{alg} {mode} {k}")].to_string())
            .collect();
        println!("| {alg} | {mode} | {} |", cells.join(" | "));
    }
}

#[test]
fn fuel_table_within_baseline() {
    let got = measure();
    print_table(&got);
    let path = baseline_path();
    if std::env::var_os("TOKENWARD_FUEL_UPDATE").is_some_and(|v| v == "1") {
        let text = serde_json::to_string_pretty(&got).unwrap();
        std::fs::write(&path, format!("{text}\n")).unwrap();
        println!("fuel baseline written to {}", path.display());
        return;
    }
    let baseline: BTreeMap<String, u64> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut problems = Vec::new();
    for (k, base) in &baseline {
        match got.get(k) {
            None => problems.push(format!("{k}: in the baseline but not measured")),
            Some(now) if now * 100 > base * (100 + TOLERANCE_PERCENT) => problems.push(format!(
                "{k}: fuel {now} is more than {TOLERANCE_PERCENT}% over the baseline {base}"
            )),
            Some(_) => {}
        }
    }
    for k in got.keys().filter(|k| !baseline.contains_key(*k)) {
        problems.push(format!("{k}: measured but not in the baseline"));
    }
    assert!(
        problems.is_empty(),
        "{}\n(after a deliberate change: TOKENWARD_FUEL_UPDATE=1 rewrites {})",
        problems.join("\n"),
        path.display()
    );
}
