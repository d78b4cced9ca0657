"""The API activity log end to end: a real coordinator writing one row per authenticated request,
per-user settings made with `tally user activity` on the data directory and through the API, exports
with `tally activity` (CSV through the API, NDJSON from the data directory) parsed and checked field
by field against the requests this test made, and the coordinator's logs as JSON lines."""

import csv
import io
import json
import re
import uuid

from cluster_util import http, wait_until
from test_security import cluster_over

COLUMNS = ["_timestamp", "request_uuid", "request_ts", "user", "operation", "auth_type", "auth_fingerprint", "auth_validity",
           "account", "role", "status", "duration", "resources", "params", "dict"]


def test_activity_log_settings_and_exports(tally, nginx, main_data, tmp_path):
    c = cluster_over(tmp_path, tally, nginx, main_data)
    try:
        admin = c.create_token("admin", "ada")
        rita = c.create_token("reporter", "rita")
        rob = c.create_token("reporter", "rob")
        # Before the coordinator runs, on its data directory: rita to two logs.
        p = c.cli("user", "activity", "rita", "--logs", "audit,default", *c.local_store())
        assert p.returncode == 0 and p.stdout.decode() == "rita\ton, logs audit,default\n", p
        c.env["TALLY_LOG_FORMAT"] = "json"
        c.start_coordinator()
        # Through the API: rob off; a reporter may not change settings.
        p = c.cli("user", "activity", "rob", "--off", "--coordinator", c.url, env={"TALLY_TOKEN": rita})
        assert p.returncode != 0 and "may not set_activity" in p.stderr.decode(), p.stderr
        p = c.cli("user", "activity", "rob", "--off", "--coordinator", c.url, env={"TALLY_TOKEN": admin})
        assert p.returncode == 0 and p.stdout.decode() == "rob\toff\n", p

        def call(secret, path, context=None):
            headers = {"Authorization": f"Bearer {secret}"}
            if context:
                headers["X-Tally-Context"] = context
            status, h, _ = http("GET", c.url + path, headers=headers)
            return status, h["X-Request-Id"]

        sent = [("rita",) + call(rita, "/v1/jobs?limit=5", '{"ticket": "T-1"}'), ("rob",) + call(rob, "/v1/jobs"),
                ("rita",) + call(rita, "/v1/jobs/nope")]
        assert [s for _, s, _ in sent] == [200, 200, 404]
        assert all(uuid.UUID(i) for _, _, i in sent)
        unauthenticated = http("GET", c.url + "/v1/jobs", headers={"Authorization": "Bearer tally_" + "x" * 43})
        assert unauthenticated[0] == 401

        out = tmp_path / "audit.csv"

        def exported(*args):
            p = c.cli("activity", *args, "--out", out)
            assert p.returncode == 0, p.stderr
            text = out.read_bytes().decode()
            return text, list(csv.reader(io.StringIO(text, newline="")))

        # Rows are written in batches, a moment later.
        wait_until(lambda: len(exported("--log", "audit", "--coordinator", c.url, "--token", admin)[1]) >= 4, 10, "rita's audit rows")
        text, records = exported("--log", "audit", "--coordinator", c.url, "--token", admin)
        assert text.startswith(",".join(COLUMNS) + "\r\n") and records[0] == COLUMNS
        # rita's refused attempt to switch rob off is hers too (authenticated, then refused: 403).
        refused, *rows = [dict(zip(COLUMNS, r)) for r in records[1:]]
        assert (refused["user"], refused["operation"], refused["status"], refused["resources"]) == ("rita", "set_activity", "403", '{"user":"rob"}')
        assert [r["request_uuid"] for r in rows] == [sent[0][2], sent[2][2]]
        assert [(r["user"], r["operation"], r["status"], r["role"]) for r in rows] == [
            ("rita", "list_jobs", "200", "reporter"), ("rita", "get_job", "404", "reporter")]
        for r in rows:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["_timestamp"]), r
            assert re.fullmatch(r"\d+\.\d{3}", r["request_ts"]) and re.fullmatch(r"\d+\.\d{3}", r["duration"]), r
            assert r["auth_type"] == "secret" and r["auth_fingerprint"] == rita[-4:] and r["auth_validity"] == "", r
            uuid.UUID(r["account"])
        assert rows[0]["account"] == rows[1]["account"]
        assert json.loads(rows[0]["params"]) == {"limit": "5"} and json.loads(rows[0]["dict"]) == {"ticket": "T-1"}
        assert json.loads(rows[1]["resources"]) == {"job": "nope"} and rows[1]["params"] == "{}" and rows[1]["dict"] == "{}"

        # The default log has rita's rows and the admin's, never rob's (off) nor the refused request.
        _, records = exported("--coordinator", c.url, "--token", admin)
        default = [dict(zip(COLUMNS, r)) for r in records[1:]]
        assert "rob" not in {r["user"] for r in default}
        assert {r["request_uuid"] for r in default} >= {sent[0][2], sent[2][2]}
        assert ("ada", "set_activity", '{"user":"rob"}') in {(r["user"], r["operation"], r["resources"]) for r in default}

        # The same rows from the data directory, as NDJSON; one user's only.
        p = c.cli("activity", "--log", "audit", "--user", "rita", "--format", "ndjson", *c.local_store(), "--out", out)
        assert p.returncode == 0, p.stderr
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        assert [line["request_uuid"] for line in lines] == [r["request_uuid"] for r in [refused, *rows]]
        lines = lines[1:]
        assert lines[1]["status"] == 404 and lines[1]["resources"] == {"job": "nope"} and lines[0]["dict"] == {"ticket": "T-1"}

        p = c.cli("activity", "--from", "yesterday", *c.local_store(), "--out", out)
        assert p.returncode != 0 and "--from" in p.stderr.decode(), p.stderr

        # A request answered just before a graceful shutdown (SIGTERM) is still written.
        last = call(rita, "/v1/jobs?last=1")[1]
        c.coordinator.stop()
        assert c.coordinator.popen.returncode == 0, c.coordinator.tail()
        p = c.cli("activity", "--log", "audit", "--format", "ndjson", *c.local_store(), "--out", out)
        assert p.returncode == 0, p.stderr
        assert json.loads(out.read_text().splitlines()[-1])["request_uuid"] == last
        assert "activity log write failed" not in c.coordinator.log.read_text()

        # --log-format json (here through TALLY_LOG_FORMAT): every coordinator log line one JSON object.
        log_lines = [line for line in c.coordinator.log.read_text().splitlines() if line.strip()]
        assert log_lines
        for line in log_lines:
            entry = json.loads(line)
            assert {"time", "level", "label", "message"} <= entry.keys(), line
    finally:
        c.close()
