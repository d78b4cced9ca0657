"""Merge tasks (docs/design.md §3.9): a merging job's merge spread over the workers, one range of
users per task, each reading only its range's blocks of every partial through the coordinator.
Data with thousands of users, so the partials' indexes give many ranges; every report is
compared with the independent reference (scripts/reference_report.py), for 1, 2 and 4 workers,
1 to 64 ranges, the three formats and the inactive-users report, and when the worker of a merge
task is killed or stopped past its lease mid-task."""

import concurrent.futures
import csv
import io
import gzip
import http.client as httpclient
import http.server as httpserver
import re
import signal
import sys
import threading
import urllib.parse

import pytest

from cluster_util import Cluster, http, wait_until
from conftest import FORMATS, reference_reports, run
from e2e_util import REFERENCE
from test_tally import assert_same_report

MANY = dict(users=3000, start="2026-10-01T00:00:00Z", hours=4, events_per_hour=6000, seed=13)
FROM, TO = "2026-10-01T00:00:00Z", "2026-10-01T04:00:00Z"
SOURCE_OF = {"twingate-csv": "csv", "twingate-s3": "s3json", "twingate-analytics": "analytics"}
JOB_TIMEOUT = 180


@pytest.fixture(scope="module")
def many(generated):
    """{format: directory} of logs of 3,000 users, gzip-compressed."""
    return {fmt: generated.get("merge-" + fmt.split("-")[1], fmt, True, **MANY) for fmt in FORMATS}


@pytest.fixture(scope="module")
def many_refs(many):
    return reference_reports({fmt: (d, fmt, FROM, TO) for fmt, d in many.items()})


@pytest.fixture(scope="module")
def sources(nginx, many):
    return [{"name": SOURCE_OF[fmt], "kind": "http", "url": nginx + many[fmt].name + "/", "format": fmt} for fmt in FORMATS]


@pytest.fixture
def clusters(tally, sources, tmp_path):
    made = []

    def make(task_bytes, **kw):
        # Every job merged by the workers (from 0 bytes of partials), in ranges of about
        # `task_bytes` of partials each.
        config = f"merge_on_workers_from_bytes: 0\nmerge_task_bytes: {task_bytes}\n" + kw.pop("extra_config", "")
        c = Cluster(tmp_path / f"cluster{len(made)}", sources, tally=tally, extra_config=config, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def planned_ranges(c):
    """The range counts of the merges the coordinator planned on the workers, from its logs."""
    text = "".join(p.log.read_text(errors="replace") for p in c.procs if p.name.startswith("coordinator"))
    return [int(n) for n in re.findall(r"ranges=(\d+) \[TallyCoordinator\] merge planned on the workers", text)]


def check_result(c, job, expected, what, tmp_path):
    report = c.fetch(job, tmp_path / "report.csv")
    assert_same_report(report, expected, what)
    status = c.status(job)
    assert status["users"] == report.count(b"\n") - 1 and status["result_bytes"] == len(report), status
    answer, headers, body = http("GET", c.url + f"/v1/jobs/{job}/result", headers={"Accept-Encoding": "gzip"})
    assert answer == 200 and headers.get("Content-Encoding") == "gzip", (answer, headers)
    assert gzip.decompress(body) == report, f"{what}: the gzip copy differs from the CSV"


@pytest.mark.parametrize("fmt,workers,task_bytes,ranges", [
    ("twingate-csv", 1, 1 << 30, (1, 1)),      # one range: the whole report in one merge task
    ("twingate-csv", 2, 1 << 16, (2, 64)),
    ("twingate-csv", 4, 1 << 12, (16, 64)),    # as many ranges as the indexes give, at most 64
    ("twingate-s3", 2, 1 << 15, (2, 64)),
    ("twingate-analytics", 2, 1 << 15, (2, 64)),
])
def test_merged_by_the_workers_as_the_reference(clusters, many_refs, tmp_path, fmt, workers, task_bytes, ranges):
    c = clusters(task_bytes)
    c.start_coordinator()
    c.start_workers(workers)
    job = c.submit(SOURCE_OF[fmt], FROM, TO)
    c.wait_succeeded(job, JOB_TIMEOUT)
    planned = planned_ranges(c)
    assert len(planned) == 1 and ranges[0] <= planned[0] <= ranges[1], f"ranges planned: {planned}\n{c.logs()}"
    check_result(c, job, many_refs[fmt], f"{fmt} merged by {workers} workers in {planned[0]} ranges", tmp_path)


def test_inactive_users_merged_by_the_workers(clusters, many, tmp_path):
    """The inactive-users projection with a user directory, range by range on the workers."""
    users = tmp_path / "users.csv"
    listed = ["aaron@example.org", "john.smith4@example.com", "mmm.unseen@example.com", "zed@example.org"]
    users.write_text("user_email\n" + "\n".join(listed) + "\n")
    c = clusters(1 << 14, extra_config=f"user_directories:\n  - {{name: staff, url: {str(users)!r}}}\n")
    c.start_coordinator()
    c.start_workers(2)
    now, inactive, lookback = "2026-10-01T04:00:00Z", 1, 2
    p = c.cli("submit", "--coordinator", c.url, "--report", "inactive-users", "--source", "csv", "--now", now,
              "--inactive-days", str(inactive), "--lookback-days", str(lookback), "--users", "staff")
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    job = p.stdout.decode().strip()
    c.wait_succeeded(job, JOB_TIMEOUT)
    assert planned_ranges(c) and planned_ranges(c)[0] > 1, c.logs()
    ref = run(["python3", REFERENCE, "--report", "inactive-users", "--format", "twingate-csv", "--now", now,
               "--inactive-days", str(inactive), "--lookback-days", str(lookback), "--users", users, many["twingate-csv"]])
    assert ref.returncode == 0, ref.stderr.decode(errors="replace")
    check_result(c, job, ref.stdout, "inactive-users merged by the workers", tmp_path)


class HoldingProxy:
    """A proxy between one worker and the coordinator that holds the worker's first partial-slice
    read (its merge task under way) until released, and says when it arrived."""

    def __init__(self, upstream):
        u = urllib.parse.urlsplit(upstream)
        self.host, self.port = u.hostname, u.port
        self.arrived, self.release = threading.Event(), threading.Event()
        proxy = self

        class Handler(httpserver.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def relay(self):
                if "/partials/" in self.path and not proxy.arrived.is_set():
                    proxy.arrived.set()
                    proxy.release.wait(120)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream = httpclient.HTTPConnection(proxy.host, proxy.port, timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "host")}
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    self.send_response(answer.status)
                    for k, v in answer.getheaders():
                        if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = relay

        self.server = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_a_merge_task_whose_worker_dies_or_stalls_is_done_again(clusters, many_refs, tmp_path, how):
    """The worker of a merge task is killed (SIGKILL), or stopped (SIGSTOP) past its lease, while
    it reads its range: the lease expires, another worker merges the range, and the report is the
    reference's. A stopped worker that wakes up later is told its lease is gone; nothing it sends
    reaches the result."""
    c = clusters(1 << 14, lease_seconds=3)
    c.start_coordinator()
    proxy = HoldingProxy(c.url)
    try:
        first = c.start_worker("w1", coordinator_url=proxy.url)
        job = c.submit("csv", FROM, TO)
        assert proxy.arrived.wait(JOB_TIMEOUT), f"no merge task read a partial\n{c.logs()}"
        first.signal(signal.SIGKILL if how == "killed" else signal.SIGSTOP)
        c.start_worker("w2")
        c.wait_succeeded(job, JOB_TIMEOUT)
        if how == "stopped":
            first.signal(signal.SIGCONT)
            proxy.release.set()
            wait_until(lambda: "task abandoned" in first.log.read_text(errors="replace")
                       or "not committed" in first.log.read_text(errors="replace"), 60,
                       "the stopped worker to learn that its lease is gone", on_timeout=c.logs)
        assert c.metric("tally_lease_expiries_total") >= 1, c.logs()
    finally:
        proxy.stop()
    check_result(c, job, many_refs["twingate-csv"], f"merge task worker {how}", tmp_path)


def test_the_coordinator_killed_while_the_workers_merge(clusters, many_refs, tmp_path):
    """The coordinator is killed (SIGKILL) while a worker holds a merge task, and restarted: the
    merge tasks are stored like any task, the worker's lease gets a fresh period, the ranges
    are finished and joined, and the report is the reference's."""
    c = clusters(1 << 14)
    c.start_coordinator()
    proxy = HoldingProxy(c.url)
    try:
        c.start_worker("w1", coordinator_url=proxy.url)
        job = c.submit("csv", FROM, TO)
        assert proxy.arrived.wait(JOB_TIMEOUT), f"no merge task read a partial\n{c.logs()}"
        assert c.status(job)["state"] == "merging"
        c.restart_coordinator(signal.SIGKILL)
        proxy.release.set()
        c.wait_succeeded(job, JOB_TIMEOUT)
    finally:
        proxy.stop()
    assert len(planned_ranges(c)) == 1, f"the merge was planned again: {planned_ranges(c)}\n{c.logs()}"
    check_result(c, job, many_refs["twingate-csv"], "merged across a coordinator restart", tmp_path)


def test_a_report_of_a_million_users(tally, tmp_path):
    """1,100,000 users connecting alike, 3,300,000 events over 6 hours: a report of over a million
    users, through a coordinator and two workers with the default configuration (the partials are
    far past merge_on_workers_from_bytes, so the workers merge). The coordinator's peak resident
    memory, read by the harness, stays under 256 MiB, each worker's under 300 MiB while it merges
    (its peak while aggregating is printed), and the report is the reference's byte for byte. Its
    page, too large to read back, shows the reference's figures (from the summary summed as the
    rows were joined) and the first rows, unsorted."""
    logs = tmp_path / "logs"
    p = run([tally, "gen", "--format", "twingate-csv", "--users", "1100000", "--start", FROM, "--hours", "6",
             "--events-per-hour", "550000", "--activity", "uniform", "--seed", "5", "--gzip", "--out", logs], timeout=900)
    assert p.returncode == 0, p.stderr
    to = "2026-10-01T06:00:00Z"
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        reference = pool.submit(run, [sys.executable, REFERENCE, "--format", "twingate-csv", "--from", FROM, "--to", to, logs],
                                timeout=1800)
        with Cluster(tmp_path / "c", [{"name": "l", "kind": "file", "url": str(logs), "format": "twingate-csv"}], tally=tally) as c:
            c.start_coordinator()
            c.start_workers(2)
            job = c.submit("l", FROM, to)
            workers = [p for p in c.procs if p.name.startswith("w")]
            # The workers' peaks while they merge: measured from the end of the aggregation.
            c.wait_job(job, 1800, states=("merging", "succeeded", "failed", "cancelled"))
            aggregation = {p.name: p.peak_rss_kib() for p in workers}
            assert all(p.reset_peak_rss() for p in workers), "the kernel refused to reset the peak RSS"
            status = c.wait_succeeded(job, 1800)
            peaks = {p.name: p.peak_rss_kib() for p in c.procs}
            print(f"million users: {status['users']} users, coordinator peak RSS {peaks['coordinator#1']} KiB, "
                  f"workers' peak while aggregating {aggregation} KiB and while merging "
                  f"{ {n: k for n, k in peaks.items() if n != 'coordinator#1'} } KiB, ranges {planned_ranges(c)}")
            assert status["users"] >= 1_000_000, status
            assert planned_ranges(c) and planned_ranges(c)[0] >= 2, c.logs()
            assert peaks["coordinator#1"] is not None and peaks["coordinator#1"] < 256 * 1024, peaks
            assert all(kib is not None and kib < 300 * 1024 for name, kib in peaks.items() if name.startswith("w")), peaks
            report = c.fetch(job, tmp_path / "report.csv")
            status_code, _, page = http("GET", c.url + f"/reports/{job}", headers=c.auth())
            assert status_code == 200, page[:300]
        expected = reference.result()
    assert expected.returncode == 0, expected.stderr.decode(errors="replace")
    assert_same_report(report, expected.stdout, "a million users")
    rows = list(csv.DictReader(io.StringIO(expected.stdout.decode())))
    page = page.decode()
    assert f'id="figure-users">{len(rows):,}<' in page, re.findall(r'id="figure-[^<]*', page)
    connections = sum(int(r["total_connections"]) for r in rows)
    assert f'id="figure-connections">{connections:,}<' in page, re.findall(r'id="figure-[^<]*', page)
    plain = next(r["user_email"] for r in rows[:100] if re.fullmatch(r"[a-z0-9.@_-]+", r["user_email"]))
    assert 'id="preview-unsorted"' in page and f"<td>{plain}</td>" in page, plain
