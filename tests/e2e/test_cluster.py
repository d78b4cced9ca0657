"""End-to-end tests of tally as a cluster: a real `tally coordinator` process, `tally worker` processes, the
client commands (submit, status, list, fetch, cancel), nginx and moto as log sources, and chaos — workers
killed or stopped mid-task, the coordinator killed and restarted, started late, jobs cancelled.

Every report is compared byte for byte with scripts/reference_report.py (and, per format, with `tally run`).
Nothing here skips: a missing binary, nginx, moto or network namespace support is a failure.
Every process is started through cluster_util.Cluster and stopped in a fixture or a `finally`.
"""

import concurrent.futures
import gzip
import json
import os
import re
import signal
import subprocess
import time

import pytest

from cluster_util import Cluster, free_port, http, wait_until
from conftest import FORMATS, MAIN_FROM, MAIN_TO, run
from e2e_util import REPO, SCRIPTS, reference_cmd
from test_tally import assert_same_report

# Enough data that a job takes a while with a debug binary: 24 one-hour objects, one task each.
BIG = dict(users=200, start="2026-10-01T00:00:00Z", hours=24, events_per_hour=20000, seed=5)
BIG_FROM, BIG_TO = "2026-10-01T00:30:00Z", "2026-10-01T23:30:00Z"
BIG_FMT = "twingate-csv"

SOURCE_OF = {"twingate-csv": "csv", "twingate-s3": "s3json", "twingate-analytics": "analytics"}
S3_BUCKET, S3_PREFIX, S3_REGION = "tally-cluster", "logs/", "us-east-1"
MISSING_DIR = "/nonexistent/tally-cluster/logs"

JOB_TIMEOUT = 180          # one job, debug binary, 2 cores shared with everything else


# ---------------------------------------------------------------------------------------- fixtures

class BigData:
    """The big CSV data set; its reference report is computed in the background (it takes ~20 s)."""

    def __init__(self, directory, url):
        self.dir, self.url = directory, url
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        self._ref = self._pool.submit(run, reference_cmd(directory, BIG_FMT, BIG_FROM, BIG_TO))

    def ref(self):
        p = self._ref.result(timeout=600)
        assert p.returncode == 0, p.stderr.decode(errors="replace")
        assert p.stdout.count(b"\n") > 50, "the big reference report is (almost) empty"
        return p.stdout


@pytest.fixture(scope="module")
def big(generated, nginx):
    directory = generated.get("cluster-big", BIG_FMT, True, **BIG)
    data = BigData(directory, nginx + directory.name + "/")
    yield data
    data._pool.shutdown(wait=True)


@pytest.fixture(scope="module")
def moto_port():
    return free_port()


@pytest.fixture(scope="module")
def sources(nginx, main_data, big, moto_port):
    """The sources every coordinator of this module is configured with."""
    out = [{"name": SOURCE_OF[fmt], "kind": "http", "url": nginx + main_data[fmt].name + "/", "format": fmt}
           for fmt in FORMATS]
    out.append({"name": "big", "kind": "http", "url": big.url, "format": BIG_FMT})
    out.append({"name": "missing", "kind": "file", "url": MISSING_DIR, "format": "twingate-csv"})
    out.append({"name": "bucket", "kind": "s3", "url": f"s3://{S3_BUCKET}/{S3_PREFIX}", "format": "twingate-s3",
                "endpoint": f"http://127.0.0.1:{moto_port}", "region": S3_REGION})
    return out


@pytest.fixture(scope="module")
def cluster(tally, sources, tmp_path_factory):
    """One coordinator and three workers shared by the tests that do not break anything."""
    c = Cluster(tmp_path_factory.mktemp("cluster"), sources, lease_seconds=3, tally=tally)
    try:
        c.start_coordinator()
        c.start_workers(3)
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def moto(moto_port, main_data):
    """A moto S3 server (scripts/moto-serve) holding the main twingate-s3 data set; yields its endpoint."""
    p = run([SCRIPTS / "moto-serve", moto_port], timeout=600)
    if p.returncode != 0:
        pytest.fail(f"scripts/moto-serve could not start moto on port {moto_port}:\n{p.stderr.decode(errors='replace')}")
    endpoint = f"http://127.0.0.1:{moto_port}"
    try:
        import boto3
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=S3_REGION,
                          aws_access_key_id="test", aws_secret_access_key="test")
        s3.create_bucket(Bucket=S3_BUCKET)
        root = main_data["twingate-s3"]
        for f in sorted(root.rglob("*")):
            if f.is_file():
                s3.put_object(Bucket=S3_BUCKET, Key=S3_PREFIX + f.relative_to(root).as_posix(), Body=f.read_bytes())
        yield endpoint
    finally:
        run([SCRIPTS / "moto-stop", moto_port], timeout=60)


@pytest.fixture
def chaos(tally, sources, tmp_path):
    """A factory of clusters of a test's own; all of them are stopped when the test ends."""
    made = []

    def make(**kw):
        c = Cluster(tmp_path / f"cluster{len(made)}", sources, tally=tally, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


# ---------------------------------------------------------------------------------------- helpers

def stderr_lines(p):
    return [line for line in p.stderr.decode(errors="replace").splitlines() if line.strip()]


def leased(c):
    return c.metric("tally_tasks", state="leased")


def wait_running_with_leases(c, job, count, timeout=60):
    """Waits until the job runs and `count` of its tasks are leased (every worker holds one)."""
    wait_until(lambda: c.status(job)["state"] == "running" and leased(c) >= count, timeout,
               f"job {job} running with {count} leased tasks", interval=0.05, on_timeout=c.logs)


def fetch_and_compare(c, job, expected, out, what):
    report = c.fetch(job, out)
    assert_same_report(report, expected, what)
    status = c.status(job)
    assert status["result_bytes"] == len(report), status
    assert status["users"] == report.count(b"\n") - 1, status
    return report


# ---------------------------------------------------------------------------------------- reports

@pytest.mark.parametrize("kind", list(FORMATS) + ["s3-bucket"])
def test_report_per_format(request, cluster, main_data, main_refs, tmp_path, kind):
    """submit → wait → fetch gives the reference report and the same bytes as `tally run`."""
    if kind == "s3-bucket":
        endpoint = request.getfixturevalue("moto")
        fmt, source = "twingate-s3", "bucket"
        run_source = f"s3://{S3_BUCKET}/{S3_PREFIX}"
        run_env = {**cluster.env, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": S3_REGION}
    else:
        fmt, source = kind, SOURCE_OF[kind]
        run_source = next(s["url"] for s in cluster.sources if s["name"] == source)
        run_env = None

    job = cluster.submit(source, MAIN_FROM, MAIN_TO)
    status = cluster.wait_succeeded(job, JOB_TIMEOUT)
    assert status["progress"]["tasks_done"] == status["progress"]["tasks_total"] > 0, status
    report = fetch_and_compare(cluster, job, main_refs[fmt], tmp_path / "cluster.csv", f"cluster {kind}")

    p = run([cluster.tally, "run", "--source", run_source, "--from", MAIN_FROM, "--to", MAIN_TO, "--format", fmt,
             "--out", tmp_path / "run.csv"], env=run_env)
    assert p.returncode == 0, f"tally run failed ({p.returncode}): {p.stderr.decode(errors='replace')}"
    assert report == (tmp_path / "run.csv").read_bytes(), f"{kind}: cluster and `tally run` reports differ"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_streamed_merge_per_format(chaos, main_refs, tmp_path, fmt):
    """With merge_memory_bytes: 0 every job is merged as a stream from its partials, one block of
    each in memory (docs/design.md §3.8): the same reference report, and the same gzip copy."""
    c = chaos(extra_config="merge_memory_bytes: 0\n")
    c.start_coordinator()
    c.start_workers(2)
    job = c.submit(SOURCE_OF[fmt], MAIN_FROM, MAIN_TO)
    c.wait_succeeded(job, JOB_TIMEOUT)
    report = fetch_and_compare(c, job, main_refs[fmt], tmp_path / "streamed.csv", f"streamed {fmt}")
    status, headers, body = http("GET", c.url + f"/v1/jobs/{job}/result", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip", (status, headers)
    assert gzip.decompress(body) == report


def test_coordinator_memory_does_not_grow_with_the_report(tally, tmp_path):
    """A report of about 200,000 users through a coordinator and two workers: the coordinator's
    peak resident memory stays under 256 MiB (docs/design.md §3.8 and §3.9: uploads are checked
    user by user and the workers merge, range by range; merged in memory it took about 290 MiB),
    and the report has every user."""
    logs = tmp_path / "logs"
    p = run([tally, "gen", "--format", "twingate-csv", "--users", "400000", "--start", "2026-10-01T00:00:00Z", "--hours", "24",
             "--events-per-hour", "40000", "--seed", "3", "--gzip", "--out", logs], timeout=300)
    assert p.returncode == 0, p.stderr
    with Cluster(tmp_path / "c", [{"name": "l", "kind": "file", "url": str(logs), "format": "twingate-csv"}], tally=tally) as c:
        c.start_coordinator()
        c.start_workers(2)
        job = c.submit("l", "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z")
        status = c.wait_succeeded(job, 600)
        peak = c.coordinator.peak_rss_kib()
        assert status["users"] > 150_000, status
        assert peak is not None and peak < 256 * 1024, f"coordinator peak RSS {peak} KiB"
        report = c.fetch(job, tmp_path / "report.csv")
        assert report.count(b"\n") == status["users"] + 1


def test_result_download_gzip(cluster, main_refs):
    """GET /v1/jobs/{id}/result is the CSV, gzip-encoded when asked for."""
    job = cluster.submit("csv", MAIN_FROM, MAIN_TO)
    cluster.wait_succeeded(job, JOB_TIMEOUT)
    status, headers, body = http("GET", f"{cluster.url}/v1/jobs/{job}/result")
    assert status == 200 and headers["Content-Type"].startswith("text/csv"), (status, dict(headers))
    assert body == main_refs["twingate-csv"]
    status, headers, body = http("GET", f"{cluster.url}/v1/jobs/{job}/result", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip", (status, dict(headers))
    assert gzip.decompress(body) == main_refs["twingate-csv"]


def test_status_and_list_commands(cluster, main_refs, tmp_path):
    """status/list/fetch take the coordinator from TALLY_COORDINATOR too."""
    env = {"TALLY_COORDINATOR": cluster.url}
    p = cluster.cli("submit", "--source", "analytics", "--from", MAIN_FROM, "--to", MAIN_TO, env=env)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    job = p.stdout.decode().strip()
    cluster.wait_succeeded(job, JOB_TIMEOUT)

    p = cluster.cli("status", job, "--json", env=env)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    status = json.loads(p.stdout)
    assert status["id"] == job and status["state"] == "succeeded" and status["source"] == "analytics", status
    assert status["window_from"] == MAIN_FROM and status["window_to"] == MAIN_TO, status

    p = cluster.cli("status", job, env=env)
    assert p.returncode == 0 and job in p.stdout.decode() and "succeeded" in p.stdout.decode(), p

    p = cluster.cli("list", env=env)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    first = p.stdout.decode().splitlines()[0]
    assert first.startswith(job) and "succeeded" in first, f"newest job not listed first:\n{p.stdout.decode()}"

    p = cluster.cli("fetch", job, "--out", tmp_path / "r.csv", env=env)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    assert_same_report((tmp_path / "r.csv").read_bytes(), main_refs["twingate-analytics"], "fetch via env")

    p = cluster.cli("status", "no-such-job", env=env)
    assert p.returncode != 0 and len(stderr_lines(p)) == 1 and "no-such-job" in p.stderr.decode(), p


def test_submit_wait_plain_progress(cluster, main_refs, tmp_path):
    """Without a terminal, `submit --wait --out` prints plain lines (no bar) on stderr and writes the CSV."""
    out = tmp_path / "waited.csv"
    p = cluster.cli("submit", "--coordinator", cluster.url, "--source", "s3json", "--from", MAIN_FROM, "--to", MAIN_TO,
                    "--wait", "--out", out)
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode == 0, f"submit --wait failed ({p.returncode}):\n{stderr}"
    job = p.stdout.decode().strip()
    assert re.fullmatch(r"\S+", job), p.stdout
    assert "\r" not in stderr and "\x1b" not in stderr, f"terminal control characters without a terminal: {stderr!r}"
    lines = stderr_lines(p)
    assert any(job in line and re.search(r"\b(queued|running|merging|succeeded)\b", line) for line in lines), stderr
    assert any(job in line and "succeeded" in line for line in lines), stderr
    assert not any("error" in line.lower() for line in lines), stderr
    assert_same_report(out.read_bytes(), main_refs["twingate-s3"], "submit --wait --out")


def test_submit_wait_failed_job(cluster, tmp_path):
    """A job whose source is a non-existent directory fails: non-zero exit, one error line naming the reason."""
    out = tmp_path / "never.csv"
    p = cluster.cli("submit", "--coordinator", cluster.url, "--source", "missing", "--from", MAIN_FROM, "--to", MAIN_TO,
                    "--wait", "--out", out)
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode != 0, f"submit --wait of a failing job exited 0:\n{stderr}"
    job = p.stdout.decode().strip()
    errors = [line for line in stderr_lines(p) if "error" in line.lower()]
    assert len(errors) == 1, f"want exactly one error line on stderr, got:\n{stderr}"
    assert errors[0] == stderr_lines(p)[-1], f"the error line is not the last line:\n{stderr}"
    assert job in errors[0] and "failed" in errors[0] and MISSING_DIR in errors[0], \
        f"error line does not name the job, its state and the missing directory: {errors[0]}"
    assert not out.exists(), "a failed job wrote an output file"
    status = cluster.status(job)
    assert status["state"] == "failed" and MISSING_DIR in (status.get("error") or ""), status


def test_submit_bad_requests_fail_with_one_line(cluster):
    for args, needle in ((["--source", "nope", "--from", MAIN_FROM, "--to", MAIN_TO], "nope"),
                         (["--source", "csv", "--from", MAIN_TO, "--to", MAIN_FROM], "to"),
                         (["--source", "csv", "--from", "yesterday", "--to", MAIN_TO], "yesterday")):
        p = cluster.cli("submit", "--coordinator", cluster.url, *args)
        lines = stderr_lines(p)
        assert p.returncode != 0 and len(lines) == 1 and needle in lines[0], (args, p.returncode, lines)
        assert not p.stdout.strip(), f"a refused submit printed a job id: {p.stdout!r}"


def test_unreachable_coordinator_fails_fast(tally):
    """A coordinator that refuses connections is reported in seconds, as one line, not after a long hang."""
    url = f"http://127.0.0.1:{free_port()}"            # nothing listens there
    for args in (["submit", "--source", "csv", "--from", MAIN_FROM, "--to", MAIN_TO], ["status", "abc"]):
        started = time.monotonic()
        try:
            p = subprocess.run([str(tally), args[0], "--coordinator", url, *args[1:]], capture_output=True,
                               timeout=20, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`tally {args[0]}` against {url} (connection refused) was still waiting after 20 s")
        lines = stderr_lines(p)
        assert p.returncode != 0 and len(lines) == 1 and "coordinator" in lines[0], (args[0], p.returncode, lines)
        assert time.monotonic() - started < 20


def test_cancel_running_job(cluster, big, main_refs, tmp_path):
    """`tally cancel` stops a running job; the workers abandon it and take the next job."""
    job = cluster.submit("big", BIG_FROM, BIG_TO)
    wait_running_with_leases(cluster, job, 1)
    cancelled_at = time.time()
    p = cluster.cli("cancel", "--coordinator", cluster.url, job)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    assert "cancelled" in p.stderr.decode(), p.stderr
    status = cluster.status(job)
    assert status["state"] == "cancelled" and status.get("finished_at"), status
    assert status["progress"]["tasks_done"] < status["progress"]["tasks_total"], "the job was not running any more"
    wait_until(lambda: leased(cluster) == 0, 15, "no task leased after the cancel", on_timeout=cluster.logs)

    p = cluster.cli("cancel", "--coordinator", cluster.url, job)
    assert p.returncode != 0 and len(stderr_lines(p)) == 1, ("cancelling twice", p.returncode, p.stderr)
    p = cluster.cli("fetch", "--coordinator", cluster.url, job, "--out", tmp_path / "x.csv")
    assert p.returncode != 0 and len(stderr_lines(p)) == 1 and not (tmp_path / "x.csv").exists(), p

    assert all(w.alive() for w in cluster.workers.values()), cluster.logs()
    nxt = cluster.submit("csv", MAIN_FROM, MAIN_TO)
    cluster.wait_succeeded(nxt, JOB_TIMEOUT)
    fetch_and_compare(cluster, nxt, main_refs["twingate-csv"], tmp_path / "next.csv", "job after a cancel")
    assert all(w.alive() for w in cluster.workers.values()), cluster.logs()
    for name in cluster.workers:
        wait_until(lambda: cluster.metric("tally_worker_last_seen_seconds", worker=name) > cancelled_at, 10,
                   f"worker {name} to talk to the coordinator after the cancel")
    time.sleep(1)
    assert cluster.status(job)["state"] == "cancelled", "a late upload revived the cancelled job"


def test_metrics(cluster):
    """Runs after jobs have run on the shared cluster."""
    status, headers, body = http("GET", cluster.url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain"), (status, dict(headers))
    text = body.decode()
    for family in ("tally_jobs", "tally_tasks", "tally_lease_expiries_total", "tally_events_processed_total",
                   "tally_worker_last_seen_seconds"):
        assert re.search(rf"^{family}\w*[{{ ]", text, re.M), f"/metrics has no {family}:\n{text}"
    m = cluster.metrics()
    for state in ("queued", "running", "merging", "succeeded", "failed", "cancelled"):
        assert any(n.startswith("tally_jobs") and ("state", state) in ls for n, ls in m), f"no tally_jobs state={state}"
    for state in ("pending", "leased", "done", "abandoned"):
        assert any(n.startswith("tally_tasks") and ("state", state) in ls for n, ls in m), f"no tally_tasks state={state}"
    assert cluster.metric("tally_jobs", state="succeeded") >= 1
    assert cluster.metric("tally_events_processed_total") > 0
    now = time.time()
    for name in cluster.workers:
        seen = cluster.metric("tally_worker_last_seen_seconds", worker=name)
        assert now - 30 < seen <= now + 5, f"worker {name} last seen at {seen}, now {now}"


# ---------------------------------------------------------------------------------------- chaos

def test_worker_killed_mid_job(chaos, big, tmp_path):
    c = chaos(lease_seconds=3)
    c.start_coordinator()
    workers = c.start_workers(3)
    job = c.submit("big", BIG_FROM, BIG_TO)
    wait_running_with_leases(c, job, 3)           # every worker holds a task
    workers[0].kill()
    status = c.status(job)
    assert status["progress"]["tasks_done"] < status["progress"]["tasks_total"], "killed too late: job already done"
    c.wait_succeeded(job, JOB_TIMEOUT)
    fetch_and_compare(c, job, big.ref(), tmp_path / "out.csv", "worker SIGKILLed mid-job")
    assert all(w.alive() for w in workers[1:]), c.logs()


def test_lease_expiry_late_upload_ignored(chaos, big, tmp_path):
    c = chaos(lease_seconds=2)
    c.start_coordinator()
    workers = c.start_workers(3)
    job = c.submit("big", BIG_FROM, BIG_TO)
    wait_running_with_leases(c, job, 3)
    stopped = None
    for w in workers:                     # the one stopped must hold a lease: its lease must expire
        w.signal(signal.SIGSTOP)
        try:
            wait_until(lambda: c.metric("tally_lease_expiries_total") >= 1, 2 * c.lease_seconds + 3,
                       f"a lease of stopped worker {w.name} to expire")
            stopped = w
            break
        except AssertionError:
            w.signal(signal.SIGCONT)      # it was between two tasks; try the next one
    assert stopped, f"no lease expired while a worker was stopped\n{c.logs()}"
    try:
        c.wait_succeeded(job, JOB_TIMEOUT)
        report = fetch_and_compare(c, job, big.ref(), tmp_path / "out.csv", "lease expired while a worker was stopped")
    finally:
        stopped.signal(signal.SIGCONT)
    # The resumed worker's late upload or heartbeat is refused; it carries on, and nothing changes.
    resumed_at = time.time()
    wait_until(lambda: c.metric("tally_worker_last_seen_seconds", worker=stopped.name) > resumed_at, 15,
               f"resumed worker {stopped.name} to talk to the coordinator again", on_timeout=c.logs)
    time.sleep(2 * c.lease_seconds)
    assert stopped.alive(), c.logs()
    m = c.metrics()
    assert m[("tally_lease_expiries_total", ())] >= 1 or m[("tally_uploads_ignored_total", ())] >= 1, m
    status = c.status(job)
    assert status["state"] == "succeeded" and status["progress"]["tasks_done"] == status["progress"]["tasks_total"]
    assert c.fetch(job, tmp_path / "again.csv") == report, "the result changed after the stopped worker resumed"


def test_straggler_copied_to_another_worker(chaos, big, tmp_path):
    """A worker stopped mid-task keeps its lease (a long one: 120 s), so the job can only finish before
    that lease expires if another worker runs a copy of the task: the copy wins, the report is exact."""
    c = chaos(lease_seconds=120, extra_config="stragglers:\n  after_done_share: 0.5\n  slower_than_median: 2\n"
                                              "  floor_seconds: 2\n  max_copy_share: 0.2\n")
    c.start_coordinator()
    slow = c.start_worker("slow")
    job = c.submit("big", BIG_FROM, BIG_TO)
    stopped = False
    for _ in range(20):                    # stop it while it holds a lease, not between two tasks
        wait_running_with_leases(c, job, 1)
        slow.signal(signal.SIGSTOP)
        time.sleep(0.3)
        if leased(c) == 1 and c.status(job)["state"] == "running":
            stopped = True
            break
        slow.signal(signal.SIGCONT)
    assert stopped, f"never caught the slow worker holding a lease\n{c.logs()}"
    try:
        c.start_worker("fast")
        c.wait_succeeded(job, JOB_TIMEOUT)
        fetch_and_compare(c, job, big.ref(), tmp_path / "out.csv", "straggler copied to another worker")
        stats = c.status(job)["statistics"]
        assert (stats["task_copies_started"], stats["task_copies_won"]) == (1, 1), stats
        m = c.metrics()
        assert m.get(("tally_lease_expiries_total", ()), 0) == 0, "the job waited for the stopped worker's lease to expire"
        assert m[("tally_task_copies_won_total", ())] == 1, m
    finally:
        slow.signal(signal.SIGCONT)
    # The resumed worker hears that its task is done elsewhere and carries on.
    resumed_at = time.time()
    wait_until(lambda: c.metric("tally_worker_last_seen_seconds", worker="slow") > resumed_at, 60,
               "the resumed slow worker to talk to the coordinator again", on_timeout=c.logs)
    assert slow.alive(), c.logs()


def test_coordinator_killed_and_restarted(chaos, big, tmp_path):
    c = chaos(lease_seconds=5)
    c.start_coordinator()
    workers = c.start_workers(3)
    job = c.submit("big", BIG_FROM, BIG_TO)
    wait_until(lambda: 3 <= c.status(job)["progress"]["tasks_done"], 90, f"job {job} to have 3 tasks done",
               interval=0.05, on_timeout=c.logs)
    c.coordinator.kill()
    # killed after the poll, so at most a handful more tasks could have been committed: the job is mid-way
    time.sleep(2)                                   # workers keep retrying with backoff meanwhile
    assert all(w.alive() for w in workers), f"a worker exited while the coordinator was down\n{c.logs()}"
    c.start_coordinator()
    before = c.status(job)
    assert before["state"] in ("running", "merging", "succeeded"), before
    c.wait_succeeded(job, JOB_TIMEOUT)
    status = c.status(job)
    assert status["progress"]["tasks_done"] == status["progress"]["tasks_total"] == 24, status
    fetch_and_compare(c, job, big.ref(), tmp_path / "out.csv", "coordinator SIGKILLed and restarted")
    listed = [j["id"] for j in c.get_json("/v1/jobs")["jobs"]]
    assert listed == [job], f"the restarted coordinator lists {listed}"


def test_a_committed_partial_corrupted_on_disk_is_computed_again(chaos, big, tmp_path):
    """A partial damaged on disk after its commit (a disk fault while the coordinator was down) is
    found when the restarted coordinator reads it: its task is computed again, the job is not
    failed, nothing crashes, and the CSV is still byte-identical to the reference."""
    c = chaos(lease_seconds=5)
    c.start_coordinator()
    workers = c.start_workers(2)
    job = c.submit("big", BIG_FROM, BIG_TO)
    partials = c.data_dir / "jobs" / job / "partials"
    wait_until(lambda: len(list(partials.glob("*.partial"))) >= 2, 90, "two committed partials", interval=0.05, on_timeout=c.logs)
    for w in workers:
        w.signal(signal.SIGSTOP)            # no commits while the file is damaged
    # A partial's file is in place a moment before its commit is recorded: wait until every file
    # on disk is a committed task's, so the one damaged is one the store counts as done.
    wait_until(lambda: c.status(job)["progress"]["tasks_done"] == len(list(partials.glob("*.partial"))), 30,
               "the store and the partial files to agree", on_timeout=c.logs)
    c.coordinator.kill()
    # Named `7.partial`, or `7-LEASE.partial` with shared blobs (the copy in the data folder is the one read).
    damaged = sorted(partials.glob("*.partial"), key=lambda p: int(p.stem.split("-")[0]))[0]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x5A
    damaged.write_bytes(bytes(data))
    for w in workers:
        w.signal(signal.SIGCONT)
    c.start_coordinator()
    c.wait_succeeded(job, JOB_TIMEOUT)
    log = c.coordinator.log.read_text(errors="replace")
    assert "partial lost, computing its task again" in log and f"task={damaged.stem.split('-')[0]}" in log, c.coordinator.tail()
    assert c.coordinator.alive() and c.coordinator_runs == 2
    fetch_and_compare(c, job, big.ref(), tmp_path / "out.csv", "a committed partial corrupted on disk")


def test_workers_started_before_coordinator(chaos, main_refs, tmp_path):
    c = chaos(lease_seconds=3)
    workers = c.start_workers(2)
    time.sleep(3)                                   # nothing listens yet: the workers keep retrying
    assert all(w.alive() for w in workers), f"a worker gave up on an unreachable coordinator\n{c.logs()}"
    up_at = time.time()
    c.start_coordinator()
    for w in workers:
        wait_until(lambda: c.metric("tally_worker_last_seen_seconds", worker=w.name) >= up_at, 20,
                   f"worker {w.name} to join the coordinator", on_timeout=c.logs)
    job = c.submit("csv", MAIN_FROM, MAIN_TO)
    c.wait_succeeded(job, JOB_TIMEOUT)
    fetch_and_compare(c, job, main_refs["twingate-csv"], tmp_path / "out.csv", "workers started first")


# ---------------------------------------------------------------------------------------- other hosts

def test_workers_on_other_hosts(tally):
    """scripts/netns-cluster: nginx, coordinator and workers in three network namespaces."""
    script = SCRIPTS / "netns-cluster"
    assert os.access(script, os.X_OK), f"{script} is missing or not executable"
    p = subprocess.run([str(script)], capture_output=True, timeout=400, cwd=REPO,
                       env={**os.environ, "TALLY_BIN": str(tally)})
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    assert p.returncode == 0, f"scripts/netns-cluster exited {p.returncode}:\n{out[-6000:]}"
    assert "identical to the reference" in out, out[-3000:]

