#!/usr/bin/env python3
# Usage: reference_report.py [--format auto|twingate-csv|twingate-s3|twingate-analytics] --from RFC3339 --to RFC3339 [--stats] DIR > out.csv
#        reference_report.py --report inactive-users --now RFC3339 [--inactive-days N] [--lookback-days L] [--users FILE] [--format F] DIR
#        reference_report.py --report network-summary|resource-access --from RFC3339 --to RFC3339 [--users FILE] [--format F] DIR
"""Independent, deliberately simple reference implementation of tally's reports: active-users,
inactive-users, network-summary and resource-access (docs/design.md §1; input formats §2). Standard library only.
Slow, exact and obvious: tests compare the Swift engine's output to this one byte for byte. Do not optimise it."""

import argparse
import collections
import csv
import datetime
import gzip
import json
import math
import os
import re
import sys
from fractions import Fraction

HEADER = ("user_email,last_access_date,total_connections,success_connections,failed_connections,"
          "failed_connections_dns,failed_connections_other,total_bytes,bytes_transferred,"
          "bytes_received,percent_relay,percent_p2p,active_devices,num_of_client_ip,top_10_client_ips")

EXTENSIONS = {
    "twingate-csv": (".csv",),
    "twingate-s3": (".json", ".ndjson"),
    "twingate-analytics": (".log",),
}
EXTENSIONS["auto"] = sum(EXTENSIONS.values(), ())

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class Malformed(Exception):
    """A line that must be skipped and counted; args[0] is the reason."""


# ---------------------------------------------------------------- time, as integer microseconds

def micros(y, mo, d, h, mi, s, frac, offset_minutes):
    """Exact microseconds since the epoch; raises Malformed on an impossible date."""
    try:
        dt = datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc)
    except ValueError:
        raise Malformed("bad_timestamp")
    us = ((dt - EPOCH) // datetime.timedelta(microseconds=1))
    us += int((frac + "000000")[:6])          # fraction truncated to microseconds
    return us - offset_minutes * 60 * 1_000_000


RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
                     r"(?:([Zz])|([+-])(\d{2}):(\d{2}))")


def parse_rfc3339(text):
    m = RFC3339.fullmatch(text) if isinstance(text, str) else None
    if not m:
        raise Malformed("bad_timestamp")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    offset = 0
    if not m.group(8):
        offset = int(m.group(10)) * 60 + int(m.group(11))
        if m.group(9) == "-":
            offset = -offset
    return micros(y, mo, d, h, mi, s, m.group(7) or "", offset)


CSV_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{0,6}))? UTC")


def parse_csv_time(text):
    m = CSV_TIME.fullmatch(text)
    if not m:
        raise Malformed("bad_timestamp")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    return micros(y, mo, d, h, mi, s, m.group(7) or "", 0)


def format_time(us):
    """RFC 3339 UTC with milliseconds, sub-millisecond digits truncated."""
    dt = EPOCH + datetime.timedelta(microseconds=us - us % 1000)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


# ---------------------------------------------------------------- events

Event = collections.namedtuple(
    "Event", "user time success dns relayed bytes_tx bytes_rx device ip service_account "
             "resource_id resource_address address network network_id protocol")
# success: True / False; dns: failure was DNS; relayed: success went through a relay.


def csv_bytes(text):
    if text == "":
        return 0
    if not re.fullmatch(r"[0-9]+", text):
        raise Malformed("bad_byte_count")
    return int(text)


def json_bytes(value):
    if value is None:
        return 0
    if type(value) is not int or value < 0:
        raise Malformed("bad_byte_count")
    return value


def text_id(value):
    """A device id or IP as text ('' when absent); JSON numbers are taken as their digits."""
    if isinstance(value, str):
        return value
    if type(value) is int:
        return str(value)
    return ""


def get(obj, *path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def first_text(*values):
    """The first value that is a non-empty text (a JSON number as its digits), else ''."""
    for value in values:
        text = text_id(value)
        if text != "":
            return text
    return ""


def csv_event(row):
    """row: dict column -> text. Returns an Event (service_account set for headless traffic); raises Malformed."""
    status = row.get("status", "")
    time = parse_csv_time(row.get("start_time", ""))
    tx = csv_bytes(row.get("bytes_transferred", ""))
    rx = csv_bytes(row.get("bytes_received", ""))
    if status == "":
        raise Malformed("missing_field")
    success = status == "NORMAL"
    address = first_text(row.get("resource_domain"), row.get("resource_ip"))
    return Event(user=row.get("user", ""), time=time, success=success,
                 dns=(status == "DNS_ERROR"), relayed=success and row.get("relays", "") != "",
                 bytes_tx=tx, bytes_rx=rx, device=row.get("device_id", ""), ip=row.get("client_ip", ""),
                 service_account=row.get("user", "") == "", resource_id=row.get("resource_id", ""),
                 resource_address=first_text(row.get("applied_rule"), address), address=address,
                 network=row.get("remote_network", ""), network_id=row.get("remote_network_id", ""),
                 protocol=row.get("protocol", ""))


ENDING = ("closed_connection", "failed_to_connect", "denied_access")


def json_event(ev, status, time, tx, rx, relayed, resource_ip):
    """Common tail of S3 and analytics events: ev is the event object, status an ending status,
    resource_ip where the format keeps the address a connection reached when it has no domain."""
    email = get(ev, "user", "email")
    service_account = not (isinstance(email, str) and email != "")
    if service_account and not ("user" in ev or "service_account" in ev):
        raise Malformed("missing_field")
    conn = ev.get("connection") if isinstance(ev.get("connection"), dict) else {}
    success = status == "closed_connection"
    address = first_text(get(ev, "resource", "address"), resource_ip)
    return Event(user="" if service_account else email, time=time, success=success,
                 dns=(not success and conn.get("error_message") == "DNS_ERROR"),
                 relayed=success and relayed, bytes_tx=tx, bytes_rx=rx,
                 device=text_id(get(ev, "device", "id")), ip=text_id(conn.get("client_ip")),
                 service_account=service_account, resource_id=text_id(get(ev, "resource", "id")),
                 resource_address=first_text(get(ev, "resource", "applied_rule"), address), address=address,
                 network=text_id(get(ev, "remote_network", "name")), network_id=text_id(get(ev, "remote_network", "id")),
                 protocol=text_id(conn.get("protocol")))


def non_empty_list(value):
    return isinstance(value, list) and len(value) > 0


def parse_json(text):
    try:
        obj = json.loads(text)
    except ValueError:
        raise Malformed("bad_json")
    if not isinstance(obj, dict):
        raise Malformed("bad_json")
    return obj


def s3_event(line):
    if line.strip() == "":
        return None
    obj = parse_json(line)
    if obj.get("event_type") not in ("network_access", "network"):
        return None                                   # another kind of event
    ev = obj.get("event")
    if not isinstance(ev, dict) or not isinstance(ev.get("status"), str):
        raise Malformed("missing_field")
    if ev["status"] not in ENDING:
        return None                                   # established_connection and the like
    if "time" not in ev:
        raise Malformed("missing_field")
    time = parse_rfc3339(ev["time"])
    conn = ev.get("connection") if isinstance(ev.get("connection"), dict) else {}
    tx, rx = json_bytes(conn.get("bytes_transferred")), json_bytes(conn.get("bytes_received"))
    return json_event(ev, ev["status"], time, tx, rx, non_empty_list(ev.get("relays")), get(ev, "resource", "ip"))


ANALYTICS = re.compile(r"ANALYTICS\s+(\{.*)", re.S | re.ASCII)


def analytics_event(line):
    m = ANALYTICS.search(line)
    if not m:
        return None                                   # a service log line
    ev = parse_json(m.group(1))
    if not isinstance(ev.get("event_type"), str):
        raise Malformed("missing_field")
    if ev["event_type"] not in ENDING:
        return None
    if "timestamp" not in ev:
        raise Malformed("missing_field")
    if type(ev["timestamp"]) is not int:
        raise Malformed("bad_timestamp")
    conn = ev.get("connection") if isinstance(ev.get("connection"), dict) else {}
    tx, rx = json_bytes(conn.get("tx")), json_bytes(conn.get("rx"))
    path = conn.get("tunnel_path")
    relayed = path != "direct" if path is not None else non_empty_list(ev.get("relays"))
    return json_event(ev, ev["event_type"], ev["timestamp"] * 1000, tx, rx, relayed, conn.get("resource_ip"))


# ---------------------------------------------------------------- files

def raw_lines(path):
    """Lines of a file as bytes without the line end, gunzipping (all members) by magic bytes."""
    with open(path, "rb") as f:
        magic = f.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        for line in f:
            if line.endswith(b"\n"):
                line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
            yield line


MAX_RECORD_LINES = 100          # a quoted CSV record spans at most this many physical lines
MAX_RECORD_BYTES = 1 << 20      # ... and at most this many bytes (docs/design.md §1.3)
UNCLOSED = object()             # marker: a line whose quote never closed within those bounds


def csv_records(lines):
    """Join physical lines into RFC 4180 records (a quoted field may hold a line break). A record
    still open after MAX_RECORD_LINES lines or MAX_RECORD_BYTES bytes is a stray quote: its first
    line alone is malformed (UNCLOSED) and reading resumes at the line after it."""
    pending = []
    source = iter(lines)
    replay = []
    while True:
        if replay:
            line = replay.pop(0)
        else:
            line = next(source, None)
            if line is None:
                break
        pending.append(line)
        joined = b"\n".join(pending)
        if joined.count(b'"') % 2 == 0:
            yield joined
            pending = []
        elif len(pending) >= MAX_RECORD_LINES or len(joined) > MAX_RECORD_BYTES:
            yield UNCLOSED
            replay = pending[1:] + replay
            pending = []
    if pending:
        yield b"\n".join(pending)


def detect(first_line):
    if first_line.startswith(b"start_time,"):
        return "twingate-csv"
    if first_line.startswith(b"{"):
        return "twingate-s3"
    return "twingate-analytics"


def file_events(path, fmt, stats):
    """Yields Events (service-account ones included); counts malformed lines in stats."""
    lines = raw_lines(path)
    if fmt == "auto":
        first = next(lines, None)
        if first is None:
            return
        fmt = detect(first)
        lines = _chain(first, lines)
    if fmt == "twingate-csv":
        lines = csv_records(lines)
    header = None
    for raw in lines:
        try:
            if raw is UNCLOSED:
                raise Malformed("field_count")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Malformed("invalid_utf8")
            if fmt == "twingate-csv":
                if text == "":
                    continue
                fields = next(csv.reader([text], strict=False))
                if header is None or fields[0] == "start_time":
                    header = fields                   # a file's first line, or a repeated header
                    continue
                if len(fields) != len(header):
                    raise Malformed("field_count")
                e = csv_event(dict(zip(header, fields)))
            elif fmt == "twingate-s3":
                e = s3_event(text)
            else:
                e = analytics_event(text)
        except Malformed as m:
            stats["malformed"][m.args[0]] += 1
            continue
        if e is not None:
            yield e


def _chain(first, rest):
    yield first
    yield from rest


def walk(root, fmt):
    exts = EXTENSIONS[fmt]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(("_", ".")))
        for name in sorted(filenames):
            if name.startswith(("_", ".")):
                continue
            base = name[:-3] if name.endswith(".gz") else name
            if base.endswith(exts):
                yield os.path.join(dirpath, name)


# ---------------------------------------------------------------- report

def percent(part, whole):
    """Two decimals, half up, from the exact ratio."""
    if whole == 0:
        return "0.00"
    hundredths = math.floor(Fraction(part * 100 * 100, whole) + Fraction(1, 2))
    return "%d.%02d" % (hundredths // 100, hundredths % 100)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_field(text):
    """RFC 4180 quoting; a text field a spreadsheet would run as a formula (OWASP's CSV injection
    list: = + - @ tab CR first) gets a leading ' so it is shown as text."""
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


NETWORK_HEADER = ("resource_id,resource_address,remote_network,remote_network_id,total_connections,success_connections,"
                  "failed_connections,failed_connections_dns,failed_connections_other,total_bytes,bytes_transferred,"
                  "bytes_received,protocol,percent_relay,percent_p2p,top_10_address_accessed")
ACCESS_HEADER = ("user_email,resource_id,resource_address,remote_network,first_access_date,last_access_date,"
                 "total_connections,success_connections,failed_connections,total_bytes,active_devices,num_of_client_ip")


def most_frequent(counter):
    """The value most events name; ties by byte order (the first); None for none. Values are tuples of text."""
    if not counter:
        return None
    return min(counter.items(), key=lambda kv: (-kv[1], tuple(v.encode("utf-8") for v in kv[0])))[0]


def top_10(counter):
    """Up to 10 values by count, most first, ties by byte order, joined by ';'."""
    return ";".join(v for v, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0].encode("utf-8")))[:10])


class Connections:
    """The connections of one row of any report (a user, a Resource, a user and a Resource), every measure kept;
    each report's row picks its columns."""

    def __init__(self):
        self.first = self.last = None
        self.success = self.dns = self.other = self.relayed = 0
        self.tx = self.rx = 0
        self.devices = set()
        self.ips = collections.Counter()
        self.addresses = collections.Counter()     # (resource address or rule,)
        self.networks = collections.Counter()      # (remote network name, id)
        self.protocols = set()
        self.reached = collections.Counter()

    def add(self, e):
        self.first = e.time if self.first is None else min(self.first, e.time)
        self.last = e.time if self.last is None else max(self.last, e.time)
        if e.success:
            self.success += 1
            self.relayed += e.relayed
        elif e.dns:
            self.dns += 1
        else:
            self.other += 1
        self.tx += e.bytes_tx
        self.rx += e.bytes_rx
        if e.device != "":
            self.devices.add(e.device)
        if e.ip != "":
            self.ips[e.ip] += 1
        if e.resource_address != "":
            self.addresses[(e.resource_address,)] += 1
        if e.network != "" or e.network_id != "":
            self.networks[(e.network, e.network_id)] += 1
        if e.protocol != "":
            self.protocols.add(e.protocol)
        if e.address != "":
            self.reached[e.address] += 1

    def counts(self):
        """total, success, failed."""
        return [self.success + self.dns + self.other, self.success, self.dns + self.other]

    def percents(self):
        return [percent(self.relayed, self.success), percent(self.success - self.relayed, self.success)]

    def address(self):
        found = most_frequent(self.addresses)
        return found[0] if found else ""

    def network(self):
        return most_frequent(self.networks) or ("", "")

    def user_row(self, email):
        cells = ([email, format_time(self.last)] + self.counts() + [self.dns, self.other, self.tx + self.rx, self.tx, self.rx]
                 + self.percents() + [len(self.devices), len(self.ips), top_10(self.ips)])
        return ",".join(csv_field(str(c)) for c in cells)

    def resource_row(self, resource_id):
        cells = ([resource_id, self.address(), *self.network()] + self.counts()
                 + [self.dns, self.other, self.tx + self.rx, self.tx, self.rx,
                    ";".join(sorted(self.protocols, key=lambda p: p.encode("utf-8")))]
                 + self.percents() + [top_10(self.reached)])
        return ",".join(csv_field(str(c)) for c in cells)

    def access_row(self, email, resource_id):
        cells = ([email, resource_id, self.address(), self.network()[0], format_time(self.first), format_time(self.last)]
                 + self.counts() + [self.tx + self.rx, len(self.devices), len(self.ips)])
        return ",".join(csv_field(str(c)) for c in cells)


def window_events(root, fmt, start, end, stats, users_only):
    """The events of [start, end): with users_only, service accounts' are counted and skipped."""
    for path in walk(root, fmt):
        stats["files"] += 1
        for e in file_events(path, fmt, stats):
            if users_only and e.service_account:
                stats["service_account_skipped"] += 1
            elif start <= e.time < end:
                stats["events_in_window"] += 1
                yield e
            else:
                stats["events_outside_window"] += 1


def by_bytes(key):
    """Sort key: texts (or tuples of texts) in byte order."""
    return tuple(k.encode("utf-8") for k in key) if isinstance(key, tuple) else key.encode("utf-8")


def report(root, fmt, start, end, stats):
    users = collections.defaultdict(Connections)
    for e in window_events(root, fmt, start, end, stats, users_only=True):
        users[e.user].add(e)
    lines = [HEADER] + [users[u].user_row(u) for u in sorted(users, key=by_bytes)]
    return "".join(line + "\n" for line in lines)


def network_summary(root, fmt, start, end, stats):
    """One row per Resource id, service accounts' connections included (they use Resources too); connections
    naming no Resource are the row with an empty id. Rows by resource_id in byte order."""
    resources = collections.defaultdict(Connections)
    for e in window_events(root, fmt, start, end, stats, users_only=False):
        resources[e.resource_id].add(e)
    lines = [NETWORK_HEADER] + [resources[r].resource_row(r) for r in sorted(resources, key=by_bytes)]
    return "".join(line + "\n" for line in lines)


def resource_access(root, fmt, start, end, directory, stats):
    """One row per (user, Resource id) a user's connections named, by user then resource_id in byte order; with a
    directory, only its users, each one without a connection on one row of empty Resource and dates, counts 0."""
    pairs = collections.defaultdict(Connections)
    for e in window_events(root, fmt, start, end, stats, users_only=True):
        if directory is None or e.user in directory:
            pairs[(e.user, e.resource_id)].add(e)
    rows = {pair: pairs[pair].access_row(*pair) for pair in pairs}
    if directory is not None:
        seen = {user for user, _ in pairs}
        rows.update({(user, ""): csv_field(user) + ",,,,,,0,0,0,0,0,0" for user in directory - seen})
    return "".join(line + "\n" for line in [ACCESS_HEADER] + [rows[pair] for pair in sorted(rows, key=by_bytes)])


INACTIVE_HEADER = "user_email,last_access_date,inactive_days"
DAY = 86_400 * 1_000_000


def directory_emails(path):
    """The emails of a user directory CSV: the column named email, else user_email, else user
    (header compared case-insensitively, spaces around it ignored); empty cells skipped."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header = [h.strip().lower() for h in rows[0]]
    column = next(header.index(n) for n in ("email", "user_email", "user") if n in header)
    return {r[column] for r in rows[1:] if len(r) > column and r[column] != ""}


def inactive_report(root, fmt, now, inactive_days, lookback_days, directory, stats):
    """Users of the directory or of [now - lookback, now) with no counted connection in
    [now - inactive_days, now): their last connection in the look-back and whole days since."""
    last = {}
    for e in window_events(root, fmt, now - lookback_days * DAY, now, stats, users_only=True):
        last[e.user] = max(last.get(e.user, e.time), e.time)
    lines = [INACTIVE_HEADER]
    for email in sorted(set(last) | directory, key=lambda u: u.encode("utf-8")):
        t = last.get(email)
        if t is None:
            lines.append(csv_field(email) + ",,")
        elif t < now - inactive_days * DAY:
            lines.append(f"{csv_field(email)},{format_time(t)},{(now - t) // DAY}")
    return "".join(line + "\n" for line in lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--format", default="auto", choices=sorted(EXTENSIONS))
    p.add_argument("--report", default="active-users",
                   choices=["active-users", "inactive-users", "network-summary", "resource-access"])
    p.add_argument("--from", dest="start")
    p.add_argument("--to", dest="end")
    p.add_argument("--now")
    p.add_argument("--inactive-days", type=int, default=90)
    p.add_argument("--lookback-days", type=int, default=365)
    p.add_argument("--users", help="inactive-users, resource-access: a user directory CSV")
    p.add_argument("--stats", action="store_true", help="print counts as JSON on stderr")
    p.add_argument("dir")
    a = p.parse_args(argv)
    stats = {"files": 0, "events_in_window": 0, "events_outside_window": 0,
             "service_account_skipped": 0, "malformed": collections.Counter()}
    if a.report == "inactive-users":
        try:
            now = parse_rfc3339(a.now)
        except Malformed:
            p.error("--now must be an RFC 3339 instant")
        directory = directory_emails(a.users) if a.users else set()
        out = inactive_report(a.dir, a.format, now, a.inactive_days, a.lookback_days, directory, stats)
    else:
        try:
            start, end = parse_rfc3339(a.start), parse_rfc3339(a.end)
        except Malformed:
            p.error("--from/--to must be RFC 3339 instants")
        if a.report == "network-summary":
            out = network_summary(a.dir, a.format, start, end, stats)
        elif a.report == "resource-access":
            out = resource_access(a.dir, a.format, start, end, directory_emails(a.users) if a.users else None, stats)
        else:
            out = report(a.dir, a.format, start, end, stats)
    sys.stdout.buffer.write(out.encode("utf-8"))
    if a.stats:
        stats["malformed_total"] = sum(stats["malformed"].values())
        print(json.dumps(stats, sort_keys=True), file=sys.stderr)


if __name__ == "__main__":
    main()
