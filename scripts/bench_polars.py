#!/usr/bin/env python3
# Usage: bench_polars.py --format twingate-csv|twingate-s3|twingate-analytics --from RFC3339 --to RFC3339 [--threads N] [--explain] DIR OUT.csv
"""The active-users report of docs/design.md §1 computed with Polars dataframes, from the same local
(gzip) files tally reads; used by scripts/bench as a comparison system beside DuckDB
(bench_duckdb.py). Every column is exact: Int128 byte sums, integer half-up rounding of the
percentages, exact distinct counts and an exact top-10; malformed lines are dropped as
docs/design.md §1.3 says.

How the work is split: Python's zlib gunzips the files (every member), in chunks of whole lines (of
whole records for CSV); Polars checks each chunk is UTF-8 (where it is not, Python finds the lines
that are not: malformed, dropped) and does the rest: the lines (`scan_lines`), the CSV fields
(`read_csv`, the field count of every record checked), the JSON objects (`read_ndjson` with a schema
of the fields the report reads), the checks of §1.3, the timestamps, the aggregation, the top-10 and
the CSV text. --threads Python threads read the files (CSV one by one, JSON in groups) and Polars
runs on POLARS_MAX_THREADS = --threads, set before Polars is imported.

What Polars would read otherwise than Python's csv and json modules (a number where the report
wants a string, a key spelled with a \\u escape, a lone surrogate escape, a line that does not
parse, a control character in a string, a stray quote in a CSV record, a later CSV header naming
other columns, a record Polars splits otherwise) goes to the reference's own functions
(scripts/reference_report.py): the line for JSON, the whole file for CSV. Generated data sends a
few lines in 100,000 that way (--explain counts them). One difference is left: a key repeated
within a JSON object, where Polars (as DuckDB) takes the first value and Python the last."""

import codecs
import collections
import concurrent.futures
import csv
import os
import zlib

import reference_report as ref
from bench_peer_common import parse_args, write_report

pl = None   # polars, imported by main() once POLARS_MAX_THREADS is set

ENDING = ref.ENDING     # the statuses / event types that end a connection
MAX_RECORD_LINES, MAX_RECORD_BYTES = ref.MAX_RECORD_LINES, ref.MAX_RECORD_BYTES


def event_schema():
    return {"email": pl.String, "t": pl.Int64, "success": pl.Boolean, "dns": pl.Boolean, "relayed": pl.Boolean,
            "tx": pl.Int128, "rx": pl.Int128, "device": pl.String, "ip": pl.String}


# ---------------------------------------------------------------- bytes and lines

PIECE = 16 << 20          # gunzip output taken at a time
CHUNK = 48 << 20          # lines handed to Polars at a time (bounds the memory of a 20 GB data set)


def pieces(path):
    """The file's bytes, gunzipped (every member) when it starts with the gzip magic as the
    reference does, in pieces of at most PIECE bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\x1f\x8b":
        for i in range(0, len(data), PIECE):
            yield data[i:i + PIECE]
        return
    while data[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(31)
        tail = data
        while not d.eof and tail:
            out = d.decompress(tail, PIECE)
            tail = d.unconsumed_tail
            if out:
                yield out
        data = d.unused_data


def chunks(paths, records=False):
    """The lines of the files in chunks of about CHUNK bytes, each ending with a line end (one is
    added to a file's last line). records: a chunk also ends outside a quoted CSV field (an even
    number of quotes before the cut), so that no record spans two chunks."""
    buf = bytearray()                    # a previous cut left no quoted field open: counting starts afresh
    for path in paths:
        for piece in pieces(path):
            buf += piece
            if len(buf) < CHUNK:
                continue
            cut = buf.rfind(b"\n") + 1
            if records:                  # the last line end after which no quoted field is open
                quotes = buf.count(b'"', 0, cut)
                while cut > 0 and quotes % 2:
                    prev = buf.rfind(b"\n", 0, cut - 1) + 1
                    quotes -= buf.count(b'"', prev, cut)
                    cut = prev
            if cut > 0:
                yield bytes(buf[:cut])
                del buf[:cut]
        if buf and not buf.endswith(b"\n"):
            buf += b"\n"
    if buf:
        yield bytes(buf)


def valid_utf8(data):
    """data without its lines that are not valid UTF-8 (malformed for the reference); and whether
    there were any. Polars checks the whole chunk; Python finds the bad lines when there are some."""
    try:
        pl.Series([data], dtype=pl.Binary).cast(pl.String)
        return data, False
    except pl.exceptions.PolarsError:
        pass
    keep, pos, view = [], 0, memoryview(data)
    while pos < len(data):
        end = data.find(b"\n", min(pos + (1 << 20), len(data)))
        end = len(data) if end < 0 else end + 1
        try:
            codecs.utf_8_decode(view[pos:end], "strict", True)
            keep.append(view[pos:end])
            pos = end
        except UnicodeDecodeError as e:
            bad = pos + e.start
            start = max(pos, data.rfind(b"\n", pos, bad) + 1)
            end = data.find(b"\n", bad)
            keep.append(view[pos:start])
            pos = len(data) if end < 0 else end + 1
    return b"".join(keep), True


def lines_of(data):
    """Physical lines as a String Series: split at \\n, one \\r before it dropped (as the reference)."""
    return pl.scan_lines(data, name="line").collect().get_column("line")


# ---------------------------------------------------------------- time

# The shapes the reference accepts (docs/design.md §2; hours < 24, minutes and seconds < 60 as
# Python's datetime wants them; the day of the month is checked by parsing).
CLOCK = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
CSV_TIME = rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}} {CLOCK}(?:\.[0-9]{{0,6}})? UTC$"
RFC3339 = rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[Tt]{CLOCK}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{{2}}:[0-9]{{2}})$"


def seconds_us(text):
    """Microseconds since the epoch of the `YYYY-MM-DD?HH:MM:SS` that starts `text` (null for a day
    that does not exist, or the year 0 Python's datetime refuses)."""
    dt = pl.concat_str([text.str.slice(0, 10), text.str.slice(11, 8)], separator=" ").str.to_datetime(
        "%Y-%m-%d %H:%M:%S", strict=False, time_unit="us").dt.epoch("us")
    return pl.when(text.str.slice(0, 4) != "0000").then(dt)


def fraction_us(digits):
    """The fraction's digits (String; '' for none) as microseconds, truncated."""
    return digits.str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int64)


def csv_time_us(text):
    """`YYYY-MM-DD HH:MM:SS[.f{0,6}] UTC` → microseconds, null when it does not parse."""
    digits = text.str.slice(19).str.head(-4).str.strip_prefix(".")
    return pl.when(text.str.contains(CSV_TIME)).then(seconds_us(text) + fraction_us(digits))


def rfc3339_us(text):
    """RFC 3339 (T/Z in either case, any offset, fraction truncated to µs) → microseconds, or null."""
    rest = text.str.slice(19)                           # [.digits] then Z or ±HH:MM
    utc = rest.str.ends_with("Z") | rest.str.ends_with("z")
    digits = pl.when(utc).then(rest.str.head(-1)).otherwise(rest.str.head(-6)).str.strip_prefix(".")
    zone = rest.str.tail(6)
    minutes = zone.str.slice(1, 2).cast(pl.Int64, strict=False) * 60 + zone.str.slice(4, 2).cast(pl.Int64, strict=False)
    offset = pl.when(utc).then(0).when(zone.str.starts_with("-")).then(-minutes).otherwise(minutes)
    return pl.when(text.str.contains(RFC3339)).then(seconds_us(text) + fraction_us(digits) - offset * 60_000_000)


# ---------------------------------------------------------------- Network Events CSV

# An RFC 4180 record: fields quoted (with "" inside) or free of quotes and commas. Any other quote
# is read leniently by Python's csv module and maybe otherwise by Polars: such a file goes to the reference.
CSV_RECORD = r'^(?:"(?:[^"]|"")*"|[^,"]*)(?:,(?:"(?:[^"]|"")*"|[^,"]*))*$'
QUOTED = r'"(?:[^"]|"")*"'


def csv_records(lines):
    """The records of the file (a quoted field may span lines: joined with \\n, as the reference),
    or None when one stays open to the end or past MAX_RECORD_LINES / MAX_RECORD_BYTES (the
    reference's stray-quote rule, left to it)."""
    quotes = lines.str.count_matches('"', literal=True)
    if not (quotes % 2 == 1).any():
        return lines
    df = pl.DataFrame({"line": lines, "open": (quotes.cum_sum() % 2 == 1)})
    if df["open"][-1]:
        return None
    starts = ~df["open"].shift(1, fill_value=False)
    recs = (df.with_columns(rec=starts.cum_sum())
            .group_by("rec", maintain_order=True)
            .agg(pl.col("line").str.join("\n"), pl.len().alias("n")))
    if recs["n"].max() > MAX_RECORD_LINES or recs["line"].str.len_bytes().max() > MAX_RECORD_BYTES:
        return None
    return recs.get_column("line")


def csv_events(data, had_invalid):
    """Events of one Network Events CSV file, or None to let the reference read it."""
    lines = lines_of(data)
    records = csv_records(lines)
    if records is None or (had_invalid and records.len() != lines.len()):
        return None                    # (undecodable lines were cut: a multi-line record may have lost one)
    # Fields: commas + 1, less the commas inside quoted fields (records with a quote only).
    fields = records.str.count_matches(",", literal=True) + 1
    quoted = records.str.contains('"', literal=True)
    if quoted.any():
        some = records.filter(quoted)
        if not some.str.contains(CSV_RECORD).all():
            return None
        fields = fields.scatter(quoted.arg_true(), some.str.replace_all(QUOTED, "").str.count_matches(",", literal=True) + 1)
    nonempty = (records != "").arg_true()
    if nonempty.len() == 0:
        return pl.DataFrame(schema=event_schema())
    first = nonempty[0]
    header_text = records[first]
    header = next(csv.reader([header_text], strict=False))
    n = len(header)
    rows = pl.read_csv(data, has_header=False, schema={f"c{i}": pl.String for i in range(n)},
                       missing_columns="insert", truncate_ragged_lines=True, quote_char='"')
    if rows.height != records.len():
        return None                    # Polars split the records otherwise
    rows = rows.with_columns(_text=records, _fields=fields, _row=pl.int_range(pl.len()))
    # A later header (a concatenated file) must repeat the first one; another one would change the
    # columns from there on: the reference's affair.
    later_headers = rows.filter((pl.col("c0") == "start_time") & (pl.col("_row") > first))
    if (later_headers["_text"] != header_text).any():
        return None
    rows = rows.filter((pl.col("_row") > first) & (pl.col("c0").fill_null("") != "start_time")
                       & (pl.col("_text") != "") & (pl.col("_fields") == n))
    index = {name: i for i, name in enumerate(header)}          # a repeated column name: the last one

    def col(name):
        return pl.col(f"c{index[name]}").fill_null("") if name in index else pl.lit("")

    def count(name):
        text = col(name)
        return pl.when(text == "").then(pl.lit(0, pl.Int128)).otherwise(
            pl.when(text.str.contains(r"^[0-9]+$")).then(text.cast(pl.Int128, strict=False)))

    status = col("status")
    success = status == "NORMAL"
    return rows.select(
        email=col("user"), t=csv_time_us(col("start_time")), success=success, dns=status == "DNS_ERROR",
        relayed=success & (col("relays") != ""), tx=count("bytes_transferred"), rx=count("bytes_received"),
        device=col("device_id"), ip=col("client_ip"), _ok=status != "",
    ).filter(pl.col("_ok") & pl.col("t").is_not_null() & pl.col("tx").is_not_null() & pl.col("rx").is_not_null()
             & (pl.col("email") != "")).drop("_ok")


# ---------------------------------------------------------------- JSON lines

WS = r"[ \t\r\n]*"
ANALYTICS = r"ANALYTICS[\t\n\x0B\x0C\r ]+\{"     # the reference's ANALYTICS\s+(\{.*) (ASCII \s)
ANALYTICS_PREFIX = r"^(?s:.*?)" + ANALYTICS       # up to its leftmost match, as re.search finds it


def key(names):
    return '"(?:' + "|".join(names) + ')"' + WS + ":" + WS


def json_plan(fmt):
    """The fields the report reads (a read_ndjson schema), and patterns of the lines Polars would
    read otherwise than Python's json module does (those go to the reference)."""
    email = pl.Struct({"email": pl.String})
    device = pl.Struct({"id": pl.String})
    if fmt == "twingate-s3":
        conn = pl.Struct({"bytes_transferred": pl.Int64, "bytes_received": pl.Int64, "client_ip": pl.String,
                          "error_message": pl.String})
        schema = {"event_type": pl.String,
                  "event": pl.Struct({"status": pl.String, "time": pl.String, "connection": conn,
                                      "relays": pl.List(pl.String), "user": email, "device": device})}
        ints, objects = ["bytes_transferred", "bytes_received"], ["event", "connection", "user", "device"]
    else:
        conn = pl.Struct({"tx": pl.Int64, "rx": pl.Int64, "client_ip": pl.String, "error_message": pl.String,
                          "tunnel_path": pl.String})
        schema = {"event_type": pl.String, "timestamp": pl.Int64, "connection": conn, "relays": pl.List(pl.String),
                  "user": email, "device": device}
        ints, objects = ["tx", "rx"], ["connection", "user", "device"]
    odd = [
        # A String field takes any scalar as its text: the email must be a string ...
        key(["email"]) + r'[^"n \t\r\n]',
        # ... an id or client IP a string or an integer (its digits; anything else counts as none)
        key(["client_ip", "id"]) + r'(?:[^"n0-9\- \t\r\n]|-?[0-9]+[.eE]|[0-9]{39}|-[0-9]{19})',
        # Int64 fields: integers that fit (a timestamp even × 1000); an object where one is read
        key(ints) + r"(?:[^n0-9\- \t\r\n]|-?[0-9]+[.eE]|-?[0-9]{19})",
        key(["timestamp"]) + r"(?:[^n0-9\- \t\r\n]|-?[0-9]+[.eE]|-?[0-9]{16})",
        key(objects) + r"[^{n \t\r\n]",
        key(["relays"]) + r"[^\[n \t\r\n]",
        # a key spelled with a \u escape (it might be one of those)
        r'\\u[0-9a-fA-F]{4}(?:[^"\\]|\\.)*"' + WS + ":",
    ]
    return schema, "|".join(f"(?:{p})" for p in odd)


def json_odd(js, odd):
    """The lines to leave to the reference, as a Boolean expression: a value of another type than
    the one read (see json_plan), a lone surrogate escape (Polars reads it as U+0000), brackets that
    do not balance (a cut line: no use asking Polars)."""
    surrogates = js.str.count_matches(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
    pairs = js.str.count_matches(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
    return (js.str.contains(odd) | (surrogates != 2 * pairs)
            | (js.str.count_matches("{", literal=True) != js.str.count_matches("}", literal=True))
            | (js.str.count_matches("[", literal=True) != js.str.count_matches("]", literal=True)))


def read_json_lines(texts, schema):
    """The objects of `texts` (a String Series, one JSON object each) as DataFrames of `schema`, and
    the texts Polars refused: a line that does not parse (or a control character in a string, which
    Python's json refuses too) fails its whole batch, whose halves are retried."""
    if texts.len() == 0:
        return [], []
    try:
        blob = texts.str.join("\n").cast(pl.Binary).item() + b"\n"
        return [pl.read_ndjson(blob, schema=schema)], []
    except pl.exceptions.PolarsError:
        if texts.len() <= 8:
            return [], texts.to_list()
        half = texts.len() // 2
        a, ra = read_json_lines(texts.slice(0, half), schema)
        b, rb = read_json_lines(texts.slice(half), schema)
        return a + b, ra + rb


def json_events(data, fmt):
    """Events of S3 or analytics lines (Polars), and the lines left to the reference."""
    line = pl.col("line")
    if fmt == "twingate-s3":
        js, candidate = line, line.str.strip_chars().str.starts_with("{")
    else:
        js, candidate = line.str.replace(ANALYTICS_PREFIX, "{"), line.str.contains(ANALYTICS)
    # Only a line naming an ending status (literally, or maybe behind an escape) can count.
    candidate = candidate & (line.str.contains("closed_connection|failed_to_connect|denied_access")
                             | line.str.contains("\\", literal=True))
    schema, odd = json_plan(fmt)
    df = pl.DataFrame({"line": lines_of(data)}).filter(candidate).select(js=js).with_columns(
        odd=json_odd(pl.col("js"), odd))
    frames, refused = read_json_lines(df.filter(~pl.col("odd")).get_column("js"), schema)
    columns = s3_columns() if fmt == "twingate-s3" else analytics_columns()
    events = [f.select(**columns).filter(pl.col("_ok") & (pl.col("email") != "")).drop("_ok") for f in frames]
    return events, df.filter(pl.col("odd")).get_column("js").to_list() + refused


def common_columns(status, conn, ev, t, tx, rx, relayed_when_success, ok):
    success = status == "closed_connection"
    email = ev("user").struct.field("email").fill_null("")
    return dict(
        email=email, t=t, success=success,
        dns=(~success & (conn.struct.field("error_message") == "DNS_ERROR")).fill_null(False),
        relayed=(success & relayed_when_success).fill_null(False),
        tx=tx.fill_null(0).cast(pl.Int128), rx=rx.fill_null(0).cast(pl.Int128),
        device=ev("device").struct.field("id").fill_null(""),
        ip=conn.struct.field("client_ip").fill_null(""),
        _ok=(ok & status.is_in(list(ENDING)) & t.is_not_null() & (tx.fill_null(0) >= 0)
             & (rx.fill_null(0) >= 0)).fill_null(False))


def non_empty(lst):
    return lst.list.len().fill_null(0) > 0


def s3_columns():
    ev = lambda name: pl.col("event").struct.field(name)
    conn = ev("connection")
    tx, rx = conn.struct.field("bytes_transferred"), conn.struct.field("bytes_received")
    return common_columns(ev("status"), conn, ev, rfc3339_us(ev("time")), tx, rx,
                          non_empty(ev("relays")), pl.col("event_type").is_in(["network_access", "network"]))


def analytics_columns():
    ev = pl.col
    conn = ev("connection")
    tx, rx = conn.struct.field("tx"), conn.struct.field("rx")
    path = conn.struct.field("tunnel_path")
    relayed = pl.when(path.is_not_null()).then(path != "direct").otherwise(non_empty(ev("relays")))
    return common_columns(ev("event_type"), conn, ev, ev("timestamp") * 1000, tx, rx, relayed, pl.lit(True))


# ---------------------------------------------------------------- the reference, for the odd ones

def reference_rows(events, start, end):
    """The events (reference_report.Event) in [start, end) as rows of event_schema()."""
    return [(e.user, e.time, e.success, e.dns, bool(e.relayed), e.bytes_tx, e.bytes_rx, e.device, e.ip)
            for e in events if isinstance(e, ref.Event) and not e.service_account and start <= e.time < end]


def reference_lines(texts, fmt, start, end):
    """Events of JSON texts (an S3 line, or what follows ANALYTICS and its blanks) by the reference."""
    out = []
    for text in texts:
        try:
            out.append(ref.s3_event(text) if fmt == "twingate-s3" else ref.analytics_event("ANALYTICS " + text))
        except ref.Malformed:
            pass
    return reference_rows(out, start, end)


def reference_file(path, fmt, start, end):
    stats = {"malformed": collections.Counter()}
    return reference_rows(ref.file_events(path, fmt, stats), start, end)


# ---------------------------------------------------------------- report

def tasks(files, fmt, threads):
    """A CSV file alone (it has its header); JSON files (read line by line) together, about a
    quarter of the data per thread in each group (from 1 to 16 MiB of gzip), for the threads to
    share the work evenly whatever the files' sizes (the S3 ones are small)."""
    if fmt == "twingate-csv":
        return [[f] for f in files]
    sizes = [os.path.getsize(f) for f in files]
    batch = min(16 << 20, max(1 << 20, sum(sizes) // (4 * threads)))
    out, size = [[]], 0
    for f, n in zip(files, sizes):
        if out[-1] and size >= batch:
            out.append([])
            size = 0
        out[-1].append(f)
        size += n
    return out


def first_line(data):
    """The first line of data that is not empty (with its line end), or None."""
    pos = 0
    while pos < len(data):
        end = data.find(b"\n", pos) + 1 or len(data)
        if data[pos:end].rstrip(b"\n").removesuffix(b"\r"):
            return data[pos:end]
        pos = end
    return None


def task_events(paths, fmt, start, end):
    """The events in [start, end) of a task's files, as DataFrames: Polars, chunk by chunk, with the
    reference for what it leaves (a CSV file as a whole, JSON lines one by one); and what it left
    ({"files": n, "lines": n})."""
    window = (pl.col("t") >= start) & (pl.col("t") < end)
    frames, rows, left = [], [], collections.Counter()
    if fmt == "twingate-csv":
        header = None                    # the file's first line, put before its later chunks
        for data in chunks(paths, records=True):
            data, had_invalid = valid_utf8(data)
            if header is not None:
                data = header + data
            else:
                header = first_line(data)
                if header is not None and header.count(b'"') % 2:
                    header, data = None, None     # a header spanning lines
            ev = csv_events(data, had_invalid) if data is not None else None
            if ev is None:
                frames, rows = [], reference_file(paths[0], fmt, start, end)
                left["files"] += 1
                break
            frames.append(ev.filter(window))
    else:
        for data in chunks(paths):
            ev, odd = json_events(valid_utf8(data)[0], fmt)
            frames += [f.filter(window) for f in ev]
            rows += reference_lines(odd, fmt, start, end)
            left["lines"] += len(odd)
    if rows:
        frames.append(pl.DataFrame(rows, schema=event_schema(), orient="row"))
    return [f.cast(event_schema()) for f in frames], left


def csv_field(text):
    """reference_report.csv_field as an expression: a leading ' before a formula character, then
    RFC 4180 quoting."""
    text = pl.when(text.str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + text).otherwise(text)
    return pl.when(text.str.contains('[,"\r\n]')).then(
        pl.lit('"') + text.str.replace_all('"', '""', literal=True) + pl.lit('"')).otherwise(text)


def percent(part, whole):
    """Two decimals, half up, from the exact ratio part / whole; 0.00 when whole is 0."""
    h = (2 * 10000 * part + whole) // (2 * whole)
    return pl.when(whole == 0).then(pl.lit("0.00")).otherwise(
        (h // 100).cast(pl.String) + "." + (h % 100).cast(pl.String).str.zfill(2))


def report(events):
    """The report lines (without the header) of a LazyFrame of events, sorted by email bytes."""
    per_user = events.group_by("email").agg(
        last=pl.col("t").max(),
        succ=pl.col("success").sum().cast(pl.Int64),
        dns=(~pl.col("success") & pl.col("dns")).sum().cast(pl.Int64),
        other=(~pl.col("success") & ~pl.col("dns")).sum().cast(pl.Int64),
        relayed=pl.col("relayed").sum().cast(pl.Int64),
        tx=pl.col("tx").sum(), rx=pl.col("rx").sum(),
        devices=pl.col("device").filter(pl.col("device") != "").n_unique(),
        ips=pl.col("ip").filter(pl.col("ip") != "").n_unique())
    top = (events.filter(pl.col("ip") != "").group_by("email", "ip").agg(n=pl.len())
           .sort(["email", "n", "ip"], descending=[False, True, False])
           .group_by("email", maintain_order=True).agg(top=pl.col("ip").head(10).str.join(";")))
    last_ms = (pl.col("last") // 1000) * 1000
    s = lambda c: pl.col(c).cast(pl.String)
    line = pl.concat_str([
        csv_field(pl.col("email")),
        pl.from_epoch(last_ms, time_unit="us").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
        (pl.col("succ") + pl.col("dns") + pl.col("other")).cast(pl.String), s("succ"),
        (pl.col("dns") + pl.col("other")).cast(pl.String), s("dns"), s("other"),
        (pl.col("tx") + pl.col("rx")).cast(pl.String), s("tx"), s("rx"),
        percent(pl.col("relayed"), pl.col("succ")), percent(pl.col("succ") - pl.col("relayed"), pl.col("succ")),
        s("devices"), s("ips"), csv_field(pl.col("top").fill_null(""))], separator=",")
    return per_user.join(top, on="email", how="left").sort("email").select(line=line)


def main():
    global pl
    a = parse_args("bench_polars", __doc__)
    os.environ["POLARS_MAX_THREADS"] = str(a.threads)
    import polars
    pl = polars
    frames, left = [], collections.Counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.threads)) as pool:
        for fs, n in pool.map(lambda t: task_events(t, a.format, a.start_us, a.end_us),
                              tasks(a.files, a.format, a.threads)):
            frames += fs
            left += n
    events = pl.concat(frames) if frames else pl.DataFrame(schema=event_schema())
    query = report(events.lazy())
    if a.explain:
        print(query.explain())
        print(f"left to the reference: {left['lines']} JSON lines, {left['files']} CSV files")
    write_report(a.out, query.collect().get_column("line").to_list())


if __name__ == "__main__":
    main()
