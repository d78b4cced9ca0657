"""Self-checks of scripts/reference_report.py on hand-written inputs with hand-computed reports."""

import importlib.util
import json
import subprocess
import sys

import pytest

import handmade
from e2e_util import REFERENCE, REPORT_HEADER, csv_header, csv_row, reference_cmd, run_reference, write

spec = importlib.util.spec_from_file_location("reference_report", REFERENCE)
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)


@pytest.mark.parametrize("part,whole,text", [
    (1, 3, "33.33"), (2, 3, "66.67"), (1, 8, "12.50"), (7, 8, "87.50"), (1, 200, "0.50"), (1, 400, "0.25"),
    (1, 800, "0.13"), (799, 800, "99.88"), (1, 20000, "0.01"), (1, 20001, "0.00"), (19999, 20000, "100.00"),
    (0, 5, "0.00"), (5, 5, "100.00"), (0, 0, "0.00"), (2**62, 2**63, "50.00")])
def test_percent_rounds_half_up(part, whole, text):
    assert ref.percent(part, whole) == text


def test_times_are_exact_microseconds():
    assert ref.parse_rfc3339("1970-01-01T00:00:00Z") == 0
    assert ref.parse_rfc3339("2026-10-01T00:00:00.000001+00:00") == ref.parse_rfc3339("2026-10-01T00:00:00Z") + 1
    assert ref.parse_rfc3339("2026-10-01T02:00:00+02:00") == ref.parse_rfc3339("2026-10-01T00:00:00Z")
    assert ref.parse_csv_time("2026-10-01 00:00:00.999999 UTC") == ref.parse_rfc3339("2026-10-01T00:00:00.999999Z")
    assert ref.format_time(ref.parse_csv_time("2024-02-20 20:16:05.92 UTC")) == "2024-02-20T20:16:05.920Z"
    assert ref.format_time(ref.parse_rfc3339("2024-02-20T20:16:05.999999Z")) == "2024-02-20T20:16:05.999Z"
    for bad in ("2026-10-01 00:00:00.1234567 UTC", "2026-10-01T00:00:00Z", "2026-13-01 00:00:00 UTC", ""):
        with pytest.raises(ref.Malformed):
            ref.parse_csv_time(bad)


def test_csv_quoting():
    assert ref.csv_field('a,"b"') == '"a,""b"""'
    assert ref.csv_field("a\nb") == '"a\nb"'
    assert ref.csv_field("émile 🏠") == "émile 🏠"


@pytest.mark.parametrize("name,fmt", [("csv", "twingate-csv"), ("s3", "twingate-s3"),
                                      ("analytics", "twingate-analytics"), ("rounding", "twingate-csv")])
@pytest.mark.parametrize("explicit", [True, False], ids=["explicit", "auto"])
def test_handmade(tmp_path, name, fmt, explicit):
    expected, expected_stats = handmade.ALL[name](tmp_path)
    handmade.write_ignored(tmp_path)
    out, stats = run_reference(tmp_path, fmt if explicit else "auto", handmade.FROM, handmade.TO)
    assert out.decode("utf-8") == expected
    for key, value in expected_stats.items():
        assert stats[key] == value, (key, stats)


def test_edge_cases(tmp_path):
    expected, expected_stats = handmade.write_edge_cases(tmp_path)
    out, stats = run_reference(tmp_path, "auto", handmade.FROM, handmade.TO)
    assert out.decode("utf-8") == expected
    for key, value in expected_stats.items():
        assert stats[key] == value, (key, stats)


def test_format_reads_only_its_extensions(tmp_path):
    handmade.write_all(tmp_path)
    csv_only, _ = run_reference(tmp_path / "csv", "twingate-csv", handmade.FROM, handmade.TO)
    s3_only, _ = run_reference(tmp_path / "s3", "twingate-s3", handmade.FROM, handmade.TO)
    assert run_reference(tmp_path, "twingate-csv", handmade.FROM, handmade.TO)[0] != csv_only  # rounding.csv too
    assert run_reference(tmp_path, "twingate-s3", handmade.FROM, handmade.TO)[0] == s3_only
    _, stats = run_reference(tmp_path, "auto", handmade.FROM, handmade.TO)
    assert stats["malformed_total"] == 6 + 7 + 5
    assert stats["files"] == 5


def test_quoted_line_break_and_repeated_header(tmp_path):
    rows = [csv_header(),
            csv_row(start_time="2026-10-01 01:00:00 UTC", user="a@x", status="NORMAL", resource_domain="two\nlines"),
            csv_header(),
            csv_row(start_time="2026-10-01 02:00:00 UTC", user="a@x", status="NORMAL")]
    write(tmp_path / "x.csv", rows)
    out, stats = run_reference(tmp_path, "twingate-csv", handmade.FROM, handmade.TO)
    assert out.decode().splitlines()[1] == "a@x,2026-10-01T02:00:00.000Z,2,2,0,0,0,0,0,0,0.00,100.00,0,0,"
    assert stats["malformed_total"] == 0


def test_empty_directory_gives_header_only(tmp_path):
    out, _ = run_reference(tmp_path, "auto", handmade.FROM, handmade.TO)
    assert out == (REPORT_HEADER + "\n").encode()


def test_bad_window_argument_fails(tmp_path):
    p = subprocess.run(reference_cmd(tmp_path, "auto", "yesterday", handmade.TO), capture_output=True)
    assert p.returncode != 0


# ---------------------------------------------------------------- network-summary and resource-access

# Connections of 2026-10-01, as (minute, user or None for a service account, status, resource id, rule, address
# reached, remote network, network id, protocol, relayed, tx, rx, device, client ip). Resource 7 is a wildcard rule
# reached at three addresses; resource 9's rule shows two ways, once each (the tie goes to byte order); a DNS failure
# of resource 9 has no resource IP; a failure names no resource at all.
RESOURCE_EVENTS = [
    (1, "ann@x.com", "ok", "7", "*.corp.com", "a.corp.com", "office", "21", "tcp", True, 100, 1000, "d1", "1.1.1.1"),
    (2, "ann@x.com", "ok", "7", "*.corp.com", "b.corp.com", "office", "21", "udp", False, 10, 20, "d2", "1.1.1.2"),
    (3, "bob@x.com", "ok", "7", "*.corp.com", "b.corp.com", "office", "21", "tcp", False, 1, 2, "d3", "2.2.2.2"),
    (4, None, "ok", "7", "*.corp.com", "c.corp.com", "office", "21", "tcp", True, 5, 5, "d9", "9.9.9.9"),
    (5, "bob@x.com", "dns", "9", "db.corp.com", "db.corp.com", "dc", "22", "tcp", False, 0, 0, "d3", "2.2.2.2"),
    (6, "ann@x.com", "failed", "9", "10.0.0.0/8", "10.0.0.5", "dc", "22", "tcp", False, 0, 0, "d1", "1.1.1.1"),
    (7, "ann@x.com", "failed", "", "", "", "", "", "tcp", False, 0, 0, "d1", "1.1.1.1"),
]
RESOURCE_FROM, RESOURCE_TO = "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"


def resource_logs(root, fmt):
    """RESOURCE_EVENTS written in `fmt` under `root`."""
    lines = [csv_header()] if fmt == "twingate-csv" else []
    for minute, user, status, rid, rule, address, network, network_id, protocol, relayed, tx, rx, device, ip in RESOURCE_EVENTS:
        ok = status == "ok"
        is_ip = address[:1].isdigit()
        if fmt == "twingate-csv":
            lines.append(csv_row(
                start_time=f"2026-10-01 00:{minute:02d}:00 UTC", user=user or "", device_id=device, client_ip=ip,
                resource_ip=address if is_ip else ("10.9.9.9" if ok else ""), resource_domain="" if is_ip else address,
                resource_id=rid, protocol=protocol, status={"ok": "NORMAL", "dns": "DNS_ERROR"}.get(status, "CONNECTION_FAILED"),
                bytes_transferred=str(tx) if ok else "", bytes_received=str(rx) if ok else "", remote_network=network,
                remote_network_id=network_id, applied_rule=rule, relays="relay" if relayed else "",
                service_account="" if user else "bot", service_account_id="" if user else "5"))
            continue
        conn = {"client_ip": ip, "protocol": protocol}
        resource = {"id": rid, "applied_rule": rule, "address": "" if is_ip else address}
        ev = {"device": {"id": device}, "remote_network": {"id": network_id, "name": network}, "resource": resource,
              "relays": [{"ip": "8.8.8.8", "name": "relay", "port": 1}] if relayed else []}
        ev.update({"user": {"id": "1", "email": user}} if user else {"service_account": {"name": "bot", "id": "5"}})
        if status != "ok":
            conn["error_message"] = "DNS_ERROR" if status == "dns" else "timeout"
        if fmt == "twingate-s3":
            conn.update(bytes_transferred=tx, bytes_received=rx) if ok else None
            resource["ip"] = address if is_ip else ""
            ev.update(time=f"2026-10-01T00:{minute:02d}:00+00:00", status="closed_connection" if ok else "failed_to_connect",
                      connection=conn, version=1)
            lines.append(json.dumps({"event_type": "network_access", "event": ev}))
        else:
            conn.update(tx=tx, rx=rx, tunnel_path="relay" if relayed else "direct") if ok else None
            conn["resource_ip"] = address if is_ip else ""
            ev.update(timestamp=1790812800000 + minute * 60_000, event_type="closed_connection" if ok else "failed_to_connect",
                      connection=conn)
            lines.append("ANALYTICS " + json.dumps(ev))
    name = {"twingate-csv": "events.csv", "twingate-s3": "2026-10-01T00:00:00+00:00.json", "twingate-analytics": "c.log"}[fmt]
    write(root / name, lines)
    return root


NETWORK_SUMMARY = """\
resource_id,resource_address,remote_network,remote_network_id,total_connections,success_connections,failed_connections,failed_connections_dns,failed_connections_other,total_bytes,bytes_transferred,bytes_received,protocol,percent_relay,percent_p2p,top_10_address_accessed
,,,,1,0,1,0,1,0,0,0,tcp,0.00,0.00,
7,*.corp.com,office,21,4,4,0,0,0,1143,116,1027,tcp;udp,50.00,50.00,b.corp.com;a.corp.com;c.corp.com
9,10.0.0.0/8,dc,22,2,0,2,1,1,0,0,0,tcp,0.00,0.00,10.0.0.5;db.corp.com
"""

RESOURCE_ACCESS = """\
user_email,resource_id,resource_address,remote_network,first_access_date,last_access_date,total_connections,success_connections,failed_connections,total_bytes,active_devices,num_of_client_ip
ann@x.com,,,,2026-10-01T00:07:00.000Z,2026-10-01T00:07:00.000Z,1,0,1,0,1,1
ann@x.com,7,*.corp.com,office,2026-10-01T00:01:00.000Z,2026-10-01T00:02:00.000Z,2,2,0,1130,2,2
ann@x.com,9,10.0.0.0/8,dc,2026-10-01T00:06:00.000Z,2026-10-01T00:06:00.000Z,1,0,1,0,1,1
bob@x.com,7,*.corp.com,office,2026-10-01T00:03:00.000Z,2026-10-01T00:03:00.000Z,1,1,0,3,1,1
bob@x.com,9,db.corp.com,dc,2026-10-01T00:05:00.000Z,2026-10-01T00:05:00.000Z,1,0,1,0,1,1
"""


def reference_of(report, root, fmt, users=None):
    cmd = [sys.executable, str(REFERENCE), "--report", report, "--format", fmt, "--from", RESOURCE_FROM, "--to", RESOURCE_TO,
           "--stats", str(root)] + (["--users", str(users)] if users else [])
    p = subprocess.run(cmd, capture_output=True, check=True)
    return p.stdout.decode("utf-8"), json.loads(p.stderr.decode().strip().splitlines()[-1])


@pytest.mark.parametrize("fmt", ["twingate-csv", "twingate-s3", "twingate-analytics"])
def test_network_summary_and_resource_access_by_hand(tmp_path, fmt):
    root = resource_logs(tmp_path, fmt)
    summary, stats = reference_of("network-summary", root, fmt)
    assert summary == NETWORK_SUMMARY
    assert stats["service_account_skipped"] == 0 and stats["events_in_window"] == 7, stats
    access, stats = reference_of("resource-access", root, fmt)
    assert access == RESOURCE_ACCESS
    assert stats["service_account_skipped"] == 1, stats
    # With a directory: only its users, and one who reached nothing on a row of its own.
    directory = tmp_path / "users.csv"
    directory.write_text("email\nbob@x.com\ncy@x.com\n")
    access, _ = reference_of("resource-access", root, fmt, users=directory)
    bob = [line for line in RESOURCE_ACCESS.splitlines() if line.startswith("bob@")]
    assert access.splitlines() == RESOURCE_ACCESS.splitlines()[:1] + bob + ["cy@x.com,,,,,,0,0,0,0,0,0"]
