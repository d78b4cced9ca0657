"""Tiny hand-written log directories whose reports were worked out by hand.

File names carry no time (the readers must filter by event time alone).
Each writer puts its files under a directory and returns (expected report text, expected stats).
Window for all of them: [2026-10-01T00:00:00Z, 2026-10-02T00:00:00Z)."""

import calendar
import gzip

from e2e_util import REPORT_HEADER, analytics_line, csv_header, csv_row, s3_line, write

FROM, TO = "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"
RELAY = "relaybalancer+https://relays.twingate.com"


def report(*rows):
    return "".join(line + "\n" for line in (REPORT_HEADER,) + rows)


def write_csv(d):
    ok = dict(status="NORMAL")
    lines = [csv_header(),
             csv_row(start_time="2026-10-01 00:00:00 UTC", user="alice@x.com", device_id="d1",
                     client_ip="10.0.0.2", bytes_transferred="100", bytes_received="200", relays=RELAY, **ok),
             csv_row(start_time="2026-10-01 10:00:00.5 UTC", user="alice@x.com", device_id="d2",
                     client_ip="9.0.0.1", bytes_transferred="5", bytes_received="6", **ok),
             csv_row(start_time="2026-10-01 12:34:56.789999 UTC", user="alice@x.com", device_id="d1",
                     client_ip="9.0.0.1", bytes_transferred="4294967296", bytes_received="1", **ok),
             csv_row(start_time="2026-10-01 11:00:00 UTC", user="alice@x.com", device_id="d1",
                     client_ip="10.0.0.2", status="DNS_ERROR"),
             csv_row(start_time="2026-10-01 11:30:00 UTC", user="alice@x.com", status="CONNECTION_FAILED"),
             # outside the window: exactly `to`, and just before `from`
             csv_row(start_time="2026-10-02 00:00:00 UTC", user="alice@x.com", device_id="d7",
                     client_ip="7.7.7.7", bytes_transferred="1", bytes_received="1", **ok),
             csv_row(start_time="2026-09-30 23:59:59.999999 UTC", user="alice@x.com", device_id="d8",
                     client_ip="8.8.8.8", bytes_transferred="1", bytes_received="1", **ok),
             # a service account
             csv_row(start_time="2026-10-01 02:00:00 UTC", service_account="bot", service_account_id="5",
                     device_id="d9", client_ip="1.1.1.1", bytes_transferred="1", bytes_received="1", **ok),
             csv_row(start_time="2026-10-01 05:00:00 UTC", user='zed,"z"@x.com', device_id="z1",
                     client_ip="1.1.1.1", bytes_transferred="1", bytes_received="2", relays=RELAY, **ok),
             csv_row(start_time="2026-10-01 06:07:08.1 UTC", user="émile@x.com", device_id="d1",
                     client_ip="2001:db8::1", bytes_transferred="7", bytes_received="8", relays=RELAY,
                     remote_network="🏠 Office, \"main\"", **ok),
             # malformed: field count, timestamps, byte counts
             "2026-10-01 01:00:00 UTC,x,alice@x.com",
             csv_row(start_time="2026-10-01 25:00:00 UTC", user="alice@x.com", **ok),
             csv_row(start_time="2026-02-30 01:00:00 UTC", user="alice@x.com", **ok),
             csv_row(start_time="2026-10-01 01:00:00 UTC", user="alice@x.com", bytes_transferred="-1", **ok),
             csv_row(start_time="2026-10-01 01:00:00 UTC", user="alice@x.com", bytes_received="1.5", **ok)]
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    data += csv_row(start_time="2026-10-01 01:00:00 UTC", user="bad\udcffname@x.com", **ok) \
        .encode("utf-8", "surrogateescape") + b"\n"
    write(d / "network-events.csv.gz", None, gz=True, raw=data)
    # a second file, columns in another order plus an unknown one, CRLF line ends, no gzip
    cols = ["start_time", "new_col", "user", "status", "client_ip", "device_id", "relays",
            "bytes_received", "bytes_transferred"]
    other = [",".join(cols), "2026-10-01 01:00:00 UTC,x,bob@x.com,NORMAL,3.3.3.3,b1,,1,1"]
    write(d / "more" / "extra.csv", None, raw="".join(l + "\r\n" for l in other).encode())
    expected = report(
        "alice@x.com,2026-10-01T12:34:56.789Z,5,3,2,1,1,4294967608,4294967401,207,33.33,66.67,2,2,10.0.0.2;9.0.0.1",
        "bob@x.com,2026-10-01T01:00:00.000Z,1,1,0,0,0,2,1,1,0.00,100.00,1,1,3.3.3.3",
        '"zed,""z""@x.com",2026-10-01T05:00:00.000Z,1,1,0,0,0,3,1,2,100.00,0.00,1,1,1.1.1.1',
        "émile@x.com,2026-10-01T06:07:08.100Z,1,1,0,0,0,15,7,8,100.00,0.00,1,1,2001:db8::1")
    return expected, {"malformed_total": 6, "service_account_skipped": 1, "events_in_window": 8}


def write_s3(d):
    a = "alice@x.com"
    lines = [s3_line("closed_connection", "2026-10-01T01:00:00.123456+00:00", a, relays=1, tx=10, rx=20),
             s3_line("closed_connection", "2026-10-01T03:00:00+02:00", a, rx=5),      # 01:00Z, no tx
             s3_line("established_connection", "2026-10-01T09:00:00+00:00", a, tx=1, rx=1),
             s3_line("failed_to_connect", "2026-10-01T02:00:00.5Z", a, error="DNS_ERROR"),
             s3_line("denied_access", "2026-10-01T02:30:00+00:00", a, device="d2", ip="2.2.2.2",
                     error="ACCESS_DENIED"),
             s3_line("failed_to_connect", "2026-09-30T23:00:00-01:00", a),            # exactly `from`
             s3_line("closed_connection", "2026-10-02T00:00:00+00:00", a, tx=1, rx=1),  # exactly `to`
             s3_line("closed_connection", "2026-10-01T04:00:00.000001+00:00", "bob@x.com",
                     event_type="network", relays=2, tx=1, rx=1),
             s3_line("closed_connection", "2026-10-01T04:00:00+00:00", "carol@x.com", event_type="dns_filtering"),
             s3_line("closed_connection", "2026-10-01T04:00:00+00:00", service_account=True, tx=1, rx=1),
             "",
             # malformed
             '{"event_type":"network_access","event":{"time":',
             s3_line("closed_connection", "2026-10-01T04:00:00+00:00", a).replace('"time": ', '"tiem": '),
             s3_line("closed_connection", "2026-10-01T04:00:00+00:00", a).replace('"status": ', '"state": '),
             s3_line("closed_connection", "2026-10-01T04:00:00+00:00"),               # no user nor service account
             s3_line("closed_connection", "yesterday", a),
             s3_line("closed_connection", "2026-10-01T04:00:00+00:00", a, tx=-3),
             s3_line("closed_connection", "2026-10-01T04:00:00+00:00", a, tx="12")]
    half = len(lines) // 2      # two gzip members in one file
    blob = (gzip.compress("".join(l + "\n" for l in lines[:half]).encode())
            + gzip.compress("".join(l + "\n" for l in lines[half:]).encode()))
    write(d / "s3-events.json.gz", None, raw=blob)
    expected = report(
        "alice@x.com,2026-10-01T02:30:00.000Z,5,2,3,1,2,35,10,25,50.00,50.00,2,2,1.1.1.1;2.2.2.2",
        "bob@x.com,2026-10-01T04:00:00.000Z,1,1,0,0,0,2,1,1,100.00,0.00,1,1,1.1.1.1")
    return expected, {"malformed_total": 7, "service_account_skipped": 1, "events_in_window": 6}


def ms(text):
    """'2026-10-01T01:00:00' plus milliseconds -> epoch milliseconds."""
    return calendar.timegm(tuple(int(x) for x in text.replace("T", "-").replace(":", "-").split("-")) + (0, 0, 0)) * 1000


def write_analytics(d):
    a, t = "alice@x.com", ms("2026-10-01T01:00:00")
    lines = ["2026-10-01 01:00:00 INFO [connector] Connector started, state: Online",
             analytics_line("closed_connection", t + 1, a, tunnel_path="direct", relays=1, tx=1, rx=10),
             analytics_line("closed_connection", t + 2, a, tunnel_path="relay", tx=2, rx=20),
             analytics_line("closed_connection", t + 3, a, relays=1, tx=3, rx=30, ip="5.5.5.5",
                            prefix="Oct 01 01:00:00 host twingate-connector[123]: "),
             analytics_line("closed_connection", t + 4, a, tx=4, rx=40),
             analytics_line("established_connection", t + 600_000, a, tunnel_path="direct"),
             analytics_line("failed_to_connect", t + 5, a, error="DNS_ERROR", device="d2"),
             analytics_line("failed_to_connect", t + 6, a),
             analytics_line("denied_access", t + 7999, a),
             analytics_line("closed_connection", t + 8, service_account=True, tx=1, rx=1),
             analytics_line("closed_connection", ms("2026-10-02T00:00:00"), a, tx=1, rx=1),
             "ANALYTICSno json here",
             # malformed
             "ANALYTICS {broken",
             analytics_line("closed_connection", t, a).replace('"timestamp": ', '"ts": '),
             analytics_line("closed_connection", str(t), a),
             analytics_line("closed_connection", t, a, rx=-1)]
    data = "".join(line + "\n" for line in lines).encode("utf-8") + b'ANALYTICS {"event_type": "\xff"}\n'
    write(d / "connector.log", None, raw=data)
    expected = report(
        "alice@x.com,2026-10-01T01:00:07.999Z,7,4,3,1,2,110,10,100,50.00,50.00,2,2,1.1.1.1;5.5.5.5")
    return expected, {"malformed_total": 5, "service_account_skipped": 1, "events_in_window": 7}


def write_rounding(d):
    """Percent rounding and top-10 ordering, as Network Events CSV."""
    def rows(user, successes, relayed, t="2026-10-01 03:00:00 UTC"):
        return [csv_row(start_time=t, user=user, status="NORMAL", device_id="x", client_ip="1.1.1.1",
                        relays=RELAY if i < relayed else "") for i in range(successes)]
    lines = [csv_header()]
    lines += rows("r1@x", 8, 1) + rows("r2@x", 800, 1) + rows("r3@x", 3, 2) + rows("r4@x", 200, 1)
    lines += rows("r5@x", 400, 1) + rows("r6@x", 3, 1) + rows("r7@x", 20000, 1)
    lines += [csv_row(start_time="2026-10-01 03:00:00 UTC", user="r8@x", status="CONNECTION_FAILED")]
    counts = {i: 1 for i in range(1, 13)}
    counts.update({5: 3, 12: 2})
    for i, n in counts.items():
        lines += [csv_row(start_time="2026-10-01 03:00:00 UTC", user="r9@x", status="CONNECTION_FAILED",
                          client_ip="10.0.0.%d" % i)] * n
    write(d / "rounding.csv", lines)
    t = "2026-10-01T03:00:00.000Z"
    expected = report(
        f"r1@x,{t},8,8,0,0,0,0,0,0,12.50,87.50,1,1,1.1.1.1",
        f"r2@x,{t},800,800,0,0,0,0,0,0,0.13,99.88,1,1,1.1.1.1",
        f"r3@x,{t},3,3,0,0,0,0,0,0,66.67,33.33,1,1,1.1.1.1",
        f"r4@x,{t},200,200,0,0,0,0,0,0,0.50,99.50,1,1,1.1.1.1",
        f"r5@x,{t},400,400,0,0,0,0,0,0,0.25,99.75,1,1,1.1.1.1",
        f"r6@x,{t},3,3,0,0,0,0,0,0,33.33,66.67,1,1,1.1.1.1",
        f"r7@x,{t},20000,20000,0,0,0,0,0,0,0.01,100.00,1,1,1.1.1.1",
        f"r8@x,{t},1,0,1,0,1,0,0,0,0.00,0.00,0,0,",
        f"r9@x,{t},15,0,15,0,15,0,0,0,0.00,0.00,0,12,"
        "10.0.0.5;10.0.0.12;10.0.0.1;10.0.0.10;10.0.0.11;10.0.0.2;10.0.0.3;10.0.0.4;10.0.0.6;10.0.0.7")
    return expected, {"malformed_total": 0, "service_account_skipped": 0, "events_in_window": len(lines) - 1}


def write_ignored(d):
    """Files and folders every reader must skip: `_`/`.` names and foreign extensions."""
    row = csv_row(start_time="2026-10-01 03:00:00 UTC", user="ghost@x", status="NORMAL")
    for name in ("_SUCCESS", "_tmp/a.csv", ".hidden/a.csv", ".a.csv", "_b.csv", "notes.txt", "a.csv.bak"):
        write(d / name, [csv_header(), row])


ALL = {"csv": write_csv, "s3": write_s3, "analytics": write_analytics, "rounding": write_rounding}


def write_all(root):
    """Every hand-written set under root/<name>/; returns the merged expected report and stats totals."""
    for name, writer in ALL.items():
        writer(root / name)
    write_ignored(root / "csv")


# Timestamp shapes outside FORMATS.md: the reference rejects them (malformed), to be agreed with the engine.
OFF_SPEC_CSV_TIMES = ["2026-10-01T01:00:00Z", "2026-10-01 01:00:00", "2026-10-01 01:00:00.1234567 UTC",
                      "2026-10-01 01:00:00+00:00"]
OFF_SPEC_S3_TIMES = ["2026-10-01T01:00:00", "2026-10-01 01:00:00 UTC"]


def write_off_spec_times(d):
    lines = [csv_header()] + [csv_row(start_time=t, user="csv%d@x" % i, status="NORMAL")
                              for i, t in enumerate(OFF_SPEC_CSV_TIMES)]
    write(d / "times.csv", lines)
    write(d / "times.json", [s3_line("closed_connection", t, "s3-%d@x" % i) for i, t in enumerate(OFF_SPEC_S3_TIMES)])


def write_edge_cases(d):
    """Quoted line breaks, a repeated header in a second gzip member, CRLF .ndjson, numeric device ids,
    negative offsets, a tab after ANALYTICS, a null tunnel_path, a float byte count, byte-order sorting."""
    ok = dict(status="NORMAL")
    a = "".join(l + "\n" for l in [csv_header(), csv_row(start_time="2026-10-01 01:00:00 UTC", user="q@x",
                                                         resource_domain="two\nlines", **ok)]).encode()
    b = "".join(l + "\n" for l in [csv_header(), csv_row(start_time="2026-10-01 02:00:00 UTC", user="q@x", **ok)]).encode()
    write(d / "cat.csv.gz", None, raw=gzip.compress(a) + gzip.compress(b))
    lines = [s3_line("closed_connection", "2026-10-01T01:00:00+00:00", "n@x", device=12345, tx=2**40, rx=0),
             s3_line("closed_connection", "2026-10-01T01:00:00.5-00:30", "n@x", device="12345"),
             '{"event_type": "network_access", "event": {"status": "established_connection"}}',
             '{"event_type": "audit_log", "event": {}}']
    write(d / "x.ndjson", None, raw="".join(l + "\r\n" for l in lines).encode())
    t = ms("2026-10-01T03:00:00")
    lines = ["x ANALYTICS\t" + analytics_line("closed_connection", t + 123, "t@x", tx=1, rx=2)[len("ANALYTICS "):],
             analytics_line("closed_connection", t + 124, "t@x", tx=1.0, rx=2),                      # malformed
             analytics_line("closed_connection", t + 125, "t@x", relays=1, tx=1, rx=2)
             .replace('"tx": 1', '"tunnel_path": null, "tx": 1'),
             analytics_line("closed_connection", t + 126, "T@x", ip="")]
    write(d / "c.log", lines)
    expected = report(
        "T@x,2026-10-01T03:00:00.126Z,1,1,0,0,0,0,0,0,0.00,100.00,1,0,",
        "n@x,2026-10-01T01:30:00.500Z,2,2,0,0,0,1099511627776,1099511627776,0,0.00,100.00,1,1,1.1.1.1",
        "q@x,2026-10-01T02:00:00.000Z,2,2,0,0,0,0,0,0,0.00,100.00,0,0,",
        "t@x,2026-10-01T03:00:00.125Z,2,2,0,0,0,6,2,4,50.00,50.00,1,1,1.1.1.1")
    return expected, {"malformed_total": 1, "service_account_skipped": 0, "events_in_window": 7}
