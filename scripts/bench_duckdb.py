#!/usr/bin/env python3
# Usage: bench_duckdb.py --format twingate-csv|twingate-s3|twingate-analytics --from RFC3339 --to RFC3339 [--threads N] DIR OUT.csv
"""The active-users report of docs/design.md §1 computed by DuckDB with SQL, from the same local
(gzip) files tally reads; used by scripts/bench as the comparison system. Every column is computed
exactly (no sketches): integer sums, integer half-up rounding for the percentages, exact distinct
counts and an exact top-10. Malformed lines are dropped as docs/design.md §1.3 says (bad JSON,
wrong CSV field count, unparsable timestamps, byte counts that are not non-negative integers,
invalid UTF-8)."""

import duckdb

# The command line, the files (the reference's walk), the window and the report file: shared with bench_polars.py.
from bench_peer_common import parse_args, write_report


def sql_list(paths):
    return "[" + ",".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


# Raw lines of the files as one VARCHAR column (no quoting, a delimiter that never occurs).
def lines_source(files):
    return (f"read_csv({sql_list(files)}, columns={{'line': 'VARCHAR'}}, header=false, auto_detect=false, "
            "delim=chr(1), quote='', escape='', ignore_errors=true, compression='auto')")


# Microseconds since the epoch from a validated RFC 3339 text (T/Z in either case, any offset);
# the fraction is truncated to microseconds. NULL when it does not parse.
RFC3339_US = """(CASE WHEN regexp_full_match({t}, '\\d{{4}}-\\d{{2}}-\\d{{2}}[Tt]\\d{{2}}:\\d{{2}}:\\d{{2}}(\\.\\d+)?([Zz]|[+-]\\d{{2}}:\\d{{2}})')
   THEN epoch_us(try_strptime(substr({t}, 1, 10) || ' ' || substr({t}, 12, 8), '%Y-%m-%d %H:%M:%S'))
        + CAST(rpad(left(regexp_extract({t}, '\\.(\\d+)', 1), 6), 6, '0') AS BIGINT)
        - CASE WHEN regexp_matches({t}, '[+-]\\d{{2}}:\\d{{2}}$')
               THEN (CASE WHEN substr({t}, -6, 1) = '-' THEN -1 ELSE 1 END)
                    * (CAST(substr({t}, -5, 2) AS BIGINT) * 60 + CAST(substr({t}, -2, 2) AS BIGINT)) * 60000000
               ELSE 0 END
   END)"""

CSV_US = """(CASE WHEN regexp_full_match({t}, '\\d{{4}}-\\d{{2}}-\\d{{2}} \\d{{2}}:\\d{{2}}:\\d{{2}}(\\.\\d{{0,6}})? UTC')
   THEN epoch_us(try_strptime(substr({t}, 1, 19), '%Y-%m-%d %H:%M:%S'))
        + CAST(rpad(regexp_extract({t}, '\\.(\\d*)', 1), 6, '0') AS BIGINT)
   END)"""


def events_csv(files):
    """One row per counted event: email, us, success, dns, relayed, tx, rx, device, ip, ok."""
    src = (f"read_csv({sql_list(files)}, header=true, all_varchar=true, quote='\"', escape='\"', "
           "delim=',', ignore_errors=true, union_by_name=true, compression='auto', null_padding=false)")
    return f"""
    SELECT coalesce("user", '') AS email,
           {CSV_US.format(t="coalesce(start_time, '')")} AS t_us,
           status = 'NORMAL' AS success,
           status = 'DNS_ERROR' AS dns,
           status = 'NORMAL' AND coalesce(relays, '') <> '' AS relayed,
           CAST(coalesce(bytes_transferred, '0') AS HUGEINT) AS tx,
           CAST(coalesce(bytes_received, '0') AS HUGEINT) AS rx,
           coalesce(device_id, '') AS device,
           coalesce(client_ip, '') AS ip,
           regexp_full_match(coalesce(bytes_transferred, ''), '[0-9]*')
             AND regexp_full_match(coalesce(bytes_received, ''), '[0-9]*')
             AND coalesce(status, '') <> '' AS ok
    FROM {src}
    WHERE start_time IS DISTINCT FROM 'start_time'
    """


# JSON helpers on a fragment v (a JSON value or NULL when the key is missing).
def j_text_id(v):
    return (f"(CASE WHEN json_type({v}) = 'VARCHAR' THEN {v} ->> '$' "
            f"WHEN json_type({v}) IN ('BIGINT', 'UBIGINT') THEN CAST({v} AS VARCHAR) ELSE '' END)")


def j_bytes_ok(v):
    return (f"({v} IS NULL OR json_type({v}) = 'NULL' OR json_type({v}) = 'UBIGINT' "
            f"OR (json_type({v}) = 'BIGINT' AND CAST({v} AS HUGEINT) >= 0))")


def j_bytes(v):
    return f"(CASE WHEN json_type({v}) IN ('BIGINT', 'UBIGINT') THEN CAST(CAST({v} AS VARCHAR) AS HUGEINT) ELSE 0 END)"


def j_nonempty_list(v):
    return f"(json_type({v}) = 'ARRAY' AND json_array_length({v}) > 0)"


def j_email_ok(v):
    return f"(json_type({v}) = 'VARCHAR' AND ({v} ->> '$') <> '')"


def events_json(files, fmt):
    if fmt == "twingate-s3":
        # The line itself is the JSON object {"event_type": ..., "event": {...}}.
        raw = f"SELECT line AS js FROM {lines_source(files)}"
        paths = ["$.event_type", "$.event.status", "$.event.time", "$.event.connection.bytes_transferred",
                 "$.event.connection.bytes_received", "$.event.relays", "$.event.user.email",
                 "$.event.device.id", "$.event.connection.client_ip", "$.event.connection.error_message",
                 "$.event.connection.tunnel_path"]
        kind_ok = "(p[1] ->> '$') IN ('network_access', 'network')"
        status = "(p[2] ->> '$')"
        status_ok = "json_type(p[2]) = 'VARCHAR'"
        time_us = RFC3339_US.format(t="(p[3] ->> '$')")
        time_ok = "json_type(p[3]) = 'VARCHAR'"
        relayed = j_nonempty_list("p[6]")
    else:
        # After the word ANALYTICS and whitespace (a journald/Docker prefix may stand before it).
        raw = (f"SELECT regexp_extract(line, 'ANALYTICS[ \\t\\n\\r\\f\\v]+(\\{{.*)', 1) AS js "
               f"FROM {lines_source(files)} WHERE contains(line, 'ANALYTICS')")
        paths = ["$.event_type", "$.event_type", "$.timestamp", "$.connection.tx", "$.connection.rx",
                 "$.relays", "$.user.email", "$.device.id", "$.connection.client_ip",
                 "$.connection.error_message", "$.connection.tunnel_path"]
        kind_ok = "true"
        status = "(p[2] ->> '$')"
        status_ok = "json_type(p[2]) = 'VARCHAR'"
        time_us = "(CAST(p[3] AS BIGINT) * 1000)"
        time_ok = "json_type(p[3]) IN ('BIGINT', 'UBIGINT')"
        relayed = (f"(CASE WHEN p[11] IS NOT NULL AND json_type(p[11]) <> 'NULL' "
                   f"THEN (p[11] ->> '$') IS DISTINCT FROM 'direct' OR json_type(p[11]) <> 'VARCHAR' "
                   f"ELSE {j_nonempty_list('p[6]')} END)")
    plist = "[" + ",".join(f"'{p}'" for p in paths) + "]"
    return f"""
    WITH parsed AS (
        SELECT json_extract(js, {plist}) AS p
        FROM ({raw}) WHERE js <> '' AND json_valid(js) AND json_type(js) = 'OBJECT'
    )
    SELECT CASE WHEN {j_email_ok('p[7]')} THEN p[7] ->> '$' ELSE '' END AS email,
           CASE WHEN {time_ok} THEN {time_us} END AS t_us,
           {status} = 'closed_connection' AS success,
           {status} <> 'closed_connection' AND (p[10] ->> '$') IS NOT DISTINCT FROM 'DNS_ERROR'
               AND json_type(p[10]) = 'VARCHAR' AS dns,
           {status} = 'closed_connection' AND {relayed} AS relayed,
           {j_bytes('p[4]')} AS tx,
           {j_bytes('p[5]')} AS rx,
           {j_text_id('p[8]')} AS device,
           {j_text_id('p[9]')} AS ip,
           {j_bytes_ok('p[4]')} AND {j_bytes_ok('p[5]')} AS ok
    FROM parsed
    WHERE {kind_ok} AND {status_ok}
      AND {status} IN ('closed_connection', 'failed_to_connect', 'denied_access')
    """


def report_sql(events, start, end):
    q = lambda c: (f"CASE WHEN regexp_matches({c}, '[,\"\\r\\n]') "
                   f"THEN '\"' || replace({c}, '\"', '\"\"') || '\"' ELSE {c} END")
    pct = lambda part, whole: (f"CASE WHEN {whole} = 0 THEN '0.00' ELSE "
                               f"CAST((2 * 10000 * ({part}) + {whole}) // (2 * {whole}) // 100 AS VARCHAR) || '.' || "
                               f"lpad(CAST((2 * 10000 * ({part}) + {whole}) // (2 * {whole}) % 100 AS VARCHAR), 2, '0') END")
    return f"""
    WITH ev AS (
        SELECT * FROM ({events})
        WHERE ok AND t_us IS NOT NULL AND email <> '' AND t_us >= {start} AND t_us < {end}
    ),
    agg AS (
        SELECT email,
               max(t_us) AS last_us,
               CAST(count(*) FILTER (WHERE success) AS BIGINT) AS succ,
               CAST(count(*) FILTER (WHERE NOT success AND dns) AS BIGINT) AS dns,
               CAST(count(*) FILTER (WHERE NOT success AND NOT dns) AS BIGINT) AS other,
               CAST(count(*) FILTER (WHERE relayed) AS BIGINT) AS relayed,
               sum(tx) AS tx, sum(rx) AS rx,
               count(DISTINCT device) FILTER (WHERE device <> '') AS devices,
               count(DISTINCT ip) FILTER (WHERE ip <> '') AS ips
        FROM ev GROUP BY email
    ),
    ipc AS (
        SELECT email, ip, count(*) AS n FROM ev WHERE ip <> '' GROUP BY email, ip
    ),
    top AS (
        SELECT email, string_agg(ip, ';' ORDER BY n DESC, encode(ip) ASC) AS top10
        FROM (SELECT *, row_number() OVER (PARTITION BY email ORDER BY n DESC, encode(ip) ASC) AS r FROM ipc)
        WHERE r <= 10 GROUP BY email
    )
    SELECT concat_ws(',',
        {q('agg.email')},
        strftime(make_timestamp(last_us - (last_us % 1000 + 1000) % 1000), '%Y-%m-%dT%H:%M:%S.%gZ'),
        CAST(succ + dns + other AS VARCHAR), CAST(succ AS VARCHAR), CAST(dns + other AS VARCHAR),
        CAST(dns AS VARCHAR), CAST(other AS VARCHAR),
        CAST(tx + rx AS VARCHAR), CAST(tx AS VARCHAR), CAST(rx AS VARCHAR),
        {pct('relayed', 'succ')}, {pct('succ - relayed', 'succ')},
        CAST(devices AS VARCHAR), CAST(ips AS VARCHAR),
        {q("coalesce(top.top10, '')")}) AS line
    FROM agg LEFT JOIN top USING (email)
    ORDER BY encode(agg.email)
    """


def main():
    a = parse_args("bench_duckdb", __doc__)
    events = events_csv(a.files) if a.format == "twingate-csv" else events_json(a.files, a.format)
    sql = report_sql(events, a.start_us, a.end_us)
    con = duckdb.connect()
    con.execute(f"SET threads = {a.threads}")
    con.execute("SET TimeZone = 'UTC'")
    if a.explain:
        print(sql)
    write_report(a.out, [r[0] for r in con.execute(sql).fetchall()])


if __name__ == "__main__":
    main()
