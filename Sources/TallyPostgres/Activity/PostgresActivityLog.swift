import Foundation
import PostgresNIO
import Synchronization
import TallyProtocol
import TallyStore

/// `ActivityLogStore` in the shared PostgreSQL database (the `activity_` tables), as
/// `SQLiteActivityLog` keeps it in its own file: a row sent to two logs is stored twice, once per
/// log, so each log exports and expires on its own. Appends run one replica at a time (an
/// advisory lock held to the commit), so positions become visible in order, as with SQLite's one
/// writer: an export paging by position never passes a row that a slower append commits later.
package final class PostgresActivityLog: ActivityLogStore {
    package let database: PostgresDatabase
    /// The account id, once read.
    private let knownAccount = Mutex<String?>(nil)

    /// The log in a migrated database. Nothing is read yet: the pool need not run until the log
    /// is first used.
    package init(database: PostgresDatabase) {
        self.database = database
    }

    /// The log in a migrated database, its account id read (made, if no replica made it yet).
    package static func open(_ database: PostgresDatabase) async throws -> PostgresActivityLog {
        let log = PostgresActivityLog(database: database)
        _ = try await log.account
        return log
    }

    /// This deployment's id, in the one row of `activity_account`: the first replica to ask makes
    /// it, and every replica reads the one that stayed; read once, then kept.
    package var account: String {
        get async throws {
            if let known = knownAccount.withLock({ $0 }) { return known }
            try await database.execute(
                "INSERT INTO activity_account (singleton, id) VALUES (1, \(UUID().uuidString.lowercased())) ON CONFLICT (singleton) DO NOTHING"
            )
            guard let row = try await database.one("SELECT id FROM activity_account WHERE singleton = 1") else {
                throw StoreError("activity_account has no row")
            }
            let account = try row.value("id", as: String.self)
            knownAccount.withLock { $0 = account }
            return account
        }
    }

    package func append(_ records: [ActivityRecord], defaultSetting: ActivitySetting) async throws -> Int {
        guard !records.isEmpty else { return 0 }
        return try await database.transaction { tx in
            try await tx.execute("SELECT pg_advisory_xact_lock(\(Self.appendLock))")
            var settings: [String: ActivitySetting] = [:]
            let users = Array(Set(records.map(\.user)))
            for row in try await tx.rows(#"SELECT "user", enabled, logs FROM activity_settings WHERE "user" = ANY(\#(users))"#) {
                settings[try row.value("user")] = try Self.setting(from: row)
            }
            var rows: [(log: String, record: ActivityRecord)] = []
            for r in records {
                let setting = settings[r.user] ?? defaultSetting
                guard setting.enabled else { continue }
                for log in setting.logs { rows.append((log, r)) }
            }
            // Many rows per statement, in order: positions follow the records.
            for start in stride(from: 0, to: rows.count, by: Self.rowsPerInsert) {
                try await tx.execute(Self.insert(rows[start..<min(start + Self.rowsPerInsert, rows.count)]))
            }
            return rows.count
        }
    }

    /// One `INSERT` of `rows`, every value bound.
    private static func insert(_ rows: ArraySlice<(log: String, record: ActivityRecord)>) -> PostgresQuery {
        var binds = PostgresBindings(capacity: rows.count * 16)
        var values: [String] = []
        for (log, r) in rows {
            let first = binds.count + 1
            values.append("(" + (first..<(first + 16)).map { "$\($0)" }.joined(separator: ", ") + ")")
            binds.append(log)
            binds.append(r.timestamp)
            binds.append(r.requestUUID)
            binds.append(r.requestTime)
            binds.append(r.user)
            binds.append(r.operation)
            binds.append(r.authType)
            binds.append(r.authFingerprint)
            binds.append(r.authValidity)
            binds.append(r.account)
            binds.append(r.role)
            binds.append(r.status)
            binds.append(r.durationMicros)
            binds.append(r.resources)
            binds.append(r.params)
            binds.append(r.dict)
        }
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO activity_rows (log, timestamp, request_uuid, request_ts, "user", operation, auth_type, auth_fingerprint,
                    auth_validity, account, role, status, duration, resources, params, dict)
                VALUES \(values.joined(separator: ", "))
                """, binds: binds)
    }

    package func setting(of user: String) async throws -> ActivitySetting? {
        try await database.one(#"SELECT enabled, logs FROM activity_settings WHERE "user" = \#(user)"#).map(Self.setting(from:))
    }

    private static func setting(from row: PostgresRandomAccessRow) throws -> ActivitySetting {
        ActivitySetting.stored(enabled: try row.value("enabled", as: Int.self) != 0, logs: try row.value("logs"))
    }

    package func setSetting(_ setting: ActivitySetting?, for user: String) async throws {
        if let setting {
            try await database.execute(
                #"""
                INSERT INTO activity_settings ("user", enabled, logs) VALUES (\#(user), \#(setting.enabled ? 1 : 0), \#(setting.storedLogs))
                ON CONFLICT ("user") DO UPDATE SET enabled = EXCLUDED.enabled, logs = EXCLUDED.logs
                """#)
        } else {
            try await database.execute(#"DELETE FROM activity_settings WHERE "user" = \#(user)"#)
        }
    }

    package func records(_ query: ActivityQuery, after: Int64, limit: Int) async throws -> [(position: Int64, record: ActivityRecord)] {
        // A filter left nil is bound as a NULL of its column's type.
        try await database.rows(
            #"""
            SELECT * FROM activity_rows
            WHERE log = \#(query.log) AND position > \#(after) AND (\#(query.user)::TEXT IS NULL OR "user" = \#(query.user))
            AND (\#(query.from)::BIGINT IS NULL OR timestamp >= \#(query.from)) AND (\#(query.to)::BIGINT IS NULL OR timestamp < \#(query.to))
            AND (\#(query.operation)::TEXT IS NULL OR operation = \#(query.operation))
            ORDER BY position LIMIT \#(limit)
            """#
        ).map { row in
            (
                try row.value("position", as: Int64.self),
                ActivityRecord(
                    timestamp: try row.value("timestamp"), requestUUID: try row.value("request_uuid"),
                    requestTime: try row.value("request_ts"), user: try row.value("user"), operation: try row.value("operation"),
                    authType: try row.value("auth_type"), authFingerprint: try row.value("auth_fingerprint"),
                    authValidity: try row.value("auth_validity"), account: try row.value("account"), role: try row.value("role"),
                    status: try row.value("status"), durationMicros: try row.value("duration"), resources: try row.value("resources"),
                    params: try row.value("params"), dict: try row.value("dict"))
            )
        }
    }

    package func expire(before cutoff: Int64) async throws -> Int {
        try await database.execute("DELETE FROM activity_rows WHERE timestamp < \(cutoff) RETURNING 1")
    }

    /// Rows per `INSERT`: 16 values each, under PostgreSQL's 65,535 bound parameters.
    private static let rowsPerInsert = 1000

    /// The advisory lock appends hold (one-key space; the migrations hold 7_411_000_001, the
    /// shard cache 7_411_000_002).
    static let appendLock: Int64 = 7_411_000_003
}
