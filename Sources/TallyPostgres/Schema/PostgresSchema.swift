import Logging
import PostgresNIO
import TallyStore

/// The PostgreSQL schema of every store, as numbered migrations. Whichever replica starts first
/// runs them, under a session advisory lock, so replicas starting together never migrate twice;
/// the others wait on the lock and find nothing left to do.
///
/// The tables are SQLite's (`StoreSchema`) as they are after its last migration, in PostgreSQL's
/// types: times are `DOUBLE PRECISION` seconds since the epoch, flags `BIGINT` 0 or 1, JSON
/// values and key bytes `BYTEA`.
package enum PostgresSchema {
    /// Each migration's statements; a migration's index + 1 is its version.
    static let migrations: [String] = [
        // v1: the stores as they stand in SQLite's v16.
        """
        CREATE SEQUENCE job_sequence;
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            sequence BIGINT NOT NULL UNIQUE,
            report TEXT NOT NULL,
            source TEXT NOT NULL,
            timezone TEXT,
            requested_from TEXT,
            requested_to TEXT,
            inactive_now BIGINT,
            inactive_days BIGINT,
            lookback_days BIGINT,
            user_directory TEXT,
            max_malformed_share DOUBLE PRECISION,
            window_from BIGINT NOT NULL,
            window_to BIGINT NOT NULL,
            state TEXT NOT NULL,
            error TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            started_at DOUBLE PRECISION,
            finished_at DOUBLE PRECISION,
            last_partial_at DOUBLE PRECISION,
            tasks_total BIGINT NOT NULL DEFAULT 0,
            objects_total BIGINT NOT NULL DEFAULT 0,
            bytes_total BIGINT NOT NULL DEFAULT 0,
            users BIGINT,
            result_bytes BIGINT,
            statistics BYTEA,
            totals BYTEA,
            files_removed BIGINT NOT NULL DEFAULT 0,
            partial_losses BIGINT NOT NULL DEFAULT 0,
            copies_started BIGINT NOT NULL DEFAULT 0,
            copies_won BIGINT NOT NULL DEFAULT 0,
            owner TEXT,
            announced BIGINT NOT NULL DEFAULT 0,
            merge_attempts BIGINT NOT NULL DEFAULT 0,
            merge_tasks BIGINT NOT NULL DEFAULT 0
        );
        CREATE INDEX jobs_by_state ON jobs(state, sequence);
        CREATE INDEX jobs_by_finish ON jobs(finished_at) WHERE finished_at IS NOT NULL;
        CREATE TABLE job_recipients (
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('target', 'email')),
            position BIGINT NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY (job_id, kind, position)
        );
        CREATE TABLE tasks (
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            idx BIGINT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'aggregate',
            state TEXT NOT NULL,
            shard_start BIGINT,
            shard_end BIGINT,
            lease_id TEXT UNIQUE,
            lease_expires DOUBLE PRECISION,
            lease_token TEXT,
            worker TEXT,
            leased_at DOUBLE PRECISION,
            failures BIGINT NOT NULL DEFAULT 0,
            expiries BIGINT NOT NULL DEFAULT 0,
            last_error TEXT,
            statistics BYTEA,
            not_before DOUBLE PRECISION,
            run_seconds DOUBLE PRECISION,
            committed_lease TEXT,
            committed_token TEXT,
            copy_lease_id TEXT UNIQUE,
            copy_lease_expires DOUBLE PRECISION,
            copy_worker TEXT,
            copy_leased_at DOUBLE PRECISION,
            copy_lease_token TEXT,
            shard_key TEXT,
            shard_versions TEXT,
            reused BIGINT NOT NULL DEFAULT 0,
            range_lower BYTEA,
            range_upper BYTEA,
            range_rows BIGINT,
            range_bytes BIGINT,
            range_crc BIGINT,
            PRIMARY KEY (job_id, idx)
        );
        CREATE INDEX tasks_pending ON tasks(job_id, idx) WHERE state = 'pending';
        CREATE INDEX tasks_leased ON tasks(job_id) WHERE state = 'leased';
        CREATE TABLE task_objects (
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            idx BIGINT NOT NULL,
            position BIGINT NOT NULL,
            name TEXT NOT NULL,
            size BIGINT NOT NULL,
            name_start BIGINT,
            name_end BIGINT,
            version TEXT,
            PRIMARY KEY (job_id, idx, position)
        );
        CREATE TABLE idempotency_keys (
            key BYTEA PRIMARY KEY,
            request BYTEA NOT NULL,
            job_id TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE tokens (
            id TEXT PRIMARY KEY,
            "user" TEXT NOT NULL,
            role TEXT NOT NULL,
            secret_hash BYTEA NOT NULL UNIQUE,
            fingerprint TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION,
            revoked_at DOUBLE PRECISION,
            trusted BIGINT NOT NULL DEFAULT 0
        );
        CREATE TABLE sessions (
            id_hash BYTEA PRIMARY KEY,
            token_id TEXT NOT NULL,
            form_token TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX sessions_by_expiry ON sessions(expires_at);
        CREATE TABLE deliveries (
            id BIGSERIAL PRIMARY KEY,
            job_id TEXT NOT NULL,
            target TEXT NOT NULL,
            message_id TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            last_status BIGINT,
            last_error TEXT,
            next_at DOUBLE PRECISION
        );
        CREATE INDEX deliveries_due ON deliveries(state, next_at);
        CREATE INDEX deliveries_by_job ON deliveries(job_id);
        CREATE TABLE stopped_targets (name TEXT PRIMARY KEY, stopped_at DOUBLE PRECISION NOT NULL);
        CREATE TABLE schedules (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            next_run DOUBLE PRECISION NOT NULL,
            last_run DOUBLE PRECISION,
            last_job TEXT,
            report TEXT NOT NULL DEFAULT 'active-users',
            source TEXT NOT NULL DEFAULT '',
            window_rule TEXT NOT NULL DEFAULT '',
            timezone TEXT,
            every TEXT NOT NULL DEFAULT '',
            weekday TEXT,
            day BIGINT,
            run_at TEXT NOT NULL DEFAULT '',
            inactive_days BIGINT,
            lookback_days BIGINT,
            users TEXT
        );
        CREATE TABLE schedule_targets (
            schedule_id TEXT NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
            position BIGINT NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY (schedule_id, position)
        );
        CREATE TABLE shard_cache (
            key TEXT PRIMARY KEY,
            versions TEXT NOT NULL,
            file TEXT NOT NULL,
            bytes BIGINT NOT NULL,
            statistics BYTEA NOT NULL,
            last_used DOUBLE PRECISION NOT NULL,
            producer_token TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX shard_cache_by_use ON shard_cache(last_used);
        CREATE TABLE coordinator_leader (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            term BIGINT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE activity_account (singleton BIGINT PRIMARY KEY CHECK (singleton = 1), id TEXT NOT NULL);
        CREATE TABLE activity_settings ("user" TEXT PRIMARY KEY, enabled BIGINT NOT NULL, logs TEXT NOT NULL);
        CREATE TABLE activity_rows (
            position BIGSERIAL PRIMARY KEY,
            log TEXT NOT NULL,
            timestamp BIGINT NOT NULL,
            request_uuid TEXT NOT NULL,
            request_ts BIGINT NOT NULL,
            "user" TEXT NOT NULL,
            operation TEXT NOT NULL,
            auth_type TEXT NOT NULL,
            auth_fingerprint TEXT NOT NULL,
            auth_validity BIGINT,
            account TEXT NOT NULL,
            role TEXT NOT NULL,
            status BIGINT NOT NULL,
            duration BIGINT NOT NULL,
            resources TEXT NOT NULL,
            params TEXT NOT NULL,
            dict TEXT NOT NULL
        );
        CREATE INDEX activity_rows_by_log ON activity_rows (log, position);
        CREATE INDEX activity_rows_by_time ON activity_rows (timestamp);
        """
    ]

    /// Brings the database `client` reaches up to date: creates `schema`, then runs every
    /// migration not yet recorded, each in its own transaction.
    static func migrate(_ client: PostgresClient, schema: String, logger: Logger) async throws {
        try await client.withConnection { connection in
            // A session lock on one connection: held across the migrations' transactions.
            try await connection.query("SELECT pg_advisory_lock(\(migrationLock))", logger: logger)
            do {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL:
                            "CREATE TABLE IF NOT EXISTS \(schema).tally_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                    ),
                    logger: logger)
                let applied =
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "SELECT COALESCE(MAX(version), 0) AS v FROM \(schema).tally_migrations"), logger: logger
                    ).collect().first.map { try $0.makeRandomAccess().value("v", as: Int.self) } ?? 0
                guard applied <= migrations.count else {
                    throw StoreError(
                        "the PostgreSQL store is at version \(applied), newer than this tally's \(migrations.count): upgrade tally")
                }
                for version in (applied + 1)..<(migrations.count + 1) {
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \(schema)"), logger: logger)
                        // One statement at a time: the extended protocol takes one per query.
                        for statement in migrations[version - 1].split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                            try await connection.query(PostgresQuery(unsafeSQL: String(statement)), logger: logger)
                        }
                        try await connection.query("INSERT INTO tally_migrations (version) VALUES (\(version))", logger: logger)
                        try await connection.query("COMMIT", logger: logger)
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: logger)
                        throw StoreError("PostgreSQL migration v\(version) failed: \(String(reflecting: error))")
                    }
                }
                try await connection.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
                throw error
            }
        }
    }

    /// The advisory lock migrations run under (one per database, whatever the schema).
    static let migrationLock: Int64 = 7_411_000_001
}
