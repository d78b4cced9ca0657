"""A coordinator against hostile workers, clients and web pages, end to end: forged partials whose
numbers once crashed it (refused with 422, the coordinator stays up and restarts), a forged but
plausible partial from an untrusted worker token that must not reach another reporter's report
through the shard cache (while trusted workers' shards are still reused), DNS rebinding and
cross-site requests in the open mode, uploads trickling a byte at a time, notification fan-out,
oversized activity rows, spreadsheet formulas in CSV output, secret guessing, the data directory's
file modes and one client's connections.

The worker side of the forgeries is this test, speaking protocol v2 with partials encoded by
partial_forge.py; the honest side is real `tally worker` processes, and every report that should
be exact is compared byte for byte with scripts/reference_report.py."""

import csv
import datetime
import http.client as httpclient
import io
import json
import os
import re
import select
import socket
import stat
import threading
import time
import urllib.parse

import pytest

import partial_forge as forge
from cluster_util import Cluster, hold_served_connections, http, parse_metrics, served, wait_until
from conftest import run
from e2e_util import reference_cmd
from test_tally import assert_same_report

# ------------------------------------------------------------------ small logs of our own

DAYS = ("2026-09-01", "2026-09-02")                       # long past: their shards may be cached
WINDOW = ("2026-09-01T00:00:00Z", "2026-09-03T00:00:00Z")  # both whole UTC days: two tasks, one a day
HEADER = ["start_time", "user", "status", "bytes_transferred", "bytes_received", "client_ip", "device_id", "relays"]
RELAY = "relaybalancer+https://relays.twingate.com"
USERS = ("alice@example.com", "bob@example.com", "carol@example.com")
STATUSES = ("NORMAL", "NORMAL", "DNS_ERROR", "NORMAL", "CONNECTION_FAILED")
POISON = "poison@evil.example"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def utc(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def micros(moment):
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def window_micros(window=WINDOW):
    return micros(utc(window[0])), micros(utc(window[1]))


def write_logs(folder, days=DAYS, users=USERS, per_hour=2, ips=None):
    """Hourly CSV files YYYY/MM/DD/HH.csv, `per_hour` events each -> {object name: (lines, [event])},
    events as partial_forge.plausible_partial takes them."""
    events, n = {}, 0
    for day in days:
        base = utc(day + "T00:00:00Z")
        for hour in range(24):
            name = base.strftime("%Y/%m/%d/") + f"{hour:02d}.csv"
            rows, evs = [HEADER], []
            for k in range(per_hour):
                t = base + datetime.timedelta(hours=hour, minutes=7 + 23 * k, seconds=k, milliseconds=123)
                user, status = users[n % len(users)], STATUSES[n % len(STATUSES)]
                ok = status == "NORMAL"
                relayed = ok and n % 3 == 0
                ip = ips[n % len(ips)] if ips else f"10.0.{n % 3}.{n % 7}"
                e = dict(time=micros(t), user=user, status=status, tx=100 + n if ok else 0, rx=7 * n if ok else 0,
                         ip=ip, device=f"dev-{n % 4}", relayed=relayed)
                evs.append(e)
                rows.append([t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC", user, status, str(e["tx"]), str(e["rx"]),
                             ip, e["device"], RELAY if relayed else ""])
                n += 1
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            path.write_bytes(buf.getvalue().encode("utf-8"))
            events[name] = (len(rows), evs)
    return events


@pytest.fixture(scope="module")
def logs(www):
    """(folder nginx serves, events by object name, reference report for WINDOW): two days, 96 events."""
    folder = www / "hostile-logs"
    events = write_logs(folder)
    p = run(reference_cmd(folder, "twingate-csv", *WINDOW))
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return folder, events, p.stdout


def cluster(tmp_path, tally, nginx, folder, extra_config="", **kw):
    return Cluster(tmp_path / "cluster", [{"name": "logs", "kind": "http", "url": nginx + folder.name + "/", "format": "twingate-csv"}],
                   tally=tally, extra_config=extra_config, **kw)


# ------------------------------------------------------------------ HTTP as a hostile client speaks it


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def request(c, method, path, body=None, headers=None, source=None, timeout=30):
    """One request on its own connection, redirects not followed, headers sent exactly as given
    (no Content-Type added); `source`: the local address to connect from (any of 127.0.0.0/8).
    -> (status, headers, body)."""
    conn = httpclient.HTTPConnection("127.0.0.1", c.port, timeout=timeout, source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def error_of(body):
    return json.loads(body)["error"]


def submit(c, secret, window=WINDOW, **fields):
    """POST /v1/jobs as `secret`'s user -> job id."""
    body = {"report": "active-users", "source": "logs", "from": window[0], "to": window[1], **fields}
    status, _, answer = http("POST", c.url + "/v1/jobs", body, headers=bearer(secret))
    assert status in (201, 202), f"POST /v1/jobs: {status} {answer[:400]!r}"
    return json.loads(answer)["id"]


def job_status(c, secret, job):
    status, _, body = http("GET", f"{c.url}/v1/jobs/{job}", headers=bearer(secret))
    assert status == 200, f"GET /v1/jobs/{job}: {status} {body[:300]!r}"
    return json.loads(body)


def wait_ended(c, secret, job, timeout=90):
    seen = {}

    def ended():
        seen["s"] = job_status(c, secret, job)
        return seen["s"]["state"] in ("succeeded", "failed", "cancelled") and seen["s"]
    return wait_until(ended, timeout, f"job {job} to end", interval=0.2,
                      on_timeout=lambda: f"last status: {json.dumps(seen.get('s'))}\n{c.logs()}")


def wait_succeeded(c, secret, job, timeout=90):
    s = wait_ended(c, secret, job, timeout)
    assert s["state"] == "succeeded", f"job {job} {s['state']}: {s.get('error')}\n{c.logs()}"
    return s


def result(c, secret, job):
    status, _, body = http("GET", f"{c.url}/v1/jobs/{job}/result", headers=bearer(secret))
    assert status == 200, f"result of {job}: {status} {body[:300]!r}"
    return body


def lease(c, secret, worker="hostile", timeout=30):
    """POST /v1/worker/lease until a task is granted -> the LeaseGrant."""
    def once():
        status, _, body = http("POST", c.url + "/v1/worker/lease", {"worker": worker, "protocol_version": 2}, headers=bearer(secret))
        assert status in (200, 204), f"lease: {status} {body[:300]!r}"
        return status == 200 and json.loads(body)
    return wait_until(once, timeout, "a lease", interval=0.2, on_timeout=c.logs)


def upload(c, secret, lease_id, body):
    """PUT the partial -> (status, JSON answer)."""
    try:
        status, _, answer = http("PUT", f"{c.url}/v1/worker/leases/{lease_id}/partial", body,
                                 headers={**bearer(secret), "Content-Type": "application/octet-stream"})
    except OSError as e:                     # no answer: the coordinator died on it?
        raise AssertionError(f"the upload got no answer ({e!r}); coordinator "
                             f"{'running' if c.coordinator.alive() else 'DEAD'}:\n{c.coordinator.tail(40)}") from e
    try:
        return status, json.loads(answer) if answer else None
    except ValueError:
        return status, answer


def honest(grant, events):
    """A plausible partial of the grant's task, for the events the test wrote: what a worker reads."""
    names = {o["name"] for o in grant["task"]["objects"]}
    assert names <= set(events), f"the task names objects the test did not write: {sorted(names - set(events))[:3]}"
    window = (grant["window"]["from"], grant["window"]["to"])
    return forge.plausible_partial(grant["task"], events, window)


def poisoned(grant, events, connections=None):
    """A forged partial for the grant's task that passes every plausibility check: the counts read
    are the real ones, but every in-window connection is POISON's (or `connections` of them, the
    statistics made to match)."""
    statistics, users = honest(grant, events)
    n = statistics["events_in_window"] - statistics["service_account_events"]
    if connections is not None:
        extra = connections - n
        statistics["events"] += extra
        statistics["events_in_window"] += extra
        statistics["lines"] += extra
        n = connections
    _, latest = statistics["event_span"]
    users = [{"email": POISON, "success": n, "relayed": 0, "bytes_transferred": 10 ** 12, "bytes_received": 10 ** 12,
              "last_access": latest, "devices": [forge.stable_hash("evil-device")], "ip_hashes": [forge.stable_hash("6.6.6.6")],
              "top_ips": [("6.6.6.6", n)]}]
    return statistics, users


def cookie_value(headers, name):
    for line in headers.get_all("Set-Cookie") or []:
        key, _, rest = line.partition("=")
        if key.strip() == name:
            return rest.split(";")[0]
    return None


def sign_in_form(c, source=None):
    """GET /sign-in -> (form cookie, form token)."""
    status, headers, page = request(c, "GET", "/sign-in", source=source)
    assert status == 200, f"GET /sign-in: {status}"
    token = re.search(r'name="form_token" value="([^"]+)"', page.decode()).group(1)
    return cookie_value(headers, "tally_form"), token


def post_sign_in(c, form, secret, source=None):
    cookie, token = form
    body = urllib.parse.urlencode({"form_token": token, "secret": secret}).encode()
    return request(c, "POST", "/sign-in", body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"tally_form={cookie}"},
                   source=source)


def sign_in(c, secret):
    """Signs in through the web form as a browser would -> the Cookie header of the session."""
    status, headers, body = post_sign_in(c, sign_in_form(c), secret)
    assert status == 303, f"POST /sign-in: {status} {body[:300]!r}"
    session = cookie_value(headers, "tally_session")
    assert session, headers
    return {"Cookie": f"tally_session={session}"}


def check_pages(c, admin, job):
    """The reports list and the job's own page, signed in as the admin, show the job."""
    cookie = sign_in(c, admin)
    status, _, page = request(c, "GET", "/", headers=cookie)
    assert status == 200 and job in page.decode(), f"GET /: {status}"
    status, _, page = request(c, "GET", f"/reports/{job}", headers=cookie)
    assert status == 200 and job in page.decode(), f"GET /reports/{job}: {status} {page[:300]!r}"


def assert_alive(c):
    assert c.coordinator.alive(), f"the coordinator died:\n{c.coordinator.tail(40)}"
    assert http("GET", c.url + "/healthz", timeout=5)[0] == 200


# ------------------------------------------------------------------ a. the crash uploads of the issue


def crash_bytes_2_62(c, worker, job, events):
    """A partial claiming 2^62 bytes; refused again and again until the job fails with the reason."""
    grant = lease(c, worker)
    statistics, users = honest(grant, events)
    statistics["bytes"] = 2 ** 62
    status, answer = upload(c, worker, grant["lease_id"], forge.encode_partial(statistics, users))
    assert status == 422 and "partial refused" in answer["error"] and "bytes" in answer["error"], (status, answer)
    assert_alive(c)
    # The refusal is the attempt's failure: the task is leased again, and after max_attempts the job fails.
    for _ in range(2 * c.max_attempts):
        if job_status(c, c.api_token, job)["state"] == "failed":
            break
        grant = lease(c, worker)
        statistics, users = honest(grant, events)
        statistics["bytes"] = 2 ** 62
        status, answer = upload(c, worker, grant["lease_id"], forge.encode_partial(statistics, users))
        assert status == 422, (status, answer)
    s = wait_ended(c, c.api_token, job, 20)
    assert s["state"] == "failed" and "partial refused" in s.get("error", "") and "bytes" in s["error"], s


def crash_second_partial_int64_max(c, worker, job, events):
    """A plausible partial commits; the job's second claims Int64.max bytes."""
    grant = lease(c, worker)
    status, answer = upload(c, worker, grant["lease_id"], forge.encode_partial(*honest(grant, events)))
    assert (status, answer) == (200, {"committed": True}), (status, answer, c.logs())
    second = lease(c, worker)
    assert second["task"]["index"] != grant["task"]["index"]
    statistics, users = honest(second, events)
    statistics["bytes"] = 2 ** 63 - 1
    status, answer = upload(c, worker, second["lease_id"], forge.encode_partial(statistics, users))
    assert status == 422 and "partial refused" in answer["error"] and "bytes" in answer["error"], (status, answer)
    assert_alive(c)
    s = job_status(c, c.api_token, job)
    assert s["progress"]["tasks_done"] == 1 and s["state"] == "running", s


def crash_registers_all_49(c, worker, job, events):
    """A client-IP sketch with all 16,384 registers at 49 (an estimate near 10^19): for a user of 48
    connections (an approximate sketch where an exact one must be), then of 5,000."""
    for connections in (None, 5000):
        grant = lease(c, worker)
        statistics, users = poisoned(grant, events, connections=connections)
        users[0]["ip_registers"] = [49] * forge.REGISTER_COUNT
        del users[0]["ip_hashes"]
        status, answer = upload(c, worker, grant["lease_id"], forge.encode_partial(statistics, users))
        assert status == 422 and "partial refused" in answer["error"] and "client IP" in answer["error"], (status, answer)
        assert_alive(c)


def crash_malformed_int64_max(c, worker, job, events):
    """A job allowing half its lines malformed; a partial of one line, Int64.max of them malformed."""
    grant = lease(c, worker)
    statistics, users = honest(grant, events)
    statistics["lines"] = 1
    statistics["malformed"] = [2 ** 63 - 1]
    status, answer = upload(c, worker, grant["lease_id"], forge.encode_partial(statistics, users))
    assert status == 422 and "partial refused" in answer["error"] and "malformed" in answer["error"], (status, answer)


CRASHES = {"bytes_2_62": crash_bytes_2_62, "second_partial_int64_max": crash_second_partial_int64_max,
           "registers_all_49": crash_registers_all_49, "malformed_int64_max": crash_malformed_int64_max}


@pytest.mark.parametrize("case", list(CRASHES))
def test_a_crash_upload_is_refused_and_the_coordinator_stays_up_and_restarts(tally, nginx, logs, tmp_path, case):
    folder, events, _ = logs
    c = cluster(tmp_path, tally, nginx, folder, extra_config="task_retry_delay_seconds: 0\n")
    try:
        worker = c.create_token("worker", "mallory")
        c.api_token = admin = c.create_token("admin", "ada")
        c.start_coordinator()
        job = submit(c, admin, **({"max_malformed_share": 0.5} if case == "malformed_int64_max" else {}))
        CRASHES[case](c, worker, job, events)
        assert_alive(c)
        before = job_status(c, admin, job)
        check_pages(c, admin, job)
        status, _, body = http("GET", c.url + "/v1/jobs", headers=bearer(admin))
        assert status == 200 and job in body.decode()
        metrics = parse_metrics(request(c, "GET", "/metrics", headers=bearer(admin))[2].decode())
        assert metrics.get(("tally_partials_refused_total", ()), 0) >= 1, sorted(k for k in metrics if "partial" in k[0])

        # SIGTERM, then the coordinator starts again on its data directory and serves it all.
        c.coordinator.stop()
        assert c.coordinator.popen.returncode == 0, c.coordinator.tail(40)
        c.start_coordinator()
        after = job_status(c, admin, job)
        assert after["id"] == job and after["progress"]["tasks_done"] == before["progress"]["tasks_done"], (before, after)
        check_pages(c, admin, job)
        assert_alive(c)
    finally:
        c.close()


def test_a_enormous_but_plausible_byte_counts_saturate(tally, nginx, logs, tmp_path):
    """Byte counts are not bounded by plausibility: two partials each giving one user 2^64-1 bytes
    each way commit, and the sums saturate in the merge, the CSV, the job's status and the pages,
    before and after a restart."""
    folder, events, _ = logs
    c = cluster(tmp_path, tally, nginx, folder)
    top = 2 ** 64 - 1
    try:
        worker = c.create_token("worker", "mallory")
        c.api_token = admin = c.create_token("admin", "ada")
        c.start_coordinator()
        job = submit(c, admin)
        for connections in (5000, None):
            grant = lease(c, worker)
            statistics, users = poisoned(grant, events, connections=connections)
            users[0].update(bytes_transferred=top, bytes_received=top)
            if connections:
                # An approximate device sketch as an honest one looks past 4,096 devices (sparse
                # form: 4,096 registers at 1, an estimate of about 4,700).
                del users[0]["devices"]
                users[0]["device_registers"] = [1 if i % 4 == 0 else 0 for i in range(forge.REGISTER_COUNT)]
            status, answer = upload(c, worker, grant["lease_id"], forge.encode_partial(statistics, users))
            assert (status, answer) == (200, {"committed": True}), (status, answer, c.logs())
        wait_succeeded(c, admin, job)
        rows = list(csv.DictReader(io.StringIO(result(c, admin, job).decode(), newline="")))
        assert [(r["user_email"], r["total_bytes"], r["bytes_transferred"], r["bytes_received"]) for r in rows] == [
            (POISON, str(top), str(top), str(top))], rows
        assert 4000 < int(rows[0]["active_devices"]) <= 5048 * 17 // 16, rows[0]
        check_pages(c, admin, job)
        c.coordinator.stop()
        assert c.coordinator.popen.returncode == 0, c.coordinator.tail(40)
        c.start_coordinator()
        assert job_status(c, admin, job)["state"] == "succeeded"
        check_pages(c, admin, job)
        assert_alive(c)
    finally:
        c.close()


def test_a_python_partial_of_every_task_makes_the_reference_report(tally, nginx, logs, tmp_path):
    """The encoder itself: partials made by partial_forge for the events the test wrote are accepted
    (which checks the frame, the CRC-32C, the user order and plausibility), and the report merged
    from them alone is the reference's, byte for byte."""
    folder, events, reference = logs
    c = cluster(tmp_path, tally, nginx, folder)
    try:
        worker = c.create_token("worker", "pythonic")
        c.api_token = admin = c.create_token("admin", "ada")
        c.start_coordinator()
        job = submit(c, admin)
        for _ in range(2):
            grant = lease(c, worker)
            status, answer = upload(c, worker, grant["lease_id"], forge.encode_partial(*honest(grant, events)))
            assert (status, answer) == (200, {"committed": True}), (status, answer, c.logs())
        wait_succeeded(c, admin, job)
        assert_same_report(result(c, admin, job), reference, "a report from Python partials")
    finally:
        c.close()


# ------------------------------------------------------------------ b. a forged shard and the cache


def token_rows(c):
    p = c.cli("token", "list", *c.local_store())
    assert p.returncode == 0, p.stderr
    lines = p.stdout.decode().splitlines()
    header = lines[0].split("\t")
    assert header[-1] == "trusted", header
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def forged_then_honest(c, forger, honest_secret, reporter, events):
    """A job of `reporter`'s whose first task the forger's "worker" (this test) commits a plausible
    forgery for, the other done by a real worker with `honest_secret` -> the job's report."""
    job = submit(c, reporter)
    grant = lease(c, forger)
    shard = grant["task"].get("shard")
    assert shard and shard["end"] - shard["start"] == 24 * 3600 * 10 ** 6, grant["task"]   # a whole past day: cacheable
    status, answer = upload(c, forger, grant["lease_id"], forge.encode_partial(*poisoned(grant, events)))
    assert (status, answer) == (200, {"committed": True}), (status, answer, c.logs())
    c.env["TALLY_TOKEN"] = honest_secret
    c.start_worker("honest")
    wait_succeeded(c, reporter, job)
    forged = result(c, reporter, job)
    assert POISON.encode() in forged, "the forged partial did not make it into its own job"
    return forged


def test_b_a_forged_shard_from_an_untrusted_worker_never_reaches_another_report(tally, nginx, logs, tmp_path):
    folder, events, reference = logs
    c = cluster(tmp_path, tally, nginx, folder)
    try:
        mallory = c.create_token("worker", "mallory")                # untrusted: what its partials say stays in its job
        trusted = c.create_token("worker", "workers", "--trusted")
        rita = c.create_token("reporter", "rita")
        rob = c.create_token("reporter", "rob")
        c.api_token = c.create_token("admin", "ada")
        trust = {r["user"]: r["trusted"] for r in token_rows(c)}
        assert trust == {"mallory": "no", "workers": "yes", "rita": "-", "rob": "-", "ada": "-"}, trust
        c.start_coordinator()
        # Through the API too: only a worker token can be trusted.
        status, _, body = http("POST", c.url + "/v1/tokens", {"user": "api-workers", "role": "worker", "trusted": True},
                               headers=bearer(c.api_token))
        assert status == 201 and json.loads(body).get("trusted") is True, (status, body)
        status, _, body = http("POST", c.url + "/v1/tokens", {"user": "rex", "role": "reporter", "trusted": True},
                               headers=bearer(c.api_token))
        assert status == 400 and json.loads(body).get("field") == "trusted", (status, body)
        assert {r["user"]: r["trusted"] for r in token_rows(c)}["api-workers"] == "yes"
        # Rita's job: mallory's "worker" commits a plausible forgery for one whole day.
        forged_then_honest(c, mallory, trusted, rita, events)

        # Rob's job over the same days: mallory's shard is not reused, the honest one is.
        second = submit(c, rob)
        s = wait_succeeded(c, rob, second)
        report = result(c, rob, second)
        assert POISON.encode() not in report
        assert_same_report(report, reference, "after a forged shard")
        assert s["statistics"]["shards_reused"] == 1 and s["statistics"]["shards_computed"] == 1, s["statistics"]

        # Again: now both days come from the cache (the cache works), still exact.
        third = submit(c, rob)
        s = wait_succeeded(c, rob, third)
        assert s["statistics"]["shards_reused"] == 2, s["statistics"]
        assert_same_report(result(c, rob, third), reference, "from the cache")

        # Trust withdrawn: nothing the workers' token produced is reused any more.
        workers_id = next(r["id"] for r in token_rows(c) if r["user"] == "workers")
        p = c.cli("token", "trust", *c.local_store(), "--no", workers_id)
        assert p.returncode == 0, p.stderr
        assert {r["user"]: r["trusted"] for r in token_rows(c)}["workers"] == "no"
        fourth = submit(c, rob)
        s = wait_succeeded(c, rob, fourth)
        assert s["statistics"]["shards_reused"] == 0, s["statistics"]
        assert_same_report(result(c, rob, fourth), reference, "with the trust withdrawn")
    finally:
        c.close()


def test_b_control_the_same_forgery_from_a_trusted_token_is_reused(tally, nginx, logs, tmp_path):
    """The control of the test above: the forged partial is one the cache would keep and serve
    (a whole past day, versions, span, revision), so only the token's trust keeps it out. A
    trusted token is trusted for good: docs/security.md tells to give it only to one's own workers."""
    folder, events, _ = logs
    c = cluster(tmp_path, tally, nginx, folder)
    try:
        forger = c.create_token("worker", "insider", "--trusted")
        trusted = c.create_token("worker", "workers", "--trusted")
        rita = c.create_token("reporter", "rita")
        rob = c.create_token("reporter", "rob")
        c.api_token = c.create_token("admin", "ada")
        c.start_coordinator()
        forged_then_honest(c, forger, trusted, rita, events)
        second = submit(c, rob)
        s = wait_succeeded(c, rob, second)
        assert s["statistics"]["shards_reused"] == 2, s["statistics"]
        assert POISON.encode() in result(c, rob, second)
    finally:
        c.close()


# ------------------------------------------------------------------ c. the open mode and web pages


def test_c_open_mode_refuses_rebinding_cross_site_and_undeclared_bodies(tally, nginx, logs, tmp_path):
    folder, _, _ = logs
    c = cluster(tmp_path, tally, nginx, folder)
    try:
        c.start_coordinator()
        port = c.port
        job_body = json.dumps({"report": "active-users", "source": "logs", "from": WINDOW[0], "to": WINDOW[1]}).encode()
        token_body = json.dumps({"user": "mallory", "role": "admin"}).encode()
        as_json = {"Content-Type": "application/json"}

        # DNS rebinding: a page on attacker.example whose name now points to 127.0.0.1.
        for host in ("attacker.example", f"attacker.example:{port}", f"127.0.0.1.attacker.example:{port}"):
            status, _, body = request(c, "GET", "/v1/jobs", headers={"Host": host})
            assert status == 403 and "Host" in error_of(body), (host, status, body)
            status, _, body = request(c, "POST", "/v1/tokens", token_body, {"Host": host, **as_json})
            assert status == 403, (host, status, body)
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}", f"127.0.0.2:{port}"):
            status, _, body = request(c, "GET", "/v1/jobs", headers={"Host": host})
            assert status == 200, (host, status, body)

        # A body not declared as JSON (what a cross-site form or fetch without preflight sends).
        status, _, body = request(c, "POST", "/v1/tokens", token_body)
        assert status == 415, (status, body)
        for kind in ("text/plain", "application/x-www-form-urlencoded"):
            status, _, body = request(c, "POST", "/v1/tokens", token_body, {"Content-Type": kind})
            assert status == 415, (kind, status, body)
        status, _, body = request(c, "GET", "/v1/tokens")
        assert status == 200 and json.loads(body)["tokens"] == [], body
        status, _, body = request(c, "POST", "/v1/jobs", job_body)
        assert status == 415, (status, body)

        # A browser saying the request comes from another site.
        for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                        {"Sec-Fetch-Site": "same-site"}):
            status, _, body = request(c, "POST", "/v1/jobs", job_body, {**as_json, **headers})
            assert status == 403, (headers, status, body)
        assert json.loads(request(c, "GET", "/v1/jobs")[2])["jobs"] == [], "a refused request made a job"

        # The same request from a client that is not a browser, or from this coordinator's own origin.
        status, _, body = request(c, "POST", "/v1/jobs", job_body, as_json)
        assert status in (201, 202), (status, body)
        job = json.loads(body)["id"]
        status, _, body = request(c, "POST", "/v1/jobs", job_body, {**as_json, "Origin": f"http://127.0.0.1:{port}"})
        assert status in (201, 202), (status, body)
        # Cancelling from another site is refused too; the job is untouched.
        status, _, body = request(c, "DELETE", f"/v1/jobs/{job}", headers={"Origin": "https://evil.example"})
        assert status == 403, (status, body)
        assert json.loads(request(c, "GET", f"/v1/jobs/{job}")[2])["state"] != "cancelled"
        # Still the open mode: no token was made.
        status, _, body = request(c, "GET", "/v1/tokens")
        assert status == 200 and json.loads(body)["tokens"] == [], body
        p = c.cli("token", "list", *c.local_store())
        assert p.returncode == 0 and len(p.stdout.decode().splitlines()) == 1, p.stdout
    finally:
        c.close()


# ------------------------------------------------------------------ d. uploads trickling a byte at a time


class Trickler:
    """A raw connection sending an upload's head, then one body byte every `every` seconds, until
    the coordinator closes it; `closed_after` is when, counted from the head."""

    def __init__(self, c, secret, lease_id, every=0.5, length=100_000):
        self.sock = socket.create_connection(("127.0.0.1", c.port), timeout=10)
        self.every, self.sent, self.closed_after, self.answer = every, 0, None, b""
        self.head = (f"PUT /v1/worker/leases/{lease_id}/partial HTTP/1.1\r\nHost: 127.0.0.1:{c.port}\r\n"
                     f"Authorization: Bearer {secret}\r\nContent-Type: application/octet-stream\r\n"
                     f"Content-Length: {length}\r\n\r\n").encode()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.stop = threading.Event()

    def start(self):
        self.started = time.monotonic()
        self.sock.sendall(self.head + b"T")
        self.sent = 1
        self.thread.start()

    def _run(self):
        body = forge.MAGIC * 30000
        try:
            while not self.stop.is_set():
                readable, _, _ = select.select([self.sock], [], [], self.every)
                if readable:
                    data = self.sock.recv(4096)
                    if not data:
                        break
                    self.answer += data
                    continue
                self.sock.sendall(body[self.sent:self.sent + 1])
                self.sent += 1
        except OSError:
            pass
        self.closed_after = time.monotonic() - self.started

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def test_d_uploads_trickling_a_byte_at_a_time_are_cut_and_block_no_one(tally, nginx, logs, tmp_path):
    folder, _, reference = logs
    window_seconds = 2
    c = cluster(tmp_path, tally, nginx, folder, extra_config=(
        f"max_concurrent_uploads: 2\nmin_body_bytes_per_second: 4096\nbody_rate_window_seconds: {window_seconds}\n"))
    tricklers = []
    try:
        worker = c.create_token("worker", "workers")
        c.api_token = admin = c.create_token("admin", "ada")
        c.start_coordinator()
        # Two leases of one job, for the trickling uploads; the real worker runs another job.
        held = submit(c, admin)
        leases = [lease(c, worker, f"trickler{i}") for i in (1, 2)]
        job = submit(c, admin)
        tricklers = [Trickler(c, worker, g["lease_id"]) for g in leases]
        for t in tricklers:
            t.start()
        time.sleep(0.3)                       # both hold an upload slot now
        c.env["TALLY_TOKEN"] = worker
        started = time.monotonic()
        c.start_worker("w1")
        wait_succeeded(c, admin, job, timeout=40)
        took = time.monotonic() - started
        assert_same_report(result(c, admin, job), reference, "next to trickling uploads")
        wait_until(lambda: all(t.closed_after is not None for t in tricklers), 4 * window_seconds + 5,
                   "the trickling uploads to be cut", on_timeout=lambda: f"sent: {[t.sent for t in tricklers]}\n{c.logs()}")
        for t in tricklers:
            assert t.closed_after <= 3 * window_seconds + 2, f"cut after {t.closed_after:.1f} s ({t.sent} bytes sent)"
            assert t.sent < 40, t.sent
        print(f"job done in {took:.1f} s; tricklers cut after {[round(t.closed_after, 1) for t in tricklers]} s")
        assert job_status(c, admin, held)["state"] in ("running", "queued")
        assert_alive(c)
    finally:
        for t in tricklers:
            t.close()
        c.close()


# ------------------------------------------------------------------ e. notification fan-out


def test_e_notify_targets_are_deduplicated_capped_and_reannouncements_limited(tally, nginx, logs, tmp_path):
    import base64
    from test_notifications import Receiver
    folder, _, _ = logs
    names = [f"t{i}" for i in range(1, 10)]
    receiver = Receiver({f"/{n}": [200] for n in names})
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    config = "notifications:\n  retry_seconds: [0.2]\n  targets:\n" + "".join(
        f'    - {{name: {n}, kind: webhook, url: "http://127.0.0.1:{receiver.port}/{n}", secret: "{secret}"}}\n' for n in names)
    config += ('  email:\n    server: "127.0.0.1"\n    port: 9\n    sender: "tally@example.com"\n'
               '    allowed_domains: [example.com]\n')
    c = cluster(tmp_path, tally, nginx, folder, extra_config=config)
    try:
        worker = c.create_token("worker", "workers")
        rita = c.create_token("reporter", "rita")
        c.api_token = admin = c.create_token("admin", "ada")
        c.start_coordinator()
        c.env["TALLY_TOKEN"] = worker
        c.start_worker("w1")

        def post_job(secret, **fields):
            body = {"report": "active-users", "source": "logs", "from": WINDOW[0], "to": WINDOW[1], **fields}
            return http("POST", c.url + "/v1/jobs", body, headers=bearer(secret))

        # Nine distinct targets: refused naming notify. Eight are fine.
        status, _, body = post_job(rita, notify=names)
        assert status == 400 and json.loads(body).get("field") == "notify", (status, body)
        status, _, body = post_job(rita, notify=["t1"] * 20)
        assert status in (201, 202), (status, body)
        job = json.loads(body)["id"]
        # Addresses differing in case only are one address; 17 distinct ones are too many.
        status, _, body = post_job(rita, notify_emails=[f"ops{i}@example.com" for i in range(17)])
        assert status == 400 and json.loads(body).get("field") == "notify_emails", (status, body)
        status, _, body = post_job(rita, notify_emails=["Ops@Example.com", "ops@example.com", "OPS@EXAMPLE.COM"] * 10)
        assert status in (201, 202), (status, body)
        mailed = json.loads(body)["id"]
        # The same in token mode: a body not declared as JSON is refused.
        status, _, body = request(c, "POST", "/v1/jobs", json.dumps({"report": "active-users", "source": "logs", "from": WINDOW[0],
                                                                     "to": WINDOW[1]}).encode(), bearer(rita))
        assert status == 415, (status, body)

        wait_succeeded(c, rita, job)
        done = wait_until(lambda: (s := job_status(c, rita, job)).get("notifications")
                          and all(n["state"] != "pending" for n in s["notifications"]) and s, 30, "the delivery")
        assert [n["target"] for n in done["notifications"]] == ["t1"], done["notifications"]
        assert len(receiver.calls("/t1")) == 1
        wait_succeeded(c, rita, mailed)
        wait_until(lambda: job_status(c, rita, mailed).get("notifications"), 30, "the mail delivery recorded")
        targets = [n["target"] for n in job_status(c, rita, mailed)["notifications"]]
        assert len(targets) == 1 and targets[0].lower() == "email:ops@example.com", targets

        # A reporter announces only to the job's own targets; an admin may choose another.
        status, _, body = http("POST", f"{c.url}/v1/jobs/{job}/notify?target=t2", b"", headers=bearer(rita))
        assert status == 403, (status, body)
        status, _, body = http("POST", f"{c.url}/v1/jobs/{job}/notify?target=t2", b"", headers=bearer(admin))
        assert status == 202, (status, body)
        # At most three re-announcements an hour.
        for _ in range(2):
            status, _, body = http("POST", f"{c.url}/v1/jobs/{job}/notify", b"", headers=bearer(rita))
            assert status == 202, (status, body)
        status, headers, body = http("POST", f"{c.url}/v1/jobs/{job}/notify", b"", headers=bearer(rita))
        assert status == 429, (status, body)
        assert 0 < int(headers["Retry-After"]) <= 3600, headers
        wait_until(lambda: len(receiver.calls("/t1")) == 3 and len(receiver.calls("/t2")) == 1, 20, "the re-announcements")
        assert all(not receiver.calls(f"/{n}") for n in names[2:])
    finally:
        c.close()
        receiver.close()


# ------------------------------------------------------------------ f. activity rows are bounded


def export_activity(c, admin, **query):
    status, _, body = http("GET", f"{c.url}/v1/activity?{urllib.parse.urlencode(query)}", headers=bearer(admin))
    assert status == 200, (status, body[:300])
    text = body.decode()
    return text, list(csv.DictReader(io.StringIO(text, newline="")))


def test_f_an_activity_row_of_a_huge_request_is_cut_to_size(tally, nginx, logs, tmp_path):
    folder, _, _ = logs
    c = cluster(tmp_path, tally, nginx, folder)
    try:
        rita = c.create_token("reporter", "rita")
        c.api_token = admin = c.create_token("admin", "ada")
        c.start_coordinator()
        params = [("limit", "x" * 3000)] + [(f"p{i:03d}", "v" * 250) for i in range(300)]
        query = urllib.parse.urlencode(params)
        assert 76_000 < len(query) < 80_000, len(query)
        status, _, body = http("GET", f"{c.url}/v1/jobs?{query}", headers=bearer(rita))
        assert status == 400, (status, body[:300])

        def row():
            _, rows = export_activity(c, admin, user="rita")
            return next((r for r in rows if r["status"] == "400"), None)
        r = wait_until(row, 15, "rita's refused request in the activity log")
        stored = r["params"].encode()
        assert len(stored) <= 2100, f"params stored as {len(stored)} bytes"
        kept = json.loads(r["params"])
        assert isinstance(kept.get("_cut"), int) and kept["_cut"] > 70_000, kept.get("_cut")
        for key, value in kept.items():
            if key != "_cut":       # 256 bytes, and the ellipsis of a cut value
                assert len(value.encode()) <= 256 + len("…".encode()), (key, len(value.encode()))
        if "limit" in kept:
            assert kept["limit"].endswith("…") and kept["limit"].startswith("xxx"), kept["limit"][-10:]
        assert len(r["resources"].encode()) <= 2100 and len(r["dict"].encode()) <= 2100
        total = sum(len(v.encode()) for v in r.values())
        assert total < 8000, f"the row takes {total} bytes"
    finally:
        c.close()


# ------------------------------------------------------------------ g. spreadsheet formulas in CSV


FORMULA_EMAILS = ('=HYPERLINK("http://x","y")@a.example', "+1+1@b.example", "-2+3@c.example", "@SUM(1)@d.example")


def test_g_formulas_in_report_and_activity_csv_are_neutralised(tally, nginx, logs, tmp_path):
    # The report: `tally run` over logs whose emails (and one client IP) look like formulas.
    src = tmp_path / "formulas"
    write_logs(src, days=("2026-10-01",), users=FORMULA_EMAILS + ("plain@e.example",), per_hour=1,
               ips=("=1+2", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"))
    out = tmp_path / "out.csv"
    frm, to = "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"
    env = {k: v for k, v in os.environ.items() if k != "TALLY_TOKEN"}
    p = run([tally, "run", "--source", src, "--format", "twingate-csv", "--from", frm, "--to", to, "--out", out, "--workers", "1",
             "--quiet"], env=env)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    text = out.read_bytes()
    ref = run(reference_cmd(src, "twingate-csv", frm, to))
    assert ref.returncode == 0, ref.stderr.decode(errors="replace")
    rows = list(csv.reader(io.StringIO(text.decode(), newline="")))
    emails = [r[0] for r in rows[1:]]
    assert sorted(emails) == sorted(["'" + e for e in FORMULA_EMAILS] + ["plain@e.example"]), emails
    for r in rows:
        for field in r:
            assert not field.startswith(FORMULA_STARTS), f"a formula left in the report: {field!r}"
    assert any(r[-1].startswith("'=1+2") for r in rows[1:]), [r[-1] for r in rows[1:]]
    assert b"\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")@a.example\"," in text, text[:600]
    assert_same_report(text, ref.stdout, "emails that look like formulas")

    # The activity export: users named like formulas.
    folder, _, _ = logs
    c = cluster(tmp_path, tally, nginx, folder)
    try:
        secrets = {}
        for user in ("+cmd", "-cmd", "@cmd"):
            p = c.cli("token", "create", *c.local_store(), "--role", "reporter", f"--user={user}")
            assert p.returncode == 0, p.stderr
            secrets[user] = p.stdout.decode().strip()
        c.api_token = admin = c.create_token("admin", "ada")
        c.start_coordinator()
        for secret in secrets.values():
            assert http("GET", c.url + "/v1/jobs?x=%3D1%2B1", headers=bearer(secret))[0] == 200
        wait_until(lambda: len([r for r in export_activity(c, admin)[1] if r["operation"] == "list_jobs"]) >= 3, 15, "the rows")
        text, rows = export_activity(c, admin)
        users = {r["user"] for r in rows if r["operation"] == "list_jobs"}
        assert users == {"'+cmd", "'-cmd", "'@cmd"}, users
        for record in csv.reader(io.StringIO(text, newline="")):
            for field in record:
                assert not field.startswith(FORMULA_STARTS), f"a formula left in the activity export: {field!r}"
    finally:
        c.close()


# ------------------------------------------------------------------ h. guessing secrets


def test_h_guessing_secrets_is_counted_and_throttled(tally, nginx, logs, tmp_path):
    folder, _, _ = logs
    c = cluster(tmp_path, tally, nginx, folder)
    try:
        c.api_token = admin = c.create_token("admin", "ada")
        rita = c.create_token("reporter", "rita")
        worker = c.create_token("worker", "workers")
        expired = c.create_token("reporter", "eve", "--expires-days", "0.00001")      # 0.9 s
        expires = time.monotonic() + 1.0
        c.start_coordinator()
        wrong = bearer("tally_" + "x" * 43)
        for i in range(10):
            status, _, body = request(c, "GET", "/v1/jobs", headers=wrong)
            assert status == 401, (i, status, body)
        status, headers, body = request(c, "GET", "/v1/jobs", headers=wrong)
        assert status == 429, (status, body)
        assert 0 < int(headers["Retry-After"]) <= 60, headers.items()
        # The throttled client is refused even with a good secret; another address is not.
        assert request(c, "GET", "/v1/jobs", headers=bearer(admin))[0] == 429
        status, _, body = request(c, "GET", "/v1/jobs", headers=bearer(admin), source="127.0.0.2")
        assert status == 200, (status, body)

        def failures(reason):
            metrics = parse_metrics(request(c, "GET", "/metrics", headers=bearer(admin), source="127.0.0.2")[2].decode())
            return sum(v for (n, ls), v in metrics.items() if n == "tally_authentication_failures_total" and ("reason", reason) in ls)
        assert failures("unknown") == 10 and failures("throttled") >= 2, (failures("unknown"), failures("throttled"))
        log = c.coordinator.log.read_text(errors="replace")
        assert any("127.0.0.1" in line for line in log.splitlines() if "refused" in line), c.coordinator.tail()

        # Each kind of refusal has its reason (from a fifth address, a few times only).
        other = "127.0.0.5"
        assert request(c, "GET", "/v1/jobs", headers={"Authorization": "Basic YWRhOnB3"}, source=other)[0] == 401
        assert request(c, "GET", "/v1/jobs", headers={"Cookie": "tally_session=" + "z" * 43}, source=other)[0] == 401
        status, _, _ = post_sign_in(c, sign_in_form(c, source=other), worker, source=other)
        assert status == 403
        revoked = next(r["id"] for r in token_rows(c) if r["user"] == "rita")
        assert request(c, "DELETE", f"/v1/tokens/{revoked}", headers=bearer(admin), source="127.0.0.2")[0] in (200, 204)
        assert request(c, "GET", "/v1/jobs", headers=bearer(rita), source=other)[0] == 401
        time.sleep(max(0.0, expires - time.monotonic()))
        assert request(c, "GET", "/v1/jobs", headers=bearer(expired), source=other)[0] == 401
        assert [failures(r) for r in ("malformed", "session", "role", "revoked", "expired")] == [1, 1, 1, 1, 1]

        # Eleven wrong secrets at the sign-in form, from a third address.
        form = sign_in_form(c, source="127.0.0.3")
        for i in range(10):
            status, _, page = post_sign_in(c, form, "tally_" + "y" * 43, source="127.0.0.3")
            assert status == 401, (i, status, page[:300])
        assert failures("unknown") == 20
        status, headers, page = post_sign_in(c, form, "tally_" + "y" * 43, source="127.0.0.3")
        assert status == 429 and 0 < int(headers["Retry-After"]) <= 60, (status, headers.get("Retry-After"), page[-400:])
        # A good sign-in from yet another address works; from the throttled API client it waits.
        status, _, _ = post_sign_in(c, sign_in_form(c, source="127.0.0.4"), admin, source="127.0.0.4")
        assert status == 303
        status, headers, _ = post_sign_in(c, sign_in_form(c), admin)
        assert status == 429 and headers["Retry-After"], status
    finally:
        c.close()


# ------------------------------------------------------------------ i. file modes


def test_i_the_data_directory_is_the_coordinators_alone(tally, nginx, logs, tmp_path):
    folder, _, reference = logs
    c = cluster(tmp_path, tally, nginx, folder)
    old = os.umask(0o022)
    try:
        c.start_coordinator()
        c.start_worker("w1")
        job = c.submit("logs", *WINDOW)
        c.wait_succeeded(job, 60)
        assert_same_report(c.fetch(job, tmp_path / "out.csv"), reference, "file modes")
        c.coordinator.stop()
        assert stat.S_IMODE(c.data_dir.stat().st_mode) == 0o700, oct(c.data_dir.stat().st_mode)
        files = [p for p in c.data_dir.rglob("*") if p.is_file()]
        names = [p.name for p in files]
        assert any(n.endswith(".csv") for n in names), names
        assert any(".sqlite" in n for n in names), names
        assert any("partial" in str(p.relative_to(c.data_dir)) for p in files), names
        loose = {str(p.relative_to(c.data_dir)): oct(stat.S_IMODE(p.stat().st_mode))
                 for p in c.data_dir.rglob("*") if stat.S_IMODE(p.stat().st_mode) != (0o700 if p.is_dir() else 0o600)}
        assert not loose, f"readable by others: {loose}"
    finally:
        os.umask(old)
        c.close()


# ------------------------------------------------------------------ j. one client's connections


def test_j_one_client_cannot_take_every_connection(tally, nginx, logs, tmp_path):
    folder, _, _ = logs
    c = cluster(tmp_path, tally, nginx, folder, extra_config="max_connections_per_client: 3\nrequest_head_timeout_seconds: 60\n")
    idle = []
    try:
        c.start_coordinator()
        idle = hold_served_connections(c.port, 3)

        def refused():
            with socket.create_connection(("127.0.0.1", c.port), timeout=5) as s:
                s.settimeout(2)
                try:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    return s.recv(1024) == b""
                except (ConnectionResetError, BrokenPipeError):
                    return True
        wait_until(refused, 20, "a fourth connection from one address to be closed unanswered")
        # Another address is served meanwhile, and so are the three.
        status, _, _ = request(c, "GET", "/healthz", source="127.0.0.2")
        assert status == 200
        for s in idle:
            assert served(s), "an open connection was not served"
    finally:
        for s in idle:
            s.close()
        c.close()
