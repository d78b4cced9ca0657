"""Shared blobs (docs/design.md §3.11): a coordinator whose partials, results, cache entries and user directories
live in an S3 bucket (a real moto server, scripts/moto-serve), its data folder holding only copies.

- A job's CSV equals scripts/reference_report.py; the bucket then holds the result and the cached shards, and no
  partial of the job.
- The data folder's copies lost (a replica's disk replaced): the result is fetched back from the bucket, over the API
  and the Reports page, and a later job still reuses the cached shards.
- Keys under `jobs/` of a job the store does not know are removed by the retention pass.
- A bad `blobs:` entry stops the coordinator with the field named.
"""

import shutil
import time

import pytest

from cluster_util import Cluster, blobs_config, bucket_keys, http, wait_until
from conftest import BLOB_BUCKET as BUCKET, run
from e2e_util import reference_cmd
from test_tally import assert_same_report

FMT = "twingate-csv"
FROM, TO = "2026-10-01T00:00:00Z", "2026-10-01T12:00:00Z"


@pytest.fixture(scope="module")
def logs(generated):
    directory = generated.get("blobs", FMT, True, users=40, start=FROM, hours=12, events_per_hour=400, seed=8)
    p = run(reference_cmd(directory, FMT, FROM, TO), timeout=600)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return directory, p.stdout


def cluster(tmp_path, logs, moto, prefix):
    sources = [{"name": "logs", "kind": "file", "url": str(logs[0]), "format": FMT}]
    # Tasks of an hour each (the logs are two months old: past the shard cache's safety margin).
    config = blobs_config(moto, BUCKET, prefix) + "task_target_bytes: 4096\n"
    return Cluster(tmp_path, sources, extra_config=config)


def test_a_job_on_s3_blobs_survives_the_loss_of_its_data_folder(tmp_path, logs, moto):
    _, reference = logs
    with cluster(tmp_path, logs, moto, "lost-folder") as c:
        c.start_coordinator()
        c.start_worker("w1")
        job = c.submit("logs", FROM, TO)
        c.wait_succeeded(job)
        assert_same_report(c.fetch(job, tmp_path / "first.csv"), reference, "S3 blobs")

        def job_keys():
            return sorted(k.split("/", 3)[3] for k in bucket_keys(moto, BUCKET, f"lost-folder/jobs/{job}/"))
        wait_until(lambda: job_keys() == ["result.csv", "result.csv.gz", "result.summary.json"], 30,
                   "the job's partials to leave the bucket", on_timeout=lambda: str(job_keys()))
        cached = bucket_keys(moto, BUCKET, "lost-folder/cache/shards/")
        assert len(cached) >= 12, f"the shards were not cached in the bucket: {cached}"

        # The disk goes: every copy in the data folder, the result and the cache included.
        c.coordinator.stop()
        shutil.rmtree(c.data_dir / "jobs")
        shutil.rmtree(c.data_dir / "cache")
        c.start_coordinator()
        assert_same_report(c.fetch(job, tmp_path / "again.csv"), reference, "the result fetched back from the bucket")
        status, _, page = http("GET", f"{c.url}/reports/{job}", headers=c.auth())
        assert status == 200 and b"40" in page, f"the Reports page of a fetched-back result: {status}"
        # A second job over the same hours reuses the cached shards, fetched back from the bucket too.
        second = c.submit("logs", FROM, TO)
        c.wait_succeeded(second)
        assert_same_report(c.fetch(second, tmp_path / "second.csv"), reference, "cached shards from the bucket")
        statistics = c.status(second)["statistics"]
        assert statistics["shards_reused"] >= 12, statistics


def test_files_of_jobs_the_store_does_not_know_are_removed(tmp_path, logs, moto):
    orphan = tmp_path / "orphan.csv"
    orphan.write_text("user,email\n")
    status, _, body = http("PUT", f"{moto}/{BUCKET}/orphans/jobs/nosuchjob0000000/result.csv", body=orphan.read_bytes(),
                           headers={"Content-Type": "text/csv"})
    assert status == 200, body
    assert bucket_keys(moto, BUCKET, "orphans/jobs/nosuchjob0000000/")
    with cluster(tmp_path, logs, moto, "orphans") as c:
        c.start_coordinator()           # the retention pass runs at start, then every minute
        wait_until(lambda: not bucket_keys(moto, BUCKET, "orphans/jobs/nosuchjob0000000/"), 30,
                   "the orphan's files to be removed")


@pytest.mark.parametrize("entry, field", [
    ('blobs:\n  kind: s3\n  url: "http://bucket/x"\n', "blobs.url"),
    ('blobs:\n  kind: gcs\n  url: "s3://b/"\n', "blobs.kind"),
    ('blobs:\n  kind: s3\n  url: "s3://b/"\n  endpoint: "ftp://x"\n', "blobs.endpoint"),
    ('blobs:\n  kind: local\n  url: "s3://b/"\n', "blobs"),
    ('blobs:\n  kind: s3\n  url: "s3://b/"\n  bucket: "b"\n', "bucket"),
])
def test_a_bad_blobs_entry_names_its_field(tmp_path, entry, field):
    with Cluster(tmp_path, [], extra_config=entry) as c:
        proc = c.start_coordinator(wait=False)
        deadline = time.monotonic() + 30
        while proc.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not proc.alive(), "the coordinator started with a bad blobs entry"
        log = proc.log.read_text(errors="replace")
        assert field in log, f"the error does not name {field}:\n{log[-2000:]}"
