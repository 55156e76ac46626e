//! Fuel per request (wasm instructions executed, deterministic): cold (first request of an
//! instance), warm (key set and module state warm, new token), cached (same token again, the
//! signature cache hits). Prints the table; fails when a figure grows >10% over
//! `host-tests/fuel-baseline.json` (update that file on purpose, with the change that moves it).
//! Run: `cargo test -p tokenward-host-tests --release --test harness fuel -- --nocapture`.

use std::collections::BTreeMap;

use serde_json::json;
use tokenward_host_tests::Shared;

use crate::common::*;

fn measure() -> BTreeMap<String, u64> {
    let shared = Shared::default();
    let now = shared.now();
    let mut vm = vm(
        &shared,
        &hs_policy(json!({ "cache_size": 64, "audit_log": "off" })),
    );
    let mut out = BTreeMap::new();
    let mut run = |vm: &mut tokenward_host_tests::Vm, label: &str, token: &str| {
        let before = vm.fuel();
        let (_, o) = vm.get("/", &[("authorization", &bearer(token))]).unwrap();
        assert_eq!(o.status(), Some(200), "{label}");
        out.insert(label.to_owned(), vm.fuel() - before);
    };
    let t1 = hs256(&claims("u1", now, 600), None);
    let t2 = hs256(&claims("u2", now, 600), None);
    run(&mut vm, "HS256 cold", &t1);
    run(&mut vm, "HS256 warm", &t2);
    run(&mut vm, "HS256 cached", &t2);
    out
}

#[test]
fn fuel_table_within_baseline() {
    let got = measure();
    println!("| request | fuel |\n| --- | ---: |");
    for (k, v) in &got {
        println!("| {k} | {v} |");
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuel-baseline.json");
    let baseline: BTreeMap<String, u64> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (k, base) in &baseline {
        let now = got[k];
        assert!(
            now * 10 <= base * 11,
            "{k}: fuel {now} is more than 10% over the baseline {base}"
        );
    }
}
