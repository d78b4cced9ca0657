"""Helpers shared by the end-to-end tests: paths, the reference report, hand-written log lines."""

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
REFERENCE = SCRIPTS / "reference_report.py"
TALLY_BIN = Path(os.environ.get("TALLY_BIN", REPO / ".build" / "debug" / "tally"))

REPORT_HEADER = ("user_email,last_access_date,total_connections,success_connections,failed_connections,"
                 "failed_connections_dns,failed_connections_other,total_bytes,bytes_transferred,"
                 "bytes_received,percent_relay,percent_p2p,active_devices,num_of_client_ip,top_10_client_ips")

CSV_COLUMNS = ("start_time,end_time,user,user_id,device_id,client_ip,connector,connector_id,resource_ip,"
               "resource_port,resource_domain,resource_id,protocol,status,bytes_transferred,bytes_received,"
               "remote_network,remote_network_id,applied_rule,relays,relay_ips,relay_ports,service_account,"
               "service_account_id,service_account_key,service_account_key_id").split(",")


def reference_cmd(src, fmt, frm, to, stats=False, report="active-users", users=None):
    cmd = [sys.executable, str(REFERENCE), "--report", report, "--format", fmt, "--from", frm, "--to", to, str(src)]
    return cmd + (["--stats"] if stats else []) + (["--users", str(users)] if users else [])


def run_reference(src, fmt="auto", frm="2026-10-01T00:00:00Z", to="2026-10-02T00:00:00Z"):
    """Returns (report bytes, stats dict)."""
    p = subprocess.run(reference_cmd(src, fmt, frm, to, stats=True), capture_output=True, check=True)
    return p.stdout, json.loads(p.stderr.decode().strip().splitlines()[-1])


def csv_header():
    return ",".join(CSV_COLUMNS)


def csv_row(**cells):
    """One Network Events CSV line; unnamed columns are empty, values quoted as RFC 4180 wants."""
    unknown = set(cells) - set(CSV_COLUMNS)
    assert not unknown, unknown
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([cells.get(c, "") for c in CSV_COLUMNS])
    return buf.getvalue()[:-2]


def s3_line(status, time, email=None, event_type="network_access", service_account=False,
            relays=0, device="d1", ip="1.1.1.1", tx=None, rx=None, error=None, **extra):
    conn = {"client_ip": ip, "protocol": "tcp"}
    if tx is not None:
        conn["bytes_transferred"] = tx
    if rx is not None:
        conn["bytes_received"] = rx
    if error is not None:
        conn["error_message"] = error
    ev = {"version": 1, "time": time, "status": status, "connection": conn,
          "relays": [{"ip": "9.9.9.9", "name": "relaybalancer+https://relays.twingate.com", "port": 30501}] * relays,
          "device": {"id": device}}
    if email is not None:
        ev["user"] = {"id": "1", "email": email}
    if service_account:
        ev["service_account"] = {"name": "bot", "id": "2", "key": "k", "key_id": "3"}
    ev.update(extra)
    return json.dumps({"event_type": event_type, "event": ev}, ensure_ascii=False)


def analytics_line(event_type, ts_ms, email=None, tunnel_path=None, relays=0, device="d1", ip="1.1.1.1",
                   tx=None, rx=None, error=None, prefix="", service_account=False):
    conn = {"client_ip": ip, "id": "c-1", "protocol": "tcp", "resource_ip": "10.0.0.4", "resource_port": 443}
    for key, value in (("tx", tx), ("rx", rx), ("tunnel_path", tunnel_path), ("error_message", error)):
        if value is not None:
            conn[key] = value
    ev = {"connection": conn, "connector": {"id": "84014", "name": "nondescript-caterpillar"},
          "device": {"id": device}, "event_type": event_type,
          "relays": [{"ip": "9.9.9.9", "name": "relay", "port": 30501}] * relays,
          "resource": {"address": "app.website.com", "applied_rule": "*.website.com", "id": "2"},
          "timestamp": ts_ms}
    if email is not None:
        ev["user"] = {"email": email, "id": "113256"}
    if service_account:
        ev["service_account"] = {"name": "bot", "id": "2"}
    return prefix + "ANALYTICS " + json.dumps(ev, ensure_ascii=False)


def write(path, lines, gz=False, raw=None):
    """Writes text lines (or raw bytes) to path, gzip-compressed when gz."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = raw if raw is not None else "".join(line + "\n" for line in lines).encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def start_moto():
    """Starts a moto S3 server of the caller's own (scripts/moto-serve) on a free port; returns the
    port. Stop it with stop_moto(port)."""
    import socket
    errors = []
    for _ in range(3):                       # a free port may be taken between probe and bind
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        p = subprocess.run([str(SCRIPTS / "moto-serve"), str(port)], capture_output=True, timeout=600)
        if p.returncode == 0:
            return port
        errors.append(p.stderr.decode(errors="replace"))
    raise AssertionError("scripts/moto-serve could not start moto:\n" + "\n".join(errors))


def stop_moto(port):
    subprocess.run([str(SCRIPTS / "moto-stop"), str(port)], capture_output=True, timeout=60)
