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
pub(crate) enum Serve {
    Keys(Vec<&'static str>),
    Status500,
    Garbage,
    Empty,
    Timeout,
}

pub(crate) fn oct(kid: &str) -> Value {
    json!({ "kty": "oct", "kid": kid, "alg": "HS256", "k": B64.encode(SECRET) })
}

pub(crate) fn jwks_server(shared: &Shared, serve: &Arc<Mutex<Serve>>) {
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

pub(crate) fn remote_config() -> Value {
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
pub(crate) fn step(shared: &Shared, vms: &mut [Vm]) {
    shared.advance_ms(250);
    for vm in vms.iter_mut() {
        vm.tick().unwrap();
        vm.deliver_callouts().unwrap();
    }
}

pub(crate) fn token(shared: &Shared, kid: &str) -> String {
    hs256(&claims("u1", shared.now(), 3600), Some(kid))
}

/// The outcome of a request `get` sent: the one it returned when decided at once, else waited for.
pub(crate) fn settle(shared: &Shared, vms: &mut [Vm], vm: usize, sent: (u32, Outcome)) -> Outcome {
    match sent {
        (id, Outcome::Paused) => wait(shared, vms, vm, id),
        (_, decided) => decided,
    }
}

pub(crate) fn wait(shared: &Shared, vms: &mut [Vm], vm: usize, id: u32) -> Outcome {
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

/// Sends a `k1` token on instance 0 and returns its decision (waiting while it is parked).
fn k1_outcome(shared: &Shared, vms: &mut [Vm]) -> Outcome {
    let sent = vms[0]
        .get("/", &[("authorization", &bearer(&token(shared, "k1")))])
        .unwrap();
    settle(shared, vms, 0, sent)
}

/// Steps until one more callout went out (at most 62 s of virtual time) and returns the steps.
fn step_to_next_fetch(shared: &Shared, vms: &mut [Vm], what: &str) -> usize {
    let before = shared.callout_count();
    for n in 1..=62 * 4 {
        step(shared, vms);
        if shared.callout_count() > before {
            assert_eq!(
                shared.callout_count(),
                before + 1,
                "{what}: one fetch per step"
            );
            return n;
        }
    }
    panic!("{what}: no fetch within 62 s");
}

/// Each kind of failed fetch (timeout, 500, invalid JSON, an empty key set) adds exactly one to
/// `tokenward_jwks_fetch_failed` per fetch and nothing to `tokenward_jwks_fetch_ok`, and the last
/// good key set keeps verifying. The first failure is the `max_age` refresh (60 s); each next kind
/// is the retry one cooldown (5 s) later.
#[test]
fn each_failed_fetch_kind_counts_once_and_the_last_good_set_stays() {
    let shared = Shared::default();
    let serve = Arc::new(Mutex::new(Serve::Keys(vec!["k1"])));
    jwks_server(&shared, &serve);
    let mut vms = vec![vm(&shared, &remote_config())];
    assert_eq!(k1_outcome(&shared, &mut vms).status(), Some(200));
    let counts = |v: &Vm| {
        (
            v.metric("tokenward_jwks_fetch_ok"),
            v.metric("tokenward_jwks_fetch_failed"),
        )
    };
    assert_eq!(counts(&vms[0]), (1, 0));
    for (kind, bad) in [
        ("timeout", Serve::Timeout),
        ("HTTP 500", Serve::Status500),
        ("invalid JSON", Serve::Garbage),
        ("empty key set", Serve::Empty),
    ] {
        *serve.lock().unwrap() = bad;
        let (ok, failed) = counts(&vms[0]);
        let steps = step_to_next_fetch(&shared, &mut vms, kind);
        assert_eq!(
            counts(&vms[0]),
            (ok, failed + 1),
            "{kind}: (fetch_ok, fetch_failed) after the fetch {steps} steps later"
        );
        let o = k1_outcome(&shared, &mut vms);
        assert_eq!(o.status(), Some(200), "{kind}: last good set lost: {o:?}");
    }
    assert!(vms[0].trap().is_none(), "{:?}", vms[0].trap());
}

/// `tokenward_jwks_stale_seconds`: 0 while the key set is fresh and while it is younger than
/// `max_age` (60 s) even though refreshes fail; once it is older and the refresh failed, the age
/// of the last good set in seconds (checked to the second at each step); 0 again after a good
/// fetch. The gauge is written on `on_tick`, so each check follows a step.
#[test]
fn stale_seconds_gauge_reports_the_age_of_the_last_good_set() {
    const GAUGE: &str = "tokenward_jwks_stale_seconds";
    let shared = Shared::default();
    let serve = Arc::new(Mutex::new(Serve::Keys(vec!["k1"])));
    jwks_server(&shared, &serve);
    let mut vms = vec![vm(&shared, &remote_config())];
    assert_eq!(k1_outcome(&shared, &mut vms).status(), Some(200));
    let fetched_at = shared.now();
    assert!(
        vms[0].state().metrics.iter().any(|m| m.name == GAUGE),
        "the filter defines no {GAUGE}"
    );
    *serve.lock().unwrap() = Serve::Status500;
    while shared.now() < fetched_at + 59 {
        step(&shared, &mut vms);
        assert_eq!(
            vms[0].metric(GAUGE),
            0,
            "fresh at +{}s",
            shared.now() - fetched_at
        );
    }
    let failed = vms[0].metric("tokenward_jwks_fetch_failed");
    step_to_next_fetch(&shared, &mut vms, "max_age refresh");
    assert_eq!(vms[0].metric("tokenward_jwks_fetch_failed"), failed + 1);
    for _ in 0..(30 * 4) {
        step(&shared, &mut vms);
        let age = (shared.now() - fetched_at) as i64;
        let got = vms[0].metric(GAUGE);
        assert!(
            (age - 1..=age).contains(&got),
            "stale for {age}s (refreshes failing): gauge {got}"
        );
    }
    *serve.lock().unwrap() = Serve::Keys(vec!["k1"]);
    let ok = vms[0].metric("tokenward_jwks_fetch_ok");
    step_to_next_fetch(&shared, &mut vms, "recovery");
    assert_eq!(vms[0].metric("tokenward_jwks_fetch_ok"), ok + 1);
    step(&shared, &mut vms);
    assert_eq!(vms[0].metric(GAUGE), 0, "fresh again after a good fetch");
    assert!(vms[0].trap().is_none(), "{:?}", vms[0].trap());
}

/// A failed unknown-`kid` refetch, of each kind, releases the requests parked for it on every
/// instance within one step of the outcome, not only on the instance that fetched: the others
/// must not sit out `wait_for_keys_ms` (3 s) for an outcome that is already known.
#[test]
fn a_failed_refetch_releases_requests_parked_on_other_instances() {
    for (kind, bad) in [
        ("timeout", Serve::Timeout),
        ("HTTP 500", Serve::Status500),
        ("invalid JSON", Serve::Garbage),
        ("empty key set", Serve::Empty),
    ] {
        let shared = Shared::default();
        let serve = Arc::new(Mutex::new(Serve::Keys(vec!["k1"])));
        jwks_server(&shared, &serve);
        let mut vms: Vec<Vm> = (0..2).map(|_| vm(&shared, &remote_config())).collect();
        for i in 0..vms.len() {
            let sent = vms[i]
                .get("/", &[("authorization", &bearer(&token(&shared, "k1")))])
                .unwrap();
            assert_eq!(settle(&shared, &mut vms, i, sent).status(), Some(200));
        }
        *serve.lock().unwrap() = bad;
        for _ in 0..(6 * 4) {
            step(&shared, &mut vms);
        }
        // Both get an unknown kid before the same step: instance 0 ticks first and fetches.
        let t = bearer(&token(&shared, "k9"));
        let ids: Vec<u32> = vms
            .iter_mut()
            .map(|v| {
                let (id, o) = v.get("/", &[("authorization", &t)]).unwrap();
                assert!(matches!(o, Outcome::Paused), "{kind}: not parked: {o:?}");
                id
            })
            .collect();
        let before = shared.callout_count();
        step(&shared, &mut vms);
        assert_eq!(shared.callout_count(), before + 1, "{kind}: one refetch");
        step(&shared, &mut vms);
        for (i, id) in ids.into_iter().enumerate() {
            let o = vms[i].outcome(id);
            assert_eq!(
                (o.status(), o.code().as_deref()),
                (Some(401), Some("key_not_found")),
                "{kind}: instance {i}, 500 ms after the failed refetch: {o:?}"
            );
        }
    }
}

/// An unknown-`kid` refetch that returns the same key set keeps the verified-signature cache: a
/// flood of random `kid`s (one refetch per cooldown) must not flush it on every worker each time.
#[test]
fn refetching_the_same_key_set_keeps_the_signature_cache() {
    let shared = Shared::default();
    let serve = Arc::new(Mutex::new(Serve::Keys(vec!["k1"])));
    jwks_server(&shared, &serve);
    let mut vms = vec![vm(&shared, &remote_config())];
    let auth = bearer(&token(&shared, "k1"));
    let sent = vms[0].get("/", &[("authorization", &auth)]).unwrap();
    assert_eq!(settle(&shared, &mut vms, 0, sent).status(), Some(200));
    let (_, o) = vms[0].get("/", &[("authorization", &auth)]).unwrap();
    assert_eq!(o.status(), Some(200));
    let hits = vms[0].metric("tokenward_cache_hit");
    assert_eq!(hits, 1, "the second request hits the cache");
    for _ in 0..(6 * 4) {
        step(&shared, &mut vms);
    }
    let before = shared.callout_count();
    let sent = vms[0]
        .get("/", &[("authorization", &bearer(&token(&shared, "k9")))])
        .unwrap();
    let o = settle(&shared, &mut vms, 0, sent);
    assert_eq!(o.code().as_deref(), Some("key_not_found"), "{o:?}");
    assert_eq!(
        shared.callout_count(),
        before + 1,
        "the unknown kid refetched"
    );
    let (_, o) = vms[0].get("/", &[("authorization", &auth)]).unwrap();
    assert_eq!(o.status(), Some(200));
    assert_eq!(
        vms[0].metric("tokenward_cache_hit"),
        hits + 1,
        "the same key set came back, yet the cached signature was forgotten"
    );
}
