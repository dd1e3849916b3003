"""HTTPS plumbing: TLS, authentication, keep-alive, chunked watches, fault
injection (knobs) and the /kubesim/ control endpoints."""

import collections
import contextlib
import hmac
import json
import random
import select
import socket
import ssl
import sys
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import errors
from .api import Api, Request
from .catalog import Catalog
from .controllers import Controllers
from .store import Store, WriteOptions

SEED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass
class Knobs:
    latency_ms: float = 0
    error_rate: float = 0.0
    error_code: int = 500        # 500 InternalError or 503 + Retry-After
    down: bool = False
    ready_ms: int = 100
    crd_delay_ms: int = 50

    def update(self, changes):
        """Apply a control request atomically; ValueError on bad input."""
        if not isinstance(changes, dict):
            raise ValueError("expected a JSON object")
        values = asdict(self)
        for name, value in changes.items():
            if name not in values:
                raise ValueError(f"unknown knob {name!r}")
            kind = type(values[name])
            if kind is bool:
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
            elif isinstance(value, bool) or \
                    not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
            values[name] = kind(value)
        if values["error_code"] not in (500, 503):
            raise ValueError("error_code must be 500 or 503")
        for name, value in values.items():
            setattr(self, name, value)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.counters = collections.Counter()
            self.inflight = 0
            self.max_inflight = 0

    def count(self, name, amount=1):
        with self.lock:
            self.counters[name] += amount

    @contextlib.contextmanager
    def request(self):
        with self.lock:
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            yield
        finally:
            with self.lock:
                self.inflight -= 1

    def snapshot(self):
        with self.lock:
            counters = dict(self.counters)
            return {"requests": {k: v for k, v in counters.items()
                                 if k not in _TOTALS and
                                 not k.startswith("applies_")},
                    **{k: counters.get(k, 0) for k in _TOTALS},
                    "applies_changed": counters.get("applies_changed", 0),
                    "applies_unchanged": counters.get("applies_unchanged", 0),
                    "inflight": self.inflight,
                    "max_inflight": self.max_inflight}


_TOTALS = ("total", "connections", "injected_errors", "dropped",
           "unauthorized")


class Simulator:
    """Everything behind the sockets: catalog, store, controllers, knobs."""

    def __init__(self, knobs, history, seed, token):
        self.initial_knobs = asdict(knobs)
        self.knobs = knobs
        self.token = token
        self.rng = random.Random(seed)
        self.rng_lock = threading.Lock()
        self.stats = Stats()
        self.catalog = Catalog()
        self.store = Store(self.catalog, history)
        self.controllers = Controllers(self.store, knobs)
        self.api = Api(self.catalog, self.store, self.stats)
        self.seed()

    def seed(self):
        """The objects a fresh k3s server has that clients rely on."""
        namespace = self.catalog.lookup("", "v1", "namespaces")
        opts = WriteOptions(manager="k3s")
        for name in SEED_NAMESPACES:
            self.store.create(namespace, "", {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name}}, opts)
        node = self.catalog.lookup("", "v1", "nodes")
        self.store.create(node, "", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "kubesim", "labels": {
                "kubernetes.io/hostname": "kubesim",
                "node-role.kubernetes.io/control-plane": "true"}}}, opts)
        self.store.set_status(node, "", "kubesim", self.store.get(
            node, "", "kubesim")["metadata"]["uid"], {"conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "message": "kubelet is posting ready status"}]}, "k3s")
        crd_type = self.catalog.lookup("apiextensions.k8s.io", "v1",
                                       "customresourcedefinitions")
        for plural, kind in (("helmcharts", "HelmChart"),
                             ("helmchartconfigs", "HelmChartConfig")):
            crd = self.store.create(crd_type, "", {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": f"{plural}.helm.cattle.io"},
                "spec": {"group": "helm.cattle.io", "scope": "Namespaced",
                         "names": {"plural": plural, "singular": kind.lower(),
                                   "kind": kind, "listKind": f"{kind}List"},
                         "versions": [{
                             "name": "v1", "served": True, "storage": True,
                             "subresources": {"status": {}},
                             "schema": {"openAPIV3Schema": {
                                 "type": "object",
                                 "x-kubernetes-preserve-unknown-fields":
                                     True}}}]}}, opts)
            self.controllers.establish(crd)

    def reset(self):
        self.store.reset()
        self.controllers.reset()
        self.knobs.update(self.initial_knobs)
        self.stats.reset()
        self.seed()

    def inject_error(self):
        """An ApiError to answer instead of the real reply, or None."""
        with self.rng_lock:
            if self.knobs.error_rate <= 0 or \
                    self.rng.random() >= self.knobs.error_rate:
                return None
        self.stats.count("injected_errors")
        if self.knobs.error_code == 503:
            return errors.ApiError(
                503, "ServiceUnavailable", "kubesim: injected unavailability",
                {"retryAfterSeconds": 1}, {"Retry-After": "1"})
        return errors.ApiError(500, "InternalError",
                               "Internal error occurred: kubesim: injected "
                               "error", {"causes": [
                                   {"message": "kubesim: injected error"}]})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubesim"
    sys_version = ""
    timeout = 300           # idle keep-alive connections are closed after it

    def setup(self):
        super().setup()
        self.sim = self.server.sim
        self.sim.stats.count("connections")

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write(f"kubesim: {self.address_string()} "
                             f"{fmt % args}\n")

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _serve(self):
        url = urlsplit(self.path)
        body = self._read_body()
        if url.path.startswith("/kubesim/"):
            self._control(url.path, body)
            return
        sim = self.sim
        if sim.knobs.down:
            sim.stats.count("dropped")
            self._drop()
            return
        sim.stats.count("total")
        if not self._authenticated():
            sim.stats.count("unauthorized")
            self._send_error(errors.unauthorized())
            return
        with sim.stats.request():
            if sim.knobs.latency_ms > 0:
                time.sleep(sim.knobs.latency_ms / 1000)
            if sim.knobs.down:
                self._drop()
                return
            failure = sim.inject_error()
            if failure is not None:
                self._send_error(failure)
                return
            req = Request(self.command, url.path, dict(parse_qsl(url.query)),
                          body, self.headers.get("Content-Type", ""),
                          self.headers.get("User-Agent", ""))
            try:
                reply = sim.api.handle(req, self._watch_should_stop)
            except errors.ApiError as exc:
                self._send_error(exc)
                return
            if reply.stream is not None:
                self._send_stream(reply)
            else:
                self._send(reply.code, reply.body, reply.content_type,
                           reply.headers)

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass        # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _authenticated(self):
        if self.connection.getpeercert():
            return True     # verified against the CA by the TLS layer
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and \
            hmac.compare_digest(token.strip(), self.sim.token)

    def _drop(self):
        """Simulate an API server going away: close without answering."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, code, payload, content_type="application/json",
              headers=None):
        data = payload if isinstance(payload, bytes) else \
            json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_error(self, exc):
        self._send(exc.code, exc.status(), headers=exc.headers)

    def _send_stream(self, reply):
        self.send_response(reply.code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        try:
            for event in reply.stream:
                line = json.dumps(event, separators=(",", ":")).encode()
                line += b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            if self.sim.knobs.down:
                self._drop()
            else:
                self.wfile.write(b"0\r\n\r\n")
        except (OSError, ValueError):
            self.close_connection = True

    def _watch_should_stop(self):
        if self.sim.knobs.down or self.server.stopping:
            return True
        try:    # readable while a watch runs means the client went away
            readable, _, _ = select.select([self.connection], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def _control(self, path, body):
        sim = self.sim
        try:
            if path == "/kubesim/control" and self.command == "POST":
                sim.knobs.update(json.loads(body or b"{}"))
                with sim.store.cond:
                    sim.store.cond.notify_all()   # wake watches to see `down`
            elif path == "/kubesim/reset" and self.command == "POST":
                sim.reset()
            elif path == "/kubesim/stats" and self.command == "GET":
                stats = sim.stats.snapshot()
                stats["objects"] = sim.store.count()
                stats["resource_version"] = sim.store.rv
                self._send(200, stats)
                return
            elif path != "/kubesim/control" or self.command != "GET":
                self._send_error(errors.no_route())
                return
            self._send(200, asdict(sim.knobs))
        except ValueError as exc:
            self._send_error(errors.bad_request(f"kubesim control: {exc}"))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address, sim, context, verbose=False):
        super().__init__(address, Handler)
        self.sim = sim
        self.context = context
        self.verbose = verbose
        self.stopping = False

    def finish_request(self, request, client_address):
        """TLS handshake in the connection's own thread, then serve it."""
        request.settimeout(10)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            if self.verbose:
                sys.stderr.write(f"kubesim: TLS handshake failed: {exc}\n")
            request.close()
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def tls_context(directory):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(f"{directory}/server.crt",
                            f"{directory}/server.key")
    context.load_verify_locations(f"{directory}/ca.crt")
    context.verify_mode = ssl.CERT_OPTIONAL
    return context
