#!/usr/bin/env python3
"""wrk benchmark: no auth vs Envoy's jwt_authn vs tokenward (cache on/off), HS256 / RS256 / ES256.

Usage: proxy-filter/bench/run [--duration 5] [--connections 10]
Envoy runs with --concurrency 1 (one worker) on 127.0.0.1, routes answer with a direct 200 so
only the filter is measured; wrk runs with one thread. Tokens are minted by openssl with the
fixed keys in vectors/keys (independent of tokenward). Prints one Markdown table.
"""

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import harness  # noqa: E402

KEYS = os.path.join(ROOT, "vectors", "keys")
ISS = "https://bench.tokenward.test"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_to_raw(der, size):
    # SEQUENCE { INTEGER r, INTEGER s } -> r || s
    i = 2 if der[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        assert der[i] == 2
        n = der[i + 1]
        v = der[i + 2 : i + 2 + n].lstrip(b"\0")
        out += v.rjust(size, b"\0")
        i += 2 + n
    return out


def mint(alg, kid):
    now = int(time.time())
    header = {"alg": alg, "kid": kid, "typ": "JWT"}
    claims = {"iss": ISS, "aud": "api", "sub": "bench", "iat": now, "exp": now + 3600, "scope": "read"}
    si = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + b64(json.dumps(claims, separators=(",", ":")).encode())
    if alg == "HS256":
        import hashlib
        import hmac

        secret = open(os.path.join(KEYS, "hmac.secret")).read().strip().encode()
        return si + "." + b64(hmac.new(secret, si.encode(), hashlib.sha256).digest())
    key = {"RS256": "rsa-2048.private.pem", "ES256": "ec-p256.private.pem"}[alg]
    sig = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", os.path.join(KEYS, key)], input=si.encode(), capture_output=True, check=True
    ).stdout
    if alg == "ES256":
        sig = der_to_raw(sig, 32)
    return si + "." + b64(sig)


def jwks_for(alg):
    pub = json.load(open(os.path.join(KEYS, "jwks.json")))["keys"]
    if alg == "HS256":
        secret = open(os.path.join(KEYS, "hmac.secret")).read().strip().encode()
        return {"keys": [{"kty": "oct", "kid": "hs-bench", "alg": "HS256", "k": b64(secret)}]}, "hs-bench"
    kid = {"RS256": "rsa-1", "ES256": "ec-256"}[alg]
    return {"keys": [k for k in pub if k["kid"] == kid]}, kid


def direct_listener(name, port, filters):
    l = harness.listener(name, port, filters)
    hcm = l["filter_chains"][0]["filters"][0]["typed_config"]
    hcm["route_config"]["virtual_hosts"][0]["routes"] = [
        {"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": {"inline_string": "ok"}}}
    ]
    return l


def jwt_authn(jwks):
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": {
                "p": {
                    "issuer": ISS,
                    "audiences": ["api"],
                    "local_jwks": {"inline_string": json.dumps(jwks)},
                    "forward": False,
                }
            },
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "p"}}],
        },
    }


def tokenward(wasm, jwks, cache, vm):
    doc = {
        "security": {"jwt_issuer": ISS, "jwt_audiences": ["api"]},
        "keys": {"jwks": jwks},
        "filter": {"cache_size": cache, "audit_log": "off", "crypto": "auto"},
    }
    return harness.wasm_filter(wasm, doc, vm_id=vm)


def wrk(port, token, duration, connections):
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}/api"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, float(p99.group(1)) * scale, int(non2xx.group(1)) if non2xx else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--envoy", required=True)
    ap.add_argument("--wasm", required=True)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=10)
    args = ap.parse_args()
    runs = []  # (alg, config, port, token)
    listeners = []
    port = harness.free_port()
    listeners.append(direct_listener("noauth", port, []))
    runs.append(("-", "no auth", port, None))
    # The filter's floor: auth_mode disabled (headers read and stripped, no token work).
    jwks, _ = jwks_for("HS256")
    floor = tokenward(args.wasm, jwks, 0, "tw")
    doc = json.loads(floor["typed_config"]["config"]["configuration"]["value"])
    doc["auth_mode"] = "disabled"
    floor["typed_config"]["config"]["configuration"]["value"] = json.dumps(doc)
    port = harness.free_port()
    listeners.append(direct_listener("floor", port, [floor]))
    runs.append(("-", "tokenward, auth_mode disabled", port, None))
    for alg in ("HS256", "RS256", "ES256"):
        jwks, _ = jwks_for(alg)
        token = mint(alg, jwks["keys"][0]["kid"])
        for label, filt in [
            ("jwt_authn", jwt_authn(jwks)),
            ("tokenward, cache off", tokenward(args.wasm, jwks, 0, "tw")),
            ("tokenward, cache 1024", tokenward(args.wasm, jwks, 1024, "tw")),
        ]:
            p = harness.free_port()
            listeners.append(direct_listener(f"l{len(listeners)}", p, [filt]))
            runs.append((alg, label, p, token))
    admin = harness.free_port()
    boot = harness.bootstrap(admin, listeners, [harness.cluster("none", 9)])
    with harness.Envoy(args.envoy, boot, admin, concurrency=1, log_level="warning"):
        results = []
        for alg, label, p, token in runs:
            wrk(p, token, 1, args.connections)  # warm-up
            rps, p99, bad = wrk(p, token, args.duration, args.connections)
            results.append((alg, label, rps, p99, bad))
    base = {alg: rps for alg, label, rps, _, _ in results if label == "jwt_authn"}
    print(f"| alg | config | requests/s | p99 ms | vs jwt_authn | non-2xx |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for alg, label, rps, p99, bad in results:
        ratio = f"{rps / base[alg]:.2f}x" if alg in base else ""
        print(f"| {alg} | {label} | {rps:.0f} | {p99:.2f} | {ratio} | {bad} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
