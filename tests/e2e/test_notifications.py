"""Job-end notifications to webhooks, end to end: a real coordinator signs each delivery as the
Standard Webhooks specification says, and a receiver in this test checks every signature with its
own implementation (Python's hmac), answers 500 twice before 200 (the retries carry the same
webhook-id), answers 410 on another target (which stops every later delivery to it), and sees a
failed job announced with its error and `tally notify` deliver again with a new id."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import threading
import time

from cluster_util import free_port, wait_until
from conftest import MAIN_FROM, MAIN_TO
from test_security import cluster_over


class Receiver:
    """An HTTP server on loopback recording every POST; `plan[path]` lists the statuses to answer
    in turn (the last one repeats)."""

    def __init__(self, plan):
        self.plan, self.seen, self.lock = plan, [], threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    answers = receiver.plan[self.path]
                    status = answers.pop(0) if len(answers) > 1 else answers[0]
                    receiver.seen.append((self.path, dict(self.headers), body, status, time.time()))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def calls(self, path):
        with self.lock:
            return [s for s in self.seen if s[0] == path]

    def close(self):
        self.server.shutdown()


def verify(secret, headers, body):
    """Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.body)), key = base64 after whsec_."""
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return headers["webhook-signature"] == "v1," + expected


def test_webhooks_are_signed_retried_and_stopped_by_410(tally, nginx, main_data, tmp_path):
    receiver = Receiver({"/hook": [500, 500, 200], "/gone": [410]})
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    config = (f'public_url: "http://reports.example"\nnotifications:\n  retry_seconds: [0.3, 0.3, 0.3]\n  targets:\n'
              f'    - {{name: ops, kind: webhook, url: "http://127.0.0.1:{receiver.port}/hook", secret: "{secret}"}}\n'
              f'    - {{name: gone, kind: webhook, url: "http://127.0.0.1:{receiver.port}/gone", secret: "{secret}"}}\n')
    c = cluster_over(tmp_path, tally, nginx, main_data, extra_config=config)
    try:
        c.start_with_tokens()
        p = c.cli("submit", "--coordinator", c.url, "--source", "csv", "--from", MAIN_FROM, "--to", MAIN_TO, "--notify", "nowhere")
        assert p.returncode != 0 and "unknown notification target 'nowhere'" in p.stderr.decode(), p.stderr
        job = c.submit("csv", MAIN_FROM, MAIN_TO, "--notify", "ops,gone")
        done = c.wait_succeeded(job, 120)

        hooks = wait_until(lambda: len(c_ := receiver.calls("/hook")) >= 3 and c_, 30, "three attempts at /hook")
        assert [status for *_, status, _ in hooks] == [500, 500, 200]
        assert len({h["webhook-id"] for _, h, *_ in hooks}) == 1, "a retry changed the webhook-id"
        for _, headers, body, _, _ in hooks:
            assert verify(secret, headers, body), headers
            assert abs(int(headers["webhook-timestamp"]) - time.time()) < 120
        assert hooks[1][4] - hooks[0][4] >= 0.2, "retried without a pause"
        payload = json.loads(hooks[0][2])
        assert payload["type"] == "report.succeeded"
        assert payload["data"]["job"] == job and payload["data"]["rows"] == done["users"] and payload["data"]["status"] == "succeeded"
        assert payload["data"]["result_url"] == f"http://reports.example/v1/jobs/{job}/result"
        assert payload["data"]["window"] == {"from": done["window_from"], "to": done["window_to"]}
        # A forged signature does not verify: the check can fail.
        assert not verify("whsec_" + base64.b64encode(os.urandom(24)).decode(), hooks[0][1], hooks[0][2])

        status = wait_until(lambda: (s := c.status(job)) and len(s.get("notifications", [])) == 2
                            and all(n["state"] != "pending" for n in s["notifications"]) and s, 30, "both deliveries settled")
        by_target = {n["target"]: n for n in status["notifications"]}
        assert by_target["ops"]["state"] == "delivered" and by_target["ops"]["attempts"] == 3 and by_target["ops"]["last_status"] == 200
        assert by_target["gone"]["state"] == "stopped" and by_target["gone"]["last_status"] == 410
        assert len(receiver.calls("/gone")) == 1

        # 410 stopped the target: a later job's delivery to it is never sent.
        second = c.submit("csv", MAIN_FROM, MAIN_TO, "--notify", "gone")
        c.wait_succeeded(second, 120)
        wait_until(lambda: [n["state"] for n in c.status(second).get("notifications", [])] == ["stopped"], 30, "the stopped delivery")
        assert len(receiver.calls("/gone")) == 1

        # A failed job is announced with its error; `tally notify` delivers again, with a new id.
        # (the generated logs hold a few malformed lines: a share of 0 fails the job)
        failed = c.submit("csv", MAIN_FROM, MAIN_TO, "--notify", "ops", "--max-malformed-share", "0")
        assert c.wait_job(failed, 120)["state"] == "failed"
        p = c.cli("notify", "--coordinator", c.url, job, "--target", "ops")
        assert p.returncode == 0 and "ops\t" in p.stdout.decode(), p.stderr
        wait_until(lambda: len(receiver.calls("/hook")) >= 5, 30, "the failed job's and the repeated deliveries")
        later = receiver.calls("/hook")[3:]
        ids = {h["webhook-id"] for _, h, *_ in later}
        assert len(ids) == 2 and hooks[0][1]["webhook-id"] not in ids
        payloads = {json.loads(body)["data"]["job"]: json.loads(body) for _, _, body, _, _ in later}
        assert all(verify(secret, h, b) for _, h, b, _, _ in later)
        assert payloads[job]["type"] == "report.succeeded"
        assert payloads[failed]["type"] == "report.failed" and "malformed" in payloads[failed]["data"]["error"]
        assert "result_url" not in payloads[failed]["data"]
    finally:
        c.close()
        receiver.close()


def test_job_end_mailed_over_starttls_with_authentication(tally, nginx, main_data, tmp_path):
    """A real SMTP server (aiosmtpd, scripts/smtp-serve) that demands STARTTLS and then a login
    receives the mail of a job's end; the test reads its envelope, headers and text. An address
    outside the allowed domains is refused at submission."""
    import email
    import email.policy
    import subprocess
    from e2e_util import SCRIPTS
    from test_security import make_ca_and_certificate
    pki = make_ca_and_certificate(tmp_path / "pki")
    port, maildir = free_port(), tmp_path / "mail"
    server = subprocess.Popen([str(SCRIPTS / "smtp-serve"), str(port), str(pki["certificate"]), str(pki["key"]), str(maildir),
                               "tally", "s3cret"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert server.stdout.readline().decode().startswith("smtp-serve: listening"), "the SMTP server did not start"
        password = tmp_path / "smtp.password"
        password.write_text("s3cret\n")
        config = (f'public_url: "https://reports.example"\nresult_ttl_days: 7\nnotifications:\n  email:\n'
                  f'    server: "127.0.0.1"\n    port: {port}\n    sender: "tally@reports.example"\n    username: tally\n'
                  f'    password_file: "{password}"\n    ca_file: "{pki["ca"]}"\n    allowed_domains: [example.com]\n')
        c = cluster_over(tmp_path, tally, nginx, main_data, extra_config=config)
        try:
            c.start_with_tokens()
            p = c.cli("submit", "--coordinator", c.url, "--source", "csv", "--from", MAIN_FROM, "--to", MAIN_TO, "--notify-email", "x@evil.test")
            assert p.returncode != 0 and "not in an allowed domain" in p.stderr.decode(), p.stderr
            job = c.submit("csv", "2026-10-01", "2026-10-02", "--tz", "Europe/Paris", "--notify-email", "ops@example.com")
            done = c.wait_succeeded(job, 120)
            wait_until(lambda: (maildir / "1.eml").exists(), 30, "the mail", on_timeout=c.logs)
            envelope = json.loads((maildir / "1.envelope.json").read_text())
            assert envelope == {"from": "tally@reports.example", "to": ["ops@example.com"], "tls": True, "authenticated": True}
            mail = email.message_from_bytes((maildir / "1.eml").read_bytes(), policy=email.policy.default)
            assert mail["Auto-Submitted"] == "auto-generated" and mail["To"].addresses[0].addr_spec == "ops@example.com"
            assert "active-users report ready" in mail["Subject"] and "(Europe/Paris)" in mail["Subject"]
            text = mail.get_content()
            assert f"Rows: {done['users']}" in text
            assert f"Download: https://reports.example/v1/jobs/{job}/result" in text
            assert "Window: 2026-10-01T00:00:00+02:00 to 2026-10-02T00:00:00+02:00 (Europe/Paris)" in text
            assert "The result is kept until" in text
            status = wait_until(lambda: (s := c.status(job)).get("notifications") and s["notifications"][0]["state"] == "delivered" and s,
                                30, "the delivery recorded")
            assert status["notifications"][0]["target"] == "email:ops@example.com"
        finally:
            c.close()
        # Without the CA the relay's certificate is not trusted: nothing is sent, the reason is kept.
        untrusting = cluster_over(tmp_path / "no-ca", tally, nginx, main_data, extra_config=config.replace(f'    ca_file: "{pki["ca"]}"\n', ""))
        try:
            untrusting.start_with_tokens()
            job = untrusting.submit("csv", MAIN_FROM, MAIN_TO, "--notify-email", "ops@example.com")
            untrusting.wait_succeeded(job, 120)
            n = wait_until(lambda: (s := untrusting.status(job)).get("notifications") and s["notifications"][0].get("last_error")
                           and s["notifications"][0], 30, "a failed attempt")
            assert n["state"] == "pending" and "CERTIFICATE_VERIFY_FAILED" in n["last_error"], n
            assert not (maildir / "2.eml").exists()
        finally:
            untrusting.close()
    finally:
        server.kill()
        server.wait()
