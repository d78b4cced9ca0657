import Foundation
import GRDB
import TallyProtocol
import TallyReport

/// `JobStore` in SQLite (WAL mode) in the data directory, through GRDB's async API, which runs
/// each read and write on GRDB's own threads rather than Swift's cooperative pool. Every state
/// change is one transaction, so a coordinator killed at any moment restarts from a consistent
/// store: nothing accepted is lost.
final class SQLiteJobStore: JobStore {
    private let database: DatabasePool
    
    /// Opens (creating when needed) the store at `path`.
    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        database = try DatabasePool(path: path, configuration: configuration)
        try StoreSchema.migrator().migrate(database)
    }

    // MARK: Jobs

    /// Stores a new queued job.
    func createJob(_ request: JobRequest, window: ReportWindow, idempotencyKey: String?, now: Double) async throws -> JobCreation {
        let id = JobID.make()
        let body = try TallyJSON.encoder().encode(request)
        return try await database.write { db in
            if let idempotencyKey {
                try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [now - Self.idempotencyWindow])
                if let row = try Row.fetchOne(db, sql: "SELECT request, job_id FROM idempotency_keys WHERE key = ?", arguments: [idempotencyKey]) {
                    guard (row["request"] as Data) == body else { return .keyReused }
                    guard let jobRow = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [row["job_id"] as String]) else {
                        return .keyReused
                    }
                    return .replayed(try Self.job(from: jobRow))
                }
            }
            let sequence = (try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(sequence), 0) + 1 FROM jobs")) ?? 1
            try db.execute(sql: """
                INSERT INTO jobs (id, sequence, request, window_from, window_to, state, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, sequence, body, window.from, window.to, JobState.queued.rawValue, now])
            if let idempotencyKey {
                try db.execute(sql: "INSERT INTO idempotency_keys (key, request, job_id, created_at) VALUES (?, ?, ?, ?)",
                               arguments: [idempotencyKey, body, id, now])
            }
            return .created(JobRecord(id: id, sequence: sequence, request: request, window: window, state: .queued, error: nil,
                                      createdAt: now, startedAt: nil, lastPartialAt: nil, finishedAt: nil, tasksTotal: 0, objectsTotal: 0,
                                      bytesTotal: 0, users: nil, resultBytes: nil))
        }
    }

    /// How long an `Idempotency-Key` names its job.
    static let idempotencyWindow: Double = 86_400

    /// A job by id.
    func job(_ id: String) async throws -> JobRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.job(from:))
        }
    }

    /// Jobs newest first, older than `beforeSequence` when given.
    func jobs(limit: Int, beforeSequence: Int64?) async throws -> [JobRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE sequence < ? ORDER BY sequence DESC LIMIT ?",
                             arguments: [beforeSequence ?? Int64.max, limit]).map(Self.job(from:))
        }
    }

    /// Jobs in one state, oldest first.
    func jobs(in state: JobState) async throws -> [JobRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE state = ? ORDER BY sequence", arguments: [state.rawValue]).map(Self.job(from:))
        }
    }

    /// Number of jobs per state.
    func jobCounts() async throws -> [JobState: Int] {
        try await database.read { db in
            var counts: [JobState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
                if let state = JobState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// Number of tasks per state over active jobs.
    func taskCounts() async throws -> [TaskState: Int] {
        try await database.read { db in
            var counts: [TaskState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM tasks GROUP BY state") {
                if let state = TaskState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// Turns a queued job into a running one with the plan's tasks (or straight into merging
    /// when the plan has none).
    func start(_ jobId: String, plan: ReportPlan, now: Double) async throws {
        let specs = try plan.tasks.map { try TallyJSON.encoder().encode(WireTask($0)) }
        try await database.write { db in
            guard try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [jobId]) == JobState.queued.rawValue else { return }
            try db.execute(sql: "DELETE FROM tasks WHERE job_id = ?", arguments: [jobId])
            for (task, spec) in zip(plan.tasks, specs) {
                try db.execute(sql: "INSERT INTO tasks (job_id, idx, state, spec) VALUES (?, ?, ?, ?)",
                               arguments: [jobId, task.index, TaskState.pending.rawValue, spec])
            }
            let state: JobState = plan.tasks.isEmpty ? .merging : .running
            try db.execute(sql: """
                UPDATE jobs SET state = ?, started_at = ?, tasks_total = ?, objects_total = ?, bytes_total = ? WHERE id = ?
                """, arguments: [state.rawValue, now, plan.tasks.count, plan.objectsSelected, plan.bytes, jobId])
        }
    }

    /// Ends a job that is not already ended; its unfinished tasks are abandoned. Returns whether
    /// the state changed.
    @discardableResult
    func finish(_ jobId: String, as state: JobState, error: String?, now: Double) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: """
                UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ? AND state NOT IN ('succeeded', 'failed', 'cancelled')
                """, arguments: [state.rawValue, error, now, jobId])
            guard db.changesCount > 0 else { return false }
            // Lease ids are kept so that a worker still holding one hears `stop` (heartbeat) and
            // `committed: false` (upload) rather than "unknown lease".
            try db.execute(sql: "UPDATE tasks SET state = ? WHERE job_id = ? AND state IN ('pending', 'leased')",
                           arguments: [TaskState.abandoned.rawValue, jobId])
            return true
        }
    }

    /// Records a merged result; false when the job left `merging` meanwhile (cancelled).
    func succeed(_ jobId: String, users: Int, resultBytes: Int64, statistics: ReadStatistics, now: Double) async throws -> Bool {
        let stats = try TallyJSON.encoder().encode(statistics)
        return try await database.write { db in
            try db.execute(sql: """
                UPDATE jobs SET state = ?, users = ?, result_bytes = ?, statistics = ?, finished_at = ? WHERE id = ? AND state = 'merging'
                """, arguments: [JobState.succeeded.rawValue, users, resultBytes, stats, now, jobId])
            return db.changesCount > 0
        }
    }

    /// Moves every lease deadline to at least `deadline` (used once at start-up).
    func extendLeases(until deadline: Double) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE tasks SET lease_expires = MAX(lease_expires, ?) WHERE state = 'leased'", arguments: [deadline])
        }
    }

    /// Running jobs whose every task is done move to merging; returns the ids.
    func promoteFinishedJobs() async throws -> [String] {
        try await database.write { db in
            let ids = try String.fetchAll(db, sql: """
                SELECT id FROM jobs j WHERE state = 'running'
                AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.state != 'done')
                """)
            for id in ids {
                try db.execute(sql: "UPDATE jobs SET state = 'merging' WHERE id = ?", arguments: [id])
            }
            return ids
        }
    }

    func recompute(_ jobId: String, task index: Int, reason: String, maxLosses: Int, now: Double) async throws -> Bool {
        try await database.write { db in
            guard let losses = try Int.fetchOne(db, sql: "SELECT partial_losses FROM jobs WHERE id = ? AND state = 'merging'", arguments: [jobId])
            else { return false }
            guard losses + 1 < maxLosses else {
                try db.execute(sql: "UPDATE jobs SET partial_losses = ? WHERE id = ?", arguments: [losses + 1, jobId])
                try Self.failJob(db, jobId, reason: "\(reason) (partials lost \(losses + 1) times)", now: now)
                return true
            }
            try db.execute(sql: """
                UPDATE tasks SET state = 'pending', statistics = NULL, lease_id = NULL, lease_expires = NULL, worker = NULL, not_before = NULL
                WHERE job_id = ? AND idx = ?
                """, arguments: [jobId, index])
            // The running totals counted that task: they are summed again from the tasks left.
            try db.execute(sql: "UPDATE jobs SET state = 'running', partial_losses = ?, totals = NULL WHERE id = ?", arguments: [losses + 1, jobId])
            return false
        }
    }

    /// Sums over a job's committed tasks: the running sums the commits keep, or for a job of an
    /// older store, the sums of its tasks' statistics.
    func totals(_ jobId: String) async throws -> JobTotals {
        try await database.read { db in try Self.totals(db, jobId).totals }
    }

    /// A job's running totals, or, where there are none (a job of an older store, or one whose
    /// lost partial is being computed again), the sums of its done tasks' statistics; `kept`
    /// tells which.
    private static func totals(_ db: Database, _ jobId: String) throws -> (totals: JobTotals, kept: Bool) {
        let decoder = TallyJSON.decoder()
        if let kept = try Data.fetchOne(db, sql: "SELECT totals FROM jobs WHERE id = ?", arguments: [jobId]) {
            return (try decoder.decode(JobTotals.self, from: kept), true)
        }
        var totals = JobTotals()
        for data in try Data.fetchAll(db, sql: "SELECT statistics FROM tasks WHERE job_id = ? AND state = 'done' AND statistics IS NOT NULL ORDER BY idx", arguments: [jobId]) {
            totals.add(try decoder.decode(ReadStatistics.self, from: data))
        }
        return (totals, false)
    }

    /// The final statistics of a succeeded job.
    func finalStatistics(_ jobId: String) async throws -> ReadStatistics? {
        let data = try await database.read { db in
            try Data.fetchOne(db, sql: "SELECT statistics FROM jobs WHERE id = ?", arguments: [jobId])
        }
        return try data.map { try TallyJSON.decoder().decode(ReadStatistics.self, from: $0) }
    }

    // MARK: Leases

    /// Leases a pending task of the running job with the fewest tasks leased now (the oldest such
    /// job on a tie), so jobs share the workers and a small job is not held back by a large one.
    func lease(worker: String, seconds: Double, now: Double) async throws -> (JobRecord, TaskRecord)? {
        let leaseId = JobID.make()
        return try await database.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT t.job_id, t.idx FROM tasks t JOIN jobs j ON j.id = t.job_id
                WHERE t.state = 'pending' AND j.state = 'running' AND (t.not_before IS NULL OR t.not_before <= ?)
                ORDER BY (SELECT COUNT(*) FROM tasks l WHERE l.job_id = t.job_id AND l.state = 'leased'), j.sequence, t.idx LIMIT 1
                """, arguments: [now]) else { return nil }
            let jobId: String = row["job_id"]
            let index: Int = row["idx"]
            try db.execute(sql: """
                UPDATE tasks SET state = 'leased', lease_id = ?, lease_expires = ?, worker = ? WHERE job_id = ? AND idx = ?
                """, arguments: [leaseId, now + seconds, worker, jobId, index])
            guard let jobRow = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobId]),
                  let taskRow = try Row.fetchOne(db, sql: "SELECT * FROM tasks WHERE job_id = ? AND idx = ?", arguments: [jobId, index])
            else { return nil }
            return (try Self.job(from: jobRow), try Self.task(from: taskRow))
        }
    }

    /// The task a lease names, if the lease is current.
    func leasedTask(_ leaseId: String) async throws -> TaskRecord? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tasks WHERE lease_id = ?", arguments: [leaseId]).map(Self.task(from:))
        }
    }

    /// Renews a lease while its job runs.
    func heartbeat(_ leaseId: String, seconds: Double, now: Double) async throws -> HeartbeatOutcome {
        try await database.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT t.state AS task_state, j.state AS job_state FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.lease_id = ?
                """, arguments: [leaseId]) else { return .unknown }
            guard row["task_state"] == TaskState.leased.rawValue, row["job_state"] == JobState.running.rawValue else { return .stop }
            try db.execute(sql: "UPDATE tasks SET lease_expires = ? WHERE lease_id = ?", arguments: [now + seconds, leaseId])
            return .renewed
        }
    }

    func commit(_ leaseId: String, statistics: ReadStatistics, sourceRetries: Int64, now: Double,
                install: @escaping @Sendable (_ jobId: String, _ index: Int) throws -> Void) async throws -> CommitOutcome {
        let stats = try TallyJSON.encoder().encode(statistics)
        return try await database.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT t.job_id, t.idx, t.state AS task_state, j.state AS job_state FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.lease_id = ?
                """, arguments: [leaseId]) else { return .leaseLost }
            let taskState: String = row["task_state"]
            if taskState == TaskState.done.rawValue { return .alreadyCommitted }
            guard row["job_state"] == JobState.running.rawValue else { return .jobEnded }
            guard taskState == TaskState.leased.rawValue else { return .leaseLost }
            let jobId: String = row["job_id"]
            let index: Int = row["idx"]
            try install(jobId, index)
            try db.execute(sql: "UPDATE tasks SET state = 'done', statistics = ?, lease_expires = NULL WHERE lease_id = ?",
                           arguments: [stats, leaseId])
            try Self.addToTotals(db, jobId, statistics, sourceRetries: sourceRetries)
            try db.execute(sql: "UPDATE jobs SET last_partial_at = ? WHERE id = ?", arguments: [now, jobId])
            return .committed(jobId: jobId, index: index)
        }
    }

    /// Adds a committed task's statistics (its row already marked done) to its job's running
    /// totals; a job of an older store, without totals, has them summed from all its done tasks.
    private static func addToTotals(_ db: Database, _ jobId: String, _ statistics: ReadStatistics, sourceRetries: Int64) throws {
        var (totals, kept) = try Self.totals(db, jobId)
        // Summed totals already hold this task, whose row is marked done; kept ones do not.
        if kept { totals.add(statistics, sourceRetries: sourceRetries) } else { totals.sourceRetries += sourceRetries }
        try db.execute(sql: "UPDATE jobs SET totals = ? WHERE id = ?", arguments: [try TallyJSON.encoder().encode(totals), jobId])
    }

    /// Records a failed attempt; the task goes back to pending, or fails its job after
    /// `maxAttempts`. Returns the job id when the job failed.
    func recordFailure(_ leaseId: String, reason: String, maxAttempts: Int, retryDelay: @escaping @Sendable (_ failures: Int) -> Double,
                       now: Double) async throws -> String? {
        try await database.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT job_id, idx, failures FROM tasks WHERE lease_id = ? AND state = 'leased'", arguments: [leaseId]) else { return nil }
            let jobId: String = row["job_id"]
            let index: Int = row["idx"]
            let failures: Int = row["failures"] + 1
            try db.execute(sql: """
                UPDATE tasks SET state = 'pending', lease_id = NULL, lease_expires = NULL, failures = ?, last_error = ?, not_before = ?
                WHERE job_id = ? AND idx = ?
                """, arguments: [failures, reason, now + retryDelay(failures), jobId, index])
            guard failures >= maxAttempts else { return nil }
            try Self.failJob(db, jobId, reason: "task \(index) failed \(failures) times: \(reason)", now: now)
            return jobId
        }
    }

    /// Returns tasks whose lease expired to pending; a task that has lost its lease too often
    /// fails its job. Returns the number of expired leases.
    func expireLeases(now: Double, maxExpiries: Int) async throws -> Int {
        try await database.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT job_id, idx, expiries FROM tasks WHERE state = 'leased' AND lease_expires < ?", arguments: [now])
            for row in rows {
                let jobId: String = row["job_id"]
                let index: Int = row["idx"]
                let expiries: Int = row["expiries"] + 1
                try db.execute(sql: """
                    UPDATE tasks SET state = 'pending', lease_id = NULL, lease_expires = NULL, expiries = ? WHERE job_id = ? AND idx = ? AND state = 'leased'
                    """, arguments: [expiries, jobId, index])
                if expiries >= maxExpiries {
                    try Self.failJob(db, jobId, reason: "task \(index) lost its worker \(expiries) times (workers crashing or too slow to heartbeat)", now: now)
                }
            }
            return rows.count
        }
    }

    private static func failJob(_ db: Database, _ jobId: String, reason: String, now: Double) throws {
        try db.execute(sql: """
            UPDATE jobs SET state = 'failed', error = ?, finished_at = ? WHERE id = ? AND state NOT IN ('succeeded', 'failed', 'cancelled')
            """, arguments: [reason, now, jobId])
        try db.execute(sql: "UPDATE tasks SET state = 'abandoned' WHERE job_id = ? AND state IN ('pending', 'leased')", arguments: [jobId])
    }

    /// Jobs that ended before `cutoff` and still have files (results, or partials of failed
    /// and cancelled jobs) to remove.
    func expiredJobs(finishedBefore cutoff: Double) async throws -> [String] {
        try await database.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM jobs WHERE finished_at < ? AND files_removed = 0", arguments: [cutoff])
        }
    }

    /// Marks a job's files as removed (its result, if any, is gone).
    func forgetResult(_ jobId: String) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE jobs SET result_bytes = NULL, files_removed = 1 WHERE id = ?", arguments: [jobId])
        }
    }

    // MARK: Rows

    private static func job(from row: Row) throws -> JobRecord {
        let request = try TallyJSON.decoder().decode(JobRequest.self, from: row["request"] as Data)
        return JobRecord(
            id: row["id"], sequence: row["sequence"], request: request,
            window: try ReportWindow(from: row["window_from"], to: row["window_to"]),
            state: JobState(rawValue: row["state"]) ?? .failed, error: row["error"],
            createdAt: row["created_at"], startedAt: row["started_at"], lastPartialAt: row["last_partial_at"],
            finishedAt: row["finished_at"],
            tasksTotal: row["tasks_total"], objectsTotal: row["objects_total"], bytesTotal: row["bytes_total"],
            users: row["users"], resultBytes: row["result_bytes"])
    }

    private static func task(from row: Row) throws -> TaskRecord {
        TaskRecord(
            jobId: row["job_id"], index: row["idx"], state: TaskState(rawValue: row["state"]) ?? .abandoned,
            task: try TallyJSON.decoder().decode(WireTask.self, from: row["spec"] as Data).engineTask,
            leaseId: row["lease_id"], leaseExpires: row["lease_expires"], worker: row["worker"],
            failures: row["failures"], expiries: row["expiries"])
    }
}
