"""Helpers for the cluster tests: a real `tally coordinator` process and `tally worker` processes, the
HTTP API and /metrics, bounded waits. Every process started here is stopped by `Cluster.close()` (the
tests call it from a fixture or a `finally`), stopped processes (SIGSTOP) included.

The bench and chaos scripts start and stop their clusters through this module too (one start-up for
every measurement: scripts/chaos for docs/reliability.md; scripts/bench, bench-activity, bench-cache,
bench-job-list, bench-leases, measure-replicas and measure-run for docs/performance.md). They import it with tests/e2e on sys.path."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from e2e_util import TALLY_BIN

CLI_TIMEOUT = 120
TERMINAL = ("succeeded", "failed", "cancelled")
# With TALLY_E2E_STORE=postgres://… (scripts/test sets it for its second pass over the job, security, cache,
# schedule and notification tests), every cluster keeps its state in PostgreSQL, in a schema of its own (one per
# data folder, so a cluster started again on the same folder finds its store).
E2E_STORE = os.environ.get("TALLY_E2E_STORE", "")
# With TALLY_E2E_BLOBS=http://HOST:PORT/BUCKET (an S3 server and a bucket in it; scripts/test sets it for the same
# second pass), every cluster keeps its files there, under a prefix of its own (one per data folder).
E2E_BLOBS = os.environ.get("TALLY_E2E_BLOBS", "")


def blobs_config(endpoint, bucket, prefix):
    """tally.yaml's `blobs:` for an S3 folder at `endpoint` (moto: any credentials do)."""
    return f'blobs:\n  kind: s3\n  url: "s3://{bucket}/{prefix}/"\n  endpoint: "{endpoint}"\n  region: us-east-1\n'


def create_bucket(endpoint, bucket):
    """Creates `bucket` on a moto server (its signature checks off, as moto starts); one there already is kept."""
    status, _, body = http("PUT", f"{endpoint}/{bucket}")
    assert status in (200, 409), f"cannot create bucket {bucket}: {status} {body[:300]!r}"


def bucket_keys(endpoint, bucket, prefix=""):
    """Every key under `prefix` in `bucket` (ListObjectsV2, all pages)."""
    import urllib.parse
    import xml.etree.ElementTree as ET
    keys, token = [], None
    while True:
        query = {"list-type": "2", "prefix": prefix} | ({"continuation-token": token} if token else {})
        status, _, body = http("GET", f"{endpoint}/{bucket}?{urllib.parse.urlencode(query)}")
        assert status == 200, f"cannot list {bucket}/{prefix}: {status} {body[:300]!r}"
        root = ET.fromstring(body)
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        keys += [e.text for e in root.iter(ns + "Key")]
        token = root.findtext(ns + "NextContinuationToken")
        if root.findtext(ns + "IsTruncated") != "true" or not token:
            return keys


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what, interval=0.1, on_timeout=None):
    """Polls `predicate` until it returns a truthy value (returned) or `timeout` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError) as e:          # a server still starting, a half-written answer
            last_error = e
        if time.monotonic() > deadline:
            extra = on_timeout() if on_timeout else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                                 + (f" (last error: {last_error})" if last_error else "") + (f"\n{extra}" if extra else ""))
        time.sleep(interval)


def http(method, url, body=None, headers=None, timeout=30, context=None):
    """(status, headers, body bytes); 4xx/5xx are answers, not exceptions. `context`: the
    ssl.SSLContext for an https URL (one trusting a private CA)."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None and not request.has_header("Content-type"):     # urllib keys headers as .capitalize()d
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text -> {(name, ((label, value), ...)): float}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = METRIC_LINE.match(line)
        if m:
            labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


STARTED = []    # every Proc, in start order: conftest stops those a test left running, failed or not


class Proc:
    """A child process with its output in a log file.

    wrap: a command prefix that runs the process as its only child, e.g. `/usr/bin/time -f %M -o
    FILE` for its peak RSS (scripts/bench). `pid` is then the wrapper's; signals go to the child
    (`target_pid()`), so the wrapper sees it end and reports; kill() kills both."""

    def __init__(self, name, cmd, log, env, wrap=()):
        STARTED.append(self)
        self.name, self.log = name, Path(log)
        self.wrap = [str(c) for c in wrap]
        self.cmd = self.wrap + [str(c) for c in cmd]
        self._log_file = open(self.log, "ab")
        # own session: a signal sent to the test runner's group does not reach it, and close() can
        # kill exactly this process (and its wrapper's child).
        self.popen = subprocess.Popen(self.cmd, stdout=self._log_file, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def target_pid(self):
        """The pid signals go to: the process itself, or the wrapped one (while the wrapper has it)."""
        if self.wrap:
            try:
                with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
                    children = f.read().split()
                if children:
                    return int(children[0])
            except OSError:
                pass
        return self.pid

    def signal(self, sig):
        if self.alive():
            try:
                os.kill(self.target_pid(), sig)
            except ProcessLookupError:
                pass

    def kill(self):
        """SIGKILL (the wrapped process and its wrapper too) and reap."""
        if self.alive():
            try:
                if self.wrap:
                    os.killpg(self.pid, signal.SIGKILL)
                else:
                    os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.popen.wait(timeout=30)

    def stop(self, grace=5):
        """SIGCONT (it may be stopped), SIGTERM, then SIGKILL after `grace` seconds; reaps it."""
        if self.alive():
            target = self.target_pid()
            try:
                os.kill(target, signal.SIGCONT)
                os.kill(target, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()

    def reset_peak_rss(self):
        """Starts the peak resident set afresh from the current one (Linux clear_refs 5), so that a
        phase's own peak can be read; False when the kernel refuses."""
        try:
            with open(f"/proc/{self.target_pid()}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def peak_rss_kib(self):
        """The running process's peak resident set so far (VmHWM, KiB), or None once it has ended."""
        try:
            with open(f"/proc/{self.target_pid()}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
        return None

    def tail(self, lines=25):
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


class Cluster:
    """A coordinator process (config file, data dir, port of its own) and worker processes.

    sources: [{name, kind, url, format?, endpoint?, region?}]. root holds the config file (tally.yaml)
    and every process's log; data_dir (default root/data) may be chosen, e.g. one kept between two
    clusters. env adds to (or overrides) the processes' environment, e.g. TALLY_LOG_LEVEL."""

    def __init__(self, root, sources, lease_seconds=30, max_attempts=3, tally=TALLY_BIN, env=None, port=None, extra_config="",
                 tls=None, data_dir=None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.tally = Path(tally)
        self.sources = sources
        self.lease_seconds, self.max_attempts = lease_seconds, max_attempts
        self.extra_config = extra_config          # more tally.yaml, verbatim
        self.tls = tls                            # {"certificate", "key", "ca"} paths: serve https, trust `ca`
        self.ssl_context = None
        if tls:
            import ssl
            self.ssl_context = ssl.create_default_context(cafile=str(tls["ca"]))
        self.api_token = None                     # bearer secret for the test's own HTTP calls, once tokens exist
        self.data_dir = Path(data_dir) if data_dir else self.root / "data"
        self.store_url = None
        if E2E_STORE and "store:" not in extra_config:
            import hashlib
            schema = "e2e_" + hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:16]
            self.store_url = E2E_STORE + ("&" if "?" in E2E_STORE else "?") + "schema=" + schema
            self.extra_config = f'store:\n  kind: postgres\n  url: "{self.store_url}"\n' + extra_config
        if E2E_BLOBS and "blobs:" not in self.extra_config:
            import hashlib
            endpoint, bucket = E2E_BLOBS.rsplit("/", 1)
            prefix = "e2e-" + hashlib.sha256(str(self.data_dir.resolve()).encode()).hexdigest()[:16]
            self.extra_config = blobs_config(endpoint, bucket, prefix) + self.extra_config
        self.config = self.root / "tally.yaml"
        self.port = port or free_port()
        self.coordinator = None
        self.coordinator_runs = 0
        self.workers = {}
        self.procs = []
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TALLY_"))}
        base.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "TALLY_LOG_LEVEL": "info"})
        base.update(env or {})
        self.env = base
        self.write_config()

    # ------------------------------------------------------------------ processes

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def write_config(self):
        lines = [f'listen: "127.0.0.1:{self.port}"', f'data_dir: "{self.data_dir}"',
                 f"lease_seconds: {self.lease_seconds}", f"max_attempts: {self.max_attempts}", "sources:"]
        for s in self.sources:
            lines.append(f"  - name: {json.dumps(s['name'])}")
            for key in ("kind", "url", "format", "endpoint", "region"):
                if s.get(key) is not None:
                    lines.append(f"    {key}: {json.dumps(str(s[key]))}")
        if self.tls:
            lines.append(f"tls:\n  certificate: {json.dumps(str(self.tls['certificate']))}\n  key: {json.dumps(str(self.tls['key']))}")
        self.config.write_text("\n".join(lines) + "\n" + self.extra_config)

    def start_coordinator(self, wait=True, timeout=60, wrap=()):
        """Starts the coordinator (on the same port and data dir as any previous run) and waits for /healthz.
        wrap: a command prefix (see Proc)."""
        assert self.coordinator is None or not self.coordinator.alive(), "the coordinator is already running"
        self.coordinator_runs += 1
        self.coordinator = Proc(f"coordinator#{self.coordinator_runs}", [
            self.tally, "coordinator", "--config", self.config, "--listen", f"127.0.0.1:{self.port}",
            "--data-dir", self.data_dir], self.root / f"coordinator-{self.coordinator_runs}.log", self.env, wrap=wrap)
        self.procs.append(self.coordinator)
        if wait:
            self.wait_healthy(timeout)
        return self.coordinator

    def restart_coordinator(self, sig=signal.SIGKILL, pause=0.0, wait=True, timeout=60):
        """Ends the running coordinator with `sig` (SIGKILL: at once; any other signal: it may shut down
        for up to 30 s, then SIGKILL), waits `pause` seconds and starts it again on the same port and data dir."""
        if self.coordinator is not None and self.coordinator.alive():
            if sig == signal.SIGKILL:
                self.coordinator.kill()
            else:
                self.coordinator.signal(signal.SIGCONT)
                self.coordinator.signal(sig)
                try:
                    self.coordinator.popen.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.coordinator.kill()
        if pause:
            time.sleep(pause)
        return self.start_coordinator(wait=wait, timeout=timeout)

    def wait_healthy(self, timeout=60):
        def healthy():
            if not self.coordinator.alive():
                raise AssertionError(f"the coordinator exited with {self.coordinator.popen.returncode}:\n"
                                     + self.coordinator.tail())
            status, _, body = http("GET", self.url + "/healthz", timeout=2, context=self.ssl_context)
            return status == 200
        wait_until(healthy, timeout, f"the coordinator to answer /healthz on {self.url}", on_timeout=self.logs)

    def start_worker(self, name, concurrency=1, coordinator_url=None, extra=(), wrap=()):
        """Starts a worker called `name` (a name used before names a new process). wrap: see Proc."""
        proc = Proc(name, [self.tally, "worker", "--coordinator", coordinator_url or self.url,
                           "--concurrency", concurrency, "--name", name, *extra],
                    self.root / f"worker-{name}.log", self.env, wrap=wrap)
        self.workers[name] = proc
        self.procs.append(proc)
        return proc

    def start_workers(self, count, prefix="w"):
        return [self.start_worker(f"{prefix}{i}") for i in range(1, count + 1)]

    def stop_workers(self, grace=5):
        """Stops every running worker (SIGTERM, as close() does), the coordinator left running."""
        for proc in reversed(self.procs):
            if proc.cmd[len(proc.wrap) + 1] != "worker":
                continue
            try:
                proc.stop(grace)
            except Exception:            # noqa: BLE001 — keep stopping the others
                proc.kill()

    def close(self, grace=5):
        """Stops every process, last started first (the workers before the coordinator); each gets
        `grace` seconds after SIGTERM before SIGKILL."""
        for proc in reversed(self.procs):
            try:
                proc.stop(grace)
            except Exception:            # noqa: BLE001 — keep stopping the others
                proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def logs(self, lines=25):
        """The last lines of every process's log, for failure messages."""
        return "\n".join(f"--- {p.name} (pid {p.pid}, {'running' if p.alive() else f'exit {p.popen.returncode}'}) "
                         f"{p.log}\n{p.tail(lines)}" for p in self.procs)

    # ------------------------------------------------------------------ CLI

    def cli(self, *args, timeout=CLI_TIMEOUT, env=None):
        return subprocess.run([str(self.tally), *map(str, args)], capture_output=True, timeout=timeout,
                              env={**self.env, **(env or {})}, stdin=subprocess.DEVNULL)

    def submit(self, source, frm, to, *extra, timeout=CLI_TIMEOUT):
        """`tally submit` -> job id (its only line on stdout). extra: more flags, e.g. "--wait", "--out", FILE."""
        p = self.cli("submit", "--coordinator", self.url, "--source", source, "--from", frm, "--to", to, *extra,
                     timeout=timeout)
        assert p.returncode == 0, f"tally submit failed ({p.returncode}): {p.stderr.decode(errors='replace')}"
        job = p.stdout.decode().strip()
        assert re.fullmatch(r"\S+", job), f"tally submit printed {p.stdout!r}, not one job id"
        return job

    def fetch(self, job, out):
        p = self.cli("fetch", "--coordinator", self.url, job, "--out", out)
        assert p.returncode == 0, f"tally fetch {job} failed ({p.returncode}): {p.stderr.decode(errors='replace')}"
        return Path(out).read_bytes()

    # ------------------------------------------------------------------ HTTP

    def auth(self):
        return {"Authorization": f"Bearer {self.api_token}"} if self.api_token else {}

    def local_store(self):
        """The flags of an administrative command that acts on this cluster's store directly: its data
        directory, and its PostgreSQL store when it has one."""
        return ["--data-dir", self.data_dir] + (["--store", self.store_url] if self.store_url else [])

    def create_token(self, role, user, *extra):
        """`tally token create --data-dir` on this cluster's data directory -> the secret."""
        p = self.cli("token", "create", *self.local_store(), "--role", role, "--user", user, *extra)
        assert p.returncode == 0, f"tally token create failed ({p.returncode}): {p.stderr.decode(errors='replace')}"
        return p.stdout.decode().strip()

    def start_with_tokens(self, workers=("w1",)):
        """Creates a worker and an admin token, starts the coordinator and `workers` with the
        worker's secret, and makes the admin's the secret of the test's own calls and CLI runs."""
        worker = self.create_token("worker", "workers")
        self.api_token = self.create_token("admin", "ada")
        self.start_coordinator()
        self.env["TALLY_TOKEN"] = worker
        for name in workers:
            self.start_worker(name)
        self.env["TALLY_TOKEN"] = self.api_token

    def get_json(self, path, expect=200):
        status, _, body = http("GET", self.url + path, headers=self.auth(), context=self.ssl_context)
        assert status == expect, f"GET {path}: HTTP {status} {body[:500]!r}"
        return json.loads(body)

    def status(self, job):
        return self.get_json(f"/v1/jobs/{job}")

    def wait_job(self, job, timeout=180, states=TERMINAL):
        """Waits for the job to reach one of `states`; returns its status."""
        seen = {}

        def reached():
            seen["status"] = self.status(job)
            return seen["status"]["state"] in states and seen["status"]

        return wait_until(reached, timeout, f"job {job} to be {'/'.join(states)}", interval=0.2,
                          on_timeout=lambda: f"last status: {json.dumps(seen.get('status'))}\n{self.logs()}")

    def wait_succeeded(self, job, timeout=180):
        status = self.wait_job(job, timeout)
        assert status["state"] == "succeeded", f"job {job} {status['state']}: {status.get('error')}\n{self.logs()}"
        return status

    def metrics(self):
        status, _, body = http("GET", self.url + "/metrics", headers=self.auth(), context=self.ssl_context)
        assert status == 200, f"/metrics: HTTP {status}"
        return parse_metrics(body.decode())

    def metric(self, name, **labels):
        """Sum of the samples of `name` whose labels include `labels` (0 when there is none)."""
        want = set(labels.items())
        return sum(v for (n, ls), v in self.metrics().items() if n == name and want <= set(ls))


def stop_started_since(count):
    """Stops every Proc started after the first `count` that still runs: what a test that failed
    before its own clean-up leaves behind (a coordinator holding a port, workers polling it)."""
    for proc in reversed(STARTED[count:]):
        try:
            proc.stop()
        except Exception:            # noqa: BLE001 — keep stopping the others
            proc.kill()
    del STARTED[count:]


HEALTHZ_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def served(sock):
    """Whether a kept-alive connection gets an answer to GET /healthz."""
    try:
        sock.sendall(HEALTHZ_REQUEST)
        return sock.recv(1024).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def hold_served_connections(port, count, timeout=20):
    """`count` kept-alive connections to 127.0.0.1:port, each shown to be served. A connection
    the client just closed (the health check's) may still hold a place for a moment, and the
    coordinator closes a connection past its caps at once: the set is opened again until every
    one of them is served."""
    import socket
    held = []

    def all_served():
        for s in held:
            s.close()
        held[:] = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
        return all(served(s) for s in held)
    wait_until(all_served, timeout, f"{count} kept-alive connections to be served")
    return held
