"""What the comparison systems of scripts/bench (bench_duckdb.py, bench_polars.py) share: their
command line, the files they read, the window as integer microseconds and the report file they
write. The report's meaning is scripts/reference_report.py's (docs/design.md §1); each peer computes
it with its own engine and must write the same bytes."""

import argparse
import os
import sys

from reference_report import HEADER, Malformed, parse_rfc3339, walk

FORMATS = ("twingate-csv", "twingate-s3", "twingate-analytics")


def parse_args(prog, doc):
    """The peers' common command line: --format F --from T --to T [--threads N] [--explain] DIR OUT.
    Adds start_us and end_us (the window, as the reference parses it) and files (the files tally
    would read under DIR, in the reference's order); exits when there is none."""
    p = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--from", dest="start", required=True, help="window start, RFC 3339")
    p.add_argument("--to", dest="end", required=True, help="window end (excluded), RFC 3339")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads of the engine (default: all cores)")
    p.add_argument("--explain", action="store_true", help="print the query (plan) on standard output")
    p.add_argument("dir", help="directory of log files (gzip or plain)")
    p.add_argument("out", help="the report CSV to write")
    a = p.parse_args()
    try:
        a.start_us, a.end_us = parse_rfc3339(a.start), parse_rfc3339(a.end)
    except Malformed:
        p.error("--from/--to must be RFC 3339 instants")
    a.files = list(walk(a.dir, a.format))
    if not a.files:
        sys.exit(f"{prog}: no {a.format} files under {a.dir}")
    return a


def write_report(path, rows):
    """The report file: the header, then `rows` (each one CSV line without its line end), UTF-8, \\n."""
    with open(path, "wb") as f:
        f.write("".join(line + "\n" for line in [HEADER, *rows]).encode("utf-8"))
