"""HTTPS plumbing: TLS, authentication, keep-alive, chunked watches, fault
injection (knobs) and the /kubesim/ control endpoints."""

import collections
import contextlib
import heapq
import hmac
import json
import random
import select
import selectors
import socket
import ssl
import sys
import threading
import time
from dataclasses import asdict, dataclass
from http import HTTPStatus
from urllib.parse import parse_qsl

from . import errors, pki
from .api import Api, Request
from .catalog import Catalog
from .controllers import Controllers
from .namespaces import NamespaceController
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
    crd_discovery_delay_ms: int = 0     # Established -> served/discovered
    helm_job_delay_ms: int = 300        # chart change -> Job replaced
    aggregated_discovery: bool = True   # off: legacy only, like old k3s

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

    def begin(self):
        """A request is in flight from its arrival until its reply."""
        with self.lock:
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)

    def end(self):
        with self.lock:
            self.inflight -= 1

    def snapshot(self):
        with self.lock:
            counters = dict(self.counters)
            return {"requests": {k: v for k, v in counters.items()
                                 if k not in _TOTALS and
                                 not k.startswith(("applies_", "cipher:"))},
                    "ciphers": {k[len("cipher:"):]: v for k, v in counters.items()
                                if k.startswith("cipher:")},
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
        self.namespaces = NamespaceController(self.store)
        self.namespaces.start()
        self.api = Api(self.catalog, self.store, self.stats, knobs)
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
        # k3s's local-path-provisioner: the default class, binding late
        self.store.create(self.catalog.lookup(
            "storage.k8s.io", "v1", "storageclasses"), "", {
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": "local-path", "annotations": {
                    "storageclass.kubernetes.io/is-default-class": "true"}},
                "provisioner": "rancher.io/local-path",
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "WaitForFirstConsumer"}, opts)
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
        self.namespaces.reset()
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


class BadRequest(Exception):
    """A request that is not HTTP/1.1 as we speak it: answered, then closed."""

    def __init__(self, message, code=400):
        super().__init__(message)
        self.code = code


HEAD_MAX = 64 * 1024            # request line and headers
BODY_MAX = 32 * 1024 * 1024     # a request body (the API server's is 3 MiB)
IDLE_SECONDS = 300              # idle keep-alive connections are closed
HANDSHAKE_SECONDS = 10


@dataclass
class Parsed:
    method: str
    target: str
    headers: dict               # lower-case name -> last value
    body: bytes


def _chunked(buf, pos):
    """(body, end) of a complete chunked body starting at pos, or None."""
    parts, total = [], 0
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            if len(buf) - pos > HEAD_MAX:
                raise BadRequest("malformed chunk size")
            return None
        try:
            size = int(bytes(buf[pos:eol]).split(b";")[0].strip(), 16)
        except ValueError:
            raise BadRequest("malformed chunk size") from None
        total += size
        if total > BODY_MAX:
            raise BadRequest("request body too large", 413)
        pos = eol + 2
        if size == 0:
            end = buf.find(b"\r\n\r\n", pos - 2)    # after any trailers
            if end < 0:
                return None
            return b"".join(parts), end + 4
        if len(buf) < pos + size + 2:
            return None
        if buf[pos + size:pos + size + 2] != b"\r\n":
            raise BadRequest("malformed chunk")
        parts.append(bytes(buf[pos:pos + size]))
        pos += size + 2


class Connection:
    """One keep-alive HTTP/1.1 connection over TLS, driven by the event loop:
    requests are parsed out of what it reads, replies queued for it to
    write, one request at a time in order."""

    def __init__(self, sock, address, server):
        self.sock = sock
        self.address = address
        self.server = server
        self.buf = bytearray()
        self.out = bytearray()
        self.busy = False           # a request is delayed or streaming
        self.streaming = False      # a watch thread owns the socket
        # a client certificate is checked once, by the TLS handshake;
        # whether it was revoked since (a rotation), at every request
        self.verified = bool(sock.getpeercert())
        self.cert = sock.getpeercert(binary_form=True)
        self.closing = False        # close once the reply is written
        self.closed = False
        self.continued = False      # "100 Continue" sent for this request
        self.last = time.monotonic()
        self.events = 0

    # --- parsing --------------------------------------------------------

    def next_request(self):
        """The next complete request in the buffer, or None."""
        buf = self.buf
        end = buf.find(b"\r\n\r\n", 0, HEAD_MAX + 4)
        if end < 0:
            if len(buf) > HEAD_MAX:
                raise BadRequest("request header too large", 431)
            return None
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0") or \
                not parts[1].startswith("/"):
            raise BadRequest(f"malformed request line {lines[0][:80]!r}")
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise BadRequest(f"malformed header line {line[:80]!r}")
            headers[name.lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            found = _chunked(buf, end + 4)
            if found is None:
                self._continue(headers)
                return None
            body, stop = found
        else:
            length = headers.get("content-length", "0")
            if not length.isdigit():
                raise BadRequest("malformed Content-Length")
            if int(length) > BODY_MAX:
                raise BadRequest("request body too large", 413)
            stop = end + 4 + int(length)
            if len(buf) < stop:
                self._continue(headers)
                return None
            body = bytes(buf[end + 4:stop])
        del buf[:stop]
        self.continued = False
        connection = headers.get("connection", "").lower()
        self.closing = "close" in connection or \
            (parts[2] == "HTTP/1.0" and "keep-alive" not in connection)
        return Parsed(parts[0], parts[1], headers, body)

    def _continue(self, headers):
        if not self.continued and \
                headers.get("expect", "").lower() == "100-continue":
            self.continued = True
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    # --- writing --------------------------------------------------------

    def write(self, data):
        self.out += data
        self.flush()

    def flush(self):
        try:
            while self.out:
                sent = self.sock.send(self.out)
                del self.out[:sent]
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError,
                BlockingIOError):
            pass
        except OSError:
            self.close()
            return
        if not self.out and self.closing and not self.busy:
            self.close()
        else:
            self.server.watch(self)

    def close(self):
        if not self.closed:
            self.closed = True
            self.server.forget(self)
            with contextlib.suppress(OSError):
                self.sock.close()

    def drop(self):
        """Simulate an API server going away: close without answering."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.close()


class Watch:
    """A watch streams from a thread of its own, since the store's event
    generator blocks; its connection is out of the event loop meanwhile."""

    def __init__(self, conn, server):
        self.conn = conn
        self.server = server

    def should_stop(self):
        conn, server = self.conn, self.server
        if server.sim.knobs.down or server.stopping or conn.closed:
            return True
        try:    # readable while a watch runs: the client sent more or left
            if conn.buf or conn.sock.pending():
                return True
            readable, _, _ = select.select([conn.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def run(self, req, reply):
        conn, server = self.conn, self.server
        ok = False
        try:
            conn.sock.settimeout(IDLE_SECONDS)
            conn.sock.sendall(bytes(conn.out) + server.head(
                conn, req, reply.code, [
                    ("Content-Type", "application/json"),
                    ("Transfer-Encoding", "chunked"),
                    ("Cache-Control", "no-cache, private")]))
            conn.out.clear()
            for event in reply.stream:
                line = json.dumps(event, separators=(",", ":")).encode()
                line += b"\n"
                conn.sock.sendall(b"%x\r\n%s\r\n" % (len(line), line))
            if server.sim.knobs.down:
                with contextlib.suppress(OSError):
                    conn.sock.shutdown(socket.SHUT_RDWR)
            else:
                conn.sock.sendall(b"0\r\n\r\n")
                ok = True
        except (OSError, ValueError):
            pass
        finally:
            server.sim.stats.end()
            server.call_soon_threadsafe(lambda: self._done(ok))

    def _done(self, ok):
        conn = self.conn
        if not ok:
            conn.close()
            return
        conn.sock.setblocking(False)
        self.server.resume(conn)


class Server:
    """A single-threaded event loop for requests (no thread switch or lock
    hand-off per request: the CPU per request bounds the apply benchmark),
    with a thread per TLS handshake and per watch, which block."""

    def __init__(self, address, sim, context, verbose=False):
        self.sim = sim
        self.context = context
        self.verbose = verbose
        self.stopping = False
        self.listener = socket.create_server(address, backlog=128)
        self.listener.setblocking(False)
        self.server_address = self.listener.getsockname()
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.selector.register(self.wake_r, selectors.EVENT_READ, None)
        self.calls = collections.deque()    # from other threads
        self.timers = []                    # heap of (when, seq, fn)
        self.seq = 0
        self.conns = set()
        self.pki_dir = None         # credentials directory, for rotation

    # --- the loop -------------------------------------------------------

    def serve_forever(self, poll_interval=0.2):
        sweep = time.monotonic()
        while not self.stopping:
            for key, mask in self._wait(poll_interval):
                if key.fileobj is self.listener:
                    self._accept()
                elif key.fileobj is self.wake_r:
                    with contextlib.suppress(BlockingIOError):
                        self.wake_r.recv(4096)
                elif mask & selectors.EVENT_READ:
                    self._readable(key.data)
                else:
                    key.data.flush()
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                heapq.heappop(self.timers)[2]()
            while self.calls:
                self.calls.popleft()()
            if now - sweep > 1:
                sweep = now
                for conn in [c for c in self.conns if not c.busy and
                             now - c.last > IDLE_SECONDS]:
                    conn.close()

    def _wait(self, poll_interval):
        """Ready events, waiting at most until the next timer is due. epoll
        counts whole milliseconds, rounded up: the last part of a wait is
        slept instead, or a 2 ms latency would come out near 3 ms."""
        timeout = poll_interval
        if self.timers:
            timeout = min(timeout, self.timers[0][0] - time.monotonic())
        if timeout <= 0:
            return self.selector.select(0)
        if timeout >= 0.001:
            return self.selector.select(int(timeout * 1000) / 1000)
        events = self.selector.select(0)
        if not events:
            time.sleep(timeout)
        return events

    def call_soon_threadsafe(self, fn):
        self.calls.append(fn)
        with contextlib.suppress(OSError):
            self.wake_w.send(b"x")

    def later(self, delay, fn):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, fn))

    def watch(self, conn):
        """Select the connection for what it waits for: reading (also while
        a request waits out its latency) and, with a reply pending, writing;
        nothing while a watch thread owns it."""
        events = 0 if conn.streaming else selectors.EVENT_READ
        if conn.out:
            events |= selectors.EVENT_WRITE
        if conn.closed or events == conn.events:
            return
        if conn.events == 0:
            self.selector.register(conn.sock, events, conn)
        elif events == 0:
            self.selector.unregister(conn.sock)
        else:
            self.selector.modify(conn.sock, events, conn)
        conn.events = events

    def forget(self, conn):
        if conn.events:
            self.selector.unregister(conn.sock)
            conn.events = 0
        self.conns.discard(conn)

    def server_close(self):
        for conn in list(self.conns):
            conn.close()
        self.selector.close()
        self.listener.close()
        self.wake_r.close()
        self.wake_w.close()

    # --- connections ----------------------------------------------------

    def _accept(self):
        while True:
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return      # out of descriptors: the client retries
            threading.Thread(target=self._handshake, args=(sock, address),
                             daemon=True).start()

    def _handshake(self, sock, address):
        """Blocking TLS handshake in its own thread, then into the loop."""
        sock.setblocking(True)
        sock.settimeout(HANDSHAKE_SECONDS)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.context.wrap_socket(sock, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            if self.verbose:
                sys.stderr.write(f"kubesim: TLS handshake failed: {exc}\n")
            sock.close()
            return
        tls.setblocking(False)
        self.sim.stats.count("connections")
        self.sim.stats.count("cipher:" + (tls.cipher() or ("?",))[0])
        self.call_soon_threadsafe(lambda: self._adopt(tls, address))

    def _adopt(self, sock, address):
        conn = Connection(sock, address, self)
        if self.stopping:
            conn.close()
            return
        self.conns.add(conn)
        self.watch(conn)
        if sock.pending():
            self._readable(conn)

    def _readable(self, conn):
        try:
            while True:
                data = conn.sock.recv(65536)
                if not data:
                    conn.close()
                    return
                conn.buf += data
                if not conn.sock.pending():
                    break
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError,
                BlockingIOError):
            pass
        except OSError:
            conn.close()
            return
        conn.last = time.monotonic()
        self._process(conn)

    def _process(self, conn):
        """Serve the requests the connection has buffered, in order."""
        while not conn.busy and not conn.closed:
            try:
                req = conn.next_request()
            except BadRequest as exc:
                conn.closing = True
                self.send(conn, None, exc.code,
                          errors.bad_request(str(exc)).status())
                return
            if req is None:
                return
            self._serve(conn, req)

    def resume(self, conn):
        """The connection's request is answered: on to the next one."""
        conn.busy = conn.streaming = False
        if conn.closed:
            return
        conn.flush()
        self._process(conn)

    # --- requests -------------------------------------------------------

    def _serve(self, conn, req):
        path, _, query = req.target.partition("?")
        sim = self.sim
        if path.startswith("/kubesim/"):
            self.send(conn, req, *self._control(req, path))
            return
        if sim.knobs.down:
            sim.stats.count("dropped")
            self._log(req, "dropped")
            conn.drop()
            return
        sim.stats.count("total")
        if not self._authenticated(conn, req):
            sim.stats.count("unauthorized")
            self.send_error(conn, req, errors.unauthorized())
            return
        sim.stats.begin()
        if sim.knobs.latency_ms > 0:
            conn.busy = True
            self.later(sim.knobs.latency_ms / 1000,
                       lambda: self._answer(conn, req, path, query))
        else:
            self._answer(conn, req, path, query)

    def _answer(self, conn, req, path, query):
        """Answer a request (after its latency); a watch gets a thread."""
        delayed = conn.busy
        streaming = False
        try:
            streaming = self._reply(conn, req, path, query)
        finally:
            if not streaming:
                self.sim.stats.end()
        if delayed and not streaming:
            self.resume(conn)

    def _reply(self, conn, req, path, query):
        """Reply to the request; True when a watch now streams it."""
        sim = self.sim
        if conn.closed:
            return False
        if sim.knobs.down:
            self._log(req, "dropped")
            conn.drop()
            return False
        failure = sim.inject_error()
        if failure is not None:
            self.send_error(conn, req, failure)
            return False
        request = Request(req.method, path,
                          dict(parse_qsl(query)) if query else {},
                          req.body, req.headers.get("content-type", ""),
                          req.headers.get("user-agent", ""),
                          req.headers.get("accept", ""),
                          req.headers.get("impersonate-user", ""))
        watch = Watch(conn, self)
        try:
            reply = sim.api.handle(request, watch.should_stop)
        except errors.ApiError as exc:
            self.send_error(conn, req, exc)
            return False
        if reply.stream is None:
            self.send(conn, req, reply.code, reply.body, reply.content_type,
                      reply.headers)
            return False
        conn.busy = conn.streaming = True
        self.watch(conn)            # out of the loop while it streams
        threading.Thread(target=watch.run, args=(req, reply),
                         daemon=True).start()
        return True

    def _authenticated(self, conn, req):
        if conn.verified:   # verified against the CA by the TLS layer
            return not pki.revoked(conn.cert)
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and \
            hmac.compare_digest(token.strip(), self.sim.token)

    def rotate(self, what):
        """Rotate credentials as k3s can: {"client": true[, "revoke": true]}
        a new client certificate; {"ca": true} new CAs and certificates,
        served from the next handshake on, open connections closed (k3s
        restarts for it). The kubeconfig is rewritten."""
        if not isinstance(what, dict) or not self.pki_dir or \
                not (what.get("client") or what.get("ca")):
            raise ValueError('expected {"client": true} or {"ca": true}')
        if what.get("ca"):
            pki.rotate_ca(self.pki_dir)
            self.context = tls_context(self.pki_dir)
            self.later(0.05, lambda: [c.close() for c in list(self.conns)
                                      if not c.busy])
        else:
            pki.rotate_client(self.pki_dir, bool(what.get("revoke")))
        pki.write_kubeconfig(self.pki_dir, self.server_address[1])

    def _log(self, req, code):
        if self.verbose:
            target = f"{req.method} {req.target}" if req else "-"
            sys.stderr.write(f"kubesim: 127.0.0.1 \"{target}\" {code}\n")

    def head(self, conn, req, code, fields):
        """Status line and header fields, ending in the empty line."""
        lines = [f"HTTP/1.1 {code} {_reason(code)}"]
        lines += [f"{name}: {one}" for name, value in fields
                  for one in (value if isinstance(value, list) else [value])]
        if conn.closing:
            lines.append("Connection: close")
        lines += ["", ""]
        self._log(req, code)
        return "\r\n".join(lines).encode("latin-1")

    def send(self, conn, req, code, payload, content_type="application/json",
             headers=None):
        data = payload if isinstance(payload, bytes) else \
            json.dumps(payload, separators=(",", ":")).encode()
        head = self.head(conn, req, code, [
            ("Content-Type", content_type), ("Content-Length", len(data)),
            ("Cache-Control", "no-cache, private"),
            *(headers or {}).items()])
        # one write: header and body in the same TLS record and segment
        conn.write(head if req and req.method == "HEAD" else head + data)

    def send_error(self, conn, req, exc):
        if exc.plain is not None:
            self.send(conn, req, exc.code, exc.plain,
                      "text/plain; charset=utf-8", exc.headers)
            return
        self.send(conn, req, exc.code, exc.status(), headers=exc.headers)

    def _control(self, req, path):
        """(code, payload) of a /kubesim/ control request."""
        sim = self.sim
        try:
            if path == "/kubesim/control" and req.method == "POST":
                sim.knobs.update(json.loads(req.body or b"{}"))
                with sim.store.cond:
                    sim.store.cond.notify_all()   # wake watches to see `down`
            elif path == "/kubesim/rotate" and req.method == "POST":
                self.rotate(json.loads(req.body or b"{}"))
            elif path == "/kubesim/reset" and req.method == "POST":
                sim.reset()
            elif path == "/kubesim/stats" and req.method == "GET":
                stats = sim.stats.snapshot()
                stats["objects"] = sim.store.count()
                stats["resource_version"] = sim.store.rv
                return 200, stats
            elif path != "/kubesim/control" or req.method != "GET":
                exc = errors.no_route()
                return exc.code, exc.status()
            return 200, asdict(sim.knobs)
        except ValueError as exc:
            exc = errors.bad_request(f"kubesim control: {exc}")
            return exc.code, exc.status()


def _reason(code):
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


def tls_context(directory):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(f"{directory}/server.crt",
                            f"{directory}/server.key")
    context.load_verify_locations(f"{directory}/client-ca.crt")
    context.verify_mode = ssl.CERT_OPTIONAL
    # The real API server is Go's crypto/tls, which orders TLS 1.2 suites
    # itself (cipher_suites.go, cipherSuitesPreferenceOrder: AES-128-GCM,
    # AES-256-GCM, then ChaCha20-Poly1305) but answers a client whose first
    # suite is ChaCha20-Poly1305 with ChaCha20-Poly1305 (aesgcmPreferred).
    # OpenSSL chooses the same way with that order, server preference and
    # SSL_OP_PRIORITIZE_CHACHA, which the ssl module has no name for.
    context.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | 0x00200000
    return context
