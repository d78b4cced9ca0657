import Foundation
import GRDB
import TallyProtocol

extension SQLiteJobStore: ScheduleStore {
    func saveSchedule(_ request: ScheduleRequest, nextRun: Double) async throws -> StoredSchedule {
        let body = try TallyJSON.encoder().encode(request)
        return try await database.write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM schedules WHERE name = ?", arguments: [request.name]) {
                let id: String = row["id"]
                // The same request keeps its next run; a changed one starts from its new rule.
                if (row["request"] as Data) != body {
                    try db.execute(sql: "UPDATE schedules SET request = ?, next_run = ? WHERE id = ?", arguments: [body, nextRun, id])
                }
            } else {
                try db.execute(
                    sql: "INSERT INTO schedules (id, name, request, next_run) VALUES (?, ?, ?, ?)",
                    arguments: ["sch_" + JobID.make(), request.name, body, nextRun])
            }
            return try Self.schedule(from: try Row.fetchOne(db, sql: "SELECT * FROM schedules WHERE name = ?", arguments: [request.name])!)
        }
    }

    func schedules() async throws -> [StoredSchedule] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM schedules ORDER BY name").map(Self.schedule(from:))
        }
    }

    func deleteSchedule(_ idOrName: String) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM schedules WHERE id = ?1 OR name = ?1", arguments: [idOrName])
            return db.changesCount > 0
        }
    }

    func recordRun(_ id: String, ranAt: Double, job: String?, nextRun: Double) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE schedules SET last_run = ?, last_job = ?, next_run = ? WHERE id = ?", arguments: [ranAt, job, nextRun, id])
        }
    }

    private static func schedule(from row: Row) throws -> StoredSchedule {
        StoredSchedule(
            id: row["id"], request: try TallyJSON.decoder().decode(ScheduleRequest.self, from: row["request"] as Data),
            nextRun: row["next_run"], lastRun: row["last_run"], lastJob: row["last_job"])
    }
}
