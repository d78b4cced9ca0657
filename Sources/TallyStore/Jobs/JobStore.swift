import Foundation
import TallyProtocol
import TallyReport

/// The coordinator's durable state — jobs, tasks and leases — behind one protocol, so routes and
/// scheduling do not know which database holds it. Every method is one atomic state change or
/// one consistent read; implementations do their blocking work off Swift's cooperative pool.
///
/// Times are wall-clock seconds since the epoch (`CoordinatorClock`).
package protocol JobStore: Sendable {
    // MARK: Jobs

    /// Stores a new queued job; with an idempotency key seen in the last 24 hours, the job that
    /// key created instead (when `request`, the request's bytes as sent, is the same). Refused
    /// when `owner` has `maxActive` jobs not yet ended.
    func createJob(
        _ definition: JobDefinition, owner: String, maxActive: Int, idempotency: (key: String, request: Data)?, now: Double
    ) async throws -> JobCreation
    /// A job by id.
    func job(_ id: String) async throws -> JobRecord?
    /// Jobs newest first, older than `beforeSequence` when given; only `owner`'s when given.
    func jobs(limit: Int, beforeSequence: Int64?, owner: String?) async throws -> [JobRecord]
    /// Jobs in one state, oldest first.
    func jobs(in state: JobState) async throws -> [JobRecord]
    /// Number of jobs per state.
    func jobCounts() async throws -> [JobState: Int]
    /// Number of tasks per state.
    func taskCounts() async throws -> [TaskState: Int]
    /// Turns a queued job into a running one with the plan's tasks; a job no longer queued is
    /// left alone. Tasks `shards` has a cached partial for start done, with its statistics;
    /// every task records its key. Returns true when nothing is left to compute (no tasks, or
    /// every one reused): the job went straight to merging, and the caller queues its merge.
    @discardableResult
    func start(_ jobId: String, plan: ReportPlan, shards: ShardLookup, now: Double) async throws -> Bool
    /// Ends a job that has not ended; its unfinished tasks are abandoned. Whether it changed.
    func finish(_ jobId: String, as state: JobState, error: String?, now: Double) async throws -> Bool
    /// Records a merged result; false when the job left `merging` meanwhile (cancelled).
    func succeed(_ jobId: String, users: Int, resultBytes: Int64, statistics: ReadStatistics, now: Double) async throws -> Bool
    /// Counts a final merge of a merging job as begun, before any of its work, and returns how
    /// many earlier merges of it began and never ended (the process died during them). Nil when
    /// the job is not merging.
    func beginMerge(_ jobId: String) async throws -> Int?
    /// Running jobs whose every task is done move to merging; returns their ids. Commits do it
    /// for their own job; this is for stores written before they did.
    func promoteFinishedJobs() async throws -> [String]
    /// Sends a merging job's task back to be computed again (its partial was lost or damaged),
    /// and the job back to running; after `maxLosses` such losses the job fails instead, with
    /// `reason`. Returns whether the job failed.
    func recompute(_ jobId: String, task index: Int, reason: String, maxLosses: Int, now: Double) async throws -> Bool
    /// Sums over a job's committed tasks.
    func totals(_ jobId: String) async throws -> JobTotals
    /// The final statistics of a succeeded job.
    func finalStatistics(_ jobId: String) async throws -> ReadStatistics?
    /// Both of those for many jobs in one read (a page of the job list).
    func totalsAndFinalStatistics(of jobIds: [String]) async throws -> [String: (totals: JobTotals, final: ReadStatistics?)]
    /// Jobs that ended before `cutoff` and still have files to remove.
    func expiredJobs(finishedBefore cutoff: Double) async throws -> [String]
    /// Marks a job's files as removed (its result, if any, is gone).
    func forgetResult(_ jobId: String) async throws

    /// Deletes the records (job, tasks, idempotency keys) of jobs that ended before `cutoff`;
    /// returns their ids.
    func pruneJobs(finishedBefore cutoff: Double) async throws -> [String]

    // MARK: Leases

    /// Leases the next pending task (the rule is in docs/design.md §3.3), or, when none is
    /// pending, a second copy of a straggling task another worker holds; nil when there is neither.
    /// The lease remembers `token`: only requests with that token may use it.
    /// Merge tasks (of merging jobs) go only to a `mergeCapable` worker whose token is trusted.
    func lease(
        worker: String, token: String, seconds: Double, stragglers: StragglerPolicy, mergeCapable: Bool, now: Double
    ) async throws -> GrantedLease?
    /// A job's tasks in index order.
    func tasks(of jobId: String) async throws -> [TaskRecord]
    /// A job's merge tasks (its ranges) in index order: what a merging job's supervision reads
    /// at every scheduler pass, without its aggregation tasks and their objects.
    func mergeTasks(of jobId: String) async throws -> [TaskRecord]
    /// What each done aggregation task's partial is named by in shared blobs, by plan index
    /// (`index` alone, when given): the lease whose upload was kept, or for a task given a cached
    /// shard, that shard's `ShardKey.fileToken`. Absent: not done.
    func partialNames(of jobId: String, task index: Int?) async throws -> [Int: String]
    /// The task a lease names (either of a straggler's two leases), with `worker` and
    /// `leaseToken` the lease's.
    func leasedTask(_ leaseId: String) async throws -> TaskRecord?
    /// Renews a lease while its job runs and its task is not done.
    func heartbeat(_ leaseId: String, seconds: Double, now: Double) async throws -> HeartbeatOutcome
    /// Commits a partial for a lease, only while that lease holds the task (the first of a
    /// straggler's two leases to commit wins). `install` moves the
    /// partial's file into place inside the same transaction, so a file is installed iff its
    /// commit is.
    func commit(
        _ leaseId: String, statistics: ReadStatistics, sourceRetries: Int64, now: Double,
        install: @escaping @Sendable (_ jobId: String, _ index: Int) throws -> Void
    ) async throws -> CommitOutcome
    /// Commits a merge task's rows (their CSV's `bytes` and CRC-32) for a lease, under the same
    /// rule as `commit`; `completesJob`
    /// when every merge task of the job is done (the job stays merging: its result is joined
    /// from the ranges next).
    func commitRange(
        _ leaseId: String, rows: Int, bytes: Int64, crc: UInt32, now: Double,
        install: @escaping @Sendable (_ jobId: String, _ index: Int) throws -> Void
    ) async throws -> CommitOutcome
    /// Plans a merging job's merge as merge tasks, one per range, after its aggregation tasks,
    /// keeping `statistics` (the partials' sums) for the result; false when the job is not
    /// merging or has merge tasks already.
    func planMerge(_ jobId: String, ranges: [UserKeyRange], statistics: ReadStatistics) async throws -> Bool
    /// Drops a merging job's merge tasks while none is leased (no worker is left to run them),
    /// so that the coordinator merges the job itself; whether it did.
    func dropMergeTasks(_ jobId: String) async throws -> Bool
    /// Records a failed attempt: the task goes back to pending, not to be leased before
    /// `now + retryDelay(failures)` (or, when the task has a second lease, that one carries
    /// on), or fails its job after `maxAttempts`. Returns the job id when the job failed.
    func recordFailure(
        _ leaseId: String, reason: String, maxAttempts: Int, retryDelay: @escaping @Sendable (_ failures: Int) -> Double,
        now: Double
    ) async throws -> String?
    /// Returns tasks whose lease expired to pending (or to their other lease, when a copy
    /// runs); a task that lost its lease `maxExpiries` times fails its job. Returns the number
    /// of expired leases.
    func expireLeases(now: Double, maxExpiries: Int) async throws -> Int
    /// Moves every lease deadline to at least `deadline` (at start-up: leases must not expire
    /// for time the coordinator itself was down).
    func extendLeases(until deadline: Double) async throws
}

extension JobStore {
    /// Leases an aggregation task (or a copy of one): what a worker without merge tasks gets.
    package func lease(worker: String, token: String, seconds: Double, stragglers: StragglerPolicy, now: Double) async throws
        -> GrantedLease?
    {
        try await lease(worker: worker, token: token, seconds: seconds, stragglers: stragglers, mergeCapable: false, now: now)
    }
}

extension JobStore {
    /// What a done task's partial is named by (`partialNames`): its lease, else its cached shard.
    package static func partialName(lease: String?, reused: Bool, key: String?, versions: String?) -> String? {
        if reused, let key, let versions { return ShardKey(objects: key, versions: versions).fileToken }
        return lease
    }
}
