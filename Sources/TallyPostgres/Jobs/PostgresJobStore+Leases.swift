import Foundation
import PostgresNIO
import TallyProtocol
import TallyReport
import TallyStore

/// Leases, heartbeats, commits and failures: the worker protocol's state changes, under the
/// rules of `JobStore` (docs/design.md §3.3) and the fencing of docs/design.md §3.10.
extension PostgresJobStore {
    package func lease(
        worker: String, token: String, seconds: Double, stragglers: StragglerPolicy, mergeCapable: Bool, now: Double
    ) async throws -> GrantedLease? {
        let leaseId = JobID.make()
        let worker = worker.storable
        // Merge tasks go only to a worker whose token the cache trusts (`TrustedProducer`).
        var mayMerge = false
        if mergeCapable {
            var binds = PostgresBindings()
            binds.append(token)
            let trusted = PostgresQuery(unsafeSQL: "SELECT \(TrustedProducer.sql("$1::text")) AS trusted", binds: binds)
            mayMerge = try await database.one(trusted)?.value("trusted", as: Bool.self) == true
        }
        // The claim: one statement. The jobs' loads are read once (MATERIALIZED: inlined, the
        // count of leased tasks ran again for every pending task, 190 ms a claim at 3,000 tasks); the pending task to take is
        // locked, skipping any another replica is taking this instant, and leased in the same
        // statement, so no transaction stays open while the task runs.
        if let row = try await database.one(
            """
            WITH load AS MATERIALIZED (
                SELECT j.id, j.sequence, j.state, (SELECT COUNT(*) FROM tasks l WHERE l.job_id = j.id AND l.state = 'leased') AS leased
                FROM jobs j WHERE j.state = 'running' OR (\(mayMerge) AND j.state = 'merging')
            ), candidate AS (
                SELECT t.job_id, t.idx FROM tasks t JOIN load ON load.id = t.job_id
                WHERE t.state = 'pending' AND (t.not_before IS NULL OR t.not_before <= \(now))
                AND ((load.state = 'running' AND t.kind = 'aggregate') OR (load.state = 'merging' AND t.kind = 'merge'))
                ORDER BY load.leased, load.sequence, t.idx LIMIT 1 FOR UPDATE OF t SKIP LOCKED
            )
            UPDATE tasks SET state = 'leased', lease_id = \(leaseId), lease_expires = \(now + seconds), worker = \(worker),
                leased_at = \(now), lease_token = \(token)
            FROM candidate WHERE tasks.job_id = candidate.job_id AND tasks.idx = candidate.idx AND tasks.state = 'pending'
            RETURNING tasks.job_id, tasks.idx
            """)
        {
            return try await grant(row.value("job_id"), row.value("idx"), leaseId: leaseId, isCopy: false)
        }
        return try await leaseCopy(
            worker: worker, token: token, seconds: seconds, stragglers: stragglers, mayMerge: mayMerge, leaseId: leaseId, now: now)
    }

    /// A second lease on the oldest straggler `worker` may copy (the rule is SQLite's); the copy
    /// is taken by a conditional update, so two replicas never give one task two copies.
    private func leaseCopy(
        worker: String, token: String, seconds: Double, stragglers policy: StragglerPolicy, mayMerge: Bool, leaseId: String, now: Double
    ) async throws -> GrantedLease? {
        guard policy.maxCopyShare > 0 else { return nil }
        let jobs = try await database.rows(
            """
            SELECT j.id, j.copies_started, CASE j.state WHEN 'merging' THEN j.merge_tasks ELSE j.tasks_total END AS tasks,
                   CASE j.state WHEN 'merging' THEN 'merge' ELSE 'aggregate' END AS kind
            FROM jobs j WHERE j.state = 'running' OR (\(mayMerge) AND j.state = 'merging' AND j.merge_tasks > 0) ORDER BY j.sequence
            """)
        for job in jobs {
            let jobId: String = try job.value("id")
            let kind: String = try job.value("kind")
            let tasks: Int = try job.value("tasks")
            let done =
                try await database.one(
                    "SELECT COUNT(*) AS n FROM tasks WHERE job_id = \(jobId) AND kind = \(kind) AND state = 'done'")?.value(
                    "n", as: Int.self)
                ?? 0
            let finished: [Double] = try await database.rows(
                """
                SELECT run_seconds FROM tasks WHERE job_id = \(jobId) AND kind = \(kind) AND state = 'done' AND run_seconds IS NOT NULL
                """
            ).map { try $0.value("run_seconds") }
            guard try job.value("copies_started", as: Int.self) < policy.copiesAllowed(tasks: tasks), policy.mayCopy(done: done, of: tasks),
                let runFor = policy.stragglerSeconds(finished: finished)
            else { continue }
            let copied = try await database.transaction { tx -> Int? in
                guard
                    let row = try await tx.one(
                        """
                        UPDATE tasks SET copy_lease_id = \(leaseId), copy_lease_expires = \(now + seconds), copy_worker = \(worker),
                            copy_leased_at = \(now), copy_lease_token = \(token)
                        WHERE (job_id, idx) = (
                            SELECT job_id, idx FROM tasks WHERE job_id = \(jobId) AND kind = \(kind) AND state = 'leased'
                            AND copy_lease_id IS NULL AND worker != \(worker) AND leased_at IS NOT NULL AND leased_at <= \(now - runFor)
                            ORDER BY leased_at, idx LIMIT 1 FOR UPDATE SKIP LOCKED)
                        AND state = 'leased' AND copy_lease_id IS NULL
                        RETURNING idx
                        """)
                else { return nil }
                try await tx.execute("UPDATE jobs SET copies_started = copies_started + 1 WHERE id = \(jobId) RETURNING 1")
                return try row.value("idx", as: Int.self)
            }
            if let index = copied { return try await grant(jobId, index, leaseId: leaseId, isCopy: true) }
        }
        return nil
    }

    private func grant(_ jobId: String, _ index: Int, leaseId: String, isCopy: Bool) async throws -> GrantedLease? {
        guard let job = try await Self.job(id: jobId, reader: database),
            let task = try await Self.tasks(
                database.rows("SELECT * FROM tasks WHERE job_id = \(jobId) AND idx = \(index)"), reader: database
            )
            .first
        else { return nil }
        return GrantedLease(job: job, task: task, leaseId: leaseId, isCopy: isCopy)
    }

    package func tasks(of jobId: String) async throws -> [TaskRecord] {
        try await Self.tasks(database.rows("SELECT * FROM tasks WHERE job_id = \(jobId) ORDER BY idx"), reader: database)
    }

    package func mergeTasks(of jobId: String) async throws -> [TaskRecord] {
        try await Self.tasks(
            database.rows("SELECT * FROM tasks WHERE job_id = \(jobId) AND kind = 'merge' ORDER BY idx"), reader: database)
    }

    package func partialNames(of jobId: String, task index: Int?) async throws -> [Int: String] {
        var names: [Int: String] = [:]
        for row in try await database.rows(
            """
            SELECT idx, committed_lease, reused, shard_key, shard_versions FROM tasks
            WHERE job_id = \(jobId) AND kind = 'aggregate' AND state = 'done' AND (\(index)::bigint IS NULL OR idx = \(index))
            """)
        {
            names[try row.value("idx")] = Self.partialName(
                lease: try row.value("committed_lease"), reused: try row.value("reused", as: Int.self) == 1,
                key: try row.value("shard_key"),
                versions: try row.value("shard_versions"))
        }
        return names
    }

    package func leasedTask(_ leaseId: String) async throws -> TaskRecord? {
        guard let row = try await database.one("SELECT * FROM tasks WHERE lease_id = \(leaseId) OR copy_lease_id = \(leaseId)"),
            var task = try await Self.tasks([row], reader: database).first
        else { return nil }
        if try row.value("copy_lease_id", as: String?.self) == leaseId {
            task.worker = try row.value("copy_worker")
            task.leaseToken = try row.value("copy_lease_token")
        } else {
            task.leaseToken = try row.value("lease_token")
        }
        return task
    }

    /// Renews a lease in one conditional statement; only when it changes nothing is the row read
    /// to tell an unknown lease from one whose task or job moved on.
    package func heartbeat(_ leaseId: String, seconds: Double, now: Double) async throws -> HeartbeatOutcome {
        let renewed = try await database.execute(
            """
            UPDATE tasks t SET
                lease_expires = CASE WHEN t.lease_id = \(leaseId) THEN \(now + seconds) ELSE t.lease_expires END,
                copy_lease_expires = CASE WHEN t.copy_lease_id = \(leaseId) THEN \(now + seconds) ELSE t.copy_lease_expires END
            FROM jobs j WHERE j.id = t.job_id AND (t.lease_id = \(leaseId) OR t.copy_lease_id = \(leaseId)) AND t.state = 'leased'
            AND j.state = CASE t.kind WHEN 'merge' THEN 'merging' ELSE 'running' END
            RETURNING 1
            """)
        if renewed > 0 { return .renewed }
        let known = try await database.one("SELECT 1 AS known FROM tasks WHERE lease_id = \(leaseId) OR copy_lease_id = \(leaseId)")
        return known == nil ? .unknown : .stop
    }

    package func commit(
        _ leaseId: String, statistics: ReadStatistics, sourceRetries: Int64, now: Double,
        install: @escaping @Sendable (_ jobId: String, _ index: Int) throws -> Void
    ) async throws -> CommitOutcome {
        let stats = try TallyJSON.encoder().encode(statistics)
        return try await committing(leaseId, kind: .aggregate, install: install) { tx, holder in
            try await tx.execute(
                """
                UPDATE tasks SET state = 'done', statistics = \(stats), committed_lease = \(leaseId), committed_token = \(holder.token ?? ""),
                    run_seconds = \(holder.runSeconds(now: now)), lease_expires = NULL, copy_lease_expires = NULL
                WHERE job_id = \(holder.jobId) AND idx = \(holder.index) AND state = 'leased'
                AND (lease_id = \(leaseId) OR copy_lease_id = \(leaseId)) RETURNING 1
                """)
        } after: { tx, holder in
            var (totals, kept) = try await Self.totals(holder.jobId, reader: tx)
            if kept { totals.add(statistics, sourceRetries: sourceRetries) } else { totals.sourceRetries += sourceRetries }
            try await tx.execute(
                """
                UPDATE jobs SET totals = \(try TallyJSON.encoder().encode(totals)), last_partial_at = \(now),
                    copies_won = copies_won + \(holder.byCopy ? 1 : 0) WHERE id = \(holder.jobId) RETURNING 1
                """)
            return try await Self.promoteIfDone(tx, holder.jobId)
        }
    }

    package func commitRange(
        _ leaseId: String, rows: Int, bytes: Int64, crc: UInt32, now: Double,
        install: @escaping @Sendable (_ jobId: String, _ index: Int) throws -> Void
    ) async throws -> CommitOutcome {
        try await committing(leaseId, kind: .merge, install: install) { tx, holder in
            try await tx.execute(
                """
                UPDATE tasks SET state = 'done', range_rows = \(rows), range_bytes = \(bytes), range_crc = \(Int64(crc)),
                    committed_lease = \(leaseId), committed_token = \(holder.token ?? ""), run_seconds = \(holder.runSeconds(now: now)),
                    lease_expires = NULL, copy_lease_expires = NULL
                WHERE job_id = \(holder.jobId) AND idx = \(holder.index) AND state = 'leased'
                AND (lease_id = \(leaseId) OR copy_lease_id = \(leaseId)) RETURNING 1
                """)
        } after: { tx, holder in
            try await tx.execute(
                "UPDATE jobs SET copies_won = copies_won + \(holder.byCopy ? 1 : 0) WHERE id = \(holder.jobId) RETURNING 1")
            return try await tx.one(
                "SELECT COUNT(*) AS n FROM tasks WHERE job_id = \(holder.jobId) AND kind = 'merge' AND state != 'done'")?.value(
                    "n", as: Int.self) == 0
        }
    }

    /// One commit of either kind: under the job's lock, the lease must hold its task (the rule of
    /// `holder`); the file is installed; then `mark`, the conditional update of the task, must
    /// change exactly its row, or nothing of the commit stays; `after` updates the job and tells
    /// whether the commit completes its stage.
    private func committing(
        _ leaseId: String, kind: TaskKind, install: @escaping @Sendable (_ jobId: String, _ index: Int) throws -> Void,
        mark: (PostgresTransaction, LeaseHolder) async throws -> Int,
        after: (PostgresTransaction, LeaseHolder) async throws -> Bool
    ) async throws -> CommitOutcome {
        guard
            let jobId = try await database.one("SELECT job_id FROM tasks WHERE lease_id = \(leaseId) OR copy_lease_id = \(leaseId)")?
                .value("job_id", as: String.self)
        else { return .leaseLost }
        return try await database.transaction { tx in
            try await tx.lockJob(jobId)
            let holder: LeaseHolder
            switch try await Self.holder(tx, leaseId, kind: kind) {
            case .holds(let found): holder = found
            case .not(let outcome): return outcome
            }
            try install(holder.jobId, holder.index)
            guard try await mark(tx, holder) == 1 else { throw StoreError("lease \(leaseId) lost its task while committing") }
            let completes = try await after(tx, holder)
            return .committed(jobId: holder.jobId, index: holder.index, byCopy: holder.byCopy, completesJob: completes)
        }
    }

    /// The task a committing lease holds, or why it holds none.
    enum LeaseCheck {
        case holds(LeaseHolder)
        case not(CommitOutcome)
    }

    /// The fencing rule of every commit (SQLite's): only a lease that still holds its task of
    /// `kind`, while the job is in that kind's state, commits; the first of two copies wins.
    static func holder(_ tx: PostgresTransaction, _ leaseId: String, kind: TaskKind) async throws -> LeaseCheck {
        guard
            let row = try await tx.one(
                """
                SELECT t.job_id, t.idx, t.kind, t.state AS task_state, j.state AS job_state, t.committed_lease, t.copy_lease_id,
                       t.leased_at, t.copy_leased_at, t.lease_token, t.copy_lease_token
                FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.lease_id = \(leaseId) OR t.copy_lease_id = \(leaseId) FOR UPDATE OF t
                """),
            try row.value("kind", as: String.self) == kind.rawValue
        else { return .not(.leaseLost) }
        let taskState: String = try row.value("task_state")
        if taskState == TaskState.done.rawValue {
            let winner: String? = try row.value("committed_lease")
            return .not(winner == nil || winner == leaseId ? .alreadyCommitted : .otherCopyWon)
        }
        let runningState: JobState = kind == .merge ? .merging : .running
        guard try row.value("job_state", as: String.self) == runningState.rawValue else { return .not(.jobEnded) }
        guard taskState == TaskState.leased.rawValue else { return .not(.leaseLost) }
        let byCopy = try row.value("copy_lease_id", as: String?.self) == leaseId
        return .holds(
            LeaseHolder(
                jobId: try row.value("job_id"), index: try row.value("idx"), byCopy: byCopy,
                token: try row.value(byCopy ? "copy_lease_token" : "lease_token"),
                leasedAt: try row.value(byCopy ? "copy_leased_at" : "leased_at")))
    }

    package func dropMergeTasks(_ jobId: String) async throws -> Bool {
        try await database.transaction { tx in
            try await tx.lockJob(jobId)
            // The merge tasks locked first: a lease claim (which takes no job lock) either leased
            // one before, and is seen, or waits and then finds it gone.
            let states: [String] = try await tx.rows(
                "SELECT state FROM tasks WHERE job_id = \(jobId) AND kind = 'merge' FOR UPDATE"
            ).map { try $0.value("state") }
            guard !states.isEmpty, !states.contains(TaskState.leased.rawValue),
                try await tx.one("SELECT 1 AS found FROM jobs WHERE id = \(jobId) AND state = 'merging' AND merge_tasks > 0") != nil
            else { return false }
            try await tx.execute("DELETE FROM tasks WHERE job_id = \(jobId) AND kind = 'merge' RETURNING 1")
            try await tx.execute("UPDATE jobs SET merge_tasks = 0 WHERE id = \(jobId) RETURNING 1")
            return true
        }
    }

    package func planMerge(_ jobId: String, ranges: [UserKeyRange], statistics: ReadStatistics) async throws -> Bool {
        let stats = try TallyJSON.encoder().encode(statistics)
        return try await database.transaction { tx in
            try await tx.lockJob(jobId)
            guard try await stillLeads(tx),
                let row = try await tx.one(
                    "SELECT tasks_total FROM jobs WHERE id = \(jobId) AND state = 'merging' AND merge_tasks = 0")
            else { return false }
            let total: Int = try row.value("tasks_total")
            for (r, range) in ranges.enumerated() {
                try await tx.execute(
                    """
                    INSERT INTO tasks (job_id, idx, state, kind, range_lower, range_upper)
                    VALUES (\(jobId), \(total + r), 'pending', 'merge', \(range.lower.map { Data($0) }), \(range.upper.map { Data($0) }))
                    """)
            }
            try await tx.execute(
                "UPDATE jobs SET merge_tasks = \(ranges.count), merge_attempts = 0, statistics = \(stats) WHERE id = \(jobId) RETURNING 1")
            return true
        }
    }

    package func recordFailure(
        _ leaseId: String, reason: String, maxAttempts: Int, retryDelay: @escaping @Sendable (_ failures: Int) -> Double,
        now: Double
    ) async throws -> String? {
        let reason = reason.storable
        guard
            let jobId = try await database.one("SELECT job_id FROM tasks WHERE lease_id = \(leaseId) OR copy_lease_id = \(leaseId)")?
                .value("job_id", as: String.self)
        else { return nil }
        return try await database.transaction { tx in
            try await tx.lockJob(jobId)
            guard
                let row = try await tx.one(
                    """
                    SELECT idx, failures, copy_lease_id FROM tasks
                    WHERE (lease_id = \(leaseId) OR copy_lease_id = \(leaseId)) AND state = 'leased' FOR UPDATE
                    """)
            else { return nil }
            let index: Int = try row.value("idx")
            let failures: Int = try row.value("failures") + 1
            let copy: String? = try row.value("copy_lease_id")
            try await tx.execute(
                "UPDATE tasks SET failures = \(failures), last_error = \(reason) WHERE job_id = \(jobId) AND idx = \(index) RETURNING 1")
            if failures >= maxAttempts {
                try await Self.failJob(tx, jobId, reason: "task \(index) failed \(failures) times: \(reason)", now: now)
                return jobId
            }
            if copy == leaseId {
                try await Self.dropCopy(tx, jobId, index)
            } else if copy != nil {
                try await Self.promoteCopy(tx, jobId, index)
            } else {
                try await tx.execute(
                    """
                    UPDATE tasks SET state = 'pending', lease_id = NULL, lease_expires = NULL, not_before = \(now + retryDelay(failures))
                    WHERE job_id = \(jobId) AND idx = \(index) RETURNING 1
                    """)
            }
            return nil
        }
    }

    /// Expires leases job by job, each under its job's lock, re-reading the rows once it holds it.
    package func expireLeases(now: Double, maxExpiries: Int) async throws -> Int {
        let jobIds: [String] = try await database.rows(
            """
            SELECT DISTINCT job_id FROM tasks
            WHERE state = 'leased' AND (lease_expires < \(now) OR (copy_lease_id IS NOT NULL AND copy_lease_expires < \(now)))
            """
        ).map { try $0.value("job_id") }
        var expired = 0
        for jobId in jobIds {
            expired += try await database.transaction { tx in
                try await tx.lockJob(jobId)
                let rows = try await tx.rows(
                    """
                    SELECT idx, expiries, lease_expires, copy_lease_id, copy_lease_expires FROM tasks
                    WHERE job_id = \(jobId) AND state = 'leased'
                    AND (lease_expires < \(now) OR (copy_lease_id IS NOT NULL AND copy_lease_expires < \(now))) FOR UPDATE
                    """)
                var lostHere = 0
                for row in rows {
                    let index: Int = try row.value("idx")
                    let hasCopy = try row.value("copy_lease_id", as: String?.self) != nil
                    let firstExpired = (try row.value("lease_expires", as: Double?.self) ?? now) < now
                    let copyExpired = try hasCopy && (row.value("copy_lease_expires", as: Double?.self) ?? now) < now
                    let lost = (firstExpired ? 1 : 0) + (copyExpired ? 1 : 0)
                    lostHere += lost
                    let expiries: Int = try row.value("expiries") + lost
                    try await tx.execute("UPDATE tasks SET expiries = \(expiries) WHERE job_id = \(jobId) AND idx = \(index) RETURNING 1")
                    switch (firstExpired, hasCopy && !copyExpired) {
                    case (true, true):
                        try await Self.promoteCopy(tx, jobId, index)
                    case (true, false):
                        try await Self.dropCopy(tx, jobId, index)
                        try await tx.execute(
                            """
                            UPDATE tasks SET state = 'pending', lease_id = NULL, lease_expires = NULL
                            WHERE job_id = \(jobId) AND idx = \(index) RETURNING 1
                            """)
                    case (false, _):
                        try await Self.dropCopy(tx, jobId, index)
                    }
                    if expiries >= maxExpiries {
                        try await Self.failJob(
                            tx, jobId,
                            reason: "task \(index) lost its worker \(expiries) times (workers crashing or too slow to heartbeat)", now: now)
                    }
                }
                return lostHere
            }
        }
        return expired
    }

    private static func dropCopy(_ tx: PostgresTransaction, _ jobId: String, _ index: Int) async throws {
        try await tx.execute(
            """
            UPDATE tasks SET copy_lease_id = NULL, copy_lease_expires = NULL, copy_worker = NULL, copy_leased_at = NULL
            WHERE job_id = \(jobId) AND idx = \(index) RETURNING 1
            """)
    }

    /// The first lease ends and its copy takes its place (PostgreSQL, like SQLite, evaluates
    /// every `SET` from the row as it was).
    private static func promoteCopy(_ tx: PostgresTransaction, _ jobId: String, _ index: Int) async throws {
        try await tx.execute(
            """
            UPDATE tasks SET lease_id = copy_lease_id, lease_expires = copy_lease_expires, worker = copy_worker, leased_at = copy_leased_at,
            lease_token = copy_lease_token, copy_lease_id = NULL, copy_lease_expires = NULL, copy_worker = NULL, copy_leased_at = NULL,
            copy_lease_token = NULL WHERE job_id = \(jobId) AND idx = \(index) RETURNING 1
            """)
    }
}
