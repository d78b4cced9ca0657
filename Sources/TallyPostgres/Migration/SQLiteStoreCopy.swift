import Foundation
import GRDB
import PostgresNIO
import TallyStore

/// Moves a coordinator's SQLite store (the job database and the activity log of one data
/// directory) into an empty PostgreSQL store, row for row: jobs with their tasks, objects and
/// recipients, idempotency keys, tokens, sessions, schedules, deliveries, the shard-cache index
/// and the activity log. The SQLite files are first brought to their latest version; each value
/// is converted to its PostgreSQL column's type; the sequences continue after the copied rows.
/// Run with the coordinator stopped (docs/operations.md, "Several coordinators").
package enum SQLiteStoreCopy {
    /// Tables in the order their references allow: (SQLite table, PostgreSQL table).
    static let jobTables: [(String, String)] = [
        ("jobs", "jobs"), ("job_recipients", "job_recipients"), ("tasks", "tasks"), ("task_objects", "task_objects"),
        ("idempotency_keys", "idempotency_keys"), ("tokens", "tokens"), ("sessions", "sessions"), ("deliveries", "deliveries"),
        ("stopped_targets", "stopped_targets"), ("schedules", "schedules"), ("schedule_targets", "schedule_targets"),
        ("shard_cache", "shard_cache"),
    ]
    static let activityTables: [(String, String)] = [
        ("account", "activity_account"), ("settings", "activity_settings"), ("rows", "activity_rows"),
    ]

    /// Rows copied per table, in copy order.
    package typealias Counts = [(table: String, rows: Int)]

    /// Copies the stores at `jobDatabase` and `activityDatabase` into `target`, which must hold no
    /// job, token or schedule yet; all in one transaction, so a failed copy leaves it empty.
    package static func copy(jobDatabase: String, activityDatabase: String, into target: PostgresDatabase) async throws -> Counts {
        let jobs = try SQLiteStores(path: jobDatabase).jobs.database
        let activity = try SQLiteActivityLog(path: activityDatabase).database
        let schema = target.location.schema
        return try await target.transaction { tx in
            let existing = try await tx.one(
                "SELECT (SELECT COUNT(*) FROM jobs) + (SELECT COUNT(*) FROM tokens) + (SELECT COUNT(*) FROM schedules) AS n")
            guard try existing?.value("n", as: Int.self) == 0 else {
                throw StoreError(
                    "the PostgreSQL store \(target.location.description) already holds jobs, tokens or schedules: copy into an empty one")
            }
            // The activity log's account row is made when a log is first opened: the copied one replaces it.
            try await tx.execute("DELETE FROM activity_account")
            var counts: Counts = []
            for (source, table) in jobTables {
                counts.append((table, try await copyTable(source, from: jobs, to: table, schema: schema, tx)))
            }
            for (source, table) in activityTables {
                counts.append((table, try await copyTable(source, from: activity, to: table, schema: schema, tx)))
            }
            try await tx.execute("SELECT setval('job_sequence', GREATEST((SELECT COALESCE(MAX(sequence), 0) FROM jobs), 1))")
            for (table, column) in [("deliveries", "id"), ("activity_rows", "position")] {
                try await tx.execute(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), GREATEST((SELECT COALESCE(MAX(\(column)), 0) FROM \(table)), 1))
                            """))
            }
            return counts
        }
    }

    /// Copies one table's rows, column by column where both sides have the column.
    private static func copyTable(
        _ source: String, from database: DatabasePool, to table: String, schema: String, _ tx: PostgresTransaction
    ) async throws -> Int {
        var types: [String: String] = [:]
        for row in try await tx.rows(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = \(schema) AND table_name = \(table)")
        {
            types[try row.value("column_name")] = try row.value("data_type")
        }
        // Read on GRDB's threads, as plain values.
        let rows: [[(String, DatabaseValue)]] = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM \(source)").map { row in row.columnNames.map { ($0, row[$0] as DatabaseValue) } }
        }
        for row in rows {
            var columns: [String] = []
            var binds = PostgresBindings(capacity: row.count)
            for (column, value) in row {
                guard let type = types[column] else {
                    throw StoreError("\(source).\(column) has no column in PostgreSQL's \(table): this tally cannot move that store")
                }
                columns.append("\"\(column)\"")
                try bind(value, as: type, into: &binds, at: "\(source).\(column)")
            }
            let marks = (1...max(1, columns.count)).map { "$\($0)" }.joined(separator: ", ")
            try await tx.execute(
                PostgresQuery(unsafeSQL: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(marks))", binds: binds))
        }
        return rows.count
    }

    /// One SQLite value as the PostgreSQL column type wants it.
    private static func bind(_ value: DatabaseValue, as type: String, into binds: inout PostgresBindings, at place: String) throws {
        switch (value.storage, type) {
        case (.null, _):
            binds.appendNull()
        case (.int64(let v), "bigint"): binds.append(v)
        case (.double(let v), "bigint"):
            guard let n = Int64(exactly: v.rounded()) else { throw StoreError("\(place): \(v) is not an integer") }
            binds.append(n)
        case (.string(let v), "bigint"):
            guard let n = Int64(v) else { throw StoreError("\(place): '\(v)' is not an integer") }
            binds.append(n)
        case (.int64(let v), "double precision"): binds.append(Double(v))
        case (.double(let v), "double precision"): binds.append(v)
        case (.string(let v), "text"): binds.append(v)
        case (.int64(let v), "text"): binds.append(String(v))
        case (.blob(let v), "text"):
            guard let text = String(data: v, encoding: .utf8) else { throw StoreError("\(place): bytes that are not UTF-8 text") }
            binds.append(text)
        case (.blob(let v), "bytea"): try binds.append(v)
        case (.string(let v), "bytea"): try binds.append(Data(v.utf8))
        default:
            throw StoreError("\(place): a \(value.storage) value cannot go in a \(type) column")
        }
    }
}
