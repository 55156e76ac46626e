//! Fault injection on the remote-key path. Every host function the filter calls on that path
//! (found by a probe run, so a new call is covered without editing this list) fails in turn with
//! NOT_FOUND, BAD_ARGUMENT and INTERNAL_FAILURE, at each moment where it matters:
//!
//! - `Configure`: from before `proxy_on_configure` on (a refused configuration must fail closed);
//! - `FirstFetch`: from the first request on, while the first key set is fetched;
//! - `Tick` / `Response`: only while `proxy_on_tick` / `proxy_on_http_call_response` run;
//! - `Refetch`: after the first key set landed, while a token with an unknown `kid` refetches;
//! - `MaxAge`: after the first key set landed, across the `max_age` refresh.
//!
//! Asserted for every run: no trap; each request gets its right decision or fails closed (503
//! `internal_error`, or `jwks_invalid` when no key set could be fetched), never a 200 for a bad
//! token; a `kid` the last good set lacks gets `key_not_found` after the wait (or 200 once fetched);
//! failing `proxy_log` or the metric calls changes no decision at all; a request may stay paused
//! only when the faulted call is the one that answers or resumes it. After the fault is cleared
//! the instance recovers: within 60 s of virtual time a token of a newly published key verifies.
//!
//! Under the proxy-wasm SDK 0.2.5 dispatcher (before the filter owned its exports), failing
//! `proxy_set_effective_context` while a callout response was delivered, and `proxy_http_call`
//! answering NOT_FOUND, trapped; so did a stray or repeated callout token.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokenward_host_tests::{Outcome, Shared, Vm, VmOptions};

use crate::common::*;
use crate::remote::{Serve, jwks_server, remote_config, token};

/// Where the fault is active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Configure,
    FirstFetch,
    Tick,
    Response,
    Refetch,
    MaxAge,
}

const PHASES: [Phase; 6] = [
    Phase::Configure,
    Phase::FirstFetch,
    Phase::Tick,
    Phase::Response,
    Phase::Refetch,
    Phase::MaxAge,
];

/// NOT_FOUND, BAD_ARGUMENT, INTERNAL_FAILURE.
const STATUSES: [i32; 3] = [1, 2, 10];

/// Calls that report or count and never decide: failing them must change no decision.
const OBSERVABILITY: [&str; 4] = [
    "proxy_log",
    "proxy_define_metric",
    "proxy_increment_metric",
    "proxy_record_metric",
];

/// Calls that answer or resume a request: failing them may leave it paused (Envoy then ends the
/// stream at its timeout; it never reaches upstream).
const MAY_STALL: [&str; 3] = [
    "proxy_send_local_response",
    "proxy_continue_stream",
    "proxy_set_effective_context",
];

/// `(name, status, phase)` patterns; `None` matches any.
type Known = [(&'static str, Option<i32>, Option<Phase>)];

/// A clock failing in `on_tick` releases the requests parked for the first key set at once (they
/// fail closed), so the sweep's "decided within the wait" check does not apply; checked by
/// `remote_path_clock_failing_in_on_tick_releases_parked_requests`.
const CLOCKLESS_TICK: &Known = &[(
    "proxy_get_current_time_nanoseconds",
    None,
    Some(Phase::Tick),
)];

fn known(list: &Known, name: &str, status: i32, phase: Phase) -> bool {
    list.iter().any(|(n, s, p)| {
        *n == name && s.is_none_or(|s| s == status) && p.is_none_or(|p| p == phase)
    })
}

/// What a request deserves.
#[derive(Clone, Copy, Debug)]
enum Want {
    /// Valid under the first key set.
    Allow,
    /// Denied with this code whatever the keys.
    Deny(&'static str),
    /// Signed by `k2`, which only the refreshed key set has: 200 once fetched, else key_not_found.
    NewKid,
}

struct Run<'a> {
    shared: Shared,
    serve: Arc<Mutex<Serve>>,
    vm: Vm,
    fault: Option<(&'a str, i32)>,
    /// Whether the fault is armed at all (the phase's moment has come).
    active: bool,
    /// When armed, the fault is on in [`Run::step`]'s tick and in its delivery of callouts; when
    /// both, it stays on between steps too (requests see it).
    during: (bool, bool),
}

impl Run<'_> {
    fn set(&mut self, on: bool) {
        self.vm.clear_faults();
        if let (true, true, Some((name, status))) = (self.active, on, self.fault) {
            self.vm.fault(name, status);
        }
    }

    fn arm(&mut self, active: bool) {
        self.active = active;
        self.set(self.during.0 && self.during.1);
    }

    /// 250 ms: move the clock, tick, answer callouts (with the fault where the phase puts it).
    fn step(&mut self) -> anyhow::Result<()> {
        self.shared.advance_ms(250);
        self.set(self.during.0);
        let tick = self.vm.tick();
        self.set(self.during.1);
        let delivered = self.vm.deliver_callouts();
        self.set(self.during.0 && self.during.1);
        tick?;
        delivered.map(|_| ())
    }

    fn steps(&mut self, n: usize) -> anyhow::Result<()> {
        for _ in 0..n {
            self.step()?;
        }
        Ok(())
    }

    /// Sends `requests` (an `Authorization` value or none), steps until all are decided (at most
    /// `max_steps`), and returns the outcomes (`Paused` for any still waiting).
    fn decide(
        &mut self,
        requests: &[Option<String>],
        max_steps: usize,
    ) -> anyhow::Result<Vec<Outcome>> {
        let mut sent: Vec<(u32, Outcome)> = Vec::new();
        for auth in requests {
            let headers: Vec<(&str, &str)> = auth
                .as_deref()
                .map(|a| ("authorization", a))
                .into_iter()
                .collect();
            sent.push(self.vm.get("/", &headers)?);
        }
        for round in 0..=max_steps {
            for (id, o) in &mut sent {
                if matches!(o, Outcome::Paused) {
                    let now = self.vm.outcome(*id);
                    if !matches!(now, Outcome::Paused) {
                        self.vm.finish(*id)?;
                        *o = now;
                    }
                }
            }
            if round == max_steps || sent.iter().all(|(_, o)| !matches!(o, Outcome::Paused)) {
                break;
            }
            self.step()?;
        }
        Ok(sent.into_iter().map(|(_, o)| o).collect())
    }
}

fn judge(fault: Option<&str>, configured: bool, want: Want, o: &Outcome) -> Result<(), String> {
    let strict = fault.is_none_or(|n| OBSERVABILITY.contains(&n));
    let may_stall = fault.is_some_and(|n| MAY_STALL.contains(&n));
    let ok = match o {
        Outcome::Paused => may_stall,
        Outcome::Continue(headers) => {
            configured
                && matches!(want, Want::Allow | Want::NewKid)
                && !headers.iter().any(|(k, _)| k == b"authorization")
        }
        Outcome::Local(r) => match (r.status, o.code().as_deref()) {
            (503, Some("internal_error")) => !strict,
            (503, Some("jwks_invalid")) => configured && !strict,
            (401, Some(code)) => {
                configured
                    && match want {
                        Want::Deny(d) => d == code,
                        Want::NewKid => code == "key_not_found",
                        Want::Allow => false,
                    }
            }
            _ => false,
        },
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{want:?}: got {:?} {:?}{}",
            o.status(),
            o.code(),
            if configured {
                ""
            } else {
                " (configuration refused)"
            }
        ))
    }
}

/// A token signed for `sub: u1` carrying the payload of `sub: admin`: `signature_invalid`.
fn forged(shared: &Shared) -> String {
    let a = hs256(&claims("u1", shared.now(), 3600), Some("k1"));
    let b = hs256(&claims("admin", shared.now(), 3600), Some("k1"));
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    format!("{}.{}.{}", pa[0], pb[1], pa[2])
}

/// One run: `fault` (none for the probe) in `phase`. `Ok` carries the host calls the module
/// made and the outcomes (status/code per request); `Err` says what went wrong.
fn scenario(phase: Phase, fault: Option<(&str, i32)>) -> Result<(Vec<String>, String), String> {
    let trap = |e: anyhow::Error| format!("trapped: {e:#}");
    let shared = Shared::default();
    let serve = Arc::new(Mutex::new(Serve::Keys(vec!["k1"])));
    jwks_server(&shared, &serve);
    let mut config: Value = remote_config();
    // Audit lines on: every decision calls `proxy_log`, so failing it is exercised.
    config["filter"]["audit_log"] = "info".into();
    if phase == Phase::Refetch {
        // Keep the max_age refresh out of the way: only the unknown kid fetches.
        config["filter"]["max_age_seconds"] = 3600.into();
    }
    let vm = crate::harness()
        .vm(&shared, VmOptions::config(config.to_string()))
        .map_err(|e| format!("instantiate: {e:#}"))?;
    let during = match phase {
        Phase::Tick => (true, false),
        Phase::Response => (false, true),
        _ => (true, true),
    };
    let mut run = Run {
        shared,
        serve,
        vm,
        fault,
        active: false,
        during,
    };
    run.arm(phase == Phase::Configure);
    let configured = run.vm.start().map_err(trap)?;
    let good = bearer(&token(&run.shared, "k1"));
    let new_kid = bearer(&token(&run.shared, "k2"));
    let bad = bearer(&forged(&run.shared));
    let (wants, outcomes) = match phase {
        Phase::Configure | Phase::FirstFetch | Phase::Tick | Phase::Response => {
            run.arm(true);
            // 24 steps are 6 s: past `wait_for_keys_ms` (3 s).
            let outcomes = run
                .decide(&[Some(good.clone()), Some(bad), None], 24)
                .map_err(trap)?;
            let wants = vec![
                Want::Allow,
                Want::Deny("signature_invalid"),
                Want::Deny("token_missing"),
            ];
            (wants, outcomes)
        }
        Phase::Refetch | Phase::MaxAge => {
            let first = run.decide(&[Some(good.clone())], 24).map_err(trap)?;
            if first[0].status() != Some(200) {
                return Err(format!(
                    "setup: the first key set did not land: {:?}",
                    first[0]
                ));
            }
            *run.serve.lock().unwrap() = Serve::Keys(vec!["k1", "k2"]);
            run.arm(true);
            // Refetch: past the cooldown of the first fetch. MaxAge: past `max_age_seconds` (60).
            let wait = if phase == Phase::Refetch {
                6 * 4
            } else {
                61 * 4
            };
            run.steps(wait).map_err(trap)?;
            let outcomes = run
                .decide(
                    &[Some(good.clone()), Some(bad), Some(new_kid.clone()), None],
                    24,
                )
                .map_err(trap)?;
            let wants = vec![
                Want::Allow,
                Want::Deny("signature_invalid"),
                Want::NewKid,
                Want::Deny("token_missing"),
            ];
            (wants, outcomes)
        }
    };
    run.arm(false);
    let name = fault.map(|(n, _)| n);
    let mut problems: Vec<String> = wants
        .iter()
        .zip(&outcomes)
        .filter_map(|(w, o)| judge(name, configured, *w, o).err())
        .collect();
    if configured {
        // Recovery: a key published now (k2) verifies within 60 s of virtual time.
        *run.serve.lock().unwrap() = Serve::Keys(vec!["k1", "k2"]);
        let mut last = None;
        for _ in 0..5 {
            run.steps(24).map_err(trap)?;
            let o = run.decide(&[Some(new_kid.clone())], 24).map_err(trap)?;
            if o[0].status() == Some(200) {
                last = None;
                break;
            }
            last = Some(o[0].clone());
        }
        if let Some(o) = last {
            problems.push(format!(
                "no recovery after the fault was cleared: {:?} {:?}",
                o.status(),
                o.code()
            ));
        }
    }
    if let Some(t) = run.vm.trap() {
        problems.push(format!("trapped: {t}"));
    }
    if problems.is_empty() {
        let summary: Vec<String> = outcomes
            .iter()
            .map(|o| match (o.status(), o.code()) {
                (Some(s), Some(c)) => format!("{s} {c}"),
                (Some(s), None) => s.to_string(),
                (None, _) => "paused".to_owned(),
            })
            .collect();
        Ok((
            run.vm.state().calls.keys().cloned().collect(),
            summary.join(", "),
        ))
    } else {
        Err(problems.join("; "))
    }
}

/// The host calls of the remote path: every `proxy_*` the module made in fault-free runs of every
/// phase (which also checks that the scenarios decide correctly without faults).
fn probe() -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for phase in PHASES {
        match scenario(phase, None) {
            Ok((calls, _)) => names.extend(calls.into_iter().filter(|n| n.starts_with("proxy_"))),
            Err(e) => panic!("{phase:?} without a fault: {e}"),
        }
    }
    names.sort();
    names.dedup();
    for needed in [
        "proxy_http_call",
        "proxy_get_header_map_pairs",
        "proxy_get_buffer_bytes",
        "proxy_get_shared_data",
        "proxy_set_shared_data",
        "proxy_set_tick_period_milliseconds",
        "proxy_set_effective_context",
        "proxy_continue_stream",
        "proxy_get_current_time_nanoseconds",
    ] {
        assert!(
            names.iter().any(|n| n == needed),
            "the probe never saw {needed}: {names:?}"
        );
    }
    names
}

/// Runs every (call, status, phase) that `select` accepts; fails listing every bad run.
fn run_all(select: impl Fn(&str, i32, Phase) -> bool) {
    let names = probe();
    let (mut ran, mut failures) = (0usize, Vec::new());
    for name in &names {
        for status in STATUSES {
            for phase in PHASES {
                if !select(name, status, phase) {
                    continue;
                }
                ran += 1;
                match scenario(phase, Some((name, status))) {
                    Ok((_, got)) => println!("  {name} -> {status} in {phase:?}: {got}"),
                    Err(e) => failures.push(format!("{name} -> {status} in {phase:?}: {e}")),
                }
            }
        }
    }
    println!(
        "remote faults: {ran} runs over {} host calls: {names:?}",
        names.len()
    );
    assert!(ran > 0, "nothing ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn remote_path_host_call_failures_never_trap_and_fail_closed() {
    run_all(|name, status, phase| !known(CLOCKLESS_TICK, name, status, phase));
}

#[test]
fn remote_path_clock_failing_in_on_tick_releases_parked_requests() {
    run_all(|name, status, phase| known(CLOCKLESS_TICK, name, status, phase));
}

/// A callout response the filter never asked for (a token it did not dispatch) and one delivered
/// twice are ignored: no trap, and the parked request still gets its decision.
#[test]
fn stray_and_repeated_callout_responses_are_ignored() {
    let shared = Shared::default();
    let serve = Arc::new(Mutex::new(Serve::Keys(vec!["k1"])));
    jwks_server(&shared, &serve);
    let mut vms = vec![vm(&shared, &remote_config())];
    let auth = bearer(&token(&shared, "k1"));
    let (id, o) = vms[0].get("/", &[("authorization", &auth)]).unwrap();
    assert!(matches!(o, Outcome::Paused), "no key set yet: {o:?}");
    shared.advance_ms(250);
    vms[0].tick().unwrap();
    let pending = vms[0].state().pending.clone();
    assert_eq!(pending.len(), 1, "the first fetch");
    let (t, callout) = pending[0].clone();
    vms[0].state_mut().pending.push((t, callout.clone()));
    vms[0].state_mut().pending.push((t + 1000, callout));
    let delivered = vms[0].deliver_callouts();
    assert!(delivered.is_ok(), "{delivered:?}");
    let o = crate::remote::wait(&shared, &mut vms, 0, id);
    assert_eq!(o.status(), Some(200), "{o:?}");
    let (_, o) = vms[0].get("/", &[("authorization", &auth)]).unwrap();
    assert_eq!(o.status(), Some(200), "{o:?}");
    assert!(vms[0].trap().is_none(), "{:?}", vms[0].trap());
}

/// Shared data failing on one of two instances (either call, each status, from before the first
/// request): it is only how workers share one fetch, so both instances still decide every request
/// exactly (the good token 200, the forged one 401 `signature_invalid`) and the first key set costs
/// at most one fetch per instance.
#[test]
fn shared_data_failing_on_one_instance_changes_no_decision() {
    for name in ["proxy_get_shared_data", "proxy_set_shared_data"] {
        for status in STATUSES {
            let what = format!("{name} -> {status} on instance 0");
            let shared = Shared::default();
            let serve = Arc::new(Mutex::new(Serve::Keys(vec!["k1"])));
            jwks_server(&shared, &serve);
            let mut vms: Vec<Vm> = (0..2).map(|_| vm(&shared, &remote_config())).collect();
            vms[0].fault(name, status);
            let good = bearer(&token(&shared, "k1"));
            let bad = bearer(&forged(&shared));
            let mut sent = Vec::new();
            for (i, v) in vms.iter_mut().enumerate() {
                for (auth, want) in [
                    (&good, (200, None)),
                    (&bad, (401, Some("signature_invalid"))),
                ] {
                    let (id, o) = v.get("/", &[("authorization", auth)]).unwrap();
                    sent.push((i, id, o, want));
                }
            }
            for (i, id, o, (status, code)) in sent {
                let o = match o {
                    Outcome::Paused => crate::remote::wait(&shared, &mut vms, i, id),
                    decided => decided,
                };
                assert_eq!(
                    (o.status(), o.code().as_deref()),
                    (Some(status), code),
                    "{what}: instance {i}: {o:?}"
                );
            }
            assert!(
                shared.callout_count() <= vms.len(),
                "{what}: {} fetches",
                shared.callout_count()
            );
            for (i, v) in vms.iter().enumerate() {
                assert!(v.trap().is_none(), "{what}: instance {i}: {:?}", v.trap());
            }
        }
    }
}
