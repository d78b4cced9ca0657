"""The inactive-users report: hand-written logs with a hand-computed report (the reference checked
against it too), and generated logs in the three formats where some users stopped connecting,
each against the independent reference (scripts/reference_report.py --report inactive-users):
a user directory, a look-back shorter than the data, users only in the directory, a last access
exactly at now - N days, and connections at and after now."""

import shutil
import subprocess
import sys

import pytest

from conftest import FORMATS, run
from e2e_util import REFERENCE, csv_header, csv_row, write
from test_tally import assert_same_report

NOW, N, L = "2026-10-20T00:00:00Z", 10, 30
HEADER = "user_email,last_access_date,inactive_days"


def reference(src, fmt, now, inactive, lookback, users=None):
    cmd = [sys.executable, str(REFERENCE), "--report", "inactive-users", "--format", fmt, "--now", now,
           "--inactive-days", str(inactive), "--lookback-days", str(lookback), str(src)]
    p = subprocess.run(cmd + (["--users", str(users)] if users else []), capture_output=True, check=True)
    return p.stdout


def tally_inactive(tally, src, out, now, inactive, lookback, users=None, fmt="auto"):
    cmd = [tally, "run", "--report", "inactive-users", "--source", src, "--format", fmt, "--now", now,
           "--inactive-days", inactive, "--lookback-days", lookback, "--out", out, "--workers", "2"]
    p = run(cmd + (["--users", users] if users else []))
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return out.read_bytes()


def test_handmade_inactive_report(tally, tmp_path):
    logs = tmp_path / "logs"
    ok = dict(status="NORMAL")
    rows = [csv_header()]
    for user, times in {
        "edge@x.com": ["2026-10-10 00:00:00 UTC"],                      # exactly now - N: active
        "before@x.com": ["2026-10-09 23:59:59.999999 UTC"],              # a microsecond earlier: inactive, 10 days
        "old@x.com": ["2026-09-25 12:00:00 UTC", "2026-09-21 00:00:00 UTC"],  # inactive, 24 days
        "ancient@x.com": ["2026-09-01 00:00:00 UTC"],                    # before the look-back: not seen
        "future@x.com": ["2026-10-20 00:00:00 UTC", "2026-10-25 00:00:00 UTC"],  # at and after now: ignored
        "mixed@x.com": ["2026-10-21 00:00:00 UTC", "2026-09-28 06:00:00 UTC"],  # last before now: 09-28, 21 days
        "active@x.com": ["2026-10-19 23:00:00 UTC"],
        "dns@x.com": ["2026-09-30 00:00:00 UTC"],                        # a failed connection counts too
    }.items():
        for t in times:
            rows.append(csv_row(start_time=t, user=user, device_id="d", client_ip="1.1.1.1",
                                **(dict(status="DNS_ERROR") if user == "dns@x.com" else ok)))
    write(logs / "all.csv", rows)
    users = tmp_path / "users.csv"
    users.write_text('Name, EMAIL ,team\nDir Only,dir-only@x.com,a\nAncient,ancient@x.com,b\nEdge,edge@x.com,c\n,,\n'
                     '"Quoted, Name","comma,in@x.com",d\n')
    expected = "\n".join([
        HEADER,
        "ancient@x.com,,",
        "before@x.com,2026-10-09T23:59:59.999Z,10",
        '"comma,in@x.com",,',
        "dir-only@x.com,,",
        "dns@x.com,2026-09-30T00:00:00.000Z,20",
        "mixed@x.com,2026-09-28T06:00:00.000Z,21",
        "old@x.com,2026-09-25T12:00:00.000Z,24",
    ]) + "\n"
    assert reference(logs, "twingate-csv", NOW, N, L, users).decode() == expected
    assert tally_inactive(tally, logs, tmp_path / "out.csv", NOW, N, L, users).decode() == expected
    # Without the directory: only users seen in the look-back.
    seen_only = "".join(line + "\n" for line in expected.splitlines() if not line.endswith(",,"))
    assert tally_inactive(tally, logs, tmp_path / "out2.csv", NOW, N, L).decode() == seen_only


@pytest.fixture(scope="module")
def stopped_users(generated, tmp_path_factory):
    """{format: directory}: 30 users from 2026-09-01 for 14 days, then only 10 of them until
    2026-10-05 — twenty users stopped connecting around 2026-09-15."""
    out = {}
    for fmt in FORMATS:
        short = fmt.split("-")[1]
        early = generated.get(f"inactive-early-{short}", fmt, True, users=30, start="2026-09-01T00:00:00Z", hours=14 * 24,
                              events_per_hour=60, seed=5)
        late = generated.get(f"inactive-late-{short}", fmt, True, users=10, start="2026-09-15T00:00:00Z", hours=20 * 24,
                             events_per_hour=40, seed=6)
        both = tmp_path_factory.mktemp(f"inactive-{short}")
        for part in (early, late):
            shutil.copytree(part, both, dirs_exist_ok=True)
        out[fmt] = both
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_generated_inactive_report_matches_the_reference(tally, stopped_users, fmt, tmp_path):
    src = stopped_users[fmt]
    users = tmp_path / "users.csv"
    # Generated names look like john.smith4@example.com: some of them, and people never seen.
    users.write_text("user_email\njohn.smith4@example.com\nnobody@example.com\nzed@example.org\n")
    # A look-back of 25 days before 2026-10-08 misses the first week of data; 15 inactive days
    # split the users who stopped around 2026-09-15 from those who went on.
    now, inactive, lookback = "2026-10-08T00:00:00Z", 15, 25
    expected = reference(src, fmt, now, inactive, lookback, users)
    got = tally_inactive(tally, src, tmp_path / "out.csv", now, inactive, lookback, users, fmt=fmt)
    assert_same_report(got, expected, f"inactive-users over {fmt}")
    lines = got.decode().splitlines()
    assert lines[0] == HEADER and len(lines) > 10, got[:500]
    assert sum(1 for line in lines[1:] if line.endswith(",,")) >= 2     # directory users never seen
    assert sum(1 for line in lines[1:] if not line.endswith(",,")) >= 10  # users who stopped
