import Foundation
import GRDB
import TallyProtocol
import TallyReport

/// `JobStore` (jobs, their tasks and leases) in the shared SQLite database, through GRDB's async API, which runs
/// each read and write on GRDB's own threads rather than Swift's cooperative pool. Every state
/// change is one transaction, so a coordinator killed at any moment restarts from a consistent
/// store: nothing accepted is lost.
package final class SQLiteJobStore: JobStore {
    package let database: DatabasePool

    /// The repository over a database opened by `SQLiteStores`.
    package init(database: DatabasePool) {
        self.database = database
    }

    // MARK: Jobs

    /// Stores a new queued job.
    package func createJob(
        _ definition: JobDefinition, owner: String, maxActive: Int, idempotency: (key: String, request: Data)?, now: Double
    ) async throws -> JobCreation {
        let id = JobID.make()
        return try await database.write { db in
            if let idempotency {
                try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [now - Self.idempotencyWindow])
                if let row = try Row.fetchOne(
                    db, sql: "SELECT request, job_id FROM idempotency_keys WHERE key = ?", arguments: [idempotency.key])
                {
                    guard (row["request"] as Data) == idempotency.request,
                        let job = try Self.job(db, id: row["job_id"])
                    else { return .keyReused }
                    return .replayed(job)
                }
            }
            let active =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM jobs WHERE owner = ? AND state IN \(JobState.unendedSQL)", arguments: [owner]) ?? 0
            guard active < maxActive else { return .tooManyActive(active) }
            let sequence = (try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(sequence), 0) + 1 FROM jobs")) ?? 1
            try Self.insertJob(db, id: id, sequence: sequence, definition: definition, owner: owner, now: now)
            if let idempotency {
                try db.execute(
                    sql: "INSERT INTO idempotency_keys (key, request, job_id, created_at) VALUES (?, ?, ?, ?)",
                    arguments: [idempotency.key, idempotency.request, id, now])
            }
            return .created(
                JobRecord(
                    id: id, sequence: sequence, definition: definition, state: .queued, error: nil,
                    createdAt: now, startedAt: nil, lastPartialAt: nil, finishedAt: nil, tasksTotal: 0, objectsTotal: 0,
                    bytesTotal: 0, users: nil, resultBytes: nil, owner: owner))
        }
    }

    /// How long an `Idempotency-Key` names its job.
    package static let idempotencyWindow: Double = 86_400

    /// A job by id.
    package func job(_ id: String) async throws -> JobRecord? {
        try await database.read { db in
            try Self.job(db, id: id)
        }
    }

    /// Jobs newest first, older than `beforeSequence` when given; only `owner`'s when given.
    package func jobs(limit: Int, beforeSequence: Int64?, owner: String?) async throws -> [JobRecord] {
        try await database.read { db in
            try Self.jobs(
                db,
                Row.fetchAll(
                    db, sql: "SELECT * FROM jobs WHERE sequence < ?1 AND (?2 IS NULL OR owner = ?2) ORDER BY sequence DESC LIMIT ?3",
                    arguments: [beforeSequence ?? Int64.max, owner, limit]))
        }
    }

    /// Jobs in one state, oldest first.
    package func jobs(in state: JobState) async throws -> [JobRecord] {
        try await database.read { db in
            try Self.jobs(db, Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE state = ? ORDER BY sequence", arguments: [state.rawValue]))
        }
    }

    /// Number of jobs per state.
    package func jobCounts() async throws -> [JobState: Int] {
        try await database.read { db in
            var counts: [JobState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
                if let state = JobState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// Number of tasks per state over active jobs.
    package func taskCounts() async throws -> [TaskState: Int] {
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
    package func start(_ jobId: String, plan: ReportPlan, shards: ShardLookup, now: Double) async throws -> Bool {
        let encoder = TallyJSON.encoder()
        let reusedStatistics = try shards.reused.mapValues { try encoder.encode($0.statistics) }
        return try await database.write { db in
            guard try String.fetchOne(db, sql: "SELECT state FROM jobs WHERE id = ?", arguments: [jobId]) == JobState.queued.rawValue else {
                return false
            }
            try db.execute(sql: "DELETE FROM tasks WHERE job_id = ?", arguments: [jobId])
            var totals = JobTotals()
            try db.execute(sql: "DELETE FROM task_objects WHERE job_id = ?", arguments: [jobId])
            for task in plan.tasks {
                let key = shards.keys[task.index]
                let reused = shards.reused[task.index]
                try db.execute(
                    sql: """
                        INSERT INTO tasks (job_id, idx, state, shard_start, shard_end, shard_key, shard_versions, reused, statistics)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        jobId, task.index, (reused == nil ? TaskState.pending : TaskState.done).rawValue, task.shard?.start,
                        task.shard?.end, key?.objects, key?.versions, reused == nil ? 0 : 1, reusedStatistics[task.index],
                    ])
                try Self.insertObjects(db, of: task, jobId: jobId)
                if let reused { totals.addReused(reused.statistics) }
            }
            // Nothing left to compute (no tasks, or every shard reused): straight to merging.
            let state: JobState = plan.tasks.count == shards.reused.count ? .merging : .running
            try db.execute(
                sql: """
                    UPDATE jobs SET state = ?, started_at = ?, tasks_total = ?, objects_total = ?, bytes_total = ?, totals = ? WHERE id = ?
                    """,
                arguments: [state.rawValue, now, plan.tasks.count, plan.objectsSelected, plan.bytes, try encoder.encode(totals), jobId])
            return state == .merging
        }
    }

    /// Ends a job that is not already ended; its unfinished tasks are abandoned. Returns whether
    /// the state changed.
    @discardableResult
    package func finish(_ jobId: String, as state: JobState, error: String?, now: Double) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ? AND state NOT IN \(JobState.endedSQL)
                    """, arguments: [state.rawValue, error, now, jobId])
            guard db.changesCount > 0 else { return false }
            // Lease ids are kept so that a worker still holding one hears `stop` (heartbeat) and
            // `committed: false` (upload) rather than "unknown lease".
            try db.execute(
                sql: "UPDATE tasks SET state = ? WHERE job_id = ? AND state IN ('pending', 'leased')",
                arguments: [TaskState.abandoned.rawValue, jobId])
            return true
        }
    }

    /// Records a merged result; false when the job left `merging` meanwhile (cancelled).
    package func succeed(_ jobId: String, users: Int, resultBytes: Int64, statistics: ReadStatistics, now: Double) async throws -> Bool {
        let stats = try TallyJSON.encoder().encode(statistics)
        return try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE jobs SET state = ?, users = ?, result_bytes = ?, statistics = ?, finished_at = ? WHERE id = ? AND state = 'merging'
                    """, arguments: [JobState.succeeded.rawValue, users, resultBytes, stats, now, jobId])
            return db.changesCount > 0
        }
    }

    /// Moves every lease deadline to at least `deadline` (used once at start-up).
    package func extendLeases(until deadline: Double) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE tasks SET lease_expires = MAX(lease_expires, ?) WHERE state = 'leased'", arguments: [deadline])
            try db.execute(
                sql:
                    "UPDATE tasks SET copy_lease_expires = MAX(copy_lease_expires, ?) WHERE state = 'leased' AND copy_lease_id IS NOT NULL",
                arguments: [deadline])
        }
    }

    /// Running jobs whose every task is done move to merging; returns the ids.
    /// Moves a running job whose every task is done to merging; whether it did.
    private static func promoteIfDone(_ db: Database, _ jobId: String) throws -> Bool {
        try db.execute(
            sql: """
                UPDATE jobs SET state = 'merging' WHERE id = ? AND state = 'running'
                AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = jobs.id AND t.state != 'done')
                """, arguments: [jobId])
        return db.changesCount > 0
    }

    package func promoteFinishedJobs() async throws -> [String] {
        try await database.write { db in
            let ids = try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM jobs j WHERE state = 'running'
                    AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.state != 'done')
                    """)
            for id in ids {
                try db.execute(sql: "UPDATE jobs SET state = 'merging' WHERE id = ?", arguments: [id])
            }
            return ids
        }
    }

    package func beginMerge(_ jobId: String) async throws -> Int? {
        try await database.write { db in
            guard
                let begun = try Int.fetchOne(
                    db, sql: "SELECT merge_attempts FROM jobs WHERE id = ? AND state = 'merging'", arguments: [jobId])
            else { return nil }
            try db.execute(sql: "UPDATE jobs SET merge_attempts = merge_attempts + 1 WHERE id = ?", arguments: [jobId])
            return begun
        }
    }

    package func recompute(_ jobId: String, task index: Int, reason: String, maxLosses: Int, now: Double) async throws -> Bool {
        try await database.write { db in
            guard
                let losses = try Int.fetchOne(
                    db, sql: "SELECT partial_losses FROM jobs WHERE id = ? AND state = 'merging'", arguments: [jobId])
            else { return false }
            guard losses + 1 < maxLosses else {
                try db.execute(sql: "UPDATE jobs SET partial_losses = ? WHERE id = ?", arguments: [losses + 1, jobId])
                try Self.failJob(db, jobId, reason: "\(reason) (partials lost \(losses + 1) times)", now: now)
                return true
            }
            try db.execute(
                sql: """
                    UPDATE tasks SET state = 'pending', statistics = NULL, lease_id = NULL, lease_expires = NULL, worker = NULL, not_before = NULL,
                    committed_lease = NULL, run_seconds = NULL, leased_at = NULL, copy_lease_id = NULL, copy_lease_expires = NULL,
                    copy_worker = NULL, copy_leased_at = NULL, reused = 0
                    WHERE job_id = ? AND idx = ?
                    """, arguments: [jobId, index])
            // A merge planned over the lost partial is planned again once it is back.
            try db.execute(sql: "DELETE FROM tasks WHERE job_id = ? AND kind = 'merge'", arguments: [jobId])
            // The running totals counted that task: they are summed again from the tasks left.
            try db.execute(
                sql:
                    "UPDATE jobs SET state = 'running', partial_losses = ?, totals = NULL, merge_attempts = 0, merge_tasks = 0 WHERE id = ?",
                arguments: [losses + 1, jobId])
            return false
        }
    }

    /// Sums over a job's committed tasks: the running sums the commits keep, or for a job of an
    /// older store, the sums of its tasks' statistics.
    package func totals(_ jobId: String) async throws -> JobTotals {
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
        for row in try Row.fetchAll(
            db, sql: "SELECT statistics, reused FROM tasks WHERE job_id = ? AND state = 'done' AND statistics IS NOT NULL ORDER BY idx",
            arguments: [jobId])
        {
            let statistics = try decoder.decode(ReadStatistics.self, from: row["statistics"] as Data)
            if row["reused"] as Int == 1 { totals.addReused(statistics) } else { totals.add(statistics) }
        }
        return (totals, false)
    }

    /// The final statistics of a succeeded job.
    package func finalStatistics(_ jobId: String) async throws -> ReadStatistics? {
        let data = try await database.read { db in
            try Data.fetchOne(db, sql: "SELECT statistics FROM jobs WHERE id = ?", arguments: [jobId])
        }
        return try data.map { try TallyJSON.decoder().decode(ReadStatistics.self, from: $0) }
    }

    package func totalsAndFinalStatistics(of jobIds: [String]) async throws -> [String: (totals: JobTotals, final: ReadStatistics?)] {
        try await database.read { db in
            let decoder = TallyJSON.decoder()
            var found: [String: (totals: JobTotals, final: ReadStatistics?)] = [:]
            for slice in Self.slices(jobIds) {
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
                for row in try Row.fetchAll(
                    db, sql: "SELECT id, totals, statistics FROM jobs WHERE id IN (\(marks))", arguments: StatementArguments(slice))
                {
                    let id: String = row["id"]
                    // A job of an older store, without running totals, has them summed from its tasks.
                    let totals =
                        try (row["totals"] as Data?).map { try decoder.decode(JobTotals.self, from: $0) } ?? Self.totals(db, id).totals
                    found[id] = (totals, try (row["statistics"] as Data?).map { try decoder.decode(ReadStatistics.self, from: $0) })
                }
            }
            return found
        }
    }

    /// Ids in slices under SQLite's limit on bound parameters.
    package static func slices(_ ids: [String]) -> [[String]] {
        stride(from: 0, to: ids.count, by: 500).map { Array(ids[$0..<min($0 + 500, ids.count)]) }
    }

    // MARK: Leases

    /// Leases a pending task of the running job with the fewest tasks leased now (the oldest such
    /// job on a tie), so jobs share the workers and a small job is not held back by a large one.
    /// With nothing pending, a straggler of a nearly done job may get a second lease instead.
    /// Merge tasks go only to a worker that runs them (`mergeCapable`) with a trusted token:
    /// their rows enter the report unchecked against the partials (docs/security.md).
    package func lease(
        worker: String, token: String, seconds: Double, stragglers: StragglerPolicy, mergeCapable: Bool, now: Double
    ) async throws -> GrantedLease? {
        let leaseId = JobID.make()
        return try await database.write { db in
            let mayMerge =
                try mergeCapable
                && Bool.fetchOne(db, sql: "SELECT \(TrustedProducer.sql("?"))", arguments: [token, token]) == true
            if let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT t.job_id, t.idx FROM tasks t JOIN jobs j ON j.id = t.job_id
                    WHERE t.state = 'pending' AND (t.not_before IS NULL OR t.not_before <= ?)
                    AND ((j.state = 'running' AND t.kind = 'aggregate') OR (? AND j.state = 'merging' AND t.kind = 'merge'))
                    ORDER BY (SELECT COUNT(*) FROM tasks l WHERE l.job_id = t.job_id AND l.state = 'leased'), j.sequence, t.idx LIMIT 1
                    """, arguments: [now, mayMerge])
            {
                let jobId: String = row["job_id"]
                let index: Int = row["idx"]
                try db.execute(
                    sql: """
                        UPDATE tasks SET state = 'leased', lease_id = ?, lease_expires = ?, worker = ?, leased_at = ?, lease_token = ?
                        WHERE job_id = ? AND idx = ?
                        """, arguments: [leaseId, now + seconds, worker, now, token, jobId, index])
                return try Self.grant(db, jobId, index, leaseId: leaseId, isCopy: false)
            }
            guard let (jobId, index) = try Self.straggler(db, worker: worker, policy: stragglers, mayMerge: mayMerge, now: now) else {
                return nil
            }
            try db.execute(
                sql: """
                    UPDATE tasks SET copy_lease_id = ?, copy_lease_expires = ?, copy_worker = ?, copy_leased_at = ?, copy_lease_token = ?
                    WHERE job_id = ? AND idx = ?
                    """, arguments: [leaseId, now + seconds, worker, now, token, jobId, index])
            try db.execute(sql: "UPDATE jobs SET copies_started = copies_started + 1 WHERE id = ?", arguments: [jobId])
            return try Self.grant(db, jobId, index, leaseId: leaseId, isCopy: true)
        }
    }

    /// The oldest straggler `worker` may copy: a leased task without a copy, held by another
    /// worker for longer than `policy` allows, in the oldest running job (or merging job, for
    /// merge tasks, when `mayMerge`) that is far enough along and has copies left. Aggregation
    /// and merge tasks are judged each against their own kind's run times.
    private static func straggler(
        _ db: Database, worker: String, policy: StragglerPolicy, mayMerge: Bool, now: Double
    ) throws -> (String, Int)? {
        guard policy.maxCopyShare > 0 else { return nil }
        let jobs = try Row.fetchAll(
            db,
            sql: """
                SELECT j.id, j.copies_started, CASE j.state WHEN 'merging' THEN j.merge_tasks ELSE j.tasks_total END AS tasks,
                       CASE j.state WHEN 'merging' THEN 'merge' ELSE 'aggregate' END AS kind
                FROM jobs j WHERE j.state = 'running' OR (? AND j.state = 'merging' AND j.merge_tasks > 0) ORDER BY j.sequence
                """, arguments: [mayMerge])
        for job in jobs {
            let jobId: String = job["id"]
            let kind: String = job["kind"]
            let tasks: Int = job["tasks"]
            let done =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM tasks WHERE job_id = ? AND kind = ? AND state = 'done'", arguments: [jobId, kind]) ?? 0
            guard (job["copies_started"] as Int) < policy.copiesAllowed(tasks: tasks), policy.mayCopy(done: done, of: tasks),
                let runFor = policy.stragglerSeconds(
                    finished: try Double.fetchAll(
                        db,
                        sql: """
                            SELECT run_seconds FROM tasks WHERE job_id = ? AND kind = ? AND state = 'done' AND run_seconds IS NOT NULL
                            """, arguments: [jobId, kind]))
            else { continue }
            if let index = try Int.fetchOne(
                db,
                sql: """
                    SELECT idx FROM tasks WHERE job_id = ? AND kind = ? AND state = 'leased' AND copy_lease_id IS NULL AND worker != ?
                    AND leased_at IS NOT NULL AND leased_at <= ? ORDER BY leased_at, idx LIMIT 1
                    """, arguments: [jobId, kind, worker, now - runFor])
            {
                return (jobId, index)
            }
        }
        return nil
    }

    private static func grant(_ db: Database, _ jobId: String, _ index: Int, leaseId: String, isCopy: Bool) throws -> GrantedLease? {
        guard let job = try Self.job(db, id: jobId),
            let taskRow = try Row.fetchOne(db, sql: "SELECT * FROM tasks WHERE job_id = ? AND idx = ?", arguments: [jobId, index])
        else { return nil }
        return GrantedLease(job: job, task: try Self.task(db, from: taskRow), leaseId: leaseId, isCopy: isCopy)
    }

    /// Either lease of a task: the row, and whether `leaseId` is its copy.
    private static let byEitherLease = "(t.lease_id = ?1 OR t.copy_lease_id = ?1)"

    package func tasks(of jobId: String) async throws -> [TaskRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tasks WHERE job_id = ? ORDER BY idx", arguments: [jobId]).map {
                try Self.task(db, from: $0)
            }
        }
    }

    package func mergeTasks(of jobId: String) async throws -> [TaskRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tasks WHERE job_id = ? AND kind = 'merge' ORDER BY idx", arguments: [jobId]).map {
                try Self.task(db, from: $0)
            }
        }
    }

    package func partialNames(of jobId: String, task index: Int?) async throws -> [Int: String] {
        try await database.read { db in
            var names: [Int: String] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT idx, committed_lease, reused, shard_key, shard_versions FROM tasks
                    WHERE job_id = ? AND kind = 'aggregate' AND state = 'done' AND (? IS NULL OR idx = ?)
                    """, arguments: [jobId, index, index])
            {
                names[row["idx"]] = Self.partialName(
                    lease: row["committed_lease"], reused: row["reused"] as Int == 1, key: row["shard_key"], versions: row["shard_versions"]
                )
            }
            return names
        }
    }

    /// The task a lease names (either of a straggler's two), with that lease's worker.
    package func leasedTask(_ leaseId: String) async throws -> TaskRecord? {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tasks t WHERE \(Self.byEitherLease)", arguments: [leaseId]) else {
                return nil
            }
            var task = try Self.task(db, from: row)
            if (row["copy_lease_id"] as String?) == leaseId {
                task.worker = row["copy_worker"]
                task.leaseToken = row["copy_lease_token"]
            } else {
                task.leaseToken = row["lease_token"]
            }
            return task
        }
    }

    /// Renews a lease while its job runs and its task is not done.
    package func heartbeat(_ leaseId: String, seconds: Double, now: Double) async throws -> HeartbeatOutcome {
        try await database.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT t.state AS task_state, j.state AS job_state, t.copy_lease_id, t.kind FROM tasks t JOIN jobs j ON j.id = t.job_id
                        WHERE \(Self.byEitherLease)
                        """, arguments: [leaseId])
            else { return .unknown }
            guard row["task_state"] == TaskState.leased.rawValue, row["job_state"] == Self.jobState(runningTasksOf: row["kind"]).rawValue
            else { return .stop }
            if (row["copy_lease_id"] as String?) == leaseId {
                try db.execute(sql: "UPDATE tasks SET copy_lease_expires = ? WHERE copy_lease_id = ?", arguments: [now + seconds, leaseId])
            } else {
                try db.execute(sql: "UPDATE tasks SET lease_expires = ? WHERE lease_id = ?", arguments: [now + seconds, leaseId])
            }
            return .renewed
        }
    }

    package func commit(
        _ leaseId: String, statistics: ReadStatistics, sourceRetries: Int64, now: Double,
        install: @escaping @Sendable (_ jobId: String, _ index: Int) throws -> Void
    ) async throws -> CommitOutcome {
        let stats = try TallyJSON.encoder().encode(statistics)
        return try await database.write { db in
            let holder: LeaseHolder
            switch try Self.holder(db, leaseId, kind: .aggregate) {
            case .holds(let found): holder = found
            case .not(let outcome): return outcome
            }
            try install(holder.jobId, holder.index)
            try db.execute(
                sql: """
                    UPDATE tasks SET state = 'done', statistics = ?, committed_lease = ?, committed_token = ?, run_seconds = ?, lease_expires = NULL,
                    copy_lease_expires = NULL WHERE job_id = ? AND idx = ?
                    """, arguments: [stats, leaseId, holder.token ?? "", holder.runSeconds(now: now), holder.jobId, holder.index])
            try Self.addToTotals(db, holder.jobId, statistics, sourceRetries: sourceRetries)
            try db.execute(
                sql: "UPDATE jobs SET last_partial_at = ?, copies_won = copies_won + ? WHERE id = ?",
                arguments: [now, holder.byCopy ? 1 : 0, holder.jobId])
            let completesJob = try Self.promoteIfDone(db, holder.jobId)
            return .committed(jobId: holder.jobId, index: holder.index, byCopy: holder.byCopy, completesJob: completesJob)
        }
    }

    package func commitRange(
        _ leaseId: String, rows: Int, bytes: Int64, crc: UInt32, now: Double,
        install: @escaping @Sendable (_ jobId: String, _ index: Int) throws -> Void
    ) async throws -> CommitOutcome {
        try await database.write { db in
            let holder: LeaseHolder
            switch try Self.holder(db, leaseId, kind: .merge) {
            case .holds(let found): holder = found
            case .not(let outcome): return outcome
            }
            try install(holder.jobId, holder.index)
            try db.execute(
                sql: """
                    UPDATE tasks SET state = 'done', range_rows = ?, range_bytes = ?, range_crc = ?, committed_lease = ?, committed_token = ?,
                    run_seconds = ?, lease_expires = NULL, copy_lease_expires = NULL WHERE job_id = ? AND idx = ?
                    """,
                arguments: [rows, bytes, Int64(crc), leaseId, holder.token ?? "", holder.runSeconds(now: now), holder.jobId, holder.index])
            try db.execute(
                sql: "UPDATE jobs SET copies_won = copies_won + ? WHERE id = ?", arguments: [holder.byCopy ? 1 : 0, holder.jobId])
            let last =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM tasks WHERE job_id = ? AND kind = 'merge' AND state != 'done'", arguments: [holder.jobId]
                )
                == 0
            return .committed(jobId: holder.jobId, index: holder.index, byCopy: holder.byCopy, completesJob: last)
        }
    }

    /// The task a committing lease holds, or why it holds none.
    private enum LeaseCheck {
        case holds(LeaseHolder)
        case not(CommitOutcome)
    }

    /// The state a job is in while tasks of `kind` run: aggregation tasks while it runs, merge
    /// tasks while it merges.
    private static func jobState(runningTasksOf kind: String?) -> JobState {
        kind == TaskKind.merge.rawValue ? .merging : .running
    }

    /// The one fencing rule of every commit: only a lease that still holds its task of `kind`,
    /// while the job is in that kind's state, commits; the first of a straggler's two leases wins.
    private static func holder(_ db: Database, _ leaseId: String, kind: TaskKind) throws -> LeaseCheck {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT t.job_id, t.idx, t.kind, t.state AS task_state, j.state AS job_state, t.committed_lease, t.copy_lease_id,
                           t.leased_at, t.copy_leased_at, t.lease_token, t.copy_lease_token
                    FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE \(Self.byEitherLease)
                    """, arguments: [leaseId]),
            (row["kind"] as String?) == kind.rawValue
        else { return .not(.leaseLost) }
        let taskState: String = row["task_state"]
        if taskState == TaskState.done.rawValue {
            // Stores older than task copies kept no winner: a done task was this lease's.
            let winner: String? = row["committed_lease"]
            return .not(winner == nil || winner == leaseId ? .alreadyCommitted : .otherCopyWon)
        }
        guard row["job_state"] == Self.jobState(runningTasksOf: kind.rawValue).rawValue else { return .not(.jobEnded) }
        guard taskState == TaskState.leased.rawValue else { return .not(.leaseLost) }
        let byCopy = (row["copy_lease_id"] as String?) == leaseId
        // Which token's worker made it: the shard cache keeps only trusted ones' partials.
        return .holds(
            LeaseHolder(
                jobId: row["job_id"], index: row["idx"], byCopy: byCopy, token: byCopy ? row["copy_lease_token"] : row["lease_token"],
                leasedAt: byCopy ? row["copy_leased_at"] : row["leased_at"]))
    }

    package func dropMergeTasks(_ jobId: String) async throws -> Bool {
        try await database.write { db in
            guard
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM jobs j WHERE j.id = ? AND j.state = 'merging' AND j.merge_tasks > 0
                        AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.kind = 'merge' AND t.state = 'leased')
                        """, arguments: [jobId]) == 1
            else { return false }
            try db.execute(sql: "DELETE FROM tasks WHERE job_id = ? AND kind = 'merge'", arguments: [jobId])
            try db.execute(sql: "UPDATE jobs SET merge_tasks = 0 WHERE id = ?", arguments: [jobId])
            return true
        }
    }

    package func planMerge(_ jobId: String, ranges: [UserKeyRange], statistics: ReadStatistics) async throws -> Bool {
        let stats = try TallyJSON.encoder().encode(statistics)
        return try await database.write { db in
            guard
                let total = try Int.fetchOne(
                    db, sql: "SELECT tasks_total FROM jobs WHERE id = ? AND state = 'merging' AND merge_tasks = 0", arguments: [jobId])
            else { return false }
            for (r, range) in ranges.enumerated() {
                try db.execute(
                    sql: "INSERT INTO tasks (job_id, idx, state, kind, range_lower, range_upper) VALUES (?, ?, 'pending', 'merge', ?, ?)",
                    arguments: [jobId, total + r, range.lower.map { Data($0) }, range.upper.map { Data($0) }])
            }
            // The merge's own work is done (the ranges are the workers'): a crash from here on
            // is not the planning's. The statistics wait in the job for the result.
            try db.execute(
                sql: "UPDATE jobs SET merge_tasks = ?, merge_attempts = 0, statistics = ? WHERE id = ?",
                arguments: [ranges.count, stats, jobId])
            return true
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

    /// Records a failed attempt; the task goes back to pending (or to its other lease, when a
    /// copy runs), or fails its job after `maxAttempts`. Returns the job id when the job failed.
    package func recordFailure(
        _ leaseId: String, reason: String, maxAttempts: Int, retryDelay: @escaping @Sendable (_ failures: Int) -> Double,
        now: Double
    ) async throws -> String? {
        try await database.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT job_id, idx, failures, copy_lease_id FROM tasks t WHERE \(Self.byEitherLease) AND state = 'leased'
                        """, arguments: [leaseId])
            else { return nil }
            let jobId: String = row["job_id"]
            let index: Int = row["idx"]
            let failures: Int = row["failures"] + 1
            let copy: String? = row["copy_lease_id"]
            try db.execute(
                sql: "UPDATE tasks SET failures = ?, last_error = ? WHERE job_id = ? AND idx = ?",
                arguments: [failures, reason, jobId, index])
            if failures >= maxAttempts {
                try Self.failJob(db, jobId, reason: "task \(index) failed \(failures) times: \(reason)", now: now)
                return jobId
            }
            if copy == leaseId {
                try Self.dropCopy(db, jobId, index)
            } else if copy != nil {
                try Self.promoteCopy(db, jobId, index)
            } else {
                try db.execute(
                    sql: """
                        UPDATE tasks SET state = 'pending', lease_id = NULL, lease_expires = NULL, not_before = ? WHERE job_id = ? AND idx = ?
                        """, arguments: [now + retryDelay(failures), jobId, index])
            }
            return nil
        }
    }

    /// Returns tasks whose lease expired to pending, or to their copy when that one is still
    /// current; a task that has lost its lease too often fails its job. Returns the number of
    /// expired leases.
    package func expireLeases(now: Double, maxExpiries: Int) async throws -> Int {
        try await database.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT job_id, idx, expiries, lease_expires, copy_lease_id, copy_lease_expires FROM tasks
                    WHERE state = 'leased' AND (lease_expires < ?1 OR (copy_lease_id IS NOT NULL AND copy_lease_expires < ?1))
                    """, arguments: [now])
            var expired = 0
            for row in rows {
                let jobId: String = row["job_id"]
                let index: Int = row["idx"]
                let hasCopy = (row["copy_lease_id"] as String?) != nil
                let firstExpired = (row["lease_expires"] as Double? ?? now) < now
                let copyExpired = hasCopy && (row["copy_lease_expires"] as Double? ?? now) < now
                let lost = (firstExpired ? 1 : 0) + (copyExpired ? 1 : 0)
                expired += lost
                let expiries: Int = row["expiries"] + lost
                try db.execute(sql: "UPDATE tasks SET expiries = ? WHERE job_id = ? AND idx = ?", arguments: [expiries, jobId, index])
                switch (firstExpired, hasCopy && !copyExpired) {
                case (true, true):
                    try Self.promoteCopy(db, jobId, index)
                case (true, false):
                    try Self.dropCopy(db, jobId, index)
                    try db.execute(
                        sql: """
                            UPDATE tasks SET state = 'pending', lease_id = NULL, lease_expires = NULL WHERE job_id = ? AND idx = ?
                            """, arguments: [jobId, index])
                case (false, _):
                    try Self.dropCopy(db, jobId, index)
                }
                if expiries >= maxExpiries {
                    try Self.failJob(
                        db, jobId, reason: "task \(index) lost its worker \(expiries) times (workers crashing or too slow to heartbeat)",
                        now: now)
                }
            }
            return expired
        }
    }

    /// A task's copy lease ends; its first lease runs on.
    private static func dropCopy(_ db: Database, _ jobId: String, _ index: Int) throws {
        try db.execute(
            sql: """
                UPDATE tasks SET copy_lease_id = NULL, copy_lease_expires = NULL, copy_worker = NULL, copy_leased_at = NULL
                WHERE job_id = ? AND idx = ?
                """, arguments: [jobId, index])
    }

    /// A task's first lease ends and its copy takes its place (SQLite evaluates every `SET`
    /// from the row as it was).
    private static func promoteCopy(_ db: Database, _ jobId: String, _ index: Int) throws {
        try db.execute(
            sql: """
                UPDATE tasks SET lease_id = copy_lease_id, lease_expires = copy_lease_expires, worker = copy_worker, leased_at = copy_leased_at,
                lease_token = copy_lease_token, copy_lease_id = NULL, copy_lease_expires = NULL, copy_worker = NULL, copy_leased_at = NULL,
                copy_lease_token = NULL WHERE job_id = ? AND idx = ?
                """, arguments: [jobId, index])
    }

    private static func failJob(_ db: Database, _ jobId: String, reason: String, now: Double) throws {
        try db.execute(
            sql: """
                UPDATE jobs SET state = 'failed', error = ?, finished_at = ? WHERE id = ? AND state NOT IN \(JobState.endedSQL)
                """, arguments: [reason, now, jobId])
        try db.execute(sql: "UPDATE tasks SET state = 'abandoned' WHERE job_id = ? AND state IN ('pending', 'leased')", arguments: [jobId])
    }

    /// Jobs that ended before `cutoff` and still have files (results, or partials of failed
    /// and cancelled jobs) to remove.
    package func expiredJobs(finishedBefore cutoff: Double) async throws -> [String] {
        try await database.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM jobs WHERE finished_at < ? AND files_removed = 0", arguments: [cutoff])
        }
    }

    /// Marks a job's files as removed (its result, if any, is gone).
    package func forgetResult(_ jobId: String) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE jobs SET result_bytes = NULL, files_removed = 1 WHERE id = ?", arguments: [jobId])
        }
    }

    package func pruneJobs(finishedBefore cutoff: Double) async throws -> [String] {
        try await database.write { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM jobs WHERE finished_at < ?", arguments: [cutoff])
            for id in ids {
                for table in ["task_objects", "tasks", "job_recipients", "idempotency_keys"] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE job_id = ?", arguments: [id])
                }
                try db.execute(sql: "DELETE FROM jobs WHERE id = ?", arguments: [id])
            }
            return ids
        }
    }
}
