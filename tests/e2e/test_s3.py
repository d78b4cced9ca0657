"""End-to-end tests of `tally run --source s3://…` against a real moto S3 server (scripts/moto-serve).

Every report is compared byte for byte with scripts/reference_report.py over the same files on disk.
Nothing here skips: a missing binary, boto3 or a moto that will not start is a failure.

moto checks signatures only while its IAM authentication is switched on (`/moto-api/reset-auth`), and its
check mis-handles percent-encoded paths and queries (it recomputes the canonical request from the decoded
URL, so even boto3's own requests for `prefix=sync/` fail it). The main tests therefore run with checks
off and dummy credentials; `test_s3_signatures_are_checked` switches them on and reads a bucket whose keys
and listing query need no escaping, with keys moto issued, so a wrong signature would fail it there.
"""

import concurrent.futures
import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from e2e_util import TALLY_BIN, reference_cmd, s3_line, start_moto, stop_moto, write

GEN = dict(users=30, start="2026-10-01T00:00:00Z", hours=4, events_per_hour=2000, seed=11)
FROM, TO = "2026-10-01T00:30:00Z", "2026-10-01T03:00:00Z"
FMT = "twingate-s3"
DUMMY = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
REGION = "us-east-1"

MAIN_BUCKET, PAGING_BUCKET, SIGNED_BUCKET = "tally-e2e", "tally-paging", "tally-signed"
PAGING_FILES = 1100          # more than one ListObjectsV2 page (1,000 keys)
PAGING_FROM, PAGING_TO = "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"

RUN_TIMEOUT = 300


def _run(cmd, timeout=RUN_TIMEOUT, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def s3_tally():
    if not TALLY_BIN.is_file():
        pytest.fail(f"tally binary not found at {TALLY_BIN} (build it with `swift build`, or set TALLY_BIN)")
    return TALLY_BIN


@pytest.fixture(scope="module")
def s3_moto():
    """(endpoint URL, port) of a moto server of this module's own."""
    try:
        port = start_moto()
    except AssertionError as e:
        pytest.fail(str(e))
    yield f"http://127.0.0.1:{port}", port
    stop_moto(port)


def _moto_auth(endpoint, on):
    """Switches moto's signature and IAM checks on or off for every later request."""
    body = b"0" if on else b"inf"
    # Not a form: moto reads the raw body, which Flask empties for form content types.
    request = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=body,
                                     headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=30) as r:
        assert r.status == 200, r.read()


def _client(service, endpoint, **credentials):
    credentials = credentials or {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        config=Config(max_pool_connections=16, retries={"max_attempts": 2}), **credentials)


@pytest.fixture(scope="module")
def s3_local(s3_tally, tmp_path_factory):
    """Local copies of everything uploaded, for the reference: {name: directory}."""
    root = tmp_path_factory.mktemp("s3")
    gen = root / "gen"
    p = _run([s3_tally, "gen", "--format", FMT, "--users", GEN["users"], "--start", GEN["start"],
              "--hours", GEN["hours"], "--events-per-hour", GEN["events_per_hour"], "--seed", GEN["seed"],
              "--gzip", "--out", gen])
    assert p.returncode == 0, f"tally gen failed ({p.returncode}): {p.stderr.decode(errors='replace')}"
    assert len(list(gen.glob("*.json.gz"))) == 48, sorted(os.listdir(gen))

    # One small valid file per key, spread over an hour: enough keys for two listing pages.
    paging = root / "paging"
    for i in range(PAGING_FILES):
        minute, second = divmod(i * 3600 // PAGING_FILES, 60)
        write(paging / "2026-10-01" / f"part-{i:05d}.json",
              [s3_line("closed_connection", f"2026-10-01T00:{minute:02d}:{second:02d}.000000+00:00",
                       email=f"user{i % 13}@example.com", ip=f"10.0.{i % 7}.{i % 5}", device=f"d{i % 11}",
                       tx=i, rx=2 * i, relays=i % 2)])
    return {"gen": gen, "paging": paging}


@pytest.fixture(scope="module")
def s3_buckets(s3_moto, s3_local):
    """Fills moto (checks off), creates an IAM user whose keys moto will verify; returns those keys."""
    endpoint, _ = s3_moto
    s3 = _client("s3", endpoint)
    gen, paging = s3_local["gen"], s3_local["paging"]
    uploads = []
    for bucket in (MAIN_BUCKET, PAGING_BUCKET, SIGNED_BUCKET):
        s3.create_bucket(Bucket=bucket)

    files = sorted(f for f in gen.iterdir() if f.is_file())      # includes the generator's _SUCCESS and .hidden
    data = sorted(f for f in files if f.name.endswith(".json.gz"))
    for f in files:
        uploads.append((MAIN_BUCKET, "sync/" + f.name, f.read_bytes()))
    # Decoys holding real in-window events: the report would change if any were read.
    in_window = data[len(data) // 2].read_bytes()
    uploads += [
        (MAIN_BUCKET, "sync/_manifest.json", json.dumps({"files": [f.name for f in data]}).encode()),
        (MAIN_BUCKET, "sync/_tmp/2026-10-01T01:00:00+00:00.json.gz", in_window),
        (MAIN_BUCKET, "sync/.partial/2026-10-01T01:00:00+00:00.json.gz", in_window),
        (MAIN_BUCKET, "outside/2026-10-01T01:00:00+00:00.json.gz", in_window),
        (MAIN_BUCKET, "sync-other/2026-10-01T01:00:00+00:00.json.gz", in_window),   # shares the prefix "sync"
        (MAIN_BUCKET, "sync/notes.txt", b"not a log"),
    ]
    for f in sorted(paging.rglob("*.json")):
        uploads.append((PAGING_BUCKET, "many/" + f.relative_to(paging).as_posix(), f.read_bytes()))
    # Keys that need no percent-encoding: `2026/10/01/HH/MMSS.json.gz` (the hour is read from the path).
    for f in data:
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\+00:00\.json\.gz", f.name)
        assert m, f.name
        y, mo, d, h, mi, s = m.groups()
        uploads.append((SIGNED_BUCKET, f"{y}/{mo}/{d}/{h}/{mi}{s}.json.gz", f.read_bytes()))

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda u: s3.put_object(Bucket=u[0], Key=u[1], Body=u[2]), uploads))

    iam = _client("iam", endpoint)
    iam.create_user(UserName="tally-reader")
    iam.put_user_policy(UserName="tally-reader", PolicyName="read-logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"}]}))
    key = iam.create_access_key(UserName="tally-reader")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def _tally_env(endpoint, credentials):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(credentials)
    env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION})
    return env


def _tally_run(tally, source, frm, to, out, env):
    return _run([tally, "run", "--source", source, "--from", frm, "--to", to, "--format", FMT, "--out", out],
                env=env)


def _reference(directory, frm, to):
    p = _run(reference_cmd(directory, FMT, frm, to))
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout


def _report(tally, source, frm, to, out, env):
    p = _tally_run(tally, source, frm, to, out, env)
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode == 0, f"tally run {source} failed with {p.returncode}:\n{stderr}"
    assert out.is_file(), f"tally run exited 0 but wrote no {out}\n{stderr}"
    return out.read_bytes()


def _assert_same(actual, expected, what):
    if actual == expected:
        return
    a, e = actual.split(b"\n"), expected.split(b"\n")
    first = next((i for i, (x, y) in enumerate(zip(a, e)) if x != y), min(len(a), len(e)))
    pytest.fail(f"{what}: report differs from the reference ({len(actual)} vs {len(expected)} bytes, "
                f"{len(a)} vs {len(e)} lines); first difference at line {first + 1}:\n"
                f"  expected: {e[first] if first < len(e) else b'<end>'!r}\n"
                f"  actual:   {a[first] if first < len(a) else b'<end>'!r}")


def _stderr_lines(p):
    return [line for line in p.stderr.decode(errors="replace").splitlines() if line.strip()]


@pytest.mark.parametrize("source", [f"s3://{MAIN_BUCKET}/sync", f"s3://{MAIN_BUCKET}/sync/"])
def test_s3_report_equals_reference(s3_tally, s3_moto, s3_buckets, s3_local, tmp_path, source):
    endpoint, _ = s3_moto
    report = _report(s3_tally, source, FROM, TO, tmp_path / "out.csv", _tally_env(endpoint, DUMMY))
    expected = _reference(s3_local["gen"], FROM, TO)
    assert expected.count(b"\n") > 2, "the reference report is empty: the window misses the data"
    _assert_same(report, expected, source)


def test_s3_listing_follows_pages(s3_tally, s3_moto, s3_buckets, s3_local, tmp_path):
    endpoint, port = s3_moto
    report = _report(s3_tally, f"s3://{PAGING_BUCKET}/many", PAGING_FROM, PAGING_TO, tmp_path / "out.csv",
                     _tally_env(endpoint, DUMMY))
    expected = _reference(s3_local["paging"], PAGING_FROM, PAGING_TO)
    _assert_same(report, expected, "1,100 keys")
    # Every event is counted exactly once only if both pages were listed.
    total = sum(int(line.split(b",")[2]) for line in report.splitlines()[1:] if line)
    assert total == PAGING_FILES
    log = (Path(os.environ.get("MOTO_STATE_DIR", f"/tmp/tally-moto-{port}")) / "moto.log").read_text(errors="replace")
    assert re.search(rf"GET /{PAGING_BUCKET}\?[^ ]*continuation-token=", log), \
        "moto's log shows no ListObjectsV2 request with a continuation token"


def test_s3_signatures_are_checked(s3_tally, s3_moto, s3_buckets, s3_local, tmp_path):
    endpoint, _ = s3_moto
    source = f"s3://{SIGNED_BUCKET}"
    expected = _reference(s3_local["gen"], FROM, TO)
    _moto_auth(endpoint, True)
    try:
        report = _report(s3_tally, source, FROM, TO, tmp_path / "out.csv", _tally_env(endpoint, s3_buckets))
        _assert_same(report, expected, f"{source} with signatures checked")

        wrong = dict(s3_buckets, AWS_SECRET_ACCESS_KEY=s3_buckets["AWS_SECRET_ACCESS_KEY"][:-4] + "XXXX")
        p = _tally_run(s3_tally, source, FROM, TO, tmp_path / "wrong.csv", _tally_env(endpoint, wrong))
        lines = _stderr_lines(p)
        assert p.returncode != 0, "a wrong secret key was accepted"
        assert len(lines) == 1 and "SignatureDoesNotMatch" in lines[0], lines
        assert not (tmp_path / "wrong.csv").exists()
    finally:
        _moto_auth(endpoint, False)


def test_s3_missing_bucket_fails(s3_tally, s3_moto, s3_buckets, tmp_path):
    endpoint, _ = s3_moto
    p = _tally_run(s3_tally, "s3://no-such-bucket-for-tally/sync", FROM, TO, tmp_path / "out.csv",
                   _tally_env(endpoint, DUMMY))
    lines = _stderr_lines(p)
    assert p.returncode != 0, "a missing bucket was accepted"
    assert len(lines) == 1 and "NoSuchBucket" in lines[0], lines


def test_s3_missing_credentials_fail(s3_tally, s3_moto, tmp_path):
    endpoint, _ = s3_moto
    p = _tally_run(s3_tally, f"s3://{MAIN_BUCKET}/sync", FROM, TO, tmp_path / "out.csv",
                   _tally_env(endpoint, {"AWS_ACCESS_KEY_ID": "test"}))
    lines = _stderr_lines(p)
    assert p.returncode != 0
    assert len(lines) == 1 and "AWS_SECRET_ACCESS_KEY" in lines[0], lines
