"""Tokens and roles end to end: a real coordinator that refuses to listen beyond loopback without
tokens, tokens made with `tally token` on its data directory and through its API, workers with a
token file, clients with TALLY_TOKEN, revocation, and reports still byte-identical to the reference."""

import json
import os

from cluster_util import Cluster, http
from conftest import MAIN_FROM, MAIN_TO, run
from test_tally import assert_same_report


def cluster_over(tmp_path, tally, nginx, main_data, **kw):
    folder = main_data["twingate-csv"].name
    return Cluster(tmp_path / "cluster", [{"name": "csv", "kind": "http", "url": nginx + folder + "/", "format": "twingate-csv"}],
                   tally=tally, **kw)


def test_no_tokens_means_loopback_only(tally, tmp_path):
    config = tmp_path / "tally.yaml"
    config.write_text(f'listen: "0.0.0.0:0"\ndata_dir: "{tmp_path / "data"}"\n')
    p = run([tally, "coordinator", "--config", config], timeout=60)
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode != 0, stderr
    lines = [line for line in stderr.splitlines() if "refusing to listen" in line]
    assert len(lines) == 1 and "tally token create --data-dir" in lines[0], stderr


def test_tokens_roles_and_a_job_end_to_end(tally, nginx, main_data, main_refs, tmp_path):
    c = cluster_over(tmp_path, tally, nginx, main_data)
    worker_file = tmp_path / "worker.token"
    p = run([tally, "token", "generate"])
    assert p.returncode == 0 and p.stdout.decode().startswith("tally_"), p
    worker_file.write_bytes(p.stdout)
    # Imported twice: the second import changes nothing.
    for _ in range(2):
        assert c.create_token("worker", "workers", "--secret-file", worker_file) == ""
    reporter = c.create_token("reporter", "rita")
    admin = c.create_token("admin", "ada", "--expires-days", "1")
    assert reporter.startswith("tally_") and len(reporter) == len("tally_") + 43, reporter
    c.start_coordinator()

    # No secret, a wrong one: refused with the reason, nothing else.
    status, _, body = http("GET", c.url + "/v1/jobs")
    assert status == 401 and "missing Authorization" in json.loads(body)["error"], body
    p = c.cli("list", "--coordinator", c.url, env={"TALLY_TOKEN": "tally_" + "x" * 43})
    assert p.returncode != 0 and "unknown secret" in p.stderr.decode(), p.stderr
    assert http("GET", c.url + "/healthz")[0] == 200

    c.start_worker("w1", extra=("--token-file", worker_file))
    c.env["TALLY_TOKEN"] = reporter
    c.api_token = reporter
    job = c.submit("csv", MAIN_FROM, MAIN_TO)
    c.wait_succeeded(job, 120)
    assert_same_report(c.fetch(job, tmp_path / "out.csv"), main_refs["twingate-csv"], "with tokens")

    # The reporter may not read metrics nor make tokens; the admin may, through the API.
    c.api_token = admin
    assert c.metric("tally_partials_committed_total") >= 1
    p = c.cli("token", "create", "--coordinator", c.url, "--role", "monitor", "--user", "prometheus", env={"TALLY_TOKEN": reporter})
    assert p.returncode != 0 and "the reporter role may not create_token" in p.stderr.decode(), p.stderr
    p = c.cli("token", "create", "--coordinator", c.url, "--role", "monitor", "--user", "prometheus", env={"TALLY_TOKEN": admin})
    assert p.returncode == 0, p.stderr
    monitor = p.stdout.decode().strip()
    assert http("GET", c.url + "/metrics", headers={"Authorization": f"Bearer {monitor}"})[0] == 200
    assert http("GET", c.url + "/v1/jobs", headers={"Authorization": f"Bearer {monitor}"})[0] == 403

    # Listing shows no secret; revoking the reporter stops it at once.
    p = c.cli("token", "list", "--data-dir", c.data_dir)
    assert p.returncode == 0, p.stderr
    listing = p.stdout.decode()
    assert all(s not in listing for s in (reporter, admin, monitor)), listing
    rita = next(line.split("\t")[0] for line in listing.splitlines() if "\trita\t" in line)
    assert c.cli("token", "revoke", "--coordinator", c.url, rita, env={"TALLY_TOKEN": admin}).returncode == 0
    p = c.cli("status", "--coordinator", c.url, job, env={"TALLY_TOKEN": reporter})
    assert p.returncode != 0 and "revoked" in p.stderr.decode(), p.stderr
    c.close()


def test_tally_run_works_with_its_own_tokens(tally, main_data, main_refs, tmp_path):
    """`tally run` makes an admin token for itself and a worker token for its children."""
    out = tmp_path / "out.csv"
    env = {k: v for k, v in os.environ.items() if k != "TALLY_TOKEN"}
    p = run([tally, "run", "--source", main_data["twingate-csv"], "--from", MAIN_FROM, "--to", MAIN_TO, "--out", out, "--workers", "2"],
            env=env)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    assert_same_report(out.read_bytes(), main_refs["twingate-csv"], "tally run with tokens")


def test_a_client_sending_a_byte_at_a_time_is_cut_off(tally, nginx, main_data, tmp_path):
    """A request head trickling in a byte every 0.3 s never completes: the coordinator closes the
    connection at `request_head_timeout_seconds` (1 s here) instead of holding it for ever, and
    keeps serving others."""
    import socket
    import time
    c = cluster_over(tmp_path, tally, nginx, main_data, extra_config="request_head_timeout_seconds: 1\n")
    c.start_coordinator()
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 40 + b"\r\n\r\n"
    sent, closed = 0, False
    with socket.create_connection(("127.0.0.1", c.port), timeout=10) as s:
        for byte in request:
            try:
                s.sendall(bytes([byte]))
                sent += 1
            except OSError:
                closed = True
                break
            s.settimeout(0.3)
            try:
                if s.recv(1024) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except OSError:
                closed = True
                break
    assert closed and sent < len(request), f"the trickling client kept its connection ({sent} of {len(request)} bytes sent)"
    assert http("GET", c.url + "/healthz")[0] == 200
    c.close()
