"""Tokens and roles end to end: a real coordinator that refuses to listen beyond loopback without
tokens, tokens made with `tally token` on its data directory and through its API, workers with a
token file, clients with TALLY_TOKEN, revocation, and reports still byte-identical to the reference."""

import json
import os

from cluster_util import HEALTHZ_REQUEST, Cluster, Proc, hold_served_connections, http, served, wait_until
from conftest import MAIN_FROM, MAIN_TO, run
from partial_forge import crc32c
from partial_forge import var_uint as varint
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
    p = c.cli("token", "list", *c.local_store())
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


def make_ca_and_certificate(folder):
    """A private CA and a certificate it signed for 127.0.0.1, made with openssl -> paths."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert, ext = (folder / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem", "ext.cnf"))
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    for cmd in (["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
                 "-subj", "/CN=tally test CA"],
                ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
                ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
                 "-extfile", ext]):
        p = run(cmd)
        assert p.returncode == 0, f"{cmd[0:2]} failed: {p.stderr.decode(errors='replace')}"
    return {"certificate": cert, "key": key, "ca": ca}


def test_tls_with_a_private_ca_end_to_end_and_a_worker_without_the_ca_refused(tally, nginx, main_data, main_refs, tmp_path):
    """The coordinator serves HTTPS with a certificate from a private CA; a worker and the CLI given
    the CA (--ca-file, TALLY_CA_FILE) run a job whose report is byte-identical to the reference; a
    worker without it never gets a task, and a client without it fails naming the certificate."""
    tls = make_ca_and_certificate(tmp_path / "pki")
    c = cluster_over(tmp_path, tally, nginx, main_data, tls=tls)
    try:
        worker_secret = c.create_token("worker", "workers")
        reporter = c.create_token("reporter", "rita")
        c.start_coordinator()
        assert c.url.startswith("https://")
        # Plain HTTP to the TLS port gets no answer.
        try:
            status = http("GET", c.url.replace("https://", "http://") + "/healthz", timeout=5)[0]
        except Exception:            # noqa: BLE001 — a reset or a garbled answer: refused either way
            status = None
        assert status != 200

        c.env["TALLY_TOKEN"] = worker_secret
        stranger = c.start_worker("noca")
        c.start_worker("w1", extra=("--ca-file", tls["ca"]))
        c.env["TALLY_TOKEN"] = reporter
        c.api_token = reporter
        p = c.cli("list", "--coordinator", c.url)
        assert p.returncode != 0 and "certificate" in p.stderr.decode(errors="replace").lower(), p.stderr
        c.env["TALLY_CA_FILE"] = str(tls["ca"])
        job = c.submit("csv", MAIN_FROM, MAIN_TO)
        c.wait_succeeded(job, 120)
        assert_same_report(c.fetch(job, tmp_path / "out.csv"), main_refs["twingate-csv"], "over TLS")
        assert stranger.alive()
        log = stranger.log.read_text(errors="replace").lower()
        assert "certificate" in log, stranger.tail()
        status = c.status(job)
        c.api_token = c.create_token("admin", "ada")
        assert c.metric("tally_worker_last_seen_seconds", worker="noca") == 0
        assert c.metric("tally_worker_last_seen_seconds", worker="w1") > 0
        assert status["progress"]["tasks_done"] == status["progress"]["tasks_total"]
    finally:
        c.close()


def test_connections_past_the_cap_are_closed_and_those_open_are_served(tally, nginx, main_data, tmp_path):
    """max_connections: 3. Three idle connections take every place: a fourth is closed at once
    without an answer, the three still get answers, and once they go new clients are served.

    The connection `start_coordinator` checked /healthz on may still be counted for a moment
    after the client closed it (the server sees the close asynchronously): each of the three is
    first shown to be served, so none of them is the one closed for a place still held."""
    import socket
    c = cluster_over(tmp_path, tally, nginx, main_data, extra_config="max_connections: 3\nrequest_head_timeout_seconds: 60\n")
    c.start_coordinator()
    request = HEALTHZ_REQUEST
    idle = []
    try:
        idle = hold_served_connections(c.port, 3)

        def refused():
            with socket.create_connection(("127.0.0.1", c.port), timeout=5) as s:
                s.settimeout(2)
                try:
                    s.sendall(request)
                    return s.recv(1024) == b""
                except (ConnectionResetError, BrokenPipeError):
                    return True
        wait_until(refused, 20, "a connection past max_connections to be closed unanswered")
        for s in idle:
            assert served(s), "an open connection was not served"
    finally:
        for s in idle:
            s.close()
    wait_until(lambda: http("GET", c.url + "/healthz", timeout=2)[0] == 200, 20, "a new client to be served")
    c.close()


def partial_frame(body):
    """A partial's frame around `body` with a valid checksum: what a hostile worker can forge."""
    import struct
    head = b"TLYP" + bytes([1]) + struct.pack("<Q", len(body))
    return head + body + struct.pack("<I", crc32c(head + body))


def rss_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for pid {pid}")


def test_hostile_uploads_keep_the_coordinator_small_and_a_good_upload_still_commits(tally, nginx, main_data, main_refs, tmp_path):
    """A worker token in hostile hands: oversized bodies, forged frames claiming 2^60 users or a user
    per byte, garbage, truncated bodies, and more uploads at once than allowed. Each is refused with
    its reason, the coordinator's peak RSS stays within a bound, and the job still ends exact."""
    import threading
    c = cluster_over(tmp_path, tally, nginx, main_data, extra_config=(
        "max_partial_bytes: 8388608\nmax_partial_memory_bytes: 33554432\nmax_concurrent_uploads: 2\ntask_retry_delay_seconds: 0\n"))
    worker = c.create_token("worker", "workers")
    c.api_token = c.create_token("admin", "ada")
    c.start_coordinator()
    job = c.submit("csv", MAIN_FROM, MAIN_TO, "--token", c.api_token)
    auth = {"Authorization": f"Bearer {worker}"}
    grant = wait_until(lambda: (r := http("POST", c.url + "/v1/worker/lease", {"worker": "hostile", "protocol_version": 2}, headers=auth))[0] == 200
                       and json.loads(r[2]), 30, "a lease")
    upload_url = c.url + f"/v1/worker/leases/{grant['lease_id']}/partial"
    octets = {**auth, "Content-Type": "application/octet-stream"}
    pid = c.coordinator.pid
    baseline = rss_kib(pid, "VmRSS")

    def put(body):
        """One upload on a keep-alive connection, as workers send them (the coordinator reads a
        refused body to its end, so the answer arrives whole)."""
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=60)
        try:
            conn.request("PUT", upload_url[len(c.url):], body=body, headers=octets)
            r = conn.getresponse()
            return r.status, r.read()
        except OSError as e:                 # the coordinator may cut a body it refused
            return None, str(e).encode()
        finally:
            conn.close()

    statistics = bytes(9)                    # seven counts, no malformed reasons, no samples
    cases = {
        "too large": (b"\0" * (9 << 20), {413, None}),
        "2^60 users": (partial_frame(statistics + varint(1 << 60)), {400}),
        "a user per byte": (partial_frame(statistics + varint(4 << 20) + bytes(4 << 20)), {400}),
        "garbage": (os.urandom(8 << 20), {400}),
        "truncated": (partial_frame(statistics + varint(3) + b"\x01a")[:-3], {400}),
    }
    for name, (body, expected) in cases.items():
        status, answer = put(body)
        assert status in expected, f"{name}: {status} {answer[:300]!r}"
        if status == 400:
            assert "partial rejected" in json.loads(answer)["error"], answer

    # More uploads at once than max_concurrent_uploads: the extra ones are told to come back.
    results = []
    threads = [threading.Thread(target=lambda: results.append(put(os.urandom(6 << 20)))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(s for s, _ in results)
    assert set(statuses) <= {400, 503} and statuses.count(400) >= 2, results
    peak = rss_kib(pid, "VmHWM")
    print(f"coordinator RSS: {baseline} KiB before the hostile uploads, peak {peak} KiB")
    assert peak - baseline < 160 * 1024, f"peak RSS {peak} KiB, {peak - baseline} KiB above the {baseline} KiB baseline"
    assert not list((c.data_dir / "jobs").rglob("upload-*")), "a refused upload left a file behind"

    # The hostile lease is handed back; a real worker finishes the job, exactly.
    status, _, _ = http("POST", upload_url.replace("/partial", "/failure"), {"reason": "giving up"}, headers=auth)
    assert status == 204
    c.env["TALLY_TOKEN"] = worker
    c.start_worker("w1")
    c.env["TALLY_TOKEN"] = c.api_token
    c.wait_succeeded(job, 120)
    assert_same_report(c.fetch(job, tmp_path / "out.csv"), main_refs["twingate-csv"], "after hostile uploads")
    c.close()


def test_quiet_defaults_are_loud_tokens_off_loopback_without_tls_and_secrets_over_plain_http(tally, nginx, main_data, tmp_path):
    """A coordinator with tokens listening beyond loopback without TLS warns at start; a client
    sending its secret over plain http:// to a host that is not loopback warns too (0.0.0.0 is not
    a loopback address, though connecting to it reaches this machine)."""
    c = cluster_over(tmp_path, tally, nginx, main_data)
    admin = c.create_token("admin", "ada")
    c.coordinator = Proc("coordinator-any", [tally, "coordinator", "--config", c.config, "--listen", f"0.0.0.0:{c.port}",
                                             "--data-dir", c.data_dir], tmp_path / "coordinator-any.log", c.env)
    c.procs.append(c.coordinator)
    try:
        c.wait_healthy()
        log = (tmp_path / "coordinator-any.log").read_text()
        assert "without TLS" in log and "0.0.0.0" in log, log
        plain = c.cli("list", "--coordinator", f"http://0.0.0.0:{c.port}", env={"TALLY_TOKEN": admin})
        assert plain.returncode == 0, plain.stderr
        assert "over plain HTTP" in plain.stderr.decode(), plain.stderr
        local = c.cli("list", "--coordinator", c.url, env={"TALLY_TOKEN": admin})
        assert local.returncode == 0 and "over plain HTTP" not in local.stderr.decode(), local.stderr
    finally:
        c.close()
