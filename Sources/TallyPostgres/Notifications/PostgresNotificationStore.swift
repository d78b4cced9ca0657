import PostgresNIO
import TallyProtocol
import TallyStore

/// Deliveries of job-end announcements in the shared PostgreSQL database: one row per job and
/// target, with its attempts, as `SQLiteNotificationStore` keeps them. Replicas enqueue side by
/// side, so marking jobs announced claims them: only the replica whose update marked a job
/// queues its deliveries.
package final class PostgresNotificationStore: NotificationStore {
    package let database: PostgresDatabase

    /// The repository over a migrated database.
    package init(database: PostgresDatabase) {
        self.database = database
    }

    package func enqueueEndedJobs(now: Double) async throws -> Int {
        // Called every few hundred milliseconds: a read finds that nothing ended, without a
        // transaction or a row lock.
        let pending = try await database.one(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE announced = 0 AND state IN \(unescaped: JobState.endedSQL)) AS pending")
        guard try pending?.value("pending", as: Bool.self) == true else { return 0 }
        return try await database.transaction { tx in
            // Cancelled jobs are claimed too, and not announced.
            var announced: [(sequence: Int64, id: String)] = []
            for row in try await tx.rows(
                "UPDATE jobs SET announced = 1 WHERE announced = 0 AND state IN \(unescaped: JobState.endedSQL) RETURNING id, sequence, state"
            ) {
                let state = try row.value("state", as: String.self)
                if state == JobState.succeeded.rawValue || state == JobState.failed.rawValue {
                    announced.append((try row.value("sequence"), try row.value("id")))
                }
            }
            guard !announced.isEmpty else { return 0 }
            let ids = announced.sorted { $0.sequence < $1.sequence }.map(\.id)
            var targets: [String: [String]] = [:]
            var emails: [String: [String]] = [:]
            for row in try await tx.rows(
                "SELECT job_id, kind, name FROM job_recipients WHERE job_id = ANY(\(ids)) ORDER BY job_id, kind, position")
            {
                let jobId = try row.value("job_id", as: String.self)
                let name = try row.value("name", as: String.self)
                if try row.value("kind", as: String.self) == "email" {
                    emails[jobId, default: []].append(name)
                } else {
                    targets[jobId, default: []].append(name)
                }
            }
            var created = 0
            for id in ids {
                for target in (targets[id] ?? []) + (emails[id] ?? []).map({ Delivery.emailTarget + $0 }) {
                    try await Self.insertDelivery(tx, jobId: id, target: target, now: now)
                    created += 1
                }
            }
            return created
        }
    }

    private static func insertDelivery(_ tx: PostgresTransaction, jobId: String, target: String, now: Double) async throws {
        try await tx.execute(
            """
            INSERT INTO deliveries (job_id, target, message_id, state, next_at)
            VALUES (\(jobId), \(target), \(Delivery.newMessageId()), 'pending', \(now))
            """)
    }

    package func dueDeliveries(now: Double, limit: Int) async throws -> [Delivery] {
        try await database.rows(
            "SELECT * FROM deliveries WHERE state = 'pending' AND next_at <= \(now) ORDER BY next_at, id LIMIT \(limit)"
        )
        .map(Self.delivery(from:))
    }

    /// Only a delivery still pending records an attempt: a replica that lost its leadership during
    /// an attempt never writes over the outcome the next leader recorded.
    package func recordAttempt(_ id: Int64, state: String, status: Int?, error: String?, nextAt: Double?) async throws {
        try await database.execute(
            """
            UPDATE deliveries SET state = \(state), attempts = attempts + 1, last_status = \(status), last_error = \(error),
                next_at = \(nextAt) WHERE id = \(id) AND state = 'pending'
            RETURNING 1
            """)
    }

    package func deliveries(of jobId: String) async throws -> [Delivery] {
        try await database.rows("SELECT * FROM deliveries WHERE job_id = \(jobId) ORDER BY id").map(Self.delivery(from:))
    }

    package func deliveries(ofJobs jobIds: [String]) async throws -> [String: [Delivery]] {
        guard !jobIds.isEmpty else { return [:] }
        var found: [String: [Delivery]] = [:]
        for row in try await database.rows("SELECT * FROM deliveries WHERE job_id = ANY(\(jobIds)) ORDER BY id") {
            let delivery = try Self.delivery(from: row)
            found[delivery.jobId, default: []].append(delivery)
        }
        return found
    }

    package func redeliver(_ jobId: String, target: String?, targets: [String], now: Double) async throws -> Int {
        let chosen = target.map { [$0] } ?? targets
        guard !chosen.isEmpty else { return 0 }
        return try await database.transaction { tx in
            for name in chosen { try await Self.insertDelivery(tx, jobId: jobId, target: name, now: now) }
            return chosen.count
        }
    }

    package func stopTarget(_ name: String, now: Double) async throws {
        try await database.execute("INSERT INTO stopped_targets (name, stopped_at) VALUES (\(name), \(now)) ON CONFLICT (name) DO NOTHING")
    }

    package func isStopped(_ name: String) async throws -> Bool {
        try await database.one("SELECT 1 FROM stopped_targets WHERE name = \(name)") != nil
    }

    private static func delivery(from row: PostgresRandomAccessRow) throws -> Delivery {
        Delivery(
            id: try row.value("id"), jobId: try row.value("job_id"), target: try row.value("target"),
            messageId: try row.value("message_id"), state: try row.value("state"), attempts: try row.value("attempts"),
            lastStatus: try row.value("last_status"), lastError: try row.value("last_error"), nextAt: try row.value("next_at"))
    }
}
