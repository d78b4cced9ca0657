"""A fault-injecting HTTP proxy in front of a real server (nginx's JSON autoindex, or moto's S3), for
the fault tests and scripts/chaos: deterministic from a seed, with a budget per path so that every fault is transient (a path
faults at most `budget` times, then is served faithfully) unless the path is listed as permanent.

Whether a request faults is drawn from the seed, the path and the request's number; object faults
take the kinds in turn, so a run with four or more faulting objects sees every kind:
  503       `503 Service Unavailable` with `Retry-After: 0`
  reset     the head and part of the body, then the connection is reset (RST)
  cut_cl    a correct `Content-Length`, part of the body, then the connection is closed
  cut_nocl  no `Content-Length`, part of the body, then a clean close (looks like a whole body)
  stall     part of the body, then nothing for `stall_seconds` (only when asked for in `kinds`)
  trickle   part of the body, then the rest at `trickle_bytes_per_second` (only when asked for)
Listings (paths ending in `/`, or S3 ListObjects queries) only ever get `503`. Range requests (a
hedged read asking for the rest of an object) are counted in `ranged` and served faithfully unless
`fault_ranges` is set. With `s3=True` a
`503` is S3's `SlowDown` error. A path in `permanent` always answers `403 Forbidden`. Requests are
forwarded with their query and headers (S3 signatures included; moto does not check them unless
told to).

    proxy = FaultProxy(upstream="http://127.0.0.1:8080/", rate=1.0, budget=1, seed=7).start()
    ... proxy.url ..., proxy.injected (Counter of kinds), proxy.stop()
"""

import collections
import hashlib
import http.client
import http.server
import socket
import struct
import threading
import time
import urllib.parse

OBJECT_FAULTS = ("503", "reset", "cut_cl", "cut_nocl")
ALL_FAULTS = OBJECT_FAULTS + ("stall", "trickle")
SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
             b'<Message>Please reduce your request rate.</Message></Error>')


class FaultProxy:
    def __init__(self, upstream, rate=0.08, budget=2, seed=1, permanent=(), kinds=OBJECT_FAULTS, only=None, stall_seconds=120,
                 trickle_bytes_per_second=160, s3=False, fault_ranges=False):
        u = urllib.parse.urlsplit(upstream)
        self.upstream_host, self.upstream_port = u.hostname, u.port or 80
        self.upstream_prefix = u.path.rstrip("/")
        self.rate, self.budget, self.seed = rate, budget, seed
        self.permanent = set(permanent)
        self.kinds = tuple(kinds)
        self.only = set(only) if only is not None else None   # paths that may fault (all when None)
        self.stall_seconds = stall_seconds
        self.trickle_bytes_per_second = trickle_bytes_per_second
        self.s3 = s3
        self.fault_ranges = fault_ranges
        self.ranged = collections.Counter()     # path -> requests with a Range header
        self.lock = threading.Lock()
        self.requests = collections.Counter()   # path -> requests seen
        self.faults = collections.Counter()     # path -> faults injected
        self.injected = collections.Counter()   # kind -> faults injected
        self.object_faults = 0
        self.server = None

    # -- decisions ------------------------------------------------------------------------------

    def _draw(self, path, n):
        digest = hashlib.sha256(f"{self.seed}:{path}:{n}".encode()).digest()
        return struct.unpack(">Q", digest[:8])[0] / 2**64, digest[8]

    def decide(self, path, listing=False):
        """The fault for this request of `path`, or None to serve it faithfully."""
        with self.lock:
            n = self.requests[path]
            self.requests[path] += 1
            if path in self.permanent:
                self.injected["403"] += 1
                return "403"
            if self.faults[path] >= self.budget or (self.only is not None and path not in self.only):
                return None
            x, _ = self._draw(path, n)
            if x >= self.rate:
                return None
            if listing or path.endswith("/"):
                kind = "503"
            else:
                kind = self.kinds[self.object_faults % len(self.kinds)]
                self.object_faults += 1
            self.faults[path] += 1
            self.injected[kind] += 1
            return kind

    # -- serving --------------------------------------------------------------------------------

    def start(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                split = urllib.parse.urlsplit(self.path)
                path = split.path
                kind = proxy.decide(path, listing="list-type=" in split.query)
                if kind in ("503", "403"):
                    body = SLOW_DOWN if proxy.s3 and kind == "503" else b'{"error":"injected"}'
                    self.send_response(503 if kind == "503" else 403)
                    if kind == "503":
                        self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if self.headers.get("Range"):
                    with proxy.lock:
                        proxy.ranged[path] += 1
                status, headers, body = proxy.fetch(self.path, self.headers)
                faultable = status == 200 or (status == 206 and proxy.fault_ranges)
                if kind is None or not faultable or len(body) < 2:
                    self.send_response(status)
                    for name, value in headers:
                        if name.lower() in ("content-type", "last-modified", "etag", "x-amz-request-id"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                part = body[:max(1, len(body) // 2)]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if kind != "cut_nocl":
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(part)
                self.wfile.flush()
                if kind == "stall":
                    time.sleep(proxy.stall_seconds)
                if kind == "trickle":
                    # The rest, 16 bytes at a time: progress every 0.1 s (never a stall), far too slow.
                    step = max(1, proxy.trickle_bytes_per_second // 10)
                    try:
                        for i in range(len(part), len(body), step):
                            time.sleep(0.1)
                            self.wfile.write(body[i:i + step])
                            self.wfile.flush()
                    except OSError:
                        pass              # the reader cut it: what it should do
                    self.close_connection = True
                    return
                if kind == "reset":
                    # SO_LINGER 0: close sends RST instead of FIN.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # clients that hang up on an injected fault are expected

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def fetch(self, path_and_query, headers=None):
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        forwarded = {k: v for k, v in (headers or {}).items() if k.lower() not in ("host", "connection", "accept-encoding")}
        try:
            conn.request("GET", self.upstream_prefix + path_and_query, headers=forwarded)
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read()
        finally:
            conn.close()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
