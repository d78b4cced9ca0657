import Foundation
import GRDB
import TallyProtocol

/// `ActivityLogStore` in its own SQLite file (WAL mode) in the data directory, through GRDB's
/// async API (its own threads, never the cooperative pool). A row sent to two logs is stored
/// twice, once per log, so each log exports and expires on its own.
package final class SQLiteActivityLog: ActivityLogStore {
    package let database: DatabasePool
    package let account: String

    /// Opens (creating when needed) the log at `path`, and makes this deployment's account id
    /// the first time.
    package init(path: String) throws {
        database = try SQLiteFile.open(path, migrator: Self.migrator())
        account = try database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO account (singleton, id) VALUES (1, ?)", arguments: [UUID().uuidString.lowercased()])
            return try String.fetchOne(db, sql: "SELECT id FROM account") ?? ""
        }
    }

    package static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE account (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), id TEXT NOT NULL);
                    CREATE TABLE settings (user TEXT PRIMARY KEY, enabled INTEGER NOT NULL, logs TEXT NOT NULL);
                    CREATE TABLE rows (
                        position INTEGER PRIMARY KEY AUTOINCREMENT,
                        log TEXT NOT NULL,
                        timestamp INTEGER NOT NULL,
                        request_uuid TEXT NOT NULL,
                        request_ts INTEGER NOT NULL,
                        user TEXT NOT NULL,
                        operation TEXT NOT NULL,
                        auth_type TEXT NOT NULL,
                        auth_fingerprint TEXT NOT NULL,
                        auth_validity INTEGER,
                        account TEXT NOT NULL,
                        role TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        duration INTEGER NOT NULL,
                        resources TEXT NOT NULL,
                        params TEXT NOT NULL,
                        dict TEXT NOT NULL
                    );
                    CREATE INDEX rows_by_log ON rows (log, position);
                    CREATE INDEX rows_by_time ON rows (timestamp);
                    """)
        }
        return migrator
    }

    package func append(_ records: [ActivityRecord], defaultSetting: ActivitySetting) async throws -> Int {
        guard !records.isEmpty else { return 0 }
        return try await database.write { db in
            var settings: [String: ActivitySetting] = [:]
            var written = 0
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO rows (log, timestamp, request_uuid, request_ts, user, operation, auth_type, auth_fingerprint, auth_validity,
                                      account, role, status, duration, resources, params, dict)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for r in records {
                let setting: ActivitySetting
                if let known = settings[r.user] {
                    setting = known
                } else {
                    setting = try Self.setting(db, r.user) ?? defaultSetting
                    settings[r.user] = setting
                }
                guard setting.enabled else { continue }
                for log in setting.logs {
                    try insert.execute(arguments: [
                        log, r.timestamp, r.requestUUID, r.requestTime, r.user, r.operation, r.authType,
                        r.authFingerprint, r.authValidity, r.account, r.role, r.status, r.durationMicros,
                        r.resources, r.params, r.dict,
                    ])
                    written += 1
                }
            }
            return written
        }
    }

    package func setting(of user: String) async throws -> ActivitySetting? {
        try await database.read { db in try Self.setting(db, user) }
    }

    private static func setting(_ db: Database, _ user: String) throws -> ActivitySetting? {
        guard let row = try Row.fetchOne(db, sql: "SELECT enabled, logs FROM settings WHERE user = ?", arguments: [user]) else {
            return nil
        }
        return ActivitySetting.stored(enabled: row["enabled"], logs: row["logs"])
    }

    package func setSetting(_ setting: ActivitySetting?, for user: String) async throws {
        try await database.write { db in
            if let setting {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO settings (user, enabled, logs) VALUES (?, ?, ?)",
                    arguments: [user, setting.enabled, setting.storedLogs])
            } else {
                try db.execute(sql: "DELETE FROM settings WHERE user = ?", arguments: [user])
            }
        }
    }

    package func records(_ query: ActivityQuery, after: Int64, limit: Int) async throws -> [(position: Int64, record: ActivityRecord)] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM rows
                    WHERE log = ?1 AND position > ?2 AND (?3 IS NULL OR user = ?3) AND (?4 IS NULL OR timestamp >= ?4) AND (?5 IS NULL OR timestamp < ?5)
                    AND (?7 IS NULL OR operation = ?7)
                    ORDER BY position LIMIT ?6
                    """, arguments: [query.log, after, query.user, query.from, query.to, limit, query.operation]
            ).map { row in
                (
                    row["position"] as Int64,
                    ActivityRecord(
                        timestamp: row["timestamp"], requestUUID: row["request_uuid"], requestTime: row["request_ts"], user: row["user"],
                        operation: row["operation"], authType: row["auth_type"], authFingerprint: row["auth_fingerprint"],
                        authValidity: row["auth_validity"], account: row["account"], role: row["role"], status: row["status"],
                        durationMicros: row["duration"], resources: row["resources"], params: row["params"], dict: row["dict"])
                )
            }
        }
    }

    package func expire(before cutoff: Int64) async throws -> Int {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM rows WHERE timestamp < ?", arguments: [cutoff])
            return db.changesCount
        }
    }
}
