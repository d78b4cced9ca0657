"""End-to-end tests of the `tally` executable against scripts/reference_report.py and a real nginx.

CLI contract exercised here:
  tally gen --format F --users U --start T --hours H --events-per-hour E --out DIR [--seed S] [--gzip]
  tally run --source URL_OR_PATH --from T --to T [--tz ZONE] [--format F] [--workers N] --out FILE
"""

import csv
import io
import os
import re

import pytest

import handmade
from conftest import (FORMATS, MAIN, MAIN_FROM, MAIN_TO, PARIS, gunzip_lines, is_gzip, reference_reports,
                      run)
from e2e_util import REPORT_HEADER, run_reference

LAYOUT = {
    "twingate-csv": re.compile(r"\d{4}/\d{2}/\d{2}/\d{2}\.csv"),
    "twingate-s3": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\+00:00\.json"),
    "twingate-analytics": re.compile(r"connector-\d{4}-\d{2}-\d{2}T\d{2}\.log"),
}


def tally_run(tally, source, frm, to, out, *extra):
    cmd = [tally, "run", "--source", source, "--from", frm, "--to", to, "--out", out, *extra]
    return run(cmd)


def run_ok(tally, source, frm, to, out, *extra):
    """Runs `tally run`, asserts success, returns (report bytes, stderr text)."""
    p = tally_run(tally, source, frm, to, out, *extra)
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode == 0, f"tally run {source} failed with {p.returncode}:\n{stderr}"
    assert out.is_file(), f"tally run exited 0 but wrote no {out}\n{stderr}"
    return out.read_bytes(), stderr


def rows_by_user(report):
    rows = list(csv.reader(io.StringIO(report.decode("utf-8", errors="replace"), newline="")))
    return {r[0]: r for r in rows[1:] if r}


def assert_same_report(actual, expected, what):
    """Byte equality, with a readable account of the first differences when they differ."""
    if actual == expected:
        return
    a_lines, e_lines = actual.split(b"\n"), expected.split(b"\n")
    first = next((i for i, (x, y) in enumerate(zip(a_lines, e_lines)) if x != y), min(len(a_lines), len(e_lines)))
    msg = [f"{what}: report differs from the reference ({len(actual)} vs {len(expected)} bytes, "
           f"{len(a_lines) - 2} vs {len(e_lines) - 2} users)",
           f"first difference at line {first + 1}:",
           f"  expected: {e_lines[first] if first < len(e_lines) else b'<end>'!r}",
           f"  actual:   {a_lines[first] if first < len(a_lines) else b'<end>'!r}"]
    a_rows, e_rows = rows_by_user(actual), rows_by_user(expected)
    header = REPORT_HEADER.split(",")
    missing, extra = sorted(set(e_rows) - set(a_rows)), sorted(set(a_rows) - set(e_rows))
    if missing:
        msg.append(f"users missing: {missing[:5]}{' …' if len(missing) > 5 else ''} ({len(missing)})")
    if extra:
        msg.append(f"users extra: {extra[:5]}{' …' if len(extra) > 5 else ''} ({len(extra)})")
    columns = {}
    for user in sorted(set(a_rows) & set(e_rows)):
        for name, x, y in zip(header, a_rows[user], e_rows[user]):
            if x != y:
                columns.setdefault(name, (user, y, x, 0))
                u, y0, x0, n = columns[name]
                columns[name] = (u, y0, x0, n + 1)
    for name, (user, want, got, n) in columns.items():
        msg.append(f"column {name}: {n} users differ, e.g. {user}: expected {want!r}, got {got!r}")
    pytest.fail("\n".join(msg))


# ---------------------------------------------------------------- gen

@pytest.mark.parametrize("fmt", FORMATS)
def test_gen_layout(main_data, fmt):
    root = main_data[fmt]
    assert (root / "_SUCCESS").is_file()
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.is_file() and not p.name.startswith(("_", ".")))     # gen may add decoys like .hidden
    assert files, "tally gen wrote no log file"
    for name in files:
        assert name.endswith(".gz") and LAYOUT[fmt].fullmatch(name[:-3]), f"unexpected file name {name}"
        assert is_gzip(root / name), f"{name} is not gzip"
    assert len(files) >= MAIN["hours"]
    first = gunzip_lines(root / files[0])[0]
    if fmt == "twingate-csv":
        assert first.startswith("start_time,")
    elif fmt == "twingate-s3":
        assert first.startswith("{")
    else:
        assert "ANALYTICS" in first or any("ANALYTICS" in l for l in gunzip_lines(root / files[0])[:50])


def test_gen_is_deterministic(tally, tmp_path, main_data):
    """Same seed, same bytes (after decompression: gzip headers may carry a time)."""
    out = tmp_path / "again"
    p = run([tally, "gen", "--format", "twingate-csv", "--users", MAIN["users"], "--start", MAIN["start"],
             "--hours", MAIN["hours"], "--events-per-hour", MAIN["events_per_hour"], "--seed", MAIN["seed"],
             "--out", out, "--gzip"])
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    root = main_data["twingate-csv"]
    for f in sorted(root.rglob("*.csv.gz")):
        assert gunzip_lines(f) == gunzip_lines(out / f.relative_to(root)), f


def test_reference_formats_agree(main_refs):
    """The three formats of one seed carry the same connections, so give the same report."""
    csv_ref = main_refs["twingate-csv"]
    assert csv_ref.count(b"\n") > 10, "the window holds (almost) no user: check the generator's time range"
    assert main_refs["twingate-s3"] == csv_ref
    assert main_refs["twingate-analytics"] == csv_ref


# ---------------------------------------------------------------- run vs reference

@pytest.fixture(scope="session")
def local_reports(tally, main_data, tmp_path_factory):
    """{format: (report, stderr)} of `tally run` over each local main directory, made once."""
    out = tmp_path_factory.mktemp("local")
    return {fmt: run_ok(tally, main_data[fmt], MAIN_FROM, MAIN_TO, out / (fmt + ".csv"), "--format", fmt)
            for fmt in FORMATS}


@pytest.mark.parametrize("fmt", FORMATS)
def test_run_local_path(local_reports, main_refs, fmt):
    report, stderr = local_reports[fmt]
    assert stderr.strip(), "tally run printed no summary on stderr"
    assert_same_report(report, main_refs[fmt], f"local {fmt}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_run_over_nginx(tally, nginx, main_data, main_refs, tmp_path, fmt):
    url = nginx + main_data[fmt].name + "/"
    report, _ = run_ok(tally, url, MAIN_FROM, MAIN_TO, tmp_path / "out.csv", "--format", fmt)
    assert_same_report(report, main_refs[fmt], f"http {fmt}")


def test_run_writes_the_jobs_status_json_scripts_read(tally, nginx, main_data, main_refs, tmp_path):
    """--status-json: the final job status as the API gives it, for scripts (scripts/bench reads
    its merge phase from it instead of the human summary); an unwritable path fails naming it."""
    import json
    url = nginx + main_data["twingate-csv"].name + "/"
    status_file = tmp_path / "status.json"
    report, _ = run_ok(tally, url, MAIN_FROM, MAIN_TO, tmp_path / "out.csv", "--format", "twingate-csv", "--status-json", status_file)
    assert_same_report(report, main_refs["twingate-csv"], "with --status-json")
    status = json.loads(status_file.read_text())
    assert status["state"] == "succeeded" and status["report"] == "active-users", status
    assert status["users"] == len(rows_by_user(report)), status
    assert status["statistics"]["events"] > 0 and status["last_partial_at"] <= status["finished_at"], status
    p = tally_run(tally, url, MAIN_FROM, MAIN_TO, tmp_path / "out2.csv", "--status-json", tmp_path / "no-such-folder" / "s.json")
    assert p.returncode != 0 and "--status-json" in p.stderr.decode(errors="replace"), p.stderr


def test_three_formats_same_report(local_reports):
    reports = {fmt: r for fmt, (r, _) in local_reports.items()}
    assert_same_report(reports["twingate-s3"], reports["twingate-csv"], "s3 vs csv")
    assert_same_report(reports["twingate-analytics"], reports["twingate-csv"], "analytics vs csv")


def test_auto_format_over_nginx(tally, nginx, main_data, main_refs, tmp_path):
    url = nginx + main_data["twingate-analytics"].name + "/"
    report, _ = run_ok(tally, url, MAIN_FROM, MAIN_TO, tmp_path / "out.csv")          # --format defaults to auto
    assert_same_report(report, main_refs["twingate-analytics"], "auto analytics")


def test_workers_give_identical_bytes(tally, main_data, main_refs, tmp_path):
    one, _ = run_ok(tally, main_data["twingate-s3"], MAIN_FROM, MAIN_TO, tmp_path / "w1.csv", "--workers", "1")
    four, _ = run_ok(tally, main_data["twingate-s3"], MAIN_FROM, MAIN_TO, tmp_path / "w4.csv", "--workers", "4")
    assert one == four, "--workers 1 and --workers 4 differ"
    assert_same_report(four, main_refs["twingate-s3"], "workers 4")


@pytest.mark.parametrize("frm,to", [
    ("2026-10-01T00:00:00Z", "2026-10-01T06:00:00Z"),                 # all of it
    ("2026-10-01T00:59:59.999Z", "2026-10-01T03:00:00.001Z"),         # odd instants at hour edges
    ("2026-10-01T04:15:00+02:00", "2026-10-01T04:45:00.5+01:00"),     # offsets: 02:15Z .. 03:45:00.5Z
    ("2026-09-01T00:00:00Z", "2026-12-01T00:00:00Z"),                 # much wider than the data
])
def test_other_windows_over_nginx(tally, nginx, main_data, tmp_path, frm, to):
    fmt = "twingate-csv"
    expected = reference_reports({0: (main_data[fmt], fmt, frm, to)})[0]
    report, _ = run_ok(tally, nginx + main_data[fmt].name + "/", frm, to, tmp_path / "out.csv", "--format", fmt)
    assert_same_report(report, expected, f"window {frm}..{to}")


def test_a_window_outside_the_data_is_said_and_fails_unless_allowed(tally, main_data, tmp_path):
    """A window with no object in it would give a header-only report that reads like a quiet month: exit 3, naming the
    span the source covers and writing nothing; with --allow-empty, a loud warning and the header-only report."""
    out = tmp_path / "out.csv"
    p = tally_run(tally, main_data["twingate-csv"], "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z", out)
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode == 3, stderr
    assert "falls in the window 2027-01-01T00:00:00Z to 2027-01-02T00:00:00Z" in stderr, stderr
    assert "span 2026-10-01T00:00:00Z to 2026-10-01T06:00:00Z" in stderr and "--allow-empty" in stderr, stderr
    assert not out.exists()
    report, stderr = run_ok(tally, main_data["twingate-csv"], "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z", out,
                            "--allow-empty")
    assert report == (REPORT_HEADER + "\n").encode()
    assert "warning:" in stderr and "the report is empty" in stderr, stderr


def test_a_format_the_source_does_not_hold_is_said(tally, main_data, tmp_path):
    """`--format twingate-s3` over a folder of CSV exports: exit 3, saying what the folder holds instead."""
    out = tmp_path / "out.csv"
    p = tally_run(tally, main_data["twingate-csv"], MAIN_FROM, MAIN_TO, out, "--format", "twingate-s3")
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode == 3, stderr
    assert "holds no twingate-s3 object (*.json[.gz], *.ndjson[.gz])" in stderr, stderr
    assert re.search(r"found \d+ twingate-csv objects \(try --format auto\)", stderr), stderr
    assert not out.exists()
    p = tally_run(tally, tmp_path, MAIN_FROM, MAIN_TO, out)
    assert p.returncode == 3 and b"found no log object at all" in p.stderr, p.stderr


# ---------------------------------------------------------------- time zones

@pytest.mark.parametrize("local,utc", [
    (("2026-10-01", "2026-10-02"), ("2026-09-30T22:00:00Z", "2026-10-01T22:00:00Z")),
    (("2026-10-01T08:00", "2026-10-01T20:30"), ("2026-10-01T06:00:00Z", "2026-10-01T18:30:00Z")),
])
def test_time_zone_window(tally, paris_data, tmp_path, local, utc):
    expected, stats = run_reference(paris_data, "auto", *utc)
    assert stats["events_in_window"] > 0 and stats["events_outside_window"] > 0, stats
    report, _ = run_ok(tally, paris_data, local[0], local[1], tmp_path / "out.csv", "--tz", "Europe/Paris")
    assert_same_report(report, expected, f"--tz Europe/Paris {local}")


def test_local_dates_without_tz_are_read_in_the_machines_zone(tally, paris_data, tmp_path):
    """The report's rule is the user's local time: without --tz, local dates are read in this machine's zone (TZ here)
    and the zone used is said."""
    expected, _ = run_reference(paris_data, "auto", "2026-09-30T22:00:00Z", "2026-10-01T22:00:00Z")
    out = tmp_path / "out.csv"
    p = run([tally, "run", "--source", paris_data, "--from", "2026-10-01", "--to", "2026-10-02", "--out", out],
            env={**os.environ, "TZ": "Europe/Paris"})
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode == 0, stderr
    assert "local dates and times read in Europe/Paris, this machine's time zone" in stderr, stderr
    assert_same_report(out.read_bytes(), expected, "local dates in the machine's zone")


# ---------------------------------------------------------------- hand-written logs

@pytest.fixture(scope="session")
def hand(www):
    root = www / "hand"
    handmade.write_all(root)
    report, stats = run_reference(root, "auto", handmade.FROM, handmade.TO)
    return root, report, stats


@pytest.mark.parametrize("where", ["local", "http"])
def test_handwritten_logs(tally, nginx, hand, tmp_path, where):
    root, expected, stats = hand
    source = root if where == "local" else nginx + "hand/"
    report, stderr = run_ok(tally, source, handmade.FROM, handmade.TO, tmp_path / "out.csv")
    assert_same_report(report, expected, f"hand-written logs ({where})")


@pytest.mark.parametrize("name,fmt", [("csv", "twingate-csv"), ("s3", "twingate-s3"),
                                      ("analytics", "twingate-analytics"), ("rounding", "twingate-csv")])
def test_handwritten_each_format(tally, hand, tmp_path, name, fmt):
    root = hand[0]
    expected, _ = run_reference(root / name, fmt, handmade.FROM, handmade.TO)
    report, _ = run_ok(tally, root / name, handmade.FROM, handmade.TO, tmp_path / "out.csv", "--format", fmt)
    assert_same_report(report, expected, f"hand-written {name}")


def test_malformed_lines_are_counted(tally, hand, tmp_path):
    root, _, stats = hand
    total = stats["malformed_total"]
    assert total == 18
    _, stderr = run_ok(tally, root, handmade.FROM, handmade.TO, tmp_path / "out.csv")
    assert "malformed" in stderr.lower(), f"summary does not mention malformed lines:\n{stderr}"
    assert re.search(rf"(?<![\d.]){total}(?![\d.])", stderr), f"summary does not show {total} malformed:\n{stderr}"


def test_edge_cases(tally, tmp_path):
    expected, _ = handmade.write_edge_cases(tmp_path / "logs")
    report, _ = run_ok(tally, tmp_path / "logs", handmade.FROM, handmade.TO, tmp_path / "out.csv")
    assert_same_report(report, expected.encode("utf-8"), "edge cases")


def test_off_spec_timestamps_are_malformed(tally, tmp_path):
    """CSV start_time is `YYYY-MM-DD HH:MM:SS[.f{0,6}] UTC`, S3 time carries an offset (FORMATS.md);
    other shapes are malformed lines, not events."""
    handmade.write_off_spec_times(tmp_path / "logs")
    expected, stats = run_reference(tmp_path / "logs", "auto", handmade.FROM, handmade.TO)
    assert stats["malformed_total"] == len(handmade.OFF_SPEC_CSV_TIMES) + len(handmade.OFF_SPEC_S3_TIMES)
    report, _ = run_ok(tally, tmp_path / "logs", handmade.FROM, handmade.TO, tmp_path / "out.csv")
    assert_same_report(report, expected, "off-spec timestamps")


# ---------------------------------------------------------------- failures

BAD = {
    "to-equals-from": ["--source", "{data}", "--from", "2026-10-01T05:00:00Z", "--to", "2026-10-01T05:00:00Z"],
    "to-before-from": ["--source", "{data}", "--from", "2026-10-01T05:00:00Z", "--to", "2026-10-01T01:00:00Z"],
    "unknown-format": ["--source", "{data}", "--from", MAIN_FROM, "--to", MAIN_TO, "--format", "twingate-xml"],
    "bad-time": ["--source", "{data}", "--from", "yesterday", "--to", MAIN_TO],
    "missing-source": ["--from", MAIN_FROM, "--to", MAIN_TO],
    "nonexistent-path": ["--source", "/nonexistent/tally/logs", "--from", MAIN_FROM, "--to", MAIN_TO],
    "unreachable-url": ["--source", "http://127.0.0.1:1/", "--from", MAIN_FROM, "--to", MAIN_TO],
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_arguments_fail_with_one_line(tally, main_data, tmp_path, case):
    args = [a.replace("{data}", str(main_data["twingate-csv"])) for a in BAD[case]]
    p = run([tally, "run", *args, "--out", tmp_path / "out.csv"])
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode != 0, f"{case}: exit 0\n{stderr}"
    # A run that fails only after retrying (an unreachable source) shows its progress lines
    # meanwhile; the failure itself is one line, the last.
    lines = [line for line in stderr.rstrip("\n").split("\n") if not re.match(r"tally: job \S+ (queued|running): tasks ", line)]
    assert len(lines) == 1 and lines[0].strip(), f"{case}: want exactly one line on stderr, got:\n{stderr}"
    assert stderr.rstrip("\n").split("\n")[-1] == lines[0]


def test_a_stray_quote_costs_one_record(tally, tmp_path):
    """A CSV object of 3,000 lines with an unclosed quote in line 10 (and a legitimate quoted cell
    spanning lines further on): tally and the reference both lose that one record and count the
    rest (an unbounded RFC 4180 reader would lose everything after it)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = ["start_time,user,status,bytes_transferred,bytes_received,client_ip,device_id,relays"]
    for i in range(2, 3001):
        user = '"stray@example.com' if i == 10 else f"user{i % 37}@example.com"
        device = '"dev\nsplit"' if i == 2000 else f"d{i % 5}"
        lines.append(f"2026-10-01 10:{i % 60:02d}:{i % 59:02d} UTC,{user},NORMAL,{i},{2 * i},10.0.{i % 7}.1,{device},")
    (logs / "2026-10-01T10.csv").write_text("\n".join(lines) + "\n")
    expected, ref_stats = run_reference(logs, "twingate-csv", "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z")
    assert ref_stats["malformed"] == {"field_count": 1}, ref_stats
    report, stderr = run_ok(tally, logs, "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z", tmp_path / "out.csv")
    assert_same_report(report, expected, "stray quote")
    assert "1 malformed lines: field_count 1" in stderr, stderr
    assert "2998 events read" in stderr, stderr   # 2,999 rows, one lost to the stray quote


def test_a_malformed_share_over_the_ceiling_fails_the_run(tally, hand, tmp_path):
    root, _, stats = hand
    p = tally_run(tally, root, handmade.FROM, handmade.TO, tmp_path / "out.csv", "--max-malformed-share", "0.0001")
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode == 1, stderr
    assert f"{stats['malformed_total']} of " in stderr and "more than the job allows (0.01 %)" in stderr, stderr
    assert not (tmp_path / "out.csv").exists()
    report, _ = run_ok(tally, root, handmade.FROM, handmade.TO, tmp_path / "ok.csv", "--max-malformed-share", "1")
    assert report.startswith(REPORT_HEADER.encode())


def test_run_shows_progress_on_a_terminal_lines_otherwise_and_nothing_with_quiet(tally, main_data, tmp_path):
    """`tally run` follows its job like `tally submit --wait`: a redrawn bar on a terminal (a real
    pseudo-terminal here), plain lines when standard error is a file or pipe, none with --quiet;
    the summary is printed in every case."""
    import os
    import pty
    import subprocess
    args = [str(tally), "run", "--source", str(main_data["twingate-csv"]), "--from", MAIN_FROM, "--to", MAIN_TO,
            "--workers", "2", "--out"]
    main, secondary = pty.openpty()
    p = subprocess.Popen(args + [str(tmp_path / "tty.csv")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:                      # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    assert p.wait(timeout=120) == 0, seen.decode(errors="replace")
    text = seen.decode(errors="replace")
    assert "\r\x1b[K[" in text and "] 100% succeeded tasks" in text and "objects" in text, text[:2000]
    assert "users written to" in text

    # Off a terminal: a line every 5 s while the job runs (none for a run this short, so a failed
    # run still ends with its one error line), never a bar.
    piped = run(args + [tmp_path / "pipe.csv"])
    lines = piped.stderr.decode().splitlines()
    assert piped.returncode == 0 and "\x1b[" not in piped.stderr.decode(), lines
    assert all(re.match(r"tally: job \S+ running: tasks \d+/\d+, objects \d+/\d+, ", line) for line in lines if " job " in line), lines

    quiet = run(args[:2] + ["--quiet"] + args[2:] + [tmp_path / "quiet.csv"])
    assert quiet.returncode == 0 and not any(" job " in line for line in quiet.stderr.decode().splitlines()), quiet.stderr
    assert "users written to" in quiet.stderr.decode()
