"""docs/openapi.yaml and a live `tally coordinator` agree, as Schemathesis (from PyPI) sees it: every
phase (examples, coverage, fuzzing, stateful) with every check, over every documented operation.

What the checks hold the two to: no 5xx; only documented statuses, media types, headers and body
schemas; a schema-valid request is accepted (2xx, or one of the statuses that say the resource or the
value is refused: 400, 404, 409, 410); a schema-violating one (an unknown property, a `null`, a wrong type,
a value out of its pattern) is refused; a method the document does not list for a path answers 405
with an `Allow` header. Worker-protocol routes are exercised with the leases the stateful phase
obtains and with unknown lease ids, which the document says answer 410 (heartbeat) or 409 (upload).

One check is left out: `use_after_free`. `DELETE /v1/jobs/{id}` cancels a job, and the document says
the cancelled job stays readable, so a `GET` after it answering 200 is the documented behaviour.
Every operation needs a bearer secret, and the role decides which ones may be used: two runs, one with
an admin token over everything but the worker protocol, one with a worker token over the worker protocol.

Bounded: a small data set, few examples per operation and a fixed seed, so a run takes well under
two minutes and a failure reproduces. A missing Schemathesis is a failure, never a skip."""

import importlib.util
import json
import re
import subprocess
import sys

import pytest
import yaml

from cluster_util import Cluster, http
from e2e_util import REPO

DOC_PATH = REPO / "docs" / "openapi.yaml"
SEED = 20261001
MAX_EXAMPLES = 50
RUN_TIMEOUT = 300
# Schemathesis' defaults plus 400 and 410: the document answers 400 to a schema-valid job that names a
# source the coordinator does not have, an empty or reversed window, or an unknown time zone (no schema
# can say which sources are configured or that `to` is after `from`) and to bytes that are not a
# partial, and 410 to a heartbeat for a lease that is not current.
POSITIVE_STATUSES = ["2xx", "3xx", "400", "401", "403", "404", "409", "410", "429", "5xx"]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def schemathesis_cmd(url, workdir, secret, paths):
    """The command line this test runs (also printed on failure, to rerun by hand); `paths` is
    ("include" | "exclude", regex)."""
    config = workdir / "schemathesis.toml"
    config.write_text("[checks.positive_data_acceptance]\n"
                      f"expected-statuses = {json.dumps(POSITIVE_STATUSES)}\n")
    return [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color",
            "run", str(DOC_PATH), "--url", url,
            "--checks", "all", "--exclude-checks", "use_after_free", f"--{paths[0]}-path-regex", paths[1],
            "--header", f"Authorization: Bearer {secret}",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
            "--continue-on-failure", "--generation-database", "none", "--request-timeout", "20",
            "--report", "junit", "--report-dir", str(workdir / "report")]


@pytest.fixture(scope="module")
def doc():
    return yaml.safe_load(DOC_PATH.read_text())


@pytest.fixture(scope="module")
def coordinator(tally, generated, tmp_path_factory):
    data = generated.get("schemathesis-csv", "twingate-csv", False, users=5, start="2026-10-01T00:00:00Z",
                         hours=2, events_per_hour=50, seed=3)
    sources = [{"name": "logs", "kind": "file", "url": data, "format": "twingate-csv"}]
    # Schemathesis sends refused secrets on purpose, thousands of them from one address: the
    # throttle (docs/security.md, tested in test_hostile.py) would answer its later requests 429.
    c = Cluster(tmp_path_factory.mktemp("schemathesis"), sources, lease_seconds=30, max_attempts=3, tally=tally,
                extra_config="max_refused_secrets_per_minute: 0\n")
    try:
        c.admin = c.create_token("admin", "schemathesis")
        c.worker = c.create_token("worker", "schemathesis-worker")
        c.api_token = c.admin
        c.start_coordinator()
        yield c
    finally:
        c.close()


def test_schemathesis_finds_no_disagreement(coordinator, tmp_path):
    if importlib.util.find_spec("schemathesis") is None:
        pytest.fail("schemathesis is not installed (scripts/install-deps installs it; or `pip install schemathesis`)")
    runs = [(coordinator.admin, ("exclude", "^/v1/worker/"), 18), (coordinator.worker, ("include", "^/v1/worker/"), 7)]
    for secret, paths, operations in runs:
        work = tmp_path / paths[0]
        work.mkdir()
        cmd = schemathesis_cmd(coordinator.url, work, secret, paths)
        p = subprocess.run(cmd, capture_output=True, timeout=RUN_TIMEOUT, cwd=work, stdin=subprocess.DEVNULL)
        out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
        failures = out.find("=== FAILURES ===")
        shown = " ".join(cmd).replace(secret, "$SECRET")
        assert p.returncode == 0, (
            f"schemathesis exited {p.returncode}: docs/openapi.yaml and the coordinator disagree.\n"
            f"command: {shown}\n"
            + (out[out.rfind("\n", 0, failures) + 1:] if failures >= 0 else out)[-20000:]
            + f"\n{coordinator.logs()}")
        assert re.search(rf"\b{operations} selected\b", out), f"schemathesis did not test the {operations} operations:\n{out[-3000:]}"
    assert coordinator.coordinator.alive(), coordinator.logs()
    status, _, body = http("GET", coordinator.url + "/healthz")
    assert (status, body) == (200, b"ok\n"), (status, body)


def test_undeclared_methods_answer_405_with_allow(doc, coordinator):
    """Schemathesis checks the status and that `Allow` is there; this checks what `Allow` lists (the
    documented methods, HEAD and OPTIONS aside) and the JSON error body, for every documented path."""
    for path, ops in doc["paths"].items():
        documented = {m.upper() for m in ops if m in HTTP_METHODS}
        concrete = re.sub(r"\{\w+\}", "0123456789abcdef", path)
        for method in sorted({"GET", "PUT", "POST", "DELETE", "PATCH", "TRACE", "OPTIONS"} - documented):
            status, headers, body = http(method, coordinator.url + concrete, headers=coordinator.auth())
            assert status == 405, f"{method} {path}: HTTP {status} {body[:300]!r}, want 405"
            allow = {m.strip().upper() for m in (headers.get("Allow") or "").split(",") if m.strip()}
            assert allow - {"HEAD", "OPTIONS"} == documented, f"{method} {path}: Allow: {headers.get('Allow')!r}, want {sorted(documented)}"
            assert headers.get("Content-Type", "").startswith("application/json"), (method, path, dict(headers))
            error = json.loads(body)
            assert isinstance(error.get("error"), str) and set(error) <= {"error", "field"}, (method, path, error)
