"""The network-summary and resource-access reports (docs/design.md §1.8–1.10) end to end, against
scripts/reference_report.py: generated logs in the three formats with 1, 2 and 4 workers;
hand-written connections with wildcard Resources reached at several addresses, DNS failures
without a Resource IP, service accounts and malformed lines; a local-time window over a DST
change; and the shard cache, which reuses a kind's shards for that kind only."""

import shutil

import pytest

import test_reference as hand
from cluster_util import Cluster
from conftest import FORMATS, MAIN_FROM, MAIN_TO, reference_reports, run
from test_local_time import CASES, utc
from test_shard_cache import HOURS, LATER, START
from test_tally import assert_same_report

REPORTS = ["network-summary", "resource-access"]


def tally_report(tally, report, source, fmt, frm, to, out, *extra):
    p = run([tally, "run", "--report", report, "--source", source, "--format", fmt, "--from", frm, "--to", to, "--out", out,
             "--quiet", *extra])
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return out.read_bytes()


@pytest.fixture(scope="module")
def refs(main_data):
    return reference_reports({(report, fmt): (d, fmt, MAIN_FROM, MAIN_TO, False, report)
                              for fmt, d in main_data.items() for report in REPORTS})


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("report", REPORTS)
def test_generated_logs_match_the_reference_with_1_2_and_4_workers(tally, main_data, refs, tmp_path, report, fmt):
    runs = {w: tally_report(tally, report, main_data[fmt], fmt, MAIN_FROM, MAIN_TO, tmp_path / f"w{w}.csv", "--workers", w)
            for w in ("1", "2", "4")}
    assert runs["1"] == runs["2"] == runs["4"], "1, 2 and 4 workers differ"
    assert_same_report(runs["2"], refs[(report, fmt)], f"{report} over {fmt}")
    assert len(runs["2"].splitlines()) > 5


@pytest.mark.parametrize("fmt", FORMATS)
def test_hand_written_connections_match_the_reference(tally, tmp_path, fmt):
    """Wildcard Resources reached at several addresses, a rule shown two ways, a DNS failure without a Resource IP, a
    failure naming no Resource, a service account; and two malformed lines, counted and skipped."""
    root = hand.resource_logs(tmp_path / "logs", fmt)
    log = next(root.iterdir())
    malformed = {
        "twingate-csv": ["2026-10-01 00:09:00 UTC,too,few", "2026-10-01 00:10:00 UTC,x"],
        "twingate-s3": ["not json", '{"event_type": "network_access", "event": {"status": "closed_connection"}}'],
        "twingate-analytics": ["ANALYTICS {broken", 'ANALYTICS {"event_type": "closed_connection", "timestamp": "soon"}'],
    }[fmt]
    with open(log, "a") as f:
        f.write("".join(line + "\n" for line in malformed))
    directory = tmp_path / "users.csv"
    directory.write_text("email\nbob@x.com\ncy@x.com\n")
    for report, extra in [("network-summary", []), ("resource-access", []), ("resource-access", ["--users", directory])]:
        out = tmp_path / "out.csv"
        p = run([tally, "run", "--report", report, "--source", root, "--format", fmt, "--from", hand.RESOURCE_FROM,
                 "--to", hand.RESOURCE_TO, "--out", out, *extra])
        stderr = p.stderr.decode(errors="replace")
        assert p.returncode == 0, stderr
        assert "2 malformed" in stderr, stderr
        expected = run(hand.reference_cmd(root, fmt, hand.RESOURCE_FROM, hand.RESOURCE_TO, report=report,
                                          users=directory if extra else None)).stdout
        assert_same_report(out.read_bytes(), expected, f"{report} {extra} over {fmt}")
    # The reference's own hand-computed rows hold here too (the malformed lines change nothing).
    assert tally_report(tally, "network-summary", root, fmt, hand.RESOURCE_FROM, hand.RESOURCE_TO,
                        tmp_path / "n.csv").decode() == hand.NETWORK_SUMMARY


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_local_day_over_a_dst_change(tally, generated, tmp_path, fmt):
    """London's 25-hour 2026-10-25, as local dates: both reports read the window the reference is given in UTC."""
    zone, frm, to, start = CASES["london-25h"]
    data = generated.get(f"local-{fmt.split('-')[1]}-{start[:10]}", fmt, fmt != "twingate-analytics", users=40, start=start,
                         hours=48, events_per_hour=120, seed=11)
    for report in REPORTS:
        expected = run(hand.reference_cmd(data, fmt, utc(frm, zone), utc(to, zone), report=report)).stdout
        got = tally_report(tally, report, data, fmt, frm, to, tmp_path / "out.csv", "--tz", zone, "--workers", "2")
        assert_same_report(got, expected, f"{report} on {frm} in {zone} over {fmt}")


def test_cached_shards_serve_their_own_kind_only(tally, nginx, generated, www, tmp_path):
    """A warm run of each kind writes the cold run's bytes; shards an active-users job cached are never reused for
    another kind, nor one kind's for the other's."""
    fmt = "twingate-s3"
    full = generated.get("cache-full-s3", fmt, True, users=30, start=START, hours=HOURS, events_per_hour=150, seed=11)
    served = www / f"kinds-{tmp_path.name}"
    shutil.copytree(full, served)
    url = nginx + served.name + "/"
    c = Cluster(tmp_path / "cluster", [{"name": "logs", "kind": "http", "url": url, "format": fmt}], tally=tally)
    try:
        c.start_coordinator()
        c.start_workers(2)

        def job(report):
            out = tmp_path / f"{report}-{len(list(tmp_path.glob('*.csv')))}.csv"
            job = c.submit("logs", *LATER, "--report", report)
            c.wait_succeeded(job)
            return c.status(job)["statistics"], c.fetch(job, out)

        active, _ = job("active-users")
        assert active["shards_reused"] == 0, active
        refs = reference_reports({r: (served, fmt, *LATER, False, r) for r in REPORTS})
        for report in REPORTS:
            cold, cold_bytes = job(report)
            assert cold["shards_reused"] == 0, (report, cold)
            assert_same_report(cold_bytes, refs[report], f"cold {report}")
            warm, warm_bytes = job(report)
            assert warm["shards_reused"] >= 2, (report, warm)
            assert warm_bytes == cold_bytes, f"warm {report} differs from cold"
        again, _ = job("active-users")
        assert again["shards_reused"] >= 2, again
    finally:
        c.close()
