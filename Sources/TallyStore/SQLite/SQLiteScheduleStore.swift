import Foundation
import GRDB
import TallyProtocol

/// Schedules in the shared SQLite database: one row each, its notification targets in `schedule_targets`.
package struct SQLiteScheduleStore: ScheduleStore {
    package let database: DatabasePool

    /// The repository over a database opened by `SQLiteStores`.
    package init(database: DatabasePool) {
        self.database = database
    }

    package func saveSchedule(_ request: ScheduleRequest, nextRun: Double) async throws -> StoredSchedule {
        try await database.write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM schedules WHERE name = ?", arguments: [request.name]) {
                let stored = try Self.schedule(db, from: row)
                // The same request keeps its next run; a changed one starts from its new rule.
                if stored.request != request.asStored {
                    try Self.writeScheduleColumns(db, id: stored.id, request)
                    try db.execute(sql: "UPDATE schedules SET next_run = ? WHERE id = ?", arguments: [nextRun, stored.id])
                }
            } else {
                let id = "sch_" + JobID.make()
                try db.execute(sql: "INSERT INTO schedules (id, name, next_run) VALUES (?, ?, ?)", arguments: [id, request.name, nextRun])
                try Self.writeScheduleColumns(db, id: id, request)
            }
            return try Self.schedule(
                db, from: try Row.fetchOne(db, sql: "SELECT * FROM schedules WHERE name = ?", arguments: [request.name])!)
        }
    }

    package func schedules() async throws -> [StoredSchedule] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM schedules ORDER BY name").map { try Self.schedule(db, from: $0) }
        }
    }

    package func deleteSchedule(_ idOrName: String) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "DELETE FROM schedule_targets WHERE schedule_id IN (SELECT id FROM schedules WHERE id = ?1 OR name = ?1)",
                arguments: [idOrName])
            try db.execute(sql: "DELETE FROM schedules WHERE id = ?1 OR name = ?1", arguments: [idOrName])
            return db.changesCount > 0
        }
    }

    package func recordRun(_ id: String, ranAt: Double, job: String?, nextRun: Double) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE schedules SET last_run = ?, last_job = ?, next_run = ? WHERE id = ?", arguments: [ranAt, job, nextRun, id])
        }
    }

    /// Writes a schedule's request into its columns and its targets into `schedule_targets`.
    package static func writeScheduleColumns(_ db: Database, id: String, _ r: ScheduleRequest) throws {
        try db.execute(
            sql: """
                UPDATE schedules SET report = ?, source = ?, window_rule = ?, timezone = ?, every = ?, weekday = ?, day = ?, run_at = ?,
                    inactive_days = ?, lookback_days = ?, users = ? WHERE id = ?
                """,
            arguments: [
                r.report, r.source, r.window, r.timezone, r.every, r.weekday, r.day, r.at, r.inactiveDays, r.lookbackDays, r.users, id,
            ])
        try db.execute(sql: "DELETE FROM schedule_targets WHERE schedule_id = ?", arguments: [id])
        for (position, name) in (r.notify ?? []).enumerated() {
            try db.execute(
                sql: "INSERT INTO schedule_targets (schedule_id, position, name) VALUES (?, ?, ?)", arguments: [id, position, name])
        }
    }

    private static func schedule(_ db: Database, from row: Row) throws -> StoredSchedule {
        let id: String = row["id"]
        let targets = try String.fetchAll(
            db, sql: "SELECT name FROM schedule_targets WHERE schedule_id = ? ORDER BY position", arguments: [id])
        let request = ScheduleRequest(
            name: row["name"], report: row["report"], source: row["source"], window: row["window_rule"], timezone: row["timezone"],
            every: row["every"], weekday: row["weekday"], day: row["day"], at: row["run_at"], notify: targets.isEmpty ? nil : targets,
            inactiveDays: row["inactive_days"], lookbackDays: row["lookback_days"], users: row["users"])
        return StoredSchedule(id: id, request: request, nextRun: row["next_run"], lastRun: row["last_run"], lastJob: row["last_job"])
    }
}
