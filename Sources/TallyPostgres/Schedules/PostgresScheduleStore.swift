import PostgresNIO
import TallyProtocol
import TallyStore

/// Schedules in the shared PostgreSQL database: one row each, its notification targets in
/// `schedule_targets`, as `SQLiteScheduleStore` keeps them. Every replica saves the schedules of
/// its configuration as it starts, so a save claims the name first (`ON CONFLICT DO NOTHING`,
/// then the row locked) where SQLite's one writer needed no claim.
package final class PostgresScheduleStore: ScheduleStore {
    package let database: PostgresDatabase

    /// The repository over a migrated database.
    package init(database: PostgresDatabase) {
        self.database = database
    }

    package func saveSchedule(_ request: ScheduleRequest, nextRun: Double) async throws -> StoredSchedule {
        let newId = "sch_" + JobID.make()
        return try await database.transaction { tx in
            if let id = try await tx.one(
                "INSERT INTO schedules (id, name, next_run) VALUES (\(newId), \(request.name), \(nextRun)) ON CONFLICT (name) DO NOTHING RETURNING id"
            )?.value("id", as: String.self) {
                try await Self.writeScheduleColumns(tx, id: id, request)
            } else {
                guard let row = try await tx.one("\(unescaped: Self.selectSchedules) WHERE s.name = \(request.name) FOR UPDATE OF s")
                else { throw StoreError("schedule '\(request.name)' was deleted while it was saved") }
                let stored = try Self.schedule(from: row)
                // The same request keeps its next run; a changed one starts from its new rule.
                if stored.request != request.asStored {
                    try await Self.writeScheduleColumns(tx, id: stored.id, request)
                    try await tx.execute("UPDATE schedules SET next_run = \(nextRun) WHERE id = \(stored.id)")
                }
            }
            guard let row = try await tx.one("\(unescaped: Self.selectSchedules) WHERE s.name = \(request.name)") else {
                throw StoreError("schedule '\(request.name)' is missing after it was saved")
            }
            return try Self.schedule(from: row)
        }
    }

    package func schedules() async throws -> [StoredSchedule] {
        // COLLATE "C": names compare by their bytes, as in SQLite.
        try await database.rows("\(unescaped: Self.selectSchedules) ORDER BY s.name COLLATE \"C\"").map(Self.schedule(from:))
    }

    package func deleteSchedule(_ idOrName: String) async throws -> Bool {
        // Its targets go with it (ON DELETE CASCADE).
        try await database.execute("DELETE FROM schedules WHERE id = \(idOrName) OR name = \(idOrName) RETURNING 1") > 0
    }

    package func recordRun(_ id: String, ranAt: Double, job: String?, nextRun: Double) async throws {
        try await database.execute("UPDATE schedules SET last_run = \(ranAt), last_job = \(job), next_run = \(nextRun) WHERE id = \(id)")
    }

    /// Writes a schedule's request into its columns and its targets into `schedule_targets`.
    private static func writeScheduleColumns(_ tx: PostgresTransaction, id: String, _ r: ScheduleRequest) async throws {
        try await tx.execute(
            """
            UPDATE schedules SET report = \(r.report), source = \(r.source), window_rule = \(r.window), timezone = \(r.timezone),
                every = \(r.every), weekday = \(r.weekday), day = \(r.day), run_at = \(r.at), inactive_days = \(r.inactiveDays),
                lookback_days = \(r.lookbackDays), users = \(r.users) WHERE id = \(id)
            """)
        try await tx.execute("DELETE FROM schedule_targets WHERE schedule_id = \(id)")
        let names = r.notify ?? []
        guard !names.isEmpty else { return }
        try await tx.execute(
            """
            INSERT INTO schedule_targets (schedule_id, position, name)
            SELECT \(id), t.position - 1, t.name FROM unnest(\(names)::TEXT[]) WITH ORDINALITY AS t(name, position)
            """)
    }

    /// A schedule's row with its targets, in position order, as one array: one statement reads both.
    private static let selectSchedules = """
        SELECT s.*, ARRAY(SELECT t.name FROM schedule_targets t WHERE t.schedule_id = s.id ORDER BY t.position) AS targets
        FROM schedules s
        """

    private static func schedule(from row: PostgresRandomAccessRow) throws -> StoredSchedule {
        let targets = try row.value("targets", as: [String].self)
        let request = ScheduleRequest(
            name: try row.value("name"), report: try row.value("report"), source: try row.value("source"),
            window: try row.value("window_rule"), timezone: try row.value("timezone"), every: try row.value("every"),
            weekday: try row.value("weekday"), day: try row.value("day"), at: try row.value("run_at"),
            notify: targets.isEmpty ? nil : targets, inactiveDays: try row.value("inactive_days"),
            lookbackDays: try row.value("lookback_days"), users: try row.value("users"))
        return StoredSchedule(
            id: try row.value("id"), request: request, nextRun: try row.value("next_run"), lastRun: try row.value("last_run"),
            lastJob: try row.value("last_job"))
    }
}
