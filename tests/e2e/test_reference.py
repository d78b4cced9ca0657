"""Self-checks of scripts/reference_report.py on hand-written inputs with hand-computed reports."""

import importlib.util
import subprocess

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
