"""Local-time windows, exactly: whole local days across DST in both directions (23- and 25-hour
days), zones whose offsets are not whole hours, a 30-minute DST shift, and local times the zone
skips or repeats — each in the three formats against the reference, which is given the window's
UTC instants as Python's zoneinfo computes them (PEP 495, fold=0: a skipped time on the offset
before the change, a repeated one's first occurrence — the rule tally documents)."""

import datetime
import zoneinfo

import pytest

from conftest import FORMATS, reference_reports, run
from test_tally import assert_same_report

# (zone, local from, local to, UTC start of the generated data)
CASES = {
    "new-york-23h": ("America/New_York", "2026-03-08", "2026-03-09", "2026-03-07T12:00:00Z"),
    "new-york-25h": ("America/New_York", "2026-11-01", "2026-11-02", "2026-10-31T12:00:00Z"),
    "london-23h": ("Europe/London", "2026-03-29", "2026-03-30", "2026-03-28T12:00:00Z"),
    "london-25h": ("Europe/London", "2026-10-25", "2026-10-26", "2026-10-24T12:00:00Z"),
    "kolkata": ("Asia/Kolkata", "2026-10-25", "2026-10-26", "2026-10-24T12:00:00Z"),
    "kathmandu": ("Asia/Kathmandu", "2026-10-25T06:10", "2026-10-25T17:50", "2026-10-24T12:00:00Z"),
    "lord-howe-dst-ends": ("Australia/Lord_Howe", "2026-04-05", "2026-04-06", "2026-04-04T00:00:00Z"),
    "lord-howe-dst-starts": ("Australia/Lord_Howe", "2026-10-04", "2026-10-05", "2026-10-03T00:00:00Z"),
    "skipped-time": ("America/New_York", "2026-03-08T02:30", "2026-03-08T12:00", "2026-03-07T12:00:00Z"),
    "repeated-time": ("America/New_York", "2026-11-01T01:30", "2026-11-01T12:00", "2026-10-31T12:00:00Z"),
}


def utc(local, zone):
    """The instant of a local date or date-time in `zone`, by zoneinfo (fold=0), as RFC 3339."""
    value = datetime.datetime.fromisoformat(local if "T" in local else local + "T00:00")
    instant = value.replace(tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(datetime.timezone.utc)
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def data(generated):
    starts = sorted({start for _, _, _, start in CASES.values()})
    return {(fmt, start): generated.get(f"local-{fmt.split('-')[1]}-{start[:10]}", fmt, fmt != "twingate-analytics", users=40,
                                        start=start, hours=48, events_per_hour=120, seed=11)
            for fmt in FORMATS for start in starts}


@pytest.fixture(scope="module")
def refs(data):
    jobs = {(case, fmt): (data[(fmt, start)], fmt, utc(frm, zone), utc(to, zone))
            for case, (zone, frm, to, start) in CASES.items() for fmt in FORMATS}
    return reference_reports(jobs)


def test_the_day_lengths_are_what_the_cases_claim():
    hours = lambda case: (datetime.datetime.fromisoformat(utc(CASES[case][2], CASES[case][0])[:-1])
                          - datetime.datetime.fromisoformat(utc(CASES[case][1], CASES[case][0])[:-1])).total_seconds() / 3600
    assert hours("new-york-23h") == 23 and hours("new-york-25h") == 25
    assert hours("london-23h") == 23 and hours("london-25h") == 25
    assert hours("lord-howe-dst-ends") == 24.5 and hours("lord-howe-dst-starts") == 23.5
    assert utc("2026-10-25", "Asia/Kolkata") == "2026-10-24T18:30:00Z"
    assert utc("2026-10-25T06:10", "Asia/Kathmandu") == "2026-10-25T00:25:00Z"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_local_window_matches_the_reference(tally, data, refs, tmp_path, case, fmt):
    zone, frm, to, start = CASES[case]
    out = tmp_path / "out.csv"
    p = run([tally, "run", "--source", data[(fmt, start)], "--format", fmt, "--from", frm, "--to", to, "--tz", zone,
             "--out", out, "--workers", "2", "--quiet"])
    stderr = p.stderr.decode(errors="replace")
    assert p.returncode == 0, stderr
    assert_same_report(out.read_bytes(), refs[(case, fmt)], f"{case} over {fmt}")
    assert len(out.read_bytes().splitlines()) > 10
    if case == "skipped-time":
        assert f"does not exist in {zone}" in stderr and f"used {utc(frm, zone)}" in stderr, stderr
    elif case == "repeated-time":
        assert f"happens twice in {zone}" in stderr and f"used the first, {utc(frm, zone)}" in stderr, stderr
    else:
        assert "note:" not in stderr, stderr
