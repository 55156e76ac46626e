//! The moving clock and remote keys: expiry while cached, `max_age` refresh from `on_tick`,
//! failed fetches keeping the last good set, and 4 instances sharing one fetch.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use tokenward_host_tests::{Outcome, Reply, Shared, Vm};

use crate::common::*;

/// What the JWKS server answers.
#[derive(Clone)]
enum Serve {
    Keys(Vec<&'static str>),
    Status500,
    Garbage,
    Empty,
    Timeout,
}

fn oct(kid: &str) -> Value {
    json!({ "kty": "oct", "kid": kid, "alg": "HS256", "k": B64.encode(SECRET) })
}

fn jwks_server(shared: &Shared, serve: &Arc<Mutex<Serve>>) {
    let serve = serve.clone();
    shared.respond_with(move |c| {
        assert_eq!(c.upstream, "idp");
        assert_eq!(c.header(":path"), Some("/jwks"));
        match serve.lock().unwrap().clone() {
            Serve::Keys(kids) => Reply::json(
                json!({ "keys": kids.iter().map(|k| oct(k)).collect::<Vec<_>>() }).to_string(),
            ),
            Serve::Status500 => Reply::Response {
                status: 500,
                headers: vec![],
                body: b"oops".to_vec(),
            },
            Serve::Garbage => Reply::json("{not json"),
            Serve::Empty => Reply::json(r#"{"keys":[]}"#),
            Serve::Timeout => Reply::Timeout,
        }
    });
}

fn remote_config() -> Value {
    json!({
        "security": { "jwt_issuer": ISSUER, "jwt_audiences": ["api"] },
        "filter": {
            "cluster": "idp", "jwks_uri": "https://idp.example.com/jwks",
            "max_age_seconds": 60, "cooldown_seconds": 5, "timeout_ms": 1000,
            "wait_for_keys_ms": 3000, "audit_log": "off",
        },
    })
}

/// One 250 ms step for every instance: move the clock, tick, answer callouts.
fn step(shared: &Shared, vms: &mut [Vm]) {
    shared.advance_ms(250);
    for vm in vms.iter_mut() {
        vm.tick().unwrap();
        vm.deliver_callouts().unwrap();
    }
}

fn token(shared: &Shared, kid: &str) -> String {
    hs256(&claims("u1", shared.now(), 3600), Some(kid))
}

/// The outcome of a request `get` sent: the one it returned when decided at once, else waited for.
fn settle(shared: &Shared, vms: &mut [Vm], vm: usize, sent: (u32, Outcome)) -> Outcome {
    match sent {
        (id, Outcome::Paused) => wait(shared, vms, vm, id),
        (_, decided) => decided,
    }
}

fn wait(shared: &Shared, vms: &mut [Vm], vm: usize, id: u32) -> Outcome {
    for _ in 0..40 {
        let o = vms[vm].outcome(id);
        if !matches!(o, Outcome::Paused) {
            return o;
        }
        step(shared, vms);
    }
    let logs: Vec<_> = vms[vm].state().logs.iter().rev().take(8).collect();
    panic!(
        "request {id} still paused after 40 steps; calls {:?}; last logs {logs:?}; trap {:?}",
        vms[vm].state().calls,
        vms[vm].trap()
    );
}

#[test]
fn four_instances_share_one_fetch() {
    let shared = Shared::default();
    let serve = Arc::new(Mutex::new(Serve::Keys(vec!["k1"])));
    jwks_server(&shared, &serve);
    let mut vms: Vec<Vm> = (0..4).map(|_| vm(&shared, &remote_config())).collect();
    let t = token(&shared, "k1");
    let ids: Vec<u32> = vms
        .iter_mut()
        .map(|v| v.get("/", &[("authorization", &bearer(&t))]).unwrap().0)
        .collect();
    for (i, id) in ids.into_iter().enumerate() {
        let o = wait(&shared, &mut vms, i, id);
        assert_eq!(o.status(), Some(200), "instance {i}: {o:?}");
    }
    assert_eq!(shared.callout_count(), 1, "one fetch for 4 instances");
    for v in &vms {
        assert!(v.trap().is_none());
    }
}

#[test]
fn max_age_refresh_on_tick_and_failed_fetches_keep_last_good() {
    let shared = Shared::default();
    let serve = Arc::new(Mutex::new(Serve::Keys(vec!["k1"])));
    jwks_server(&shared, &serve);
    let mut vms = vec![vm(&shared, &remote_config())];
    let (id, _) = vms[0]
        .get("/", &[("authorization", &bearer(&token(&shared, "k1")))])
        .unwrap();
    assert_eq!(wait(&shared, &mut vms, 0, id).status(), Some(200));
    assert_eq!(shared.callout_count(), 1);

    // Each failure mode after max_age: the refresh fails, the last good set keeps serving.
    for (n, bad) in [
        Serve::Status500,
        Serve::Garbage,
        Serve::Empty,
        Serve::Timeout,
    ]
    .into_iter()
    .enumerate()
    {
        *serve.lock().unwrap() = bad;
        let before = shared.callout_count();
        for _ in 0..(61 * 4) {
            step(&shared, &mut vms);
        }
        assert!(
            shared.callout_count() > before,
            "failure mode {n}: no refresh fetched"
        );
        let (_, o) = vms[0]
            .get("/", &[("authorization", &bearer(&token(&shared, "k1")))])
            .unwrap();
        assert_eq!(
            o.status(),
            Some(200),
            "failure mode {n}: last good set lost: {o:?}"
        );
    }
    assert!(
        vms[0].metric("tokenward_jwks_fetch_failed") >= 4,
        "{}",
        vms[0].metric("tokenward_jwks_fetch_failed")
    );
    assert!(vms[0].trap().is_none());
}

/// A `max_age` refresh that removes `k1` and adds `k2`: `k2` verifies, `k1` stops verifying.
/// (An earlier version waited on requests `get` had already finished, whose streams are gone, and
/// so reported them as paused forever: `settle` uses the outcome `get` returned when it decided.)
#[test]
fn max_age_refresh_rotates_keys() {
    let shared = Shared::default();
    let serve = Arc::new(Mutex::new(Serve::Keys(vec!["k1"])));
    jwks_server(&shared, &serve);
    let mut vms = vec![vm(&shared, &remote_config())];
    let sent = vms[0]
        .get("/", &[("authorization", &bearer(&token(&shared, "k1")))])
        .unwrap();
    assert_eq!(settle(&shared, &mut vms, 0, sent).status(), Some(200));

    // Rotation by max_age: k1 removed, k2 added; after the refresh k1 stops verifying.
    *serve.lock().unwrap() = Serve::Keys(vec!["k2"]);
    for _ in 0..(61 * 4) {
        step(&shared, &mut vms);
    }
    let sent = vms[0]
        .get("/", &[("authorization", &bearer(&token(&shared, "k2")))])
        .unwrap();
    assert_eq!(settle(&shared, &mut vms, 0, sent).status(), Some(200));
    let sent = vms[0]
        .get("/", &[("authorization", &bearer(&token(&shared, "k1")))])
        .unwrap();
    let o = settle(&shared, &mut vms, 0, sent);
    assert_eq!(
        (o.status(), o.code().as_deref()),
        (Some(401), Some("key_not_found")),
        "{o:?}"
    );
    assert!(vms[0].trap().is_none());
}

#[test]
fn token_expiring_while_cached_is_rejected_after_exp() {
    let shared = Shared::default();
    let iat = shared.now();
    let mut vm = vm(
        &shared,
        &hs_policy(json!({ "cache_size": 16, "audit_log": "off" })),
    );
    let t = hs256(&claims("u1", iat, 120), None);
    let auth = bearer(&t);
    let skew = 60;
    let exp = iat + 120;
    for (at, want) in [
        (iat, 200),
        (exp - 1, 200),
        (exp, 200),
        (exp + skew - 1, 200),
        (exp + skew, 401),
        (exp + skew + 1, 401),
    ] {
        shared.set_now(at);
        let (_, o) = vm.get("/", &[("authorization", &auth)]).unwrap();
        assert_eq!(
            o.status(),
            Some(want),
            "at exp{:+}: {o:?}",
            at as i64 - exp as i64
        );
        if want == 401 {
            assert_eq!(o.code().as_deref(), Some("token_expired"));
        }
    }
    assert!(
        vm.metric("tokenward_cache_hit") >= 3,
        "the signature cache was not used"
    );
    // Backwards clock: valid again (the core decides at the time it is given).
    shared.set_now(iat);
    assert_eq!(
        vm.get("/", &[("authorization", &auth)]).unwrap().1.status(),
        Some(200)
    );
}
