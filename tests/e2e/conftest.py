"""Session fixtures for the end-to-end tests: the tally binary, a real nginx, generated data sets and
their reference reports. Nothing here skips: a missing binary or an nginx that will not start fails."""

import concurrent.futures
import gzip
import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cluster_util  # noqa: E402
from e2e_util import SCRIPTS, TALLY_BIN, reference_cmd  # noqa: E402

FORMATS = ("twingate-csv", "twingate-s3", "twingate-analytics")

# The main generated data set (one per format, same seed) and the window that cuts inside it.
MAIN = dict(users=40, start="2026-10-01T00:00:00Z", hours=6, events_per_hour=3000, seed=7)
MAIN_FROM, MAIN_TO = "2026-10-01T01:30:00Z", "2026-10-01T05:00:00Z"
# Paris: 28 hours from 2026-09-30T20:00Z cover the local day 2026-10-01 (UTC+2) with margins.
PARIS = dict(users=25, start="2026-09-30T20:00:00Z", hours=28, events_per_hour=500, seed=11)

RUN_TIMEOUT = 300


def run(cmd, timeout=RUN_TIMEOUT, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, timeout=timeout, **kw)


@pytest.fixture(autouse=True)
def stop_leftover_processes():
    """Every coordinator and worker a test started is stopped when it ends, passed or failed: a
    failed assertion before a test's own clean-up leaves nothing running (a port held, workers
    polling) for the tests after it."""
    started = len(cluster_util.STARTED)
    yield
    cluster_util.stop_started_since(started)


@pytest.fixture(scope="session")
def tally():
    if not TALLY_BIN.is_file():
        pytest.fail(f"tally binary not found at {TALLY_BIN} (build it with `swift build`, or set TALLY_BIN)")
    return TALLY_BIN


@pytest.fixture(scope="session")
def www(tmp_path_factory):
    """The directory nginx serves; every data set lives in a subdirectory of it."""
    return tmp_path_factory.mktemp("www")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def nginx(www):
    """Base URL (ending in /) of a real nginx serving `www` with JSON autoindex."""
    errors = []
    for _ in range(3):                       # a free port may be taken between probe and bind
        port = free_port()
        p = run([SCRIPTS / "nginx-serve", www, port], timeout=120)
        if p.returncode == 0:
            break
        errors.append(p.stderr.decode(errors="replace"))
    else:
        pytest.fail("scripts/nginx-serve could not start nginx:\n" + "\n".join(errors))
    yield f"http://127.0.0.1:{port}/"
    run([SCRIPTS / "nginx-stop", port], timeout=30)


class Generated:
    """`tally gen` outputs, made once per session and shared by the tests."""

    def __init__(self, tally, www):
        self.tally, self.www, self.dirs = tally, www, {}

    def get(self, name, fmt, gz, users, start, hours, events_per_hour, seed):
        if name not in self.dirs:
            out = self.www / name
            cmd = [self.tally, "gen", "--format", fmt, "--users", users, "--start", start, "--hours", hours,
                   "--events-per-hour", events_per_hour, "--seed", seed, "--out", out]
            p = run(cmd + (["--gzip"] if gz else []))
            assert p.returncode == 0, f"tally gen failed ({p.returncode}): {p.stderr.decode(errors='replace')}"
            self.dirs[name] = out
        return self.dirs[name]


BLOB_BUCKET = "tally-blobs"


@pytest.fixture(scope="module")
def moto():
    """The endpoint of a moto S3 server of the module's own (scripts/moto-serve), with the bucket BLOB_BUCKET in it:
    where clusters configured with cluster_util.blobs_config keep their files."""
    from e2e_util import start_moto, stop_moto
    port = start_moto()
    endpoint = f"http://127.0.0.1:{port}"
    cluster_util.create_bucket(endpoint, BLOB_BUCKET)
    yield endpoint
    stop_moto(port)


@pytest.fixture(scope="session")
def generated(tally, www):
    return Generated(tally, www)


def reference_reports(jobs):
    """jobs: {key: (dir, fmt, from, to)} -> {key: report bytes}, computed in parallel."""
    def one(job):
        p = run(reference_cmd(*job))
        assert p.returncode == 0, p.stderr.decode(errors="replace")
        return p.stdout
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(one, job) for key, job in jobs.items()}
        return {key: f.result() for key, f in futures.items()}


@pytest.fixture(scope="session")
def main_data(generated):
    """{format: directory} of the main data set, gzip-compressed."""
    return {fmt: generated.get("main-" + fmt.split("-")[1], fmt, True, **MAIN) for fmt in FORMATS}


@pytest.fixture(scope="session")
def main_refs(main_data):
    """{format: reference report bytes} for the main window."""
    return reference_reports({fmt: (d, fmt, MAIN_FROM, MAIN_TO) for fmt, d in main_data.items()})


@pytest.fixture(scope="session")
def paris_data(generated):
    return generated.get("paris-analytics", "twingate-analytics", False, **PARIS)


def is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def gunzip_lines(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()
