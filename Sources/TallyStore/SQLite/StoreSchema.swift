import GRDB

/// The SQLite schema of `SQLiteJobStore`, as numbered migrations: a data directory written by
/// an older coordinator is brought up to date at start-up, never rewritten.
package enum StoreSchema {
    package static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE jobs (
                        id TEXT PRIMARY KEY,
                        sequence INTEGER NOT NULL UNIQUE,
                        request BLOB NOT NULL,
                        window_from INTEGER NOT NULL,
                        window_to INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        error TEXT,
                        created_at REAL NOT NULL,
                        started_at REAL,
                        finished_at REAL,
                        tasks_total INTEGER NOT NULL DEFAULT 0,
                        objects_total INTEGER NOT NULL DEFAULT 0,
                        bytes_total INTEGER NOT NULL DEFAULT 0,
                        users INTEGER,
                        result_bytes INTEGER,
                        statistics BLOB
                    );
                    CREATE TABLE tasks (
                        job_id TEXT NOT NULL REFERENCES jobs(id),
                        idx INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        spec BLOB NOT NULL,
                        lease_id TEXT UNIQUE,
                        lease_expires REAL,
                        worker TEXT,
                        failures INTEGER NOT NULL DEFAULT 0,
                        expiries INTEGER NOT NULL DEFAULT 0,
                        last_error TEXT,
                        statistics BLOB,
                        PRIMARY KEY (job_id, idx)
                    );
                    CREATE INDEX tasks_by_state ON tasks(state, job_id, idx);
                    """)
        }
        migrator.registerMigration("v2: files_removed") { db in
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN files_removed INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v3: last_partial_at") { db in
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN last_partial_at REAL")
        }
        migrator.registerMigration("v4: totals") { db in
            // Running sums over committed tasks (a JSON `JobTotals`), so a status request reads
            // one row; NULL for jobs of older stores, whose totals are summed from their tasks.
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN totals BLOB")
        }
        migrator.registerMigration("v5: not_before") { db in
            // A failed task is not leased again before this time (seconds since the epoch).
            try db.execute(sql: "ALTER TABLE tasks ADD COLUMN not_before REAL")
        }
        migrator.registerMigration("v6: partial_losses") { db in
            // Committed partials found lost or damaged at merge time (their tasks ran again).
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN partial_losses INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v7: idempotency_keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE idempotency_keys (
                        key TEXT PRIMARY KEY,
                        request BLOB NOT NULL,
                        job_id TEXT NOT NULL,
                        created_at REAL NOT NULL
                    )
                    """)
        }
        migrator.registerMigration("v8: task copies") { db in
            // A straggling task may hold a second lease (its copy) beside its first; `leased_at`
            // and `run_seconds` time the leases, so a straggler is known by the job's median.
            // `committed_lease` names the lease whose partial was kept.
            try db.execute(
                sql: """
                    ALTER TABLE tasks ADD COLUMN leased_at REAL;
                    ALTER TABLE tasks ADD COLUMN run_seconds REAL;
                    ALTER TABLE tasks ADD COLUMN committed_lease TEXT;
                    ALTER TABLE tasks ADD COLUMN copy_lease_id TEXT;
                    ALTER TABLE tasks ADD COLUMN copy_lease_expires REAL;
                    ALTER TABLE tasks ADD COLUMN copy_worker TEXT;
                    ALTER TABLE tasks ADD COLUMN copy_leased_at REAL;
                    CREATE UNIQUE INDEX tasks_by_copy_lease ON tasks(copy_lease_id);
                    ALTER TABLE jobs ADD COLUMN copies_started INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE jobs ADD COLUMN copies_won INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("v9: tokens and owners") { db in
            // Secrets are kept only as their SHA-256; a lease remembers the token that took it,
            // and a job the user who submitted it.
            try db.execute(
                sql: """
                    CREATE TABLE tokens (
                        id TEXT PRIMARY KEY,
                        user TEXT NOT NULL,
                        role TEXT NOT NULL,
                        secret_hash BLOB NOT NULL UNIQUE,
                        fingerprint TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        expires_at REAL,
                        revoked_at REAL
                    );
                    ALTER TABLE jobs ADD COLUMN owner TEXT;
                    ALTER TABLE tasks ADD COLUMN lease_token TEXT;
                    ALTER TABLE tasks ADD COLUMN copy_lease_token TEXT;
                    """)
        }
        migrator.registerMigration("v10: notifications") { db in
            // One row per notification of a job's end to one target; `announced` marks the
            // jobs whose deliveries were created.
            try db.execute(
                sql: """
                    CREATE TABLE deliveries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        job_id TEXT NOT NULL,
                        target TEXT NOT NULL,
                        message_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        last_status INTEGER,
                        last_error TEXT,
                        next_at REAL
                    );
                    CREATE INDEX deliveries_due ON deliveries(state, next_at);
                    CREATE INDEX deliveries_by_job ON deliveries(job_id);
                    CREATE TABLE stopped_targets (name TEXT PRIMARY KEY, stopped_at REAL NOT NULL);
                    ALTER TABLE jobs ADD COLUMN announced INTEGER NOT NULL DEFAULT 0;
                    UPDATE jobs SET announced = 1 WHERE state IN ('succeeded', 'failed', 'cancelled');
                    """)
        }
        migrator.registerMigration("v11: schedules") { db in
            try db.execute(
                sql: """
                    CREATE TABLE schedules (
                        id TEXT PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        request BLOB NOT NULL,
                        next_run REAL NOT NULL,
                        last_run REAL,
                        last_job TEXT
                    )
                    """)
        }
        migrator.registerMigration("v12: shard cache") { db in
            // Partials kept for later jobs (docs/design.md §3.6); a task records its key and
            // whether its partial came from the cache.
            try db.execute(
                sql: """
                    CREATE TABLE shard_cache (
                        key TEXT PRIMARY KEY,
                        versions TEXT NOT NULL,
                        file TEXT NOT NULL,
                        bytes INTEGER NOT NULL,
                        statistics BLOB NOT NULL,
                        last_used REAL NOT NULL
                    );
                    CREATE INDEX shard_cache_by_use ON shard_cache(last_used);
                    ALTER TABLE tasks ADD COLUMN shard_key TEXT;
                    ALTER TABLE tasks ADD COLUMN shard_versions TEXT;
                    ALTER TABLE tasks ADD COLUMN reused INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("v13: web sessions") { db in
            // A signed-in browser: its cookie's SHA-256 (never the cookie), the token it signed in
            // with (revoking the token ends the session), its form token and its expiry.
            try db.execute(
                sql: """
                    CREATE TABLE sessions (
                        id_hash BLOB PRIMARY KEY,
                        token_id TEXT NOT NULL,
                        form_token TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        expires_at REAL NOT NULL
                    );
                    CREATE INDEX sessions_by_expiry ON sessions(expires_at);
                    """)
        }
        migrator.registerMigration("v14: trusted workers and merge attempts") { db in
            // The shard cache keeps only partials a trusted worker token committed (docs/security.md,
            // "A compromised worker"): a task records the token that committed it, a cached shard
            // its producer. Shards cached before producers were recorded may come from any worker,
            // so they are forgotten (their files go at the start-up sweep). A job counts the final
            // merges begun and not ended, so a merge that crashes the process is not run blindly
            // for ever (docs/reliability.md).
            try db.execute(
                sql: """
                    ALTER TABLE tokens ADD COLUMN trusted INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE tasks ADD COLUMN committed_token TEXT;
                    ALTER TABLE shard_cache ADD COLUMN producer_token TEXT NOT NULL DEFAULT '';
                    DELETE FROM shard_cache;
                    ALTER TABLE jobs ADD COLUMN merge_attempts INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("v15: typed rows") { db in
            // Jobs, tasks and schedules keep each field in a column of their own instead of the
            // request's JSON (docs/design.md §3.7), so the store never reads a wire type back.
            try TypedRowsMigration.run(db)
        }
        migrator.registerMigration("v16: merge tasks") { db in
            // A merging job's merge spread over the workers (docs/design.md §3.9): merge tasks are
            // tasks of kind 'merge' after the job's aggregation tasks, each with its range of
            // users and, once committed, its rows and its CSV's bytes and CRC-32; the job counts them.
            try db.execute(
                sql: """
                    ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'aggregate';
                    ALTER TABLE tasks ADD COLUMN range_lower BLOB;
                    ALTER TABLE tasks ADD COLUMN range_upper BLOB;
                    ALTER TABLE tasks ADD COLUMN range_rows INTEGER;
                    ALTER TABLE tasks ADD COLUMN range_bytes INTEGER;
                    ALTER TABLE tasks ADD COLUMN range_crc INTEGER;
                    ALTER TABLE jobs ADD COLUMN merge_tasks INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        return migrator
    }
}
