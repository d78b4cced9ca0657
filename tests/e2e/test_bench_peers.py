"""The comparison systems of scripts/bench (scripts/bench_duckdb.py, scripts/bench_polars.py) compute the
same report as scripts/reference_report.py, byte for byte: on a `tally gen` data set of every format
(with its malformed lines, four of them at 80,000 events), on the hand-written sets whose
reports were worked out by hand, and (Polars) on lines it must leave to the reference's functions.
A missing DuckDB or Polars is a failure, never a skip: install them with `pip install duckdb polars`."""

import concurrent.futures
import importlib.util
import json
import sys

import pytest

import handmade
from conftest import FORMATS, run
from e2e_util import SCRIPTS, csv_header, csv_row, reference_cmd

PEERS = ("duckdb", "polars")
# 80,000 events per format: 4 malformed lines, one of every kind tally gen writes (analytics: 4 of its 5).
GEN = dict(users=3000, start="2026-10-01T00:00:00Z", hours=4, events_per_hour=20_000, seed=5)
GEN_FROM, GEN_TO = "2026-10-01T00:30:00Z", "2026-10-01T03:30:00Z"     # cuts inside the data


@pytest.fixture(scope="module", autouse=True)
def peers_installed():
    missing = [m for m in PEERS if importlib.util.find_spec(m) is None]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not installed for {sys.executable}: pip install {' '.join(missing)}")


def peer(name, src, fmt, frm, to, out):
    """Runs scripts/bench_NAME.py (2 threads, as scripts/bench does); returns the report bytes."""
    p = run([sys.executable, SCRIPTS / f"bench_{name}.py", "--format", fmt, "--from", frm, "--to", to,
             "--threads", "2", src, out], timeout=120)
    assert p.returncode == 0, f"bench_{name}.py {fmt} {src} failed ({p.returncode}):\n{p.stderr.decode(errors='replace')}"
    return out.read_bytes()


def reference(src, fmt, frm, to):
    p = run(reference_cmd(src, fmt, frm, to))
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout


def check(jobs, tmp_path, peers=PEERS):
    """jobs: {key: (dir, format, from, to)}: every peer's report equals the reference's. Returns the
    reference reports. The reference and the peers run side by side."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        refs = {k: pool.submit(reference, *job) for k, job in jobs.items()}
        outs = {(k, p): pool.submit(peer, p, *job, tmp_path / f"{k}-{p}.csv") for k, job in jobs.items() for p in peers}
        refs = {k: f.result() for k, f in refs.items()}
        outs = {key: f.result() for key, f in outs.items()}
    bad = []
    for (k, p), out in outs.items():
        if out != refs[k]:
            a, e = out.split(b"\n"), refs[k].split(b"\n")
            i = next((i for i, (x, y) in enumerate(zip(a, e)) if x != y), min(len(a), len(e)))
            bad.append(f"{p} on {k}: line {i + 1}: {a[i] if i < len(a) else b'<end>'!r}, "
                       f"reference {e[i] if i < len(e) else b'<end>'!r}")
    assert not bad, "\n".join(bad)
    return refs


def test_generated_data(generated, tmp_path):
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        data = dict(zip(FORMATS, pool.map(lambda f: generated.get("peers-" + f.split("-")[1], f, True, **GEN), FORMATS)))
    refs = check({fmt: (d, fmt, GEN_FROM, GEN_TO) for fmt, d in data.items()}, tmp_path)
    assert len({refs[f] for f in FORMATS}) == 1, "the three formats' reports differ"
    assert refs[FORMATS[0]].count(b"\n") > 1000


def test_handmade_data(tmp_path):
    handmade.write_all(tmp_path / "all")
    handmade.write_edge_cases(tmp_path / "edge")
    check({f"{name}-{fmt}": (tmp_path / name, fmt, handmade.FROM, handmade.TO)
           for name in ("all", "edge") for fmt in FORMATS}, tmp_path)


def test_polars_leaves_odd_lines_to_the_reference(tmp_path):
    """Values Polars' readers would take otherwise than Python's csv and json modules; the same report."""
    t = "2026-10-01T01:00:00Z"

    def s3(email, **event):
        event = {"time": t, "status": "closed_connection", "user": {"email": email},
                 "connection": {"client_ip": "1.1.1.1", "bytes_transferred": 1, "bytes_received": 2}, **event}
        return json.dumps({"event_type": "network_access", "event": event})
    s3_lines = [
        s3(5), s3("id-float@x", device={"id": 1.5}), s3("id-bool@x", device={"id": True}),
        s3("id-int@x", device={"id": 123}), s3("id-huge@x", device={"id": 2**70}),
        s3("bytes-text@x", connection={"bytes_transferred": "12"}),
        s3("bytes-2^63@x", connection={"client_ip": "2.2.2.2", "bytes_transferred": 2**63, "bytes_received": 2**63}),
        s3("relays-text@x", relays="nope"), s3("relays-one@x", relays=[{}]), s3("conn-text@x", connection="x"),
        s3("time-lower@x", time="2026-10-01t01:00:00.1234567z"), s3("time-offset@x", time="2026-10-01T02:00:00+99:99"),
        s3("time-60s@x", time="2026-10-01T01:00:60Z"), s3("time-feb29@x", time="2026-02-29T01:00:00Z"),
        s3("=formula@x"), s3('quote,"q"@x'),
        s3("dns@x", status="failed_to_connect", connection={"client_ip": "-1.1.1.1", "error_message": "DNS_ERROR"}),
        '{"event_type":"network_access","event":{"time":"%s","status":"closed_connection","user":{"em\\u0061il":"esc-key@x"}}}' % t,
        '{"event_type":"network_access","event":{"time":"%s","status":"closed\\u005fconnection","user":{"email":"esc-val@x"}}}' % t,
        '{"event_type":"network_access","event":{"time":"%s","status":"closed_connection","user":{"email":"tab\there@x"}}}' % t,
        '{"event_type":"network_access","event":{"time":"%s","status":"closed_connection","user":{"email":"nan@x"},"connection":{"bytes_received":NaN}}}' % t,
        '  {"event_type":"network","event":{"time":"%s","status":"denied_access","user":{"email":"blank@x"}}}  ' % t,
        '{"event_type":"network_access","event":{"time":"%s","status":"closed_connection","user":{"email":"\\ud83e\\udd84@x"}}}' % t,
        '"a string"', "[1]", '{"event_type":"network_access","event":null}']
    (tmp_path / "s3").mkdir()
    (tmp_path / "s3" / "a.json").write_text("\n".join(s3_lines) + "\n")
    ms = 1790816400000                                       # 2026-10-01T01:00Z

    def an(email, conn=None, **event):
        conn = {"client_ip": "1.1.1.1", "tx": 1, "rx": 2, **(conn or {})}
        return "ANALYTICS " + json.dumps(
            {"connection": conn, "device": {"id": "d1"}, "event_type": "closed_connection", "relays": [],
             "timestamp": ms, "user": {"email": email}, **event})
    an_lines = [an("path-null@x", {"tunnel_path": None}, relays=[1]), an("path-number@x", {"tunnel_path": 5}),
                an("ts-float@x", timestamp=1.5e12), an("ts-text@x", timestamp=str(ms)), an("ts-huge@x", timestamp=10**17),
                "x ANALYTICS no ANALYTICS\t\t" + an("second-word@x").split(" ", 1)[1],
                an("dns@x", {"error_message": "DNS_ERROR"}, event_type="failed_to_connect"),
                an("id-false@x", device={"id": False}), 'ANALYTICS {"event_type": "closed_connection"']
    (tmp_path / "an").mkdir()
    (tmp_path / "an" / "c.log").write_text("\n".join(an_lines) + "\n")
    ok = dict(status="NORMAL", start_time="2026-10-01 01:00:00 UTC")
    rows = [csv_header(), csv_row(user="plain@x", **ok), csv_row(user="extra-empty@x", **ok) + ",",
            csv_row(user="short@x", **ok).rsplit(",", 1)[0], csv_row(user="=formula@x", client_ip="+1", **ok),
            csv_row(user="bytes-big@x", bytes_transferred="99999999999999999999", **ok),
            csv_row(user="line\nbreak@x", **ok), "", csv_row(user="dns@x", status="DNS_ERROR", client_ip="1.1.1.1",
                                                            start_time=ok["start_time"])]
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "a.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode())
    # a stray quote (Python's csv reads it leniently) and a later header naming other columns: whole files
    (tmp_path / "csv" / "b.csv").write_text("\n".join([csv_header(), csv_row(user='st"ray@x', **ok)]) + "\n")
    (tmp_path / "csv" / "c.csv").write_text("\n".join([csv_header(), csv_row(user="first@x", **ok),
                                                       "user,start_time,status", "second@x,2026-10-01 03:00:00 UTC,NORMAL"]) + "\n")
    refs = check({fmt: (tmp_path, fmt, handmade.FROM, handmade.TO) for fmt in FORMATS}, tmp_path, peers=("polars",))
    assert all(r.count(b"\n") >= 5 for r in refs.values())
