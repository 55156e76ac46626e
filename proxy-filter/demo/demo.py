#!/usr/bin/env python3
"""The tokenward demo: Envoy + the filter on 127.0.0.1:10000 in front of an echo upstream.

Dev policy: /public is open, /api needs a valid token, /admin needs scope `admin`. The HS256 dev
key is generated on first run into .tokenward/demo/hmac.secret (git-ignored) and reused after.
Prints three tokens and the curl lines that show 200, 401 and 403, checks them itself, and stays up
until Ctrl-C (or exits after the check with --check). Cleans up Envoy and its files on exit.
"""

import argparse
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import harness  # noqa: E402

ISSUER = "https://demo.tokenward.local"


def dev_secret():
    path = os.path.join(ROOT, ".tokenward", "demo", "hmac.secret")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(secrets.token_urlsafe(36))
        print(f"==> generated a dev HS256 key in {os.path.relpath(path, ROOT)}")
    with open(path) as f:
        return f.read().strip()


def policy():
    return {
        "security": {"jwt_issuer": ISSUER, "jwt_audiences": ["api"]},
        "keys": {"secret_env": "DEMO_SECRET"},
        "routes": [
            {"path_prefix": "/public", "auth_mode": "disabled"},
            {"path_prefix": "/admin", "scopes": {"all_of": ["admin"]}},
            {"path_prefix": "/api"},
        ],
        "filter": {"claim_to_headers": {"sub": "x-user-id", "scope": "x-scopes"}, "audit_log": "info"},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--envoy", required=True)
    ap.add_argument("--wasm", required=True)
    ap.add_argument("--port", type=int, default=10000)
    ap.add_argument("--check", action="store_true", help="check the curl lines, then exit")
    args = ap.parse_args()
    # Ctrl-C must stop the demo even when it was started with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)

    secret = dev_secret()
    now = int(time.time())
    base = {"iss": ISSUER, "aud": "api", "iat": now}
    user = harness.hs_token(secret, dict(base, sub="alice", scope="read", exp=now + 3600))
    admin = harness.hs_token(secret, dict(base, sub="root", scope="admin read", exp=now + 3600))
    expired = harness.hs_token(secret, dict(base, sub="alice", scope="read", iat=now - 7200, exp=now - 3600))

    work = tempfile.mkdtemp(prefix="tokenward-demo-")
    echo = harness.EchoServer().__enter__()
    admin_port = harness.free_port()
    filt = harness.wasm_filter(args.wasm, policy(), env={"DEMO_SECRET": secret, "TOKENWARD_ENV": "dev"})
    boot = harness.bootstrap(
        admin_port, [harness.listener("demo", args.port, [filt])], [harness.cluster("echo", echo.port)]
    )
    envoy = harness.Envoy(args.envoy, boot, admin_port, workdir=work)

    def cleanup(*_):
        envoy.stop()
        echo.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)

    try:
        print(f"==> starting Envoy on 127.0.0.1:{args.port} (admin 127.0.0.1:{admin_port}, log {envoy.log})")
        envoy.start()
        url = f"http://127.0.0.1:{args.port}"
        print()
        print(f"USER_TOKEN={user}      # sub alice, scope read")
        print(f"ADMIN_TOKEN={admin}     # sub root, scope admin read")
        print(f"EXPIRED_TOKEN={expired}   # expired an hour ago")
        print()
        checks = [
            ("open route", f"curl -i {url}/public/hello", "GET", "/public/hello", [], 200),
            ("no token", f"curl -i {url}/api/items", "GET", "/api/items", [], 401),
            ("valid token", f'curl -i -H "Authorization: Bearer $USER_TOKEN" {url}/api/items', "GET", "/api/items", [("authorization", "Bearer " + user)], 200),
            ("expired token", f'curl -i -H "Authorization: Bearer $EXPIRED_TOKEN" {url}/api/items', "GET", "/api/items", [("authorization", "Bearer " + expired)], 401),
            ("missing scope", f'curl -i -H "Authorization: Bearer $USER_TOKEN" {url}/admin/users', "GET", "/admin/users", [("authorization", "Bearer " + user)], 403),
            ("admin scope", f'curl -i -H "Authorization: Bearer $ADMIN_TOKEN" {url}/admin/users', "GET", "/admin/users", [("authorization", "Bearer " + admin)], 200),
        ]
        failed = 0
        for label, line, method, path, headers, want in checks:
            status, body, got = harness.request("127.0.0.1", args.port, method, path, headers)
            mark = "ok" if status == want else f"UNEXPECTED (wanted {want})"
            extra = ""
            if status != 200:
                extra = " " + ((got.get("www-authenticate") or [""])[0] or body.decode(errors="replace"))
            print(f"# {label}: {status} {mark}{extra}")
            print(line)
            failed += status != want
        print()
        if args.check:
            print(f"{len(checks) - failed} passed, {failed} failed")
            return 1 if failed else 0
        print("==> up; Ctrl-C to stop")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while envoy.proc.poll() is None:
            time.sleep(0.5)
        print(f"envoy exited with {envoy.proc.returncode}:\n{envoy.tail()}")
        return 1
    except KeyboardInterrupt:
        print("\n==> stopping")
        return 0
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
