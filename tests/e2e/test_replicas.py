"""Several coordinators on one PostgreSQL store (docs/operations.md, "Several coordinators"): three replicas of
`tally coordinator` sharing the store, and either their files in an S3 bucket (a moto server, scripts/moto-serve),
each replica with a data folder of its own, or one data folder; behind a real nginx round-robin proxy
(scripts/nginx-balance), three `tally worker` processes, and a real PostgreSQL (scripts/postgres-serve).

- With S3 blobs, the leader is SIGKILLed every few seconds during a job of 500+ tasks and started again; another
  replica is SIGSTOPped past its leader term and resumed: the CSV equals scripts/reference_report.py from every
  replica, every task was committed by exactly one lease (read in the store), the term moved on past the paused
  replica, and the bucket keeps the result and nothing else of the job.
- PostgreSQL itself is restarted mid-job: the replicas reconnect and the job ends exact.
- `tally store migrate` moves a SQLite store into PostgreSQL, keeping jobs, results, tokens and schedules.
"""

import contextlib
import json
import signal
import subprocess
import time

import pytest

from cluster_util import Cluster, Proc, blobs_config, bucket_keys, free_port, http, wait_until
from conftest import BLOB_BUCKET as BUCKET, run
from e2e_util import SCRIPTS, reference_cmd
from test_tally import assert_same_report

# 22 days of hourly objects of some 10 KB, and tasks of 4 KiB (task_target_bytes): one task per object, 528 in all,
# a job long enough (debug binary, 2 cores) for three failovers and a pause.
MANY = dict(users=60, start="2026-10-01T00:00:00Z", hours=22 * 24, events_per_hour=300, seed=21)
MANY_FROM, MANY_TO = "2026-10-01T00:00:00Z", "2026-10-23T00:00:00Z"
FMT = "twingate-csv"
JOB_TIMEOUT = 420


@pytest.fixture(scope="module")
def postgres():
    port = free_port()
    p = run([SCRIPTS / "postgres-serve", port], timeout=180)
    assert p.returncode == 0, "scripts/postgres-serve failed:\n" + p.stderr.decode(errors="replace")
    yield port
    run([SCRIPTS / "postgres-stop", port], timeout=60)


def psql(port, sql, database="tally"):
    """One statement's rows, through the psql of Debian's server package, as the store's user."""
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-h", "127.0.0.1", "-p", str(port), "-U", "tally",
                        "-d", database, "-c", sql], capture_output=True, env={"PGPASSWORD": "tally", "PATH": "/usr/bin:/bin"},
                       timeout=30)
    assert p.returncode == 0, f"psql failed: {p.stderr.decode(errors='replace')}"
    return [line.split("\t") for line in p.stdout.decode().splitlines() if line]


def fresh_schema(port, name):
    psql(port, f"DROP SCHEMA IF EXISTS {name} CASCADE")
    return f"postgres://tally:tally@127.0.0.1:{port}/tally?sslmode=disable&schema={name}"


class Replicas:
    """Three coordinator replicas of one Cluster (its tally.yaml; its data folder, or with `own_folders` one each),
    named r1..r3, and a round-robin nginx in front; the cluster's URL is the proxy's, so workers and the CLI go
    through it."""

    def __init__(self, cluster, count=3, own_folders=False):
        self.cluster = cluster
        self.own_folders = own_folders
        self.ports = [free_port() for _ in range(count)]
        self.procs = {}
        self.proxy_port = None

    def start(self, name):
        index = int(name[1:]) - 1
        env = {**self.cluster.env, "TALLY_REPLICA_NAME": name}
        runs = sum(1 for p in self.cluster.procs if p.name.startswith(name + "#")) + 1
        proc = Proc(f"{name}#{runs}", [self.cluster.tally, "coordinator", "--config", self.cluster.config,
                                       "--listen", f"127.0.0.1:{self.ports[index]}", "--data-dir", self.data_dir(name)],
                    self.cluster.root / f"{name}-{runs}.log", env)
        self.cluster.procs.append(proc)
        self.procs[name] = proc
        wait_until(lambda: self.ready(name), 60, f"replica {name} to be ready", interval=0.2, on_timeout=proc.tail)
        return proc

    def data_dir(self, name):
        return self.cluster.root / f"data-{name}" if self.own_folders else self.cluster.data_dir

    def ready(self, name):
        proc = self.procs[name]
        if not proc.alive():
            raise AssertionError(f"replica {name} exited with {proc.popen.returncode}:\n{proc.tail()}")
        try:
            status, _, _ = http("GET", f"http://127.0.0.1:{self.ports[int(name[1:]) - 1]}/readyz", timeout=2)
        except OSError:
            return False
        return status == 200

    def start_all(self):
        for i in range(len(self.ports)):
            self.start(f"r{i + 1}")
        self.proxy_port = free_port()
        p = run([SCRIPTS / "nginx-balance", self.proxy_port, *self.ports], timeout=60)
        assert p.returncode == 0, "scripts/nginx-balance failed:\n" + p.stderr.decode(errors="replace")
        self.cluster.port = self.proxy_port          # the CLI, the workers and the test's own calls go through it

    def close(self):
        if self.proxy_port:
            run([SCRIPTS / "nginx-stop", self.proxy_port], timeout=30)


def leader(pg_port, schema):
    rows = psql(pg_port, f"SELECT holder, term, expires_at > extract(epoch FROM clock_timestamp()) FROM {schema}.coordinator_leader")
    return (rows[0][0], int(rows[0][1]), rows[0][2] == "t") if rows else (None, 0, False)


TERM_SECONDS = 3                # the replicas' leader term here (15 s by default): failovers within the job


def store_config(url):
    return f'store:\n  kind: postgres\n  url: "{url}"\nleader_term_seconds: {TERM_SECONDS}\ntask_target_bytes: 4096\n'


@contextlib.contextmanager
def replica_cluster(root, logs, url, replicas=3, workers=0, blobs=None):
    """A Cluster on the store `url` (with the source `logs` over the folder `logs`, when given): `replicas`
    coordinators behind nginx, then `workers` workers; yields (cluster, replicas) and stops them all. With `blobs`
    (an S3 endpoint), the files are in the bucket BUCKET under the schema's name, and each replica has a data folder
    of its own."""
    sources = [{"name": "logs", "kind": "file", "url": str(logs), "format": FMT}] if logs else []
    config = store_config(url) + (blobs_config(blobs, BUCKET, url.rsplit("=", 1)[1]) if blobs else "")
    with Cluster(root, sources, lease_seconds=10, extra_config=config) as cluster:
        group = Replicas(cluster, count=replicas, own_folders=blobs is not None)
        try:
            group.start_all()
            for i in range(1, workers + 1):
                cluster.start_worker(f"w{i}")
            yield cluster, group
        finally:
            group.close()


def assert_each_task_committed_once(pg_port, schema, job):
    rows = psql(pg_port, f"""SELECT COUNT(*), COUNT(DISTINCT idx), COUNT(committed_lease), COUNT(DISTINCT committed_lease),
                                    SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END)
                             FROM {schema}.tasks WHERE job_id = '{job}' AND kind = 'aggregate'""")
    total, distinct, committed, distinct_leases, done = map(int, rows[0])
    tasks_total = int(psql(pg_port, f"SELECT tasks_total FROM {schema}.jobs WHERE id = '{job}'")[0][0])
    assert total == distinct == committed == distinct_leases == done == tasks_total, \
        f"tasks {total}, distinct {distinct}, committed {committed} by {distinct_leases} leases, done {done}, planned {tasks_total}"


@pytest.fixture(scope="module")
def many(generated):
    directory = generated.get("replicas-many", FMT, True, **MANY)
    p = run(reference_cmd(directory, FMT, MANY_FROM, MANY_TO), timeout=600)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return directory, p.stdout


def test_three_replicas_survive_their_leader_killed_and_a_replica_paused(tmp_path, many, postgres, moto):
    directory, reference = many
    schema = "replicas_chaos"
    with replica_cluster(tmp_path, directory, fresh_schema(postgres, schema), replicas=3, workers=3,
                         blobs=moto) as (cluster, replicas):
        job = cluster.submit("logs", MANY_FROM, MANY_TO)
        kills, paused, terms = 0, None, set()
        deadline = time.monotonic() + JOB_TIMEOUT

        def running():
            return cluster.status(job)["state"] not in ("succeeded", "failed", "cancelled")

        def new_leader(than):
            holder, term, live = leader(postgres, schema)
            terms.add(term)
            return live and holder not in (None, than) and holder

        # The leader SIGKILLed three times: each time another replica takes over within a term,
        # then the dead one comes back (as a new process under its name).
        while running() and kills < 3 and time.monotonic() < deadline:
            holder, term, live = leader(postgres, schema)
            terms.add(term)
            if live and holder in replicas.procs and replicas.procs[holder].alive():
                replicas.procs[holder].kill()
                kills += 1
                wait_until(lambda: new_leader(holder), 30, f"a replica to replace the killed leader {holder}", interval=0.2)
                replicas.start(holder)
            time.sleep(0.5)
        # Then the leader frozen past its term: another takes over; resumed, it must not act.
        holder, term, live = leader(postgres, schema)
        if running() and live and holder in replicas.procs:
            paused = (holder, term)
            replicas.procs[holder].signal(signal.SIGSTOP)
            wait_until(lambda: new_leader(holder), 30, f"a replica to replace the paused leader {holder}", interval=0.2)
            time.sleep(TERM_SECONDS + 1)
            replicas.procs[holder].signal(signal.SIGCONT)
        status = cluster.wait_succeeded(job, timeout=max(30, deadline - time.monotonic()))
        assert kills == 3, f"the leader was killed only {kills} times during the job"
        assert paused is not None, "no replica was paused during the job"
        assert max(terms) > paused[1], f"the term did not move past the paused leader's ({paused}, {sorted(terms)})"
        assert status["progress"]["tasks_total"] >= 500
        csv = cluster.fetch(job, tmp_path / "report.csv")
        assert_same_report(csv, reference, "three replicas, leader killed")
        assert_each_task_committed_once(postgres, schema, job)
        # Each replica serves the result from its own folder, fetching it from the bucket if another wrote it.
        for name in replicas.procs:
            if replicas.procs[name].alive():
                status, _, body = http("GET", f"http://127.0.0.1:{replicas.ports[int(name[1:]) - 1]}/v1/jobs/{job}/result",
                                       headers=cluster.auth())
                assert status == 200 and body == csv, f"replica {name} answered {status} with another result"
        # The bucket keeps the result; the partials, merged, are gone (just after the store says the job succeeded),
        # and no upload was left behind.
        def job_files():
            return sorted(k.rsplit("/", 1)[1] for k in bucket_keys(moto, BUCKET, f"{schema}/jobs/{job}/"))
        wait_until(lambda: job_files() == ["result.csv", "result.csv.gz", "result.summary.json"], 60,
                   "the job's partials to be removed from the bucket", interval=0.5,
                   on_timeout=lambda: f"left: {job_files()[:10]}… ({len(job_files())})")
        # The resumed replica saw it was deposed before it acted again.
        log = "\n".join(p.log.read_text(errors="replace") for p in cluster.procs if p.name.startswith(paused[0] + "#"))
        assert "not leading" in log, f"replica {paused[0]} never noticed it lost its term:\n{log[-3000:]}"


def test_replicas_ride_out_a_postgresql_restart(tmp_path, many, postgres):
    directory, reference = many
    schema = "replicas_restart"
    with replica_cluster(tmp_path, directory, fresh_schema(postgres, schema), replicas=2, workers=2) as (cluster, _):
        job = cluster.submit("logs", MANY_FROM, MANY_TO)
        wait_until(lambda: cluster.status(job)["progress"]["tasks_done"] >= 50, 120, "50 tasks done", interval=0.5)
        assert cluster.status(job)["state"] == "running", "the job ended before PostgreSQL could be restarted"
        p = run([SCRIPTS / "postgres-restart", postgres, "3"], timeout=120)
        assert p.returncode == 0, p.stderr.decode(errors="replace")
        status = cluster.wait_succeeded(job, timeout=JOB_TIMEOUT)
        assert status["progress"]["tasks_total"] >= 500
        assert_same_report(cluster.fetch(job, tmp_path / "report.csv"), reference, "PostgreSQL restarted mid-job")
        assert_each_task_committed_once(postgres, schema, job)


def test_a_replica_killed_loses_at_most_its_last_activity_flush(tmp_path, postgres):
    """The activity log's promise for a replica that dies (docs/reliability.md): rows are written in batches every
    0.25 s, so a SIGKILL loses only the rows of requests answered in the last flush window, never older ones."""
    with replica_cluster(tmp_path, None, fresh_schema(postgres, "replicas_activity"), replicas=2) as (_, replicas):
        direct = f"http://127.0.0.1:{replicas.ports[1]}"
        answered = []                          # (monotonic time, request id) of every answered request
        started = time.monotonic()
        while time.monotonic() - started < 3:
            status, headers, _ = http("GET", direct + "/v1/jobs")
            assert status == 200
            answered.append((time.monotonic(), headers["X-Request-Id"]))
        killed_at = time.monotonic()
        replicas.procs["r2"].kill()
        rows = {r[0] for r in psql(postgres, "SELECT request_uuid FROM replicas_activity.activity_rows")}
        lost = [(t, rid) for t, rid in answered if rid not in rows]
        window = max((killed_at - t for t, _ in lost), default=0.0)
        print(f"activity rows: {len(answered)} answered, {len(lost)} lost, all within the last {window * 1000:.0f} ms")
        assert len(answered) > 100
        # Lost rows are the last flush window's (0.25 s), with slack for a flush in flight on a busy machine.
        assert window <= 1.0, f"a row answered {window:.2f} s before the kill was lost"


def test_store_migrate_moves_a_sqlite_store_into_postgresql(tmp_path, generated, postgres):
    directory = generated.get("replicas-small", FMT, True, users=20, start="2026-10-01T00:00:00Z", hours=6,
                              events_per_hour=200, seed=3)
    frm, to = "2026-10-01T00:00:00Z", "2026-10-01T06:00:00Z"
    sources = [{"name": "logs", "kind": "file", "url": str(directory), "format": FMT}]
    data = tmp_path / "data"
    schedule = {"name": "nightly", "report": "active-users", "source": "logs", "window": "previous-day", "every": "daily",
                "at": "06:00"}
    # A single coordinator on SQLite: tokens, a finished job, a schedule.
    with Cluster(tmp_path / "sqlite", sources, data_dir=data) as single:
        worker_secret, admin_secret = single.create_token("worker", "workers"), single.create_token("admin", "ada")
        single.start_coordinator()
        single.env["TALLY_TOKEN"] = worker_secret
        single.start_worker("w1")
        single.api_token = single.env["TALLY_TOKEN"] = admin_secret
        job = single.submit("logs", frm, to)
        single.wait_succeeded(job)
        before = single.fetch(job, tmp_path / "before.csv")
        status, _, body = http("POST", single.url + "/v1/schedules", body=json.dumps(schedule).encode(),
                               headers={**single.auth(), "Content-Type": "application/json"})
        assert status == 201, body
    url = fresh_schema(postgres, "migrated")
    p = run([single.tally, "store", "migrate", "--from-data-dir", data, "--to", url], timeout=120)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    copied = dict(line.split("\t") for line in p.stdout.decode().splitlines())
    assert int(copied["jobs"]) == 1 and int(copied["tokens"]) == 2 and int(copied["schedules"]) == 1, copied
    # Into a store that holds jobs already: refused, nothing written twice.
    again = run([single.tally, "store", "migrate", "--from-data-dir", data, "--to", url], timeout=120)
    assert again.returncode != 0 and b"already holds" in again.stderr, again.stderr
    # The same data folder, now on PostgreSQL: the job, its result, the tokens and the schedule are all there.
    with Cluster(tmp_path / "postgres", sources, data_dir=data, extra_config=store_config(url)) as moved:
        moved.api_token = moved.env["TALLY_TOKEN"] = admin_secret
        moved.start_coordinator()
        assert moved.status(job)["state"] == "succeeded"
        assert moved.fetch(job, tmp_path / "after.csv") == before
        assert [s["request"]["name"] for s in moved.get_json("/v1/schedules")["schedules"]] == ["nightly"]
        moved.env["TALLY_TOKEN"] = worker_secret
        moved.start_worker("w1")
        moved.env["TALLY_TOKEN"] = admin_secret
        second = moved.submit("logs", frm, to)
        moved.wait_succeeded(second)
        assert moved.fetch(second, tmp_path / "second.csv") == before
