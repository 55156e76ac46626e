//! Load shape: a flood of tokens with random unknown `kid`s across 4 instances sharing data costs
//! at most one JWKS fetch per cooldown and every request still gets decided; the memory of one
//! instance stays flat over 100,000 requests with distinct tokens (the signature cache cap holds).
//! (4 instances sharing one first fetch: `remote::four_instances_share_one_fetch`.)

use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::json;
use tokenward_host_tests::{Outcome, Shared, Vm};

use crate::common::*;
use crate::remote::{Serve, jwks_server, remote_config, settle};

/// `remote_config`'s `cooldown_seconds`, in ms.
const COOLDOWN_MS: u64 = 5_000;
/// The filter's tick period.
const TICK_MS: u64 = 250;
/// Random-`kid` requests, and the virtual time between two of them (10,000 x 6 ms = 60 s).
const FLOOD: usize = 10_000;
const FLOOD_GAP_MS: u64 = 6;

fn now_ms(shared: &Shared) -> u64 {
    shared.lock().now_ns / 1_000_000
}

/// splitmix64: deterministic `kid`s, so a failure repeats exactly.
fn next(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Records the virtual time of every callout dispatched since the last call.
fn note_fetches(shared: &Shared, seen: &mut usize, at: &mut Vec<u64>) {
    let count = shared.callout_count();
    for _ in *seen..count {
        at.push(now_ms(shared));
    }
    *seen = count;
}

/// A decided random-`kid` request: 401 `key_not_found`, nothing else.
fn assert_key_not_found(what: &str, o: &Outcome) {
    assert_eq!(
        (o.status(), o.code().as_deref()),
        (Some(401), Some("key_not_found")),
        "{what}: {o:?}"
    );
}

/// Ticks every instance and answers its callouts (the clock is not moved).
fn tick_all(vms: &mut [Vm]) {
    for vm in vms.iter_mut() {
        vm.tick().unwrap();
        vm.deliver_callouts().unwrap();
    }
}

/// Finishes the parked requests that got decided; each must be a `key_not_found`.
fn collect_decided(vms: &mut [Vm], paused: &mut Vec<(usize, u32)>) -> usize {
    let before = paused.len();
    let mut still = Vec::new();
    for (i, id) in paused.drain(..) {
        match vms[i].outcome(id) {
            Outcome::Paused => still.push((i, id)),
            o => {
                assert_key_not_found(&format!("instance {i} request {id} (parked)"), &o);
                vms[i].finish(id).unwrap();
            }
        }
    }
    *paused = still;
    before - paused.len()
}

/// 10,000 tokens signed with the right secret but naming random `kid`s, round-robin over 4
/// instances that share data, one every 6 ms of virtual time (60 s), ticking every 250 ms.
///
/// Bound: the cross-worker lease in shared data forbids a new fetch within `cooldown` of the last
/// outcome, and the harness answers a callout in the tick that dispatched it, so two fetches start
/// at least `cooldown` apart. Over `elapsed` ms from the first flood request to the end of the
/// drain, that is at most `1 + floor(elapsed / cooldown)` fetches (the first may start at once).
/// Asserted: that bound, every gap `>= cooldown`, and at least 2 refetches (so the unknown-`kid`
/// path really fetches, and the test fails if it stops doing so).
#[test]
fn random_unknown_kids_cost_at_most_one_fetch_per_cooldown() {
    let wall = Instant::now();
    let shared = Shared::default();
    let serve = Arc::new(Mutex::new(Serve::Keys(vec!["k1"])));
    jwks_server(&shared, &serve);
    let mut vms: Vec<Vm> = (0..4).map(|_| vm(&shared, &remote_config())).collect();
    for i in 0..vms.len() {
        let t = hs256(&claims("warm", shared.now(), 3600), Some("k1"));
        let sent = vms[i].get("/", &[("authorization", &bearer(&t))]).unwrap();
        let o = settle(&shared, &mut vms, i, sent);
        assert_eq!(o.status(), Some(200), "instance {i}: {o:?}");
    }
    assert_eq!(shared.callout_count(), 1, "the first key set: one fetch");

    let start = now_ms(&shared);
    let mut seen = shared.callout_count();
    let mut fetches_at: Vec<u64> = Vec::new();
    let mut paused: Vec<(usize, u32)> = Vec::new();
    let (mut at_once, mut parked) = (0usize, 0usize);
    let mut next_tick = start + TICK_MS;
    let mut seed = 0x746f_6b65_6e77_6172u64;
    for n in 0..FLOOD {
        let i = n % vms.len();
        let kid = format!("r-{:016x}", next(&mut seed));
        let t = hs256(&claims(&format!("u{n}"), shared.now(), 3600), Some(&kid));
        let (id, o) = vms[i].get("/", &[("authorization", &bearer(&t))]).unwrap();
        if let Outcome::Paused = o {
            paused.push((i, id));
            parked += 1;
        } else {
            assert_key_not_found(&format!("request {n} ({kid})"), &o);
            at_once += 1;
        }
        note_fetches(&shared, &mut seen, &mut fetches_at);
        shared.advance_ms(FLOOD_GAP_MS);
        if now_ms(&shared) >= next_tick {
            tick_all(&mut vms);
            note_fetches(&shared, &mut seen, &mut fetches_at);
            collect_decided(&mut vms, &mut paused);
            next_tick += TICK_MS;
        }
    }
    // Drain: parked requests wait at most `wait_for_keys_ms` (3 s); 40 ticks are 10 s.
    for _ in 0..40 {
        if paused.is_empty() {
            break;
        }
        shared.advance_ms(TICK_MS);
        tick_all(&mut vms);
        note_fetches(&shared, &mut seen, &mut fetches_at);
        collect_decided(&mut vms, &mut paused);
    }
    assert!(
        paused.is_empty(),
        "still parked after the drain: {paused:?}"
    );
    let elapsed = now_ms(&shared) - start;
    let bound = 1 + elapsed / COOLDOWN_MS;
    let gaps: Vec<u64> = fetches_at.windows(2).map(|w| w[1] - w[0]).collect();
    println!(
        "random kids: {FLOOD} requests over {elapsed} ms virtual ({at_once} decided at once, \
         {parked} parked), {} refetches (bound {bound}) at +{:?} ms, gaps {gaps:?} ms; \
         wall {:.1?}",
        fetches_at.len(),
        fetches_at.iter().map(|t| t - start).collect::<Vec<_>>(),
        wall.elapsed()
    );
    assert!(
        fetches_at.len() as u64 <= bound,
        "{} fetches in {elapsed} ms; at most {bound} allowed",
        fetches_at.len()
    );
    assert!(
        gaps.iter().all(|g| *g >= COOLDOWN_MS),
        "two fetches closer than the cooldown: {gaps:?}"
    );
    assert!(fetches_at.len() >= 2, "unknown kids never refetched");
    assert_eq!(at_once + parked, FLOOD);
    for (i, v) in vms.iter().enumerate() {
        assert!(v.trap().is_none(), "instance {i}: {:?}", v.trap());
    }
}

/// Requests of the memory test, and where memory is sampled.
const MEMORY_REQUESTS: usize = 100_000;
const MEMORY_MARKS: [usize; 4] = [1_000, 10_000, 50_000, 100_000];
/// Growth allowed between 10,000 and 100,000 requests: 4 wasm pages. A leak of even 10 bytes a
/// request would add 900 KB over those 90,000 requests.
const MEMORY_SLACK: usize = 4 * 65_536;
/// The signature cache size the test configures.
const CACHE_SIZE: usize = 1024;

/// 100,000 valid HS256 tokens, each distinct (`sub` and `jti`), through one instance with a
/// 1024-entry signature cache. Linear memory only grows, so a leak or an unbounded cache shows as
/// growth between the 10,000th and the 100,000th request; asserted: at most 4 pages
/// (`MEMORY_SLACK`). The cache must also be in use and capped: every request misses, the last token
/// hits when sent again, and the first one (evicted long ago) misses.
#[test]
fn memory_stays_bounded_over_100k_distinct_tokens() {
    let wall = Instant::now();
    let shared = Shared::default();
    let iat = shared.now();
    let mut vm = vm(
        &shared,
        &hs_policy(json!({ "cache_size": CACHE_SIZE, "audit_log": "off" })),
    );
    let token = |n: usize| {
        let mut c = claims(&format!("user-{n}"), iat, 3600);
        c["jti"] = json!(format!("jti-{n:08}"));
        hs256(&c, None)
    };
    let mut marks = Vec::new();
    for n in 0..MEMORY_REQUESTS {
        let (_, o) = vm
            .get("/", &[("authorization", &bearer(&token(n)))])
            .unwrap();
        assert_eq!(o.status(), Some(200), "request {n}: {o:?}");
        if MEMORY_MARKS.contains(&(n + 1)) {
            marks.push((n + 1, vm.memory_bytes(), wall.elapsed()));
        }
    }
    for (n, bytes, at) in &marks {
        println!("memory: after {n} requests {bytes} bytes (wall {at:.1?})");
    }
    let at = |n: usize| marks.iter().find(|m| m.0 == n).unwrap().1;
    let (early, late) = (at(10_000), at(MEMORY_REQUESTS));
    assert!(
        late <= early + MEMORY_SLACK,
        "linear memory grew from {early} to {late} bytes between 10,000 and {MEMORY_REQUESTS} \
         requests (allowed: {MEMORY_SLACK})"
    );
    let misses = vm.metric("tokenward_cache_miss");
    assert_eq!(
        misses, MEMORY_REQUESTS as i64,
        "every distinct token misses"
    );
    assert_eq!(vm.metric("tokenward_cache_hit"), 0);
    vm.get(
        "/",
        &[("authorization", &bearer(&token(MEMORY_REQUESTS - 1)))],
    )
    .unwrap();
    assert_eq!(
        vm.metric("tokenward_cache_hit"),
        1,
        "the last token is cached"
    );
    vm.get("/", &[("authorization", &bearer(&token(0)))])
        .unwrap();
    assert_eq!(
        vm.metric("tokenward_cache_miss"),
        misses + 1,
        "the first token was evicted (cache capped at {CACHE_SIZE})"
    );
    assert!(vm.trap().is_none(), "{:?}", vm.trap());
}
