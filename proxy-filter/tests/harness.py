"""Shared pieces for the real-Envoy tests, the demo and the benchmark (Python stdlib only).

- `EchoServer`: a local upstream that answers 200 with the request it received as JSON.
- `bootstrap(...)`: an Envoy bootstrap (JSON) with one listener per filter configuration, every
  listener on 127.0.0.1, the tokenward wasm filter in front of the echo cluster.
- `Envoy`: starts Envoy on a generated bootstrap, waits until it is ready, stops it.
- `hs_token(...)`: an HS256 JWT minted with `hmac` (independent of tokenward).
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The echo upstream must accept the many-header requests the tests send (the default is 100).
http.client._MAXHEADERS = 1000

WASM_FILTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
HCM_TYPE = (
    "type.googleapis.com/envoy.extensions.filters.network."
    "http_connection_manager.v3.HttpConnectionManager"
)
ROUTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}


_GIVEN = set()


def free_port():
    """A free port on 127.0.0.1, never the same one twice in this process (the kernel may hand
    out a just-closed port again, and a bootstrap with two equal ports fails)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs_token(secret, claims, header=None, alg="HS256"):
    """A compact JWS signed with HMAC (HS256/384/512) by the standard library."""
    header = header or {"alg": alg, "typ": "JWT"}
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    sig = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return signing_input + "." + b64url(sig)


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        headers = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        body = json.dumps({"method": self.command, "path": self.path, "headers": headers}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _answer

    def log_message(self, *args):
        pass


class EchoServer:
    """The upstream: 200 with `{"method", "path", "headers": {name: [values]}}`."""

    def __init__(self, port=0):
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _Echo)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def wasm_filter(wasm_path, configuration, vm_id="tokenward", env=None, name="tokenward"):
    """The `envoy.filters.http.wasm` entry for one tokenward configuration (a dict or a string)."""
    if not isinstance(configuration, str):
        configuration = json.dumps(configuration)
    vm_config = {
        "vm_id": vm_id,
        "runtime": "envoy.wasm.runtime.v8",
        "code": {"local": {"filename": wasm_path}},
    }
    if env:
        vm_config["environment_variables"] = {"key_values": dict(env)}
    return {
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": WASM_FILTER_TYPE,
            "config": {
                "name": name,
                "root_id": "tokenward",
                "vm_config": vm_config,
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": configuration,
                },
                "fail_open": False,
            },
        },
    }


def listener(name, port, http_filters, upstream_cluster="echo", extra_routes=None):
    routes = list(extra_routes or [])
    routes.append({"match": {"prefix": "/"}, "route": {"cluster": upstream_cluster, "timeout": "10s"}})
    return {
        "name": name,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": {
                            "@type": HCM_TYPE,
                            "stat_prefix": name,
                            # Large tokens are part of the vectors (size limits up to 1 MiB).
                            "max_request_headers_kb": 8192,
                            "common_http_protocol_options": {"max_headers_count": 500},
                            "route_config": {
                                "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": routes}]
                            },
                            "http_filters": list(http_filters) + [ROUTER],
                        },
                    }
                ]
            }
        ],
    }


def cluster(name, port):
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}
                            }
                        }
                    ]
                }
            ],
        },
    }


def bootstrap(admin_port, listeners, clusters, lds_path=None):
    doc = {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}},
        "static_resources": {"listeners": listeners, "clusters": clusters},
    }
    if lds_path:
        doc["dynamic_resources"] = {
            "lds_config": {"path_config_source": {"path": lds_path}, "resource_api_version": "V3"}
        }
        doc["node"] = {"id": "tokenward-test", "cluster": "tokenward-test"}
    return doc


class Envoy:
    """Runs Envoy on a bootstrap until `stop()`; `log` is the path of its log file."""

    def __init__(self, binary, config, admin_port, concurrency=1, workdir=None, log_level="info"):
        self.binary = binary
        self.admin_port = admin_port
        self.workdir = workdir or tempfile.mkdtemp(prefix="tokenward-envoy-")
        self.config_path = os.path.join(self.workdir, "envoy.json")
        self.log = os.path.join(self.workdir, "envoy.log")
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=1)
        self.concurrency = concurrency
        self.log_level = log_level
        self.proc = None

    def start(self, wait=True, timeout=60):
        self.logfile = open(self.log, "w")
        self.proc = subprocess.Popen(
            [
                self.binary,
                "-c",
                self.config_path,
                "--concurrency",
                str(self.concurrency),
                "--base-id",
                str(self.admin_port),
                "-l",
                self.log_level,
                "--component-log-level",
                "wasm:debug",
                "--disable-hot-restart",
            ],
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"envoy exited with {self.proc.returncode}; log:\n{self.tail()}")
            try:
                status, body, _ = request("127.0.0.1", self.admin_port, "GET", "/ready")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"envoy not ready after {timeout}s; log:\n{self.tail()}")

    def wait_exit(self, timeout=60):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stats(self, prefix="wasmcustom.tokenward"):
        _, body, _ = request("127.0.0.1", self.admin_port, "GET", "/stats?filter=" + prefix)
        out = {}
        for line in body.decode().splitlines():
            name, _, value = line.partition(": ")
            if value.strip().isdigit():
                out[name.strip()] = int(value)
        return out

    def tail(self, n=40):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "logfile", None):
            self.logfile.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def request(host, port, method, path, headers=(), timeout=10):
    """One HTTP/1.1 request; `headers` is a list of (name, value) (a name may repeat).
    Returns (status, body bytes, {lowercase name: [values]})."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        got = {}
        for name, value in resp.getheaders():
            got.setdefault(name.lower(), []).append(value)
        return resp.status, body, got
    finally:
        conn.close()
