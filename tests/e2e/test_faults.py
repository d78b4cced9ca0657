"""Sources that fail mid-job: transient faults (503 with Retry-After or S3's SlowDown, resets, bodies
cut short with and without Content-Length, stalls, trickles, failed listings) heal under retries and
give the fault-free report byte for byte; a permanent fault (403) fails the job at once with a reason
naming the object. Served by a real nginx, or a real moto S3 server, behind `fault_proxy.FaultProxy`."""

import os
import sqlite3
import urllib.parse

import pytest

import boto3

from cluster_util import Cluster
from e2e_util import start_moto, stop_moto

from conftest import MAIN, MAIN_FROM, MAIN_TO, reference_reports, run
from fault_proxy import FaultProxy
from test_tally import assert_same_report, tally_run


@pytest.fixture(scope="module")
def fault_data(generated):
    """Gzip CSV (cut gzip streams) and plain S3 JSON (cut plain bodies: the case that once gave a
    short report with exit 0)."""
    return {
        "twingate-csv": generated.get("main-csv", "twingate-csv", True, **MAIN),
        "twingate-s3": generated.get("faults-s3-plain", "twingate-s3", False, **MAIN),
    }


@pytest.fixture(scope="module")
def fault_refs(fault_data):
    return reference_reports({fmt: (d, fmt, MAIN_FROM, MAIN_TO) for fmt, d in fault_data.items()})


@pytest.fixture(scope="module")
def fault_bucket(fault_data):
    """A moto S3 server holding the plain S3 JSON data under `faults/`; yields its endpoint."""
    port = start_moto()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
        s3.create_bucket(Bucket="faults")
        root = fault_data["twingate-s3"]
        for f in sorted(p for p in root.rglob("*") if p.is_file()):
            s3.put_object(Bucket="faults", Key="sync/" + f.relative_to(root).as_posix(), Body=f.read_bytes())
        yield endpoint
    finally:
        stop_moto(port)


def tally_run_s3(tally, proxy, out):
    """`tally run` over the fault bucket's S3 JSON data, through `proxy`."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": proxy.url.rstrip("/")}
    return run([tally, "run", "--source", "s3://faults/sync/", "--from", MAIN_FROM, "--to", MAIN_TO, "--out", out,
                "--format", "twingate-s3", "--workers", "2"], env=env)


def test_s3_objects_and_listings_faulting_give_the_fault_free_report(tally, fault_bucket, fault_refs, tmp_path):
    """moto behind the proxy: SlowDown on the listing and on objects, resets, bodies cut short with
    and without Content-Length — every object faults once, and the report is exact."""
    proxy = FaultProxy(fault_bucket, rate=1.0, budget=1, seed=5, s3=True).start()
    try:
        out = tmp_path / "out.csv"
        p = tally_run_s3(tally, proxy, out)
        stderr = p.stderr.decode(errors="replace")
        assert p.returncode == 0, f"tally run failed over S3 faults ({dict(proxy.injected)}):\n{stderr}"
        assert_same_report(out.read_bytes(), fault_refs["twingate-s3"], "S3 over faults")
        assert set(proxy.injected) == {"503", "reset", "cut_cl", "cut_nocl"}, dict(proxy.injected)
        listings = [path for path, n in proxy.faults.items() if path.rstrip("/") == "/faults"]
        assert listings, f"the listing was never failed: {dict(proxy.faults)}"
        assert "source reads retried" in stderr, stderr
    finally:
        proxy.stop()


def test_s3_reads_that_stall_or_trickle_are_hedged_within_their_share(tally, fault_bucket, fault_data, fault_refs, tmp_path):
    """moto behind the proxy: two S3 JSON objects stall or trickle halfway. Each is raced by a
    ranged GET for its rest, which wins: no read waits out its deadline or is retried, and the
    extra requests stay within the hedging share (5 % of reads, plus 2)."""
    root = fault_data["twingate-s3"]
    objects = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.name.startswith(("_", ".")))
    # Two objects of the window (01:30 to 05:00) of six hours of data.
    middle = len(objects) // 2
    slow = [f"/faults/sync/{urllib.parse.quote(name)}" for name in (objects[middle - 3], objects[middle + 3])]
    proxy = FaultProxy(fault_bucket, rate=1.0, budget=1, seed=5, s3=True, kinds=("stall", "trickle"), only=slow,
                       stall_seconds=90).start()
    try:
        out = tmp_path / "out.csv"
        p = tally_run_s3(tally, proxy, out)
        stderr = p.stderr.decode(errors="replace")
        assert p.returncode == 0, f"tally run failed over slow S3 reads ({dict(proxy.injected)}):\n{stderr}"
        assert_same_report(out.read_bytes(), fault_refs["twingate-s3"], "S3 with slow reads")
        assert proxy.injected == {"stall": 1, "trickle": 1}, (dict(proxy.injected), slow, dict(proxy.requests))
        assert proxy.ranged == {path: 1 for path in slow}, dict(proxy.ranged)
        assert sum(proxy.ranged.values()) <= 0.05 * len(objects) + 2
        assert "source reads retried" not in stderr, stderr
    finally:
        proxy.stop()


@pytest.mark.parametrize("fmt", ["twingate-csv", "twingate-s3"])
def test_every_object_faulting_once_gives_the_fault_free_report(tally, nginx, fault_data, fault_refs, tmp_path, fmt):
    folder = fault_data[fmt].name
    proxy = FaultProxy(nginx, rate=1.0, budget=1, seed=11).start()
    try:
        out = tmp_path / "out.csv"
        p = tally_run(tally, proxy.url + folder + "/", MAIN_FROM, MAIN_TO, out, "--format", fmt, "--workers", "2")
        stderr = p.stderr.decode(errors="replace")
        assert p.returncode == 0, f"tally run failed over transient faults ({dict(proxy.injected)}):\n{stderr}"
        assert_same_report(out.read_bytes(), fault_refs[fmt], f"{fmt} over faults")
        # Every kind was really injected, and the reads were retried, not silently accepted.
        assert set(proxy.injected) == {"503", "reset", "cut_cl", "cut_nocl"}, dict(proxy.injected)
        assert "source reads retried" in stderr, stderr
    finally:
        proxy.stop()


def test_a_permanent_fault_fails_the_job_naming_the_object(tally, nginx, fault_data, tmp_path):
    folder = fault_data["twingate-csv"].name
    objects = sorted(p.relative_to(fault_data["twingate-csv"]).as_posix() for p in fault_data["twingate-csv"].rglob("*.csv.gz"))
    denied = f"/{folder}/{objects[2]}"
    proxy = FaultProxy(nginx, rate=0.0, permanent=[denied]).start()
    try:
        p = tally_run(tally, proxy.url + folder + "/", MAIN_FROM, MAIN_TO, tmp_path / "out.csv", "--workers", "2")
        stderr = p.stderr.decode(errors="replace")
        assert p.returncode == 1, stderr
        assert objects[2] in stderr and "403" in stderr, stderr
        # Failed at once: the object was asked for once, not once per task attempt.
        assert proxy.requests[denied] == 1, dict(proxy.requests)
        assert not (tmp_path / "out.csv").exists()
    finally:
        proxy.stop()


def slow_body_run(tally, nginx, fault_data, fault_refs, tmp_path, path, kind, budget, **proxy_options):
    """`path` is served slowly (`kind`) on its first `budget` requests, range requests included when
    `fault_ranges`; the report must be exact. Returns the proxy and tally's summary."""
    folder = fault_data["twingate-csv"].name
    proxy = FaultProxy(nginx, rate=1.0, budget=budget, kinds=(kind,), only=[path], **proxy_options).start()
    try:
        out = tmp_path / "out.csv"
        p = tally_run(tally, proxy.url + folder + "/", MAIN_FROM, MAIN_TO, out, "--workers", "2")
        stderr = p.stderr.decode(errors="replace")
        assert p.returncode == 0, stderr
        assert_same_report(out.read_bytes(), fault_refs["twingate-csv"], f"csv with a {kind} body")
        return proxy, stderr
    finally:
        proxy.stop()


def fault_object(fault_data, largest=False):
    folder = fault_data["twingate-csv"].name
    objects = sorted(fault_data["twingate-csv"].rglob("*.csv.gz"))
    chosen = max(objects, key=lambda p: p.stat().st_size) if largest else objects[3]
    return chosen, f"/{folder}/{chosen.relative_to(fault_data['twingate-csv']).as_posix()}"


@pytest.mark.parametrize("kind", ["stall", "trickle"])
def test_a_slow_body_is_raced_by_a_hedged_read(tally, nginx, fault_data, fault_refs, tmp_path, kind):
    """One object's body stops halfway (`stall`, the connection held open) or crawls (`trickle`, 160
    bytes a second): long before the stall deadline (15 s) or the read budget, the worker asks for
    the rest of the object with a range request, which wins the race (docs/design.md §3.3). Nothing
    is retried: one extra request, for the rest only."""
    _, path = fault_object(fault_data)
    proxy, stderr = slow_body_run(tally, nginx, fault_data, fault_refs, tmp_path, path, kind, 1, stall_seconds=90)
    assert proxy.injected == {kind: 1} and proxy.requests[path] == 2, (dict(proxy.injected), dict(proxy.requests))
    assert proxy.ranged == {path: 1}, dict(proxy.ranged)
    assert "source reads retried" not in stderr, stderr


def test_a_stalled_read_and_its_hedge_are_cut_and_retried(tally, nginx, fault_data, fault_refs, tmp_path):
    """The read and its hedge both stall: the stall deadline (15 s without a byte from either) is the
    backstop; the worker cuts both and reads the object again."""
    _, path = fault_object(fault_data)
    proxy, stderr = slow_body_run(tally, nginx, fault_data, fault_refs, tmp_path, path, "stall", 2, stall_seconds=90,
                                  fault_ranges=True)
    assert proxy.injected == {"stall": 2} and proxy.requests[path] == 3 and proxy.ranged[path] == 1, (
        dict(proxy.injected), dict(proxy.requests), dict(proxy.ranged))
    assert "1 source reads retried" in stderr, stderr


def test_a_trickling_read_and_its_hedge_are_cut_at_the_budget_and_retried(tally, nginx, fault_data, fault_refs, tmp_path):
    """The read and its hedge both trickle (a byte every few milliseconds: never a stall). The read
    budget, 30 s plus the object's size at 64 KiB/s, is the backstop: past it the worker cuts both
    and reads the object again, whole."""
    largest, path = fault_object(fault_data, largest=True)
    assert largest.stat().st_size / 2 / 160 > 30 + largest.stat().st_size / 65536 + 5, "the object is too small to outlast its budget"
    proxy, stderr = slow_body_run(tally, nginx, fault_data, fault_refs, tmp_path, path, "trickle", 2, fault_ranges=True)
    assert proxy.injected == {"trickle": 2} and proxy.requests[path] == 3 and proxy.ranged[path] == 1, (
        dict(proxy.injected), dict(proxy.requests), dict(proxy.ranged))
    assert "1 source reads retried" in stderr, stderr


def test_a_data_directory_filling_mid_job_fails_the_job_with_the_reason_and_corrupts_nothing(tally, nginx, fault_data, fault_refs, tmp_path):
    """The coordinator's disk fills while a job runs: uploads are refused with 507 before the disk is
    full (`min_free_bytes`), workers retry, then the tasks fail and the job fails with the reason —
    recorded, because the job store kept its room. Space freed, the same job submitted again gives the
    exact report: nothing was corrupted (needs root for a tmpfs, as CI has)."""
    folder = fault_data["twingate-csv"].name
    c = Cluster(tmp_path / "cluster", [{"name": "csv", "kind": "http", "url": nginx + folder + "/", "format": "twingate-csv"}],
                tally=tally, extra_config=f"min_free_bytes: {24 << 20}\ntask_retry_delay_seconds: 0.2\n")
    c.data_dir.mkdir(parents=True)
    p = run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", c.data_dir])
    assert p.returncode == 0, f"cannot mount a tmpfs (root needed): {p.stderr.decode(errors='replace')}"
    try:
        c.start_coordinator()
        job = c.submit("csv", MAIN_FROM, MAIN_TO)
        c.wait_job(job, 60, states=("running",))
        # Leave 16 MiB: below the 24 MiB the coordinator keeps for its store.
        st = os.statvfs(c.data_dir)
        with open(c.data_dir / "filler", "wb") as f:
            f.truncate(0)
            f.write(b"\0" * (st.f_bavail * st.f_frsize - (16 << 20)))
        c.start_worker("w1", extra=("--upload-retry-seconds", "2"))
        status = c.wait_job(job, 120)
        assert status["state"] == "failed", status
        assert "min_free_bytes" in status["error"] and "cannot store the partial" in status["error"], status["error"]
        db = sqlite3.connect(c.data_dir / "tally.sqlite")
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        db.close()
        leftovers = [p.name for p in (c.data_dir / "jobs").rglob("*") if p.is_file()]
        assert leftovers == [], f"refused uploads left files behind: {leftovers}"

        (c.data_dir / "filler").unlink()
        again = c.submit("csv", MAIN_FROM, MAIN_TO)
        c.wait_succeeded(again, 120)
        assert_same_report(c.fetch(again, tmp_path / "out.csv"), fault_refs["twingate-csv"], "after the disk was freed")
    finally:
        c.close()
        run(["umount", c.data_dir])


def test_a_full_data_directory_is_refused_at_start_with_the_reason(tally, tmp_path):
    """A coordinator whose data directory cannot take a byte says so and exits, instead of
    starting and failing the first upload (needs root for a small tmpfs, as CI has)."""
    mount = tmp_path / "full"
    mount.mkdir()
    p = run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount])
    assert p.returncode == 0, f"cannot mount a tmpfs (root needed): {p.stderr.decode(errors='replace')}"
    try:
        with open(mount / "filler", "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
        config = tmp_path / "tally.yaml"
        config.write_text(f'listen: "127.0.0.1:0"\ndata_dir: "{mount}"\n')
        p = run([tally, "coordinator", "--config", config], timeout=60)
        stderr = p.stderr.decode(errors="replace")
        assert p.returncode == 1, stderr
        assert "not writable" in stderr and str(mount) in stderr, stderr
    finally:
        run(["umount", mount])
