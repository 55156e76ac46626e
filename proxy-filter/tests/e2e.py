#!/usr/bin/env python3
"""End-to-end tests of the tokenward filter in a real Envoy (stdlib only).

Suites (all by default; `--suite NAME` repeats to pick):
  scenarios  hand-written cases: claim headers and spoofing, 401/403 bodies and challenges,
             routes and auth modes, Authorization forward/strip, stats, audit lines
  config     a bad configuration is rejected (Envoy exits, one log line naming the field)
  jwks       remote keys with 4 workers: JWKS down at start then up (requests wait), one shared
             fetch, rotation through the unknown-kid refetch, garbage / 500 after a good fetch
             (last good kept), an unknown-kid flood, OIDC discovery
  vectors    every token and request case of every vector file through Envoy, twice: with the
             BoringSSL offload (`crypto: auto`) and with the in-wasm provider (`crypto: wasm`),
             so both must give the vector's decision
  policies   every `expect_policy` vector: the configuration is accepted or rejected (LDS)

Vector files come from vectors/ and from $TOKENWARD_VECTORS_DIR when set. Each file's fixed
`now` reaches the filter through the test-only `filter.fixed_now` setting.

Exit status 0 only when every check passed; the last line is `N passed, N failed`.
"""

import argparse
import base64
import glob
import json
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = []
        self.skipped = []

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed.append(f"{name}: {detail}")
            print(f"FAIL {name}: {detail}", flush=True)

    def skip(self, name, why):
        self.skipped.append(f"{name}: {why}")


def body_json(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# scenarios

SECRET = "tw-e2e-" + "Q7mX2pL9vR4sK8dN3bF6hJ1cW5gT0yZa"  # 39 bytes, not a placeholder
ISS = "https://idp.e2e.test"
NOW = int(time.time())


def scenario_policy(**extra):
    doc = {
        "security": {"jwt_issuer": ISS, "jwt_audiences": ["api"]},
        "keys": {"secret_env": "TW_SECRET"},
        "payload_header": "x-jwt-payload",
        "routes": [
            {"path_prefix": "/public", "auth_mode": "disabled"},
            {"path_prefix": "/opt", "auth_mode": "optional"},
            {"path_prefix": "/admin", "scopes": {"all_of": ["admin"]}},
        ],
        "filter": {"claim_to_headers": {"sub": "x-user-id", "scope": "x-scopes"}, "audit_log": "info"},
    }
    for k, v in extra.items():
        if k == "filter":
            doc["filter"].update(v)
        else:
            doc[k] = v
    return doc


def claims(**over):
    c = {"iss": ISS, "aud": "api", "sub": "user-1", "iat": NOW - 10, "exp": NOW + 600, "scope": "read write"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def run_scenarios(envoy_bin, wasm, res):
    with harness.EchoServer() as echo:
        ports = {name: harness.free_port() for name in ("main", "fwd")}
        admin = harness.free_port()
        env = {"TW_SECRET": SECRET}
        listeners = [
            harness.listener("main", ports["main"], [harness.wasm_filter(wasm, scenario_policy(), env=env)]),
            harness.listener(
                "fwd",
                ports["fwd"],
                [
                    harness.wasm_filter(
                        wasm,
                        scenario_policy(
                            resource_metadata="https://api.e2e.test/.well-known/oauth-protected-resource",
                            filter={"forward_authorization": True, "audit_log": "off"},
                        ),
                        env=env,
                    )
                ],
            ),
        ]
        boot = harness.bootstrap(admin, listeners, [harness.cluster("echo", echo.port)])
        with harness.Envoy(envoy_bin, boot, admin) as envoy:
            scenario_checks(envoy, ports, res)


def scenario_checks(envoy, ports, res):
    def get(path, headers=(), listener="main"):
        return harness.request("127.0.0.1", ports[listener], "GET", path, list(headers))

    good = harness.hs_token(SECRET, claims())
    payload_segment = good.split(".")[1]

    # 200: claim headers injected, spoofed copies removed, Authorization stripped by default.
    status, body, _ = get(
        "/api/items?x=1",
        [
            ("authorization", "Bearer " + good),
            ("x-user-id", "spoofed-admin"),
            ("x-jwt-payload", "spoofed"),
            ("x-scopes", "admin"),
            ("x-trace-id", " trace-1 "),
        ],
    )
    echo = body_json(body) or {}
    h = echo.get("headers", {})
    res.check("allow: status 200", status == 200, f"got {status} {body[:200]!r}")
    res.check("allow: x-user-id injected, spoofed copy removed", h.get("x-user-id") == ["user-1"], h.get("x-user-id"))
    res.check("allow: x-scopes from the token only", h.get("x-scopes") == ["read write"], h.get("x-scopes"))
    res.check("allow: payload header", h.get("x-jwt-payload") == [payload_segment], h.get("x-jwt-payload"))
    res.check("allow: trace id forwarded trimmed", h.get("x-trace-id") == ["trace-1"], h.get("x-trace-id"))
    res.check("allow: authorization stripped by default", "authorization" not in h, h.get("authorization"))
    res.check("allow: path and query reach upstream", echo.get("path") == "/api/items?x=1", echo.get("path"))

    # A spoofed header behind more entries than the core keeps (256) is still removed.
    many = [(f"x-pad-{i}", "p") for i in range(300)]
    status, body, _ = get("/api", [("authorization", "Bearer " + good)] + many + [("x-user-id", "spoofed-late")])
    h = (body_json(body) or {}).get("headers", {})
    res.check("allow: spoofed header after 300 others removed", status == 200 and h.get("x-user-id") == ["user-1"], (status, h.get("x-user-id")))

    # Case-insensitive scheme.
    status, _, _ = get("/api", [("authorization", "bearer " + good)])
    res.check("allow: lowercase bearer", status == 200, status)

    # Spoofed headers are stripped even when no token is checked.
    status, body, _ = get("/public/x", [("x-user-id", "spoofed"), ("x-jwt-payload", "spoofed")])
    h = (body_json(body) or {}).get("headers", {})
    res.check("public: 200 without a token", status == 200, status)
    res.check("public: spoofed claim headers removed", "x-user-id" not in h and "x-jwt-payload" not in h, h)

    def deny(name, path, headers, want_status, want_code, want_challenge, listener="main"):
        status, body, got = get(path, headers, listener)
        j = body_json(body) or {}
        res.check(f"{name}: status {want_status}", status == want_status, f"got {status} {body[:200]!r}")
        res.check(f"{name}: error {want_code}", j.get("error") == want_code, j)
        res.check(f"{name}: error_description present", isinstance(j.get("error_description"), str), j)
        res.check(
            f"{name}: content-type application/json",
            got.get("content-type") == ["application/json"],
            got.get("content-type"),
        )
        challenge = (got.get("www-authenticate") or [None])[0]
        res.check(f"{name}: WWW-Authenticate", want_challenge(challenge), challenge)
        return challenge

    deny("missing token", "/api", [], 401, "token_missing", lambda c: c == "Bearer")
    invalid = lambda c: c is not None and c.startswith('Bearer error="invalid_token", error_description="')  # noqa: E731
    deny(
        "expired token",
        "/api",
        [("authorization", "Bearer " + harness.hs_token(SECRET, claims(iat=NOW - 7200, exp=NOW - 3600)))],
        401,
        "token_expired",
        invalid,
    )
    deny(
        "bad signature",
        "/api",
        [("authorization", "Bearer " + harness.hs_token("another-secret-of-enough-length-0123456789", claims()))],
        401,
        "signature_invalid",
        invalid,
    )
    deny("malformed token", "/api", [("authorization", "Bearer not.a.jwt")], 401, "token_malformed", invalid)
    deny(
        "wrong audience",
        "/api",
        [("authorization", "Bearer " + harness.hs_token(SECRET, claims(aud="web")))],
        401,
        "audience_invalid",
        invalid,
    )
    deny(
        "insufficient scope",
        "/admin/users",
        [("authorization", "Bearer " + good)],
        403,
        "insufficient_scope",
        lambda c: c is not None and c.startswith('Bearer error="insufficient_scope", scope="admin"'),
    )
    status, _, _ = get("/admin/users", [("authorization", "Bearer " + harness.hs_token(SECRET, claims(scope="admin")))])
    res.check("admin scope: 200", status == 200, status)

    # Optional mode: anonymous passes, a bad token does not.
    status, body, _ = get("/opt/feed")
    res.check("optional: anonymous 200", status == 200, status)
    status, body, _ = get("/opt/feed", [("authorization", "Bearer garbage")])
    res.check("optional: bad token 401", status == 401 and (body_json(body) or {}).get("error") == "token_malformed", status)

    # forward_authorization and resource_metadata (RFC 9728) on the second listener.
    status, body, _ = get("/api", [("authorization", "Bearer " + good)], "fwd")
    h = (body_json(body) or {}).get("headers", {})
    res.check("forward: authorization kept", h.get("authorization") == ["Bearer " + good], h.get("authorization"))
    deny(
        "resource_metadata challenge",
        "/api",
        [],
        401,
        "token_missing",
        lambda c: c == 'Bearer resource_metadata="https://api.e2e.test/.well-known/oauth-protected-resource"',
        "fwd",
    )

    # Stats and audit lines.
    stats = {}
    for _ in range(50):
        stats = envoy.stats()
        if stats.get("wasmcustom.tokenward_denied_token_missing", 0) >= 2:
            break
        time.sleep(0.1)
    res.check("stats: allowed counted", stats.get("wasmcustom.tokenward_allowed", 0) >= 5, stats)
    res.check("stats: denied per code", stats.get("wasmcustom.tokenward_denied_token_expired", 0) >= 1, stats)
    res.check("stats: insufficient_scope", stats.get("wasmcustom.tokenward_denied_insufficient_scope", 0) >= 1, stats)
    with open(envoy.log, errors="replace") as f:
        log = f.read()
    audit_lines = [line for line in log.splitlines() if '"decision":"deny"' in line and '"code":"token_expired"' in line]
    res.check("audit: one JSON line per decision", len(audit_lines) >= 1, "no deny audit line in the Envoy log")
    res.check("audit: token never logged", good not in log, "the token appears in the Envoy log")


# ---------------------------------------------------------------------------------------------
# scanner velocity across workers


def run_velocity(envoy_bin, wasm, res):
    """`scanner.max_requests_per_window` counted per client across 4 workers: every request opens
    a new connection, so Envoy spreads them over its workers, and one shared count still holds."""
    doc = scenario_policy(
        scanner={"mode": "block", "max_requests_per_window": 5},
        filter={"velocity_window_seconds": 600, "audit_log": "off"},
    )
    token = harness.hs_token(SECRET, claims())
    auth = ("authorization", "Bearer " + token)
    with harness.EchoServer() as echo:
        port, admin = harness.free_port(), harness.free_port()
        boot = harness.bootstrap(
            admin,
            [harness.listener("velocity", port, [harness.wasm_filter(wasm, doc, env={"TW_SECRET": SECRET})])],
            [harness.cluster("echo", echo.port)],
        )
        with harness.Envoy(envoy_bin, boot, admin, concurrency=4, log_level="warning") as envoy:
            a = [("x-forwarded-for", "192.0.2.7"), auth]
            first = [harness.request("127.0.0.1", port, "GET", "/api", a)[0] for _ in range(5)]
            res.check("velocity: 5 requests within the limit pass", first == [200] * 5, first)
            status, body, got = harness.request("127.0.0.1", port, "GET", "/api", a)
            j = body_json(body) or {}
            res.check(
                "velocity: the 6th request from one client is 403 scanner_blocked (4 workers, one count)",
                status == 403 and j.get("error") == "scanner_blocked" and "www-authenticate" not in got,
                (status, j.get("error")),
            )
            status, _, _ = harness.request("127.0.0.1", port, "GET", "/public", a)
            res.check("velocity: the client stays blocked on open routes too", status == 403, status)
            b = [("x-forwarded-for", "192.0.2.8"), auth]
            status, _, _ = harness.request("127.0.0.1", port, "GET", "/api", b)
            res.check("velocity: another client is not affected", status == 200, status)
            status, _, _ = harness.request("127.0.0.1", port, "GET", "/api", [auth])
            res.check("velocity: the direct client (127.0.0.1) counts separately", status == 200, status)
            stats = envoy.stats()
            res.check(
                "velocity: denials counted as scanner_blocked",
                stats.get("wasmcustom.tokenward_denied_scanner_blocked", 0) == 2,
                stats.get("wasmcustom.tokenward_denied_scanner_blocked"),
            )


# ---------------------------------------------------------------------------------------------
# config rejection


def run_config(envoy_bin, wasm, res):
    cases = [
        ("filter field wrong type", {"filter": {"cache_size": "big"}}, "filter.cache_size"),
        ("policy field missing", {"security": {"jwt_issuer": None}}, "security.jwt_issuer"),
        ("unknown filter field", {"filter": {"forward": True}}, "filter.forward"),
    ]
    for name, patch, field in cases:
        doc = scenario_policy()
        for k, v in patch.items():
            if k == "filter":
                doc["filter"].update(v)
            elif k == "security":
                doc["security"] = {kk: vv for kk, vv in doc["security"].items() if kk not in v}
        admin = harness.free_port()
        boot = harness.bootstrap(
            admin,
            [harness.listener("bad", harness.free_port(), [harness.wasm_filter(wasm, doc, env={"TW_SECRET": SECRET})])],
            [harness.cluster("echo", 9)],
        )
        envoy = harness.Envoy(envoy_bin, boot, admin)
        envoy.start(wait=False)
        rc = envoy.wait_exit(60)
        envoy.stop()
        with open(envoy.log, errors="replace") as f:
            lines = [l for l in f if "configuration rejected" in l]
        res.check(f"bad config ({name}): Envoy refuses to start", rc not in (None, 0), f"exit {rc}")
        res.check(
            f"bad config ({name}): one log line naming {field}",
            len(lines) == 1 and f": {field}: " in lines[0],
            lines,
        )


# ---------------------------------------------------------------------------------------------
# vectors


def vector_files(extra_dirs):
    dirs = [os.path.join(ROOT, "vectors")] + [d for d in extra_dirs if d]
    files = []
    for d in dirs:
        files += sorted(glob.glob(os.path.join(d, "*.json")))
    return files


def header_safe(value):
    """Whether a value survives an HTTP/1.1 header unchanged (no trimming, no control bytes)."""
    if value != value.strip(" \t"):
        return False
    return all(c == "\t" or (0x20 <= ord(c) != 0x7F) for c in value)


_clients = iter(range(1, 1 << 24))


def next_client():
    """A fresh client address: Envoy takes the downstream address from the last
    `x-forwarded-for` entry (HCM defaults), so every vector case counts as its own client."""
    n = next(_clients)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def velocity_counted(policy):
    scanner = (policy or {}).get("scanner") or {}
    return scanner.get("mode", "off") != "off" and scanner.get("max_requests_per_window") is not None


def vector_requests(path, data):
    """(case name, method, path, [(header, value)], expect, skip reason, priming requests) for
    each case. A `requests_in_window: N` case is sent after N - 1 identical requests from the same
    client, so the filter's own counter reaches N (when the policy counts at all)."""
    scope_routes = {}
    out = []
    counted = velocity_counted(data.get("policy") if isinstance(data.get("policy"), dict) else None)
    for i, case in enumerate(data.get("cases", [])):
        name = case.get("name", f"#{i}")
        expect = case.get("expect", {})
        client = ("x-forwarded-for", None)  # filled in per listener: see run_vectors
        if "request" in case:
            spec = case["request"]
            prime = 0
            if "requests_in_window" in spec and counted:
                prime = int(spec["requests_in_window"]) - 1
                if prime > 1000:
                    out.append((name, None, None, None, expect, f"requests_in_window {prime + 1}: too many priming requests", 0))
                    continue
            headers = []
            for hn, hv in (spec.get("headers") or {}).items():
                for v in hv if isinstance(hv, list) else [hv]:
                    headers.append((hn, v))
            if any(not header_safe(v) or v == "" for _, v in headers):
                out.append((name, None, None, None, expect, "a header value that HTTP/1.1 cannot carry unchanged", 0))
                continue
            if spec["method"] != spec["method"].upper():
                out.append((name, None, None, None, expect, "a lowercase method: Envoy's HTTP/1 codec answers 400 before any filter", 0))
                continue
            if not any(hn.lower() == "x-forwarded-for" for hn, _ in headers):
                headers.append(client)
            p = spec["path"]
            if spec.get("query") is not None:
                p += "?" + spec["query"]
            out.append((name, spec["method"], p, headers, expect, None, prime))
            continue
        token = case.get("token")
        if not isinstance(token, str) or token == "" or not header_safe(token):
            out.append((name, None, None, None, expect, "a token that an Authorization header cannot carry unchanged", 0))
            continue
        if any(c in token for c in " \t"):
            out.append((name, None, None, None, expect, "whitespace inside the token: a Bearer header would split it (invalid_request)", 0))
            continue
        try:
            token.encode("latin-1")
        except UnicodeEncodeError:
            out.append((name, None, None, None, expect, "a non-Latin-1 token (HTTP headers carry bytes)", 0))
            continue
        p = "/__tw_vector"
        scopes = case.get("required_scopes")
        if scopes:
            key = json.dumps(sorted(scopes))
            if key not in scope_routes:
                scope_routes[key] = f"/__tw_scopes/{len(scope_routes)}"
            p = scope_routes[key]
        out.append((name, "GET", p, [("authorization", "Bearer " + token), client], expect, None, 0))
    routes = [{"path": p, "scopes": {"all_of": json.loads(k)}} for k, p in scope_routes.items()]
    return out, routes


def run_vectors(envoy_bin, wasm, res, extra_dirs, crypto_modes=("auto", "wasm")):
    files = [f for f in vector_files(extra_dirs) if "cases" in json.load(open(f))]
    plans = []
    listeners = []
    vm_ids = {}
    for f in files:
        data = json.load(open(f))
        if not isinstance(data.get("policy"), dict):
            res.skip(os.path.basename(f), "policy given as text: the filter section cannot be added")
            continue
        reqs, routes = vector_requests(f, data)
        env = data.get("env") or {}
        vm_key = json.dumps(env, sort_keys=True)
        vm_id = vm_ids.setdefault(vm_key, f"tokenward-{len(vm_ids)}")
        for mode in crypto_modes:
            doc = json.loads(json.dumps(data["policy"]))
            if routes:
                doc["routes"] = routes + list(doc.get("routes") or [])
            doc["filter"] = {"fixed_now": data["now"], "crypto": mode, "audit_log": "off"}
            port = harness.free_port()
            name = f"{os.path.basename(f)}[{mode}]"
            listeners.append(
                harness.listener(f"v{len(listeners)}", port, [harness.wasm_filter(wasm, doc, vm_id=vm_id, env=env)])
            )
            plans.append((name, port, reqs))
    with harness.EchoServer() as echo:
        admin = harness.free_port()
        boot = harness.bootstrap(admin, listeners, [harness.cluster("echo", echo.port)])
        with harness.Envoy(envoy_bin, boot, admin, log_level="warning") as envoy:
            for name, port, reqs in plans:
                for case, method, path, headers, expect, skip, prime in reqs:
                    label = f"{name} case {case}"
                    if skip:
                        if name.endswith("[auto]"):
                            res.skip(label, skip)
                        continue
                    # A fresh client per case and listener (the listeners of one file share a VM
                    # and so the velocity table).
                    headers = [(h, next_client() if v is None else v) for h, v in headers]
                    for _ in range(prime):
                        harness.request("127.0.0.1", port, method, path, headers)
                    check_vector_case(res, label, port, method, path, headers, expect)
            stats = envoy.stats()
            res.check(
                "vectors: the offload ran (crypto auto)",
                stats.get("wasmcustom.tokenward_offloaded", 0) > 0,
                stats.get("wasmcustom.tokenward_offloaded"),
            )


def check_vector_case(res, label, port, method, path, headers, expect):
    try:
        status, body, got = harness.request("127.0.0.1", port, method, path, headers)
    except OSError as e:
        res.check(label, False, f"request failed: {e}")
        return
    j = body_json(body) or {}
    want_valid = expect.get("valid", True)
    problems = []
    if want_valid:
        if status != 200:
            problems.append(f"expected allow (200), got {status} {j.get('error')}")
        want_status = expect.get("status")
        if want_status is not None and want_status != status and status != 200:
            problems.append(f"expected status {want_status}, got {status}")
        upstream = j.get("headers", {}) if status == 200 else {}
        for hn, hv in (expect.get("headers") or {}).items():
            if upstream.get(hn.lower(), [None])[0] != hv:
                problems.append(f"header {hn}: expected {hv!r}, got {upstream.get(hn.lower())!r}")
        sent = {}
        for sn, sv in headers:
            sent.setdefault(sn.lower(), []).append(sv)
        for hn in expect.get("headers_absent") or []:
            # "Not injected": a header the client sent itself may still pass through unchanged.
            if hn.lower() in upstream and upstream[hn.lower()] != sent.get(hn.lower()):
                problems.append(f"header {hn} should be absent, got {upstream[hn.lower()]!r}")
    else:
        code = expect.get("code")
        if status == 200:
            problems.append(f"expected deny {code}, got 200")
        else:
            if code and j.get("error") != code:
                problems.append(f"expected {code}, got {status} {j.get('error')}")
            if expect.get("status") is not None and expect["status"] != status:
                problems.append(f"expected status {expect['status']}, got {status}")
            challenge = (got.get("www-authenticate") or [None])[0]
            wa = expect.get("www_authenticate", "absent-key")
            if isinstance(wa, str) and wa != "absent-key" and (challenge is None or wa not in challenge):
                problems.append(f"expected WWW-Authenticate containing {wa!r}, got {challenge!r}")
            if (wa is None or expect.get("www_authenticate_absent")) and challenge is not None:
                problems.append(f"expected no WWW-Authenticate, got {challenge!r}")
    res.check(label, not problems, "; ".join(problems))


def run_policies(envoy_bin, wasm, res, extra_dirs):
    """Each `expect_policy` file through LDS: an accepted update or a rejected one."""
    files = [f for f in vector_files(extra_dirs) if "expect_policy" in json.load(open(f))]
    work = tempfile.mkdtemp(prefix="tokenward-lds-")
    lds = os.path.join(work, "lds.json")
    port = harness.free_port()

    def write_lds(resources):
        tmp = lds + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"version_info": str(time.monotonic_ns()), "resources": resources}, f)
        os.rename(tmp, lds)

    write_lds([])
    admin = harness.free_port()
    boot = harness.bootstrap(admin, [], [harness.cluster("echo", 9)], lds_path=lds)
    with harness.Envoy(envoy_bin, boot, admin, log_level="info") as envoy:
        vm_ids = {}
        for f in files:
            data = json.load(open(f))
            name = os.path.basename(f)
            expect = data["expect_policy"]
            env = data.get("env") or {}
            vm_id = vm_ids.setdefault(json.dumps(env, sort_keys=True), f"tokenward-p{len(vm_ids)}")
            policy = data["policy"]
            before = envoy.stats("listener_manager.lds")
            with open(envoy.log, errors="replace") as lf:
                log_start = len(lf.read())
            resource = harness.listener("policy", port, [harness.wasm_filter(wasm, policy, vm_id=vm_id, env=env)])
            resource["@type"] = "type.googleapis.com/envoy.config.listener.v3.Listener"
            write_lds([resource])
            key_ok, key_bad = "listener_manager.lds.update_success", "listener_manager.lds.update_rejected"
            after = before
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                after = envoy.stats("listener_manager.lds")
                if after.get(key_ok, 0) > before.get(key_ok, 0) or after.get(key_bad, 0) > before.get(key_bad, 0):
                    break
                time.sleep(0.02)
            accepted = after.get(key_ok, 0) > before.get(key_ok, 0)
            rejected = after.get(key_bad, 0) > before.get(key_bad, 0)
            with open(envoy.log, errors="replace") as lf:
                new_log = lf.read()[log_start:]
            lines = [l for l in new_log.splitlines() if "configuration rejected: " in l]
            want_valid = expect.get("valid", True)
            problems = []
            if not (accepted or rejected):
                problems.append("no LDS update was counted within 30 s")
            elif want_valid and not accepted:
                problems.append(f"expected the policy to load; rejected: {lines}")
            elif not want_valid and not rejected:
                problems.append(f"expected {expect.get('code')}, but the configuration was accepted")
            elif not want_valid:
                if len(lines) != 1:
                    problems.append(f"expected one 'configuration rejected' line, got {len(lines)}")
                else:
                    msg = lines[0].split("configuration rejected: ", 1)[1]
                    if expect.get("code") and not msg.startswith(expect["code"] + ": "):
                        problems.append(f"expected {expect['code']}, got {msg!r}")
                    if expect.get("message_contains") and expect["message_contains"] not in msg:
                        problems.append(f"expected the message to contain {expect['message_contains']!r}, got {msg!r}")
            if want_valid and accepted and "warnings" in expect:
                got = sorted({l.split("policy warning ", 1)[1].split(":", 1)[0] for l in new_log.splitlines() if "policy warning " in l})
                if got != sorted(set(expect["warnings"])):
                    problems.append(f"expected warnings {sorted(expect['warnings'])}, got {got}")
            res.check(f"{name} (policy via LDS)", not problems, "; ".join(problems))
            # The next update replaces this listener in place (same name, same port).



# ---------------------------------------------------------------------------------------------
# remote keys


class JwksServer:
    """A JWKS + discovery server the test controls: `keys`, `mode` (ok / 500 / garbage), `hits`."""

    def __init__(self, port):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.port = port
        self.keys = []
        self.mode = "ok"
        self.hits = 0
        self.discovered_hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path.startswith("/.well-known/openid-configuration"):
                    iss = f"http://127.0.0.1:{outer.port}"
                    body, status = json.dumps({"issuer": iss, "jwks_uri": iss + "/discovered/jwks"}).encode(), 200
                elif self.path.startswith("/discovered/"):
                    outer.discovered_hits += 1
                    body, status = json.dumps({"keys": outer.keys}).encode(), 200
                else:
                    outer.hits += 1
                    if outer.mode == "500":
                        body, status = b'{"error":"down"}', 500
                    elif outer.mode == "garbage":
                        body, status = b"<html>not a key set</html>", 200
                    else:
                        body, status = json.dumps({"keys": outer.keys}).encode(), 200
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.cls = ThreadingHTTPServer
        self.handler = Handler
        self.server = None

    def start(self):
        import threading

        self.server = self.cls(("127.0.0.1", self.port), self.handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def oct_jwk(kid, secret):
    return {"kty": "oct", "kid": kid, "alg": "HS256", "k": harness.b64url(secret.encode())}


def run_jwks(envoy_bin, wasm, res):
    secrets_ = {k: f"rotation-secret-{k}-" + "x9Qm2Lp7Vr4Ks8Dn3Bf6Hj1Cw5Gt0Yz" for k in ("k1", "k2", "k3")}
    tok = {k: harness.hs_token(s, claims(), header={"alg": "HS256", "kid": k}) for k, s in secrets_.items()}
    jport = harness.free_port()
    jwks = JwksServer(jport)
    base_doc = {
        "security": {"jwt_issuer": ISS, "jwt_audiences": ["api"]},
        "filter": {
            "cluster": "jwks",
            "jwks_uri": f"http://127.0.0.1:{jport}/jwks",
            "cooldown_seconds": 2,
            "timeout_ms": 1000,
            "wait_for_keys_ms": 3000,
            "claim_to_headers": {"sub": "x-user-id"},
            "audit_log": "off",
        },
    }
    disc_doc = json.loads(json.dumps(base_doc))
    del disc_doc["filter"]["jwks_uri"]
    disc_doc["filter"]["issuer"] = f"http://127.0.0.1:{jport}"
    with harness.EchoServer() as echo:
        ports = {"remote": harness.free_port(), "discovery": harness.free_port()}
        admin = harness.free_port()
        listeners = [
            harness.listener("remote", ports["remote"], [harness.wasm_filter(wasm, base_doc)]),
            harness.listener("discovery", ports["discovery"], [harness.wasm_filter(wasm, disc_doc)]),
        ]
        boot = harness.bootstrap(admin, listeners, [harness.cluster("echo", echo.port), harness.cluster("jwks", jport)])
        envoy = harness.Envoy(envoy_bin, boot, admin, concurrency=4)
        try:
            envoy.start()

            def get(token, listener="remote"):
                headers = [("authorization", "Bearer " + token)] if token else []
                status, body, _ = harness.request("127.0.0.1", ports[listener], "GET", "/api", headers)
                return status, (body_json(body) or {})

            # JWKS server down at start: the request waits (bounded), then gets the core's error.
            t0 = time.monotonic()
            status, j = get(tok["k1"])
            waited = time.monotonic() - t0
            res.check("jwks down at start: 503 after the bounded wait", status == 503 and j.get("error") == "jwks_invalid", f"{status} {j}")
            res.check("jwks down at start: the request waited for keys", waited >= 2.0, f"answered after {waited:.2f}s")

            # Then up: the first request after it is served once a key set lands (paused, not 401).
            jwks.keys = [oct_jwk("k1", secrets_["k1"])]
            jwks.start()
            deadline = time.monotonic() + 15
            status = None
            while time.monotonic() < deadline:
                status, j = get(tok["k1"])
                if status == 200:
                    break
                time.sleep(0.2)
            res.check("jwks up: 200 once the key set lands", status == 200, f"{status} {j}")
            for _ in range(20):  # spread over the 4 workers
                status, j = get(tok["k1"])
                if status != 200:
                    break
            res.check("jwks: every worker serves with the shared key set", status == 200, f"{status} {j}")
            time.sleep(2.2)  # past the cooldown, so the rotation below may refetch
            res.check("jwks: 4 workers shared one fetch", jwks.hits == 1, f"{jwks.hits} JWKS fetches")

            # Rotation: a token with a new kid triggers one refetch and is served (paused meanwhile).
            jwks.keys = [oct_jwk("k1", secrets_["k1"]), oct_jwk("k2", secrets_["k2"])]
            status, j = get(tok["k2"])
            res.check("rotation: new kid served after the unknown-kid refetch", status == 200, f"{status} {j}")
            res.check("rotation: exactly one refetch", jwks.hits == 2, f"{jwks.hits} JWKS fetches")
            status, j = get(tok["k2"])
            res.check("rotation: new kid served again", status == 200, f"{status} {j}")

            # Garbage after a good fetch: the last good key set is kept.
            time.sleep(2.2)  # cooldown
            jwks.mode = "garbage"
            hits = jwks.hits
            status, j = get(tok["k3"])
            res.check("garbage jwks: unknown kid still 401 key_not_found", status == 401 and j.get("error") == "key_not_found", f"{status} {j}")
            res.check("garbage jwks: a refetch was made", jwks.hits == hits + 1, f"{jwks.hits - hits} fetches")
            status, j = get(tok["k1"])
            res.check("garbage jwks: last good key set kept", status == 200, f"{status} {j}")

            # 500 after a good fetch: the same.
            time.sleep(2.2)
            jwks.mode = "500"
            hits = jwks.hits
            status, j = get(tok["k3"])
            res.check("jwks 500: unknown kid 401", status == 401, f"{status} {j}")
            res.check("jwks 500: a refetch was made", jwks.hits == hits + 1, f"{jwks.hits - hits} fetches")
            status, j = get(tok["k2"])
            res.check("jwks 500: last good key set kept", status == 200, f"{status} {j}")

            # Unknown-kid floods cost at most one fetch per cooldown across all workers, and the
            # parked requests are answered when that fetch fails (not at the end of their wait).
            import concurrent.futures

            time.sleep(2.2)
            hits = jwks.hits
            flood = [harness.hs_token("x" * 40, claims(), header={"alg": "HS256", "kid": f"random-{i}"}) for i in range(16)]
            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(get, flood))
            took = time.monotonic() - t0
            res.check("unknown-kid flood: all 401 key_not_found", all(s == 401 and j.get("error") == "key_not_found" for s, j in answers), answers[:3])
            res.check("unknown-kid flood: at most one fetch per cooldown", jwks.hits - hits <= 1, f"{jwks.hits - hits} fetches")
            res.check("unknown-kid flood: answered before the wait bound", took < 2.9, f"took {took:.2f}s")

            # OIDC discovery names the jwks_uri.
            jwks.mode = "ok"
            time.sleep(1.2)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                status, j = get(tok["k1"], "discovery")
                if status == 200:
                    break
                time.sleep(0.2)
            res.check("discovery: issuer -> jwks_uri -> 200", status == 200 and jwks.discovered_hits >= 1, f"{status} {j}")

            stats = envoy.stats()
            res.check("stats: jwks fetches counted", stats.get("wasmcustom.tokenward_jwks_fetch_ok", 0) >= 2 and stats.get("wasmcustom.tokenward_jwks_fetch_failed", 0) >= 2, stats)
        finally:
            envoy.stop()
            jwks.stop()

# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--envoy", required=True)
    ap.add_argument("--wasm", required=True)
    ap.add_argument("--suite", action="append", choices=["scenarios", "velocity", "config", "jwks", "vectors", "policies"])
    args = ap.parse_args()
    suites = args.suite or ["scenarios", "velocity", "config", "jwks", "vectors", "policies"]
    extra = [os.environ.get("TOKENWARD_VECTORS_DIR", "")]
    res = Results()
    started = time.monotonic()
    for suite in suites:
        t0 = time.monotonic()
        print(f"==> e2e suite {suite}", flush=True)
        try:
            {
                "scenarios": lambda: run_scenarios(args.envoy, args.wasm, res),
                "velocity": lambda: run_velocity(args.envoy, args.wasm, res),
                "config": lambda: run_config(args.envoy, args.wasm, res),
                "jwks": lambda: run_jwks(args.envoy, args.wasm, res),
                "vectors": lambda: run_vectors(args.envoy, args.wasm, res, extra),
                "policies": lambda: run_policies(args.envoy, args.wasm, res, extra),
            }[suite]()
        except Exception as e:  # a harness failure is a test failure, with its reason
            res.check(f"suite {suite}", False, f"{type(e).__name__}: {e}")
        print(f"    {suite}: {time.monotonic() - t0:.1f}s", flush=True)
    for s in res.skipped:
        print(f"skip {s}")
    print(f"e2e: {time.monotonic() - started:.1f}s, {len(res.skipped)} skipped case(s)")
    for f in res.failed:
        print(f"FAILED {f}")
    print(f"{res.passed} passed, {len(res.failed)} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
