import Foundation
import PostgresNIO
import TallyProtocol
import TallyReport
import TallyStore

/// `JobStore` in PostgreSQL, shared by every coordinator replica. The rules are SQLite's
/// (`SQLiteJobStore`), and its tests run against both; what differs is how concurrent replicas
/// are kept apart (docs/design.md §3.10):
/// - a change to one job's state takes the job's advisory lock first (`lockJob`), and reads the
///   rows it changes after it holds it;
/// - a lease is claimed by one statement (`FOR UPDATE SKIP LOCKED`), so replicas leasing at once
///   take different tasks without waiting on each other;
/// - a commit's last write is conditional on the lease still holding the task, and it is that
///   update's row count that decides.
package final class PostgresJobStore: JobStore {
    package let database: PostgresDatabase
    /// This replica's leadership: planning a job and publishing its result are singleton
    /// writes, refused unless this replica still leads in the term it acts in.
    package let leader: LeaderTerm?

    /// The repository over a database; with `leader`, singleton writes are fenced by its term.
    package init(database: PostgresDatabase, leader: LeaderTerm? = nil) {
        self.database = database
        self.leader = leader
    }

    /// Whether this replica still leads in the term it last won (always, without an election):
    /// the fence of a singleton write, checked inside its transaction with the leader row locked
    /// `FOR SHARE` until the transaction ends, so no replica takes the lead over while the write
    /// commits, and a replica deposed since it decided to write changes nothing.
    func stillLeads(_ tx: PostgresTransaction) async throws -> Bool {
        guard let leader else { return true }
        guard let term = leader.term else { return false }
        return try await tx.one(
            """
            SELECT 1 AS leads FROM coordinator_leader WHERE name = \(PostgresLeaderLease.name) AND holder = \(leader.holder)
            AND term = \(term) AND expires_at > extract(epoch FROM clock_timestamp()) FOR SHARE
            """) != nil
    }

    // MARK: Jobs

    package func createJob(
        _ definition: JobDefinition, owner: String, maxActive: Int, idempotency: (key: String, request: Data)?, now: Double
    ) async throws -> JobCreation {
        let id = JobID.make()
        // Keys are bytes: the service's keys join the owner and the client's key with a NUL,
        // which PostgreSQL's text cannot hold.
        let key = idempotency.map { Data($0.key.utf8) }
        return try await database.transaction { tx in
            // One owner's jobs are counted and created one at a time, whichever replica takes them.
            try await tx.execute("SELECT pg_advisory_xact_lock(\(Self.ownerLockSpace), hashtext(\(owner)))")
            if let idempotency {
                try await tx.execute("SELECT pg_advisory_xact_lock(\(Self.keyLockSpace), hashtext(encode(\(key), 'hex')))")
                try await tx.execute("DELETE FROM idempotency_keys WHERE created_at < \(now - SQLiteJobStore.idempotencyWindow)")
                if let row = try await tx.one("SELECT request, job_id FROM idempotency_keys WHERE key = \(key)") {
                    guard try row.value("request", as: Data.self) == idempotency.request,
                        let job = try await Self.job(id: row.value("job_id"), reader: tx)
                    else { return .keyReused }
                    return .replayed(job)
                }
            }
            let active =
                try await tx.one(
                    "SELECT COUNT(*) AS n FROM jobs WHERE owner = \(owner) AND state IN \(unescaped: JobState.unendedSQL)")?.value(
                    "n", as: Int.self) ?? 0
            guard active < maxActive else { return .tooManyActive(active) }
            let sequence = try await Self.insertJob(tx, id: id, definition: definition, owner: owner, now: now)
            if let idempotency {
                try await tx.execute(
                    """
                    INSERT INTO idempotency_keys (key, request, job_id, created_at) VALUES (\(key), \(idempotency.request), \(id), \(now))
                    """)
            }
            return .created(
                JobRecord(
                    id: id, sequence: sequence, definition: definition, state: .queued, error: nil,
                    createdAt: now, startedAt: nil, lastPartialAt: nil, finishedAt: nil, tasksTotal: 0, objectsTotal: 0,
                    bytesTotal: 0, users: nil, resultBytes: nil, owner: owner))
        }
    }

    /// Advisory lock spaces of the per-owner and per-key locks `createJob` takes.
    static let ownerLockSpace: Int32 = 7_411_002
    static let keyLockSpace: Int32 = 7_411_003

    package func job(_ id: String) async throws -> JobRecord? {
        try await Self.job(id: id, reader: database)
    }

    package func jobs(limit: Int, beforeSequence: Int64?, owner: String?) async throws -> [JobRecord] {
        try await Self.jobs(
            database.rows(
                """
                SELECT * FROM jobs WHERE sequence < \(beforeSequence ?? Int64.max) AND (\(owner)::text IS NULL OR owner = \(owner))
                ORDER BY sequence DESC LIMIT \(limit)
                """), reader: database)
    }

    package func jobs(in state: JobState) async throws -> [JobRecord] {
        try await Self.jobs(database.rows("SELECT * FROM jobs WHERE state = \(state.rawValue) ORDER BY sequence"), reader: database)
    }

    package func jobCounts() async throws -> [JobState: Int] {
        var counts: [JobState: Int] = [:]
        for row in try await database.rows("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
            if let state = JobState(rawValue: try row.value("state")) { counts[state] = try row.value("n") }
        }
        return counts
    }

    package func taskCounts() async throws -> [TaskState: Int] {
        var counts: [TaskState: Int] = [:]
        for row in try await database.rows("SELECT state, COUNT(*) AS n FROM tasks GROUP BY state") {
            if let state = TaskState(rawValue: try row.value("state")) { counts[state] = try row.value("n") }
        }
        return counts
    }

    package func start(_ jobId: String, plan: ReportPlan, shards: ShardLookup, now: Double) async throws -> Bool {
        let encoder = TallyJSON.encoder()
        let reusedStatistics = try shards.reused.mapValues { try encoder.encode($0.statistics) }
        var totals = JobTotals()
        for reused in shards.reused.values { totals.addReused(reused.statistics) }
        let encodedTotals = try encoder.encode(totals)
        return try await database.transaction { tx in
            try await tx.lockJob(jobId)
            guard try await stillLeads(tx),
                try await tx.one("SELECT state FROM jobs WHERE id = \(jobId)")?.value("state", as: String.self) == JobState.queued.rawValue
            else { return false }
            try await tx.execute("DELETE FROM tasks WHERE job_id = \(jobId)")
            try await tx.execute("DELETE FROM task_objects WHERE job_id = \(jobId)")
            for task in plan.tasks {
                let key = shards.keys[task.index]
                let reused = shards.reused[task.index] != nil
                try await tx.execute(
                    """
                    INSERT INTO tasks (job_id, idx, state, shard_start, shard_end, shard_key, shard_versions, reused, statistics)
                    VALUES (\(jobId), \(task.index), \((reused ? TaskState.done : TaskState.pending).rawValue), \(task.shard?.start),
                        \(task.shard?.end), \(key?.objects), \(key?.versions), \(reused ? 1 : 0), \(reusedStatistics[task.index]))
                    """)
                try await Self.insertObjects(tx, of: task, jobId: jobId)
            }
            // Nothing left to compute (no tasks, or every shard reused): straight to merging.
            let state: JobState = plan.tasks.count == shards.reused.count ? .merging : .running
            try await tx.execute(
                """
                UPDATE jobs SET state = \(state.rawValue), started_at = \(now), tasks_total = \(plan.tasks.count),
                    objects_total = \(plan.objectsSelected), bytes_total = \(plan.bytes), totals = \(encodedTotals) WHERE id = \(jobId)
                """)
            return state == .merging
        }
    }

    @discardableResult
    package func finish(_ jobId: String, as state: JobState, error: String?, now: Double) async throws -> Bool {
        try await database.transaction { tx in
            try await tx.lockJob(jobId)
            guard
                try await tx.execute(
                    """
                    UPDATE jobs SET state = \(state.rawValue), error = \(error?.storable), finished_at = \(now)
                    WHERE id = \(jobId) AND state NOT IN \(unescaped: JobState.endedSQL) RETURNING 1
                    """) > 0
            else { return false }
            // Lease ids are kept, as in SQLite: a worker still holding one hears `stop`.
            try await tx.execute("UPDATE tasks SET state = 'abandoned' WHERE job_id = \(jobId) AND state IN ('pending', 'leased')")
            return true
        }
    }

    package func succeed(_ jobId: String, users: Int, resultBytes: Int64, statistics: ReadStatistics, now: Double) async throws -> Bool {
        let stats = try TallyJSON.encoder().encode(statistics)
        return try await database.transaction { tx in
            try await tx.lockJob(jobId)
            guard try await stillLeads(tx) else { return false }
            return try await tx.execute(
                """
                UPDATE jobs SET state = 'succeeded', users = \(users), result_bytes = \(resultBytes), statistics = \(stats),
                    finished_at = \(now) WHERE id = \(jobId) AND state = 'merging' RETURNING 1
                """) > 0
        }
    }

    package func extendLeases(until deadline: Double) async throws {
        // Every replica starting would push every lease out; only leases of a store nobody served
        // for a while need it, which is what a replica that finds no leader (no replica up) sees.
        try await database.execute(
            "UPDATE tasks SET lease_expires = GREATEST(lease_expires, \(deadline)) WHERE state = 'leased' RETURNING 1")
        try await database.execute(
            """
            UPDATE tasks SET copy_lease_expires = GREATEST(copy_lease_expires, \(deadline))
            WHERE state = 'leased' AND copy_lease_id IS NOT NULL RETURNING 1
            """)
    }

    /// Moves a running job whose every task is done to merging; whether it did. (A running job's
    /// tasks are pending, leased or done: asking for the first two reads the partial indexes,
    /// not every done row of the job at every commit.)
    static func promoteIfDone(_ tx: PostgresTransaction, _ jobId: String) async throws -> Bool {
        try await tx.execute(
            """
            UPDATE jobs SET state = 'merging' WHERE id = \(jobId) AND state = 'running'
            AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = jobs.id AND t.state IN ('pending', 'leased')) RETURNING 1
            """) > 0
    }

    package func promoteFinishedJobs() async throws -> [String] {
        var promoted: [String] = []
        for row in try await database.rows("SELECT id FROM jobs WHERE state = 'running'") {
            let id: String = try row.value("id")
            if try await database.transaction({ tx in
                try await tx.lockJob(id)
                return try await Self.promoteIfDone(tx, id)
            }) {
                promoted.append(id)
            }
        }
        return promoted
    }

    package func beginMerge(_ jobId: String) async throws -> Int? {
        try await database.transaction { tx in
            try await tx.lockJob(jobId)
            guard let row = try await tx.one("SELECT merge_attempts FROM jobs WHERE id = \(jobId) AND state = 'merging'") else {
                return nil
            }
            try await tx.execute("UPDATE jobs SET merge_attempts = merge_attempts + 1 WHERE id = \(jobId)")
            return try row.value("merge_attempts", as: Int.self)
        }
    }

    package func recompute(_ jobId: String, task index: Int, reason: String, maxLosses: Int, now: Double) async throws -> Bool {
        try await database.transaction { tx in
            try await tx.lockJob(jobId)
            // Fenced: only the leader sends a merging job's task back.
            guard try await stillLeads(tx),
                let row = try await tx.one("SELECT partial_losses FROM jobs WHERE id = \(jobId) AND state = 'merging'")
            else { return false }
            let losses: Int = try row.value("partial_losses")
            guard losses + 1 < maxLosses else {
                try await tx.execute("UPDATE jobs SET partial_losses = \(losses + 1) WHERE id = \(jobId)")
                try await Self.failJob(tx, jobId, reason: "\(reason) (partials lost \(losses + 1) times)", now: now)
                return true
            }
            try await tx.execute(
                """
                UPDATE tasks SET state = 'pending', statistics = NULL, lease_id = NULL, lease_expires = NULL, worker = NULL, not_before = NULL,
                committed_lease = NULL, run_seconds = NULL, leased_at = NULL, copy_lease_id = NULL, copy_lease_expires = NULL,
                copy_worker = NULL, copy_leased_at = NULL, reused = 0
                WHERE job_id = \(jobId) AND idx = \(index)
                """)
            try await tx.execute("DELETE FROM tasks WHERE job_id = \(jobId) AND kind = 'merge'")
            try await tx.execute(
                """
                UPDATE jobs SET state = 'running', partial_losses = \(losses + 1), totals = NULL, merge_attempts = 0, merge_tasks = 0
                WHERE id = \(jobId)
                """)
            return false
        }
    }

    package func totals(_ jobId: String) async throws -> JobTotals {
        try await Self.totals(jobId, reader: database).totals
    }

    /// A job's running totals, or, where there are none (one whose lost partial is computed
    /// again), the sums of its done tasks' statistics; `kept` tells which.
    static func totals(_ jobId: String, reader: some PostgresReader) async throws -> (totals: JobTotals, kept: Bool) {
        let decoder = TallyJSON.decoder()
        if let kept = try await reader.rows("SELECT totals FROM jobs WHERE id = \(jobId)").first?.value("totals", as: Data?.self) {
            return (try decoder.decode(JobTotals.self, from: kept), true)
        }
        var totals = JobTotals()
        for row in try await reader.rows(
            "SELECT statistics, reused FROM tasks WHERE job_id = \(jobId) AND state = 'done' AND statistics IS NOT NULL ORDER BY idx")
        {
            let statistics = try decoder.decode(ReadStatistics.self, from: try row.value("statistics", as: Data.self))
            if try row.value("reused", as: Int.self) == 1 { totals.addReused(statistics) } else { totals.add(statistics) }
        }
        return (totals, false)
    }

    package func finalStatistics(_ jobId: String) async throws -> ReadStatistics? {
        let data = try await database.one("SELECT statistics FROM jobs WHERE id = \(jobId)")?.value("statistics", as: Data?.self)
        return try data.map { try TallyJSON.decoder().decode(ReadStatistics.self, from: $0) }
    }

    package func totalsAndFinalStatistics(of jobIds: [String]) async throws -> [String: (totals: JobTotals, final: ReadStatistics?)] {
        let decoder = TallyJSON.decoder()
        var found: [String: (totals: JobTotals, final: ReadStatistics?)] = [:]
        guard !jobIds.isEmpty else { return found }
        for row in try await database.rows("SELECT id, totals, statistics FROM jobs WHERE id = ANY(\(jobIds))") {
            let id: String = try row.value("id")
            let totals: JobTotals
            if let kept = try row.value("totals", as: Data?.self) {
                totals = try decoder.decode(JobTotals.self, from: kept)
            } else {
                totals = try await Self.totals(id, reader: database).totals
            }
            found[id] = (totals, try row.value("statistics", as: Data?.self).map { try decoder.decode(ReadStatistics.self, from: $0) })
        }
        return found
    }

    package func expiredJobs(finishedBefore cutoff: Double) async throws -> [String] {
        try await database.rows("SELECT id FROM jobs WHERE finished_at < \(cutoff) AND files_removed = 0").map { try $0.value("id") }
    }

    package func forgetResult(_ jobId: String) async throws {
        try await database.execute("UPDATE jobs SET result_bytes = NULL, files_removed = 1 WHERE id = \(jobId) RETURNING 1")
    }

    /// Deletes ended jobs' rows; their tasks, objects and recipients go with them (`ON DELETE
    /// CASCADE`), so the tasks table holds only jobs within the retention (docs/operations.md).
    package func pruneJobs(finishedBefore cutoff: Double) async throws -> [String] {
        try await database.transaction { tx in
            let ids: [String] = try await tx.rows("DELETE FROM jobs WHERE finished_at < \(cutoff) RETURNING id").map { try $0.value("id") }
            if !ids.isEmpty { try await tx.execute("DELETE FROM idempotency_keys WHERE job_id = ANY(\(ids)) RETURNING 1") }
            return ids
        }
    }

    static func failJob(_ tx: PostgresTransaction, _ jobId: String, reason: String, now: Double) async throws {
        try await tx.execute(
            """
            UPDATE jobs SET state = 'failed', error = \(reason.storable), finished_at = \(now)
            WHERE id = \(jobId) AND state NOT IN \(unescaped: JobState.endedSQL) RETURNING 1
            """)
        try await tx.execute("UPDATE tasks SET state = 'abandoned' WHERE job_id = \(jobId) AND state IN ('pending', 'leased') RETURNING 1")
    }
}
