import Foundation
import GRDB
import TallyProtocol

/// Deliveries of job-end announcements in the shared SQLite database: one row per job and target, with its attempts.
package struct SQLiteNotificationStore: NotificationStore {
    package let database: DatabasePool

    /// The repository over a database opened by `SQLiteStores`.
    package init(database: DatabasePool) {
        self.database = database
    }

    package func enqueueEndedJobs(now: Double) async throws -> Int {
        // Called every few hundred milliseconds: a read finds that nothing ended, without
        // queueing a write behind the job store's.
        let pending = try await database.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM jobs WHERE announced = 0 AND state IN \(JobState.endedSQL))")
                ?? false
        }
        guard pending else { return 0 }
        return try await database.write { db in
            var created = 0
            let ids = try String.fetchAll(db, sql: "SELECT id FROM jobs WHERE announced = 0 AND state IN ('succeeded', 'failed')")
            for id in ids {
                let recipients = try SQLiteJobStore.recipients(db, of: [id])[id] ?? SQLiteJobStore.Recipients()
                for target in recipients.targets + recipients.emails.map({ Delivery.emailTarget + $0 }) {
                    try Self.insertDelivery(db, jobId: id, target: target, now: now)
                    created += 1
                }
                try db.execute(sql: "UPDATE jobs SET announced = 1 WHERE id = ?", arguments: [id])
            }
            // Cancelled jobs are not announced.
            try db.execute(sql: "UPDATE jobs SET announced = 1 WHERE announced = 0 AND state = 'cancelled'")
            return created
        }
    }

    private static func insertDelivery(_ db: Database, jobId: String, target: String, now: Double) throws {
        try db.execute(
            sql: "INSERT INTO deliveries (job_id, target, message_id, state, next_at) VALUES (?, ?, ?, 'pending', ?)",
            arguments: [jobId, target, Delivery.newMessageId(), now])
    }

    package func dueDeliveries(now: Double, limit: Int) async throws -> [Delivery] {
        try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM deliveries WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?",
                arguments: [now, limit]
            ).map(Self.delivery(from:))
        }
    }

    package func recordAttempt(_ id: Int64, state: String, status: Int?, error: String?, nextAt: Double?) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?, next_at = ? WHERE id = ?
                    """, arguments: [state, status, error, nextAt, id])
        }
    }

    package func deliveries(of jobId: String) async throws -> [Delivery] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deliveries WHERE job_id = ? ORDER BY id", arguments: [jobId]).map(Self.delivery(from:))
        }
    }

    package func deliveries(ofJobs jobIds: [String]) async throws -> [String: [Delivery]] {
        try await database.read { db in
            var found: [String: [Delivery]] = [:]
            for slice in SQLiteJobStore.slices(jobIds) {
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
                for row in try Row.fetchAll(
                    db, sql: "SELECT * FROM deliveries WHERE job_id IN (\(marks)) ORDER BY id", arguments: StatementArguments(slice))
                {
                    found[row["job_id"], default: []].append(Self.delivery(from: row))
                }
            }
            return found
        }
    }

    package func redeliver(_ jobId: String, target: String?, targets: [String], now: Double) async throws -> Int {
        try await database.write { db in
            let chosen = target.map { [$0] } ?? targets
            for name in chosen { try Self.insertDelivery(db, jobId: jobId, target: name, now: now) }
            return chosen.count
        }
    }

    package func stopTarget(_ name: String, now: Double) async throws {
        try await database.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO stopped_targets (name, stopped_at) VALUES (?, ?)", arguments: [name, now])
        }
    }

    package func isStopped(_ name: String) async throws -> Bool {
        try await database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM stopped_targets WHERE name = ?", arguments: [name]) ?? false
        }
    }

    private static func delivery(from row: Row) -> Delivery {
        Delivery(
            id: row["id"], jobId: row["job_id"], target: row["target"], messageId: row["message_id"], state: row["state"],
            attempts: row["attempts"], lastStatus: row["last_status"], lastError: row["last_error"], nextAt: row["next_at"])
    }
}
