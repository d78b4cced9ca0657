"""Cached shards with a real coordinator, real workers and a real nginx: a report run again an hour
later reads only the new hours and the edge days (from the job's statistics), writes the bytes of a
cold `tally run` and of the independent reference, and an object rewritten in place is read again —
in the three formats."""

import datetime
import re
import shutil

import pytest

from cluster_util import Cluster
from conftest import FORMATS, reference_reports, run
from test_tally import assert_same_report

START = "2026-09-01T00:00:00Z"
HOURS = 3 * 24 + 15                            # 09-01T00 .. 09-04T14
NEW_HOURS = ("2026-09-04T13", "2026-09-04T14")  # arrive after the first report
FIRST = ("2026-09-01T12:30:00Z", "2026-09-04T12:30:00Z")
LATER = ("2026-09-01T13:30:00Z", "2026-09-04T13:30:00Z")
NAME_TIME = re.compile(r"(\d{4})[-/](\d{2})[-/](\d{2})[T/](\d{2})(?::(\d{2}))?")


def objects(root):
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))


def name_time(root, path):
    """(start, end) the object's name announces: an hour, or an instant (start == end)."""
    y, mo, d, h, mi = NAME_TIME.search(path.relative_to(root).as_posix()).groups()
    start = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi or 0), tzinfo=datetime.timezone.utc)
    return (start, start) if mi else (start, start + datetime.timedelta(hours=1))


def selected(root, window):
    """The objects a plan reads for the window: name times within an hour of it (docs/design.md §3.2)."""
    lo, hi = (datetime.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in window)
    lo, hi = lo - datetime.timedelta(hours=1), hi + datetime.timedelta(hours=1)
    out = []
    for f in objects(root):
        start, end = name_time(root, f)
        if (lo <= start < hi) if start == end else (start < hi and end > lo):
            out.append(f)
    return out


def on_days(root, files, *days):
    return [f for f in files if name_time(root, f)[0].strftime("%Y-%m-%d") in days]


def is_new(root, f):
    return name_time(root, f)[0].strftime("%Y-%m-%dT%H") in NEW_HOURS


@pytest.fixture(params=FORMATS)
def served(request, generated, www, tmp_path):
    """(format, directory nginx serves, the full generated data): the served copy lacks the new hours."""
    fmt = request.param
    full = generated.get(f"cache-full-{fmt.split('-')[1]}", fmt, fmt != "twingate-analytics", users=30, start=START,
                         hours=HOURS, events_per_hour=150, seed=11)
    served = www / f"cache-{fmt.split('-')[1]}-{tmp_path.name}"
    for f in objects(full):
        if not is_new(full, f):
            (served / f.relative_to(full)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, served / f.relative_to(full))
    return fmt, served, full


def submit_and_wait(c, frm, to, out):
    job = c.submit("logs", frm, to)
    c.wait_succeeded(job)
    return c.status(job)["statistics"], c.fetch(job, out)


def cold_run(tally, url, fmt, frm, to, out):
    p = run([tally, "run", "--source", url, "--format", fmt, "--from", frm, "--to", to, "--out", out, "--workers", "2", "--quiet"])
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return out.read_bytes()


def test_a_later_report_reads_only_new_and_edge_objects(tally, nginx, served, tmp_path):
    fmt, served_dir, full = served
    url = nginx + served_dir.name + "/"
    c = Cluster(tmp_path / "cluster", [{"name": "logs", "kind": "http", "url": url, "format": fmt}], tally=tally)
    try:
        c.start_coordinator()
        c.start_workers(2)
        first, _ = submit_and_wait(c, *FIRST, tmp_path / "first.csv")
        assert first["shards_reused"] == 0, first

        # An hour later: the new hour (and the next, read as slack) is there.
        for f in objects(full):
            if is_new(full, f):
                (served_dir / f.relative_to(full)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, served_dir / f.relative_to(full))
        later, warm = submit_and_wait(c, *LATER, tmp_path / "warm.csv")
        # The whole days both windows cover (the 2nd and 3rd) come from the cache, in one task or
        # more each; what is read lies on the edge days, the 1st and the 4th (all of them when a
        # day is one task, fewer when it is cut into several), the new hours included.
        edge_objects = len(on_days(served_dir, selected(served_dir, LATER), "2026-09-01", "2026-09-04"))
        new_objects = len([f for f in objects(served_dir) if is_new(served_dir, f)])
        assert later["shards_reused"] >= 2 and new_objects <= later["objects_read"] <= edge_objects, later
        if fmt == "twingate-csv":  # small hourly files: one task per day
            assert later["shards_reused"] == 2 and later["objects_read"] == edge_objects, later
        refs = reference_reports({"later": (served_dir, fmt, *LATER)})
        assert_same_report(warm, refs["later"], f"warm {fmt}")
        assert_same_report(warm, cold_run(tally, url, fmt, *LATER, tmp_path / "cold.csv"), f"warm vs cold {fmt}")

        # The same report again: the same bytes, and no more read than the first time.
        steady, same = submit_and_wait(c, *LATER, tmp_path / "steady.csv")
        assert same == warm
        assert steady["shards_reused"] >= later["shards_reused"] and steady["objects_read"] <= later["objects_read"], steady

        # One object of the 2nd is rewritten with other events: its task is computed again.
        other = tmp_path / "other"
        p = run([tally, "gen", "--format", fmt, "--users", "30", "--start", "2026-09-02T05:00:00Z", "--hours", "1",
                 "--events-per-hour", "170", "--seed", "12", "--out", other] + (["--gzip"] if fmt != "twingate-analytics" else []))
        assert p.returncode == 0, p.stderr.decode(errors="replace")
        replacement = objects(other)[0]
        target = served_dir / replacement.relative_to(other)
        assert target.is_file(), target
        shutil.copy(replacement, target)
        changed, after = submit_and_wait(c, *LATER, tmp_path / "changed.csv")
        # Only the task holding it is computed again: at most that whole day more is read.
        day = len(on_days(served_dir, objects(served_dir), "2026-09-02"))
        assert changed["shards_reused"] == steady["shards_reused"] - 1, changed
        assert steady["objects_read"] < changed["objects_read"] <= steady["objects_read"] + day, changed
        refs = reference_reports({"changed": (served_dir, fmt, *LATER)})
        assert after != warm
        assert_same_report(after, refs["changed"], f"after a change {fmt}")
    finally:
        c.close()
