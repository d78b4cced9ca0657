import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization
import TallyDeflate
import TallyProtocol
import TallyReport
import TallyServices
import TallyStore

/// The coordinator's one merge pipeline: committed partials are folded into their job's report
/// as they arrive, and a job whose every task is done is merged into its CSV result.
///
/// Uploads (and the planner, for a job with nothing to compute) hand it work through an `AsyncStream`; one consumer (`run`) takes
/// the events in order and does their CPU and file work on NIO's thread pool, so the cooperative
/// pool stays free for requests and heartbeats. Nothing is dropped: a fold that fails only drops
/// a head start (the final merge redoes it), a final merge that fails fails its job with the
/// reason.
final class MergePipeline: Service {
    /// Partials of one job that may be found lost or damaged at merge time before the job fails.
    static let maximumPartialLosses = 3
    /// Final merges of one job that may die with the process (a crash, not a graceful stop,
    /// which lets a merge under way end) before the job fails instead of being merged again.
    static let maximumCrashedMerges = 2

    /// Work for the pipeline.
    enum Event: Sendable {
        /// A task's partial was committed; with `completesJob`, the job's last: merge it then.
        case committed(jobId: String, index: Int, partial: Partial?, completesJob: Bool)
        /// Every task of the job is done: merge it.
        case finish(JobRecord)
        /// Only these jobs are running or merging: drop what is kept for the others.
        case keep(only: Set<String>)
    }

    private let store: any JobStore
    /// Who leads among the replicas of a shared store (nil: this process always does): only the
    /// leader plans a merge, joins it and publishes the result; the others leave a job they are
    /// asked to merge to it.
    private let election: LeaderElection?
    private let files: DataDirectory
    /// Where partials are read from and results published to.
    private let blobs: any BlobStore
    private let shardCache: ShardCache
    private let clock: any CoordinatorClock
    private let logger: Logger
    private let threadPool: NIOThreadPool
    /// Ranges of users a streamed merge runs at once, on as many threads.
    private let mergeRanges: Int
    /// When the workers merge a job instead (nil: never), and who is there to do it.
    private let workerPlan: WorkerMergePlan?
    let mergeWorkers = MergeWorkers()
    /// How recently a merge worker must have asked for work to count.
    private let recentWorkerSeconds: Double
    let folds: JobFolds
    private let events: AsyncStream<Event>
    private let input: AsyncStream<Event>.Continuation
    /// Jobs whose final merge is queued or under way, so a scheduler pass that sees the job
    /// still merging does not queue it twice.
    private let merging = Mutex(Set<String>())

    init(
        store: any JobStore, blobs: any BlobStore, shardCache: ShardCache, clock: any CoordinatorClock, logger: Logger,
        headStartLimit: Int = .max, mergeRanges: Int = 1, workerPlan: WorkerMergePlan? = nil, recentWorkerSeconds: Double = 30,
        threadPool: NIOThreadPool = .singleton, election: LeaderElection? = nil
    ) {
        self.election = election
        self.mergeRanges = mergeRanges
        self.workerPlan = workerPlan
        self.recentWorkerSeconds = recentWorkerSeconds
        self.store = store
        self.files = blobs.files
        self.blobs = blobs
        self.shardCache = shardCache
        self.clock = clock
        self.logger = logger
        self.threadPool = threadPool
        folds = JobFolds(files: blobs.files, memoryLimit: headStartLimit)
        (events, input) = AsyncStream.makeStream(of: Event.self)
    }

    /// Queues work; returns at once.
    func submit(_ event: Event) {
        input.yield(event)
    }

    /// Queues a job's final merge unless it is queued or under way already.
    func requestMerge(_ job: JobRecord) {
        guard merging.withLock({ $0.insert(job.id).inserted }) else { return }
        input.yield(.finish(job))
    }

    /// Takes events until graceful shutdown; an event being handled is finished first.
    func run() async throws {
        await withGracefulShutdownHandler {
            for await event in events {
                await handle(event)
            }
        } onGracefulShutdown: {
            self.input.finish()
        }
    }

    /// Handles one event to its end.
    func handle(_ event: Event) async {
        switch event {
        case .committed(let jobId, let index, let partial, let completesJob):
            let folds = self.folds
            do {
                try await threadPool.runIfActive { folds.advance(jobId, committed: partial.map { (index, $0) }) }
            } catch {
                folds.forget(jobId)  // pool shutting down: the final merge redoes it
            }
            guard completesJob else { return }
            do {
                if let job = try await store.job(jobId) { requestMerge(job) }
            } catch {
                // The scheduler's start-up pass merges it after a restart.
                logger.error("cannot read the job to merge", metadata: ["job": "\(jobId)", "error": "\(error)"])
            }
        case .finish(let job):
            await merge(job)
            _ = merging.withLock { $0.remove(job.id) }
        case .keep(let active):
            folds.keep(only: active)
        }
    }

    /// Joins the committed rows of a job's merge tasks, in range order, under the header into the
    /// result and its gzip copy; the result's size.
    static func join(_ job: JobRecord, ranges: [TaskRecord], files: DataDirectory) throws -> Int64 {
        // The files of each range were fetched by `fetchInputs`.
        // A writer left unfinished removes what it wrote.
        let writer = try ResultWriter(files: files, jobId: job.id, compression: .joined)
        try writer.append(ReportRows.header(of: job.definition.report.kind))
        for range in ranges.sorted(by: { $0.index < $1.index }) {
            guard let crc = range.rangeCRC, let length = range.rangeBytes else {
                throw CoordinatorError.storage("merge task \(range.index) of job \(job.id) was committed without its rows' checksum")
            }
            let stored = files.rangeFiles(job.id, range.index, lease: range.committedLease)
            if let accepted = AcceptedRange.read(stored.record) {
                try writer.append(rows: stored.rows, segment: stored.segment, crc: crc, length: length, accepted: accepted)
            } else {
                // Committed by a release that kept only the segment: inflated here.
                try writer.append(segment: stored.segment, crc: crc, length: length)
            }
        }
        try writer.finish()
        return writer.bytes
    }

    /// Keeps the merges planned on the workers moving, at each scheduler pass: a job whose merge
    /// tasks are all done has its join requested (again: a request made while its last check
    /// ran would be lost), and a job whose pending merge tasks no merge worker has asked for in
    /// three of `recentWorkerSeconds` (the workers gone, replaced by older or untrusted ones) is
    /// merged here instead.
    func supervise(_ merging: [JobRecord]) async {
        let gone = mergeWorkers.count(since: clock.now() - 3 * recentWorkerSeconds) == 0
        for job in merging {
            do {
                let ranges = try await store.mergeTasks(of: job.id)
                guard !ranges.isEmpty else { continue }
                if ranges.allSatisfy({ $0.state == .done }) {
                    requestMerge(job)
                } else if gone, !ranges.contains(where: { $0.state == .leased }), try await store.dropMergeTasks(job.id) {
                    logger.warning("no worker runs merge tasks any more: the coordinator merges the job", metadata: ["job": "\(job.id)"])
                    requestMerge(job)
                }
            } catch {
                logger.error("cannot check the job's merge tasks", metadata: ["job": "\(job.id)", "error": "\(error)"])
            }
        }
    }

    /// The user directory stored when the job was planned.
    static func directory(of jobId: String, in files: DataDirectory) throws -> UserDirectory {
        let path = files.userDirectoryPath(jobId)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CoordinatorError.storage("the user directory \(path) is missing")
        }
        return try UserDirectory(encoded: Array(data))
    }

    /// What the coordinator's part of a job's merge gave: the result, or merge tasks to plan.
    private enum MergeStep: Sendable {
        case merged(resultBytes: Int64, users: Int, statistics: ReadStatistics)
        case onWorkers(ranges: [UserKeyRange], statistics: ReadStatistics)
    }

    /// Merges a job's partials in plan order into the CSV result and its gzip copy, and records
    /// the job as succeeded (or failed, with the reason). A large job is merged by the workers
    /// instead (docs/design.md §3.9): its merge tasks are planned here, and once the last one
    /// is committed, their ranges' rows are joined here into the result.
    func merge(_ job: JobRecord) async {
        guard leads else { return }
        guard let election else { return await mergeNow(job) }
        // With replicas the merge is the leader's: it is cancelled when this replica stops leading,
        // and the next leader merges the job again (the same bytes, docs/design.md §3.1).
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.mergeNow(job) }
            group.addTask { await election.waitUntilDeposed() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Whether this replica may still act on the job's failure: not when its merge was cancelled
    /// (shutting down, or deposed) or another replica leads now.
    private var mayFail: Bool { !Task.isCancelled && leads }

    /// Whether this replica leads now (always, with a store of its own).
    private var leads: Bool { election.map { $0.leadingTerm != nil } ?? true }

    /// Fetches what a merge reads where this replica has no copy: its user directory, and its
    /// ranges' files (merged on the workers) or else its partials, whose paths it returns.
    private func fetchInputs(of job: JobRecord, ranges: [TaskRecord]) async throws -> [String] {
        if job.definition.report.directory != nil {
            _ = try await blobs.refetch(files.userDirectoryPath(job.id))
        }
        guard ranges.isEmpty else {
            try await blobs.fetch(ranges.flatMap { files.rangeFiles(job.id, $0.index, lease: $0.committedLease).all })
            return []
        }
        return try await blobs.partials(of: job, store: store)
    }

    private func mergeNow(_ job: JobRecord) async {
        var log = logger
        log[metadataKey: "job"] = "\(job.id)"
        do {
            // Merge tasks under way: the workers are merging; the last commit asks again.
            let ranges = try await store.mergeTasks(of: job.id)
            if !ranges.isEmpty, ranges.contains(where: { $0.state != .done }) { return }
            // The files first, before the merge counts as begun: with a bucket out of reach the job
            // stays merging and is merged at a later pass.
            let partials: [String]
            do {
                partials = try await fetchInputs(of: job, ranges: ranges)
            } catch {
                log.warning("the job's files cannot be fetched; its merge is tried again later", metadata: ["error": "\(error)"])
                return
            }
            // Only a job still merging: a merge that ran already, or a cancel, leaves it alone.
            // The merge is counted before it starts, so one that kills the process is not run
            // again blindly at every restart (docs/reliability.md).
            guard let crashed = try await store.beginMerge(job.id) else { return }
            guard crashed < Self.maximumCrashedMerges else {
                guard mayFail else { return }
                let reason = "the merge stopped the coordinator \(crashed) times; the job's partials cannot be merged safely"
                log.error("job failed", metadata: ["reason": "\(reason)"])
                _ = try await store.finish(job.id, as: .failed, error: reason, now: clock.now())
                return
            }
            let (files, folds, mergeRanges, plan) = (self.files, self.folds, self.mergeRanges, self.workerPlan)
            let ceiling = job.definition.maxMalformedShare
            let report = job.definition.report
            let mergeWorkers = workerPlan == nil ? 0 : self.mergeWorkers.count(since: clock.now() - recentWorkerSeconds)
            let step: MergeStep
            if !ranges.isEmpty {
                let statistics = try await store.finalStatistics(job.id) ?? ReadStatistics()
                let resultBytes = try await threadPool.runIfActive { try Self.join(job, ranges: ranges, files: files) }
                step = .merged(resultBytes: resultBytes, users: ranges.reduce(0) { $0 + ($1.rangeRows ?? 0) }, statistics: statistics)
            } else {
                step = try await threadPool.runIfActive {
                    if folds.streams(job.id) {
                        folds.beginStreamedMerge(job.id)
                        let survey = try PartialSurvey(partials: partials)
                        if let ceiling, let excess = MalformedCeiling.excess(survey.statistics, ceiling: ceiling) { throw excess }
                        if let ranges = plan?.ranges(for: survey, mergeWorkers: mergeWorkers) {
                            return .onWorkers(ranges: ranges, statistics: survey.statistics)
                        }
                        let (bytes, users, statistics) = try StreamedJobMerge.run(
                            job, survey: survey, partials: partials, files: files, ceiling: ceiling, ranges: mergeRanges)
                        return .merged(resultBytes: bytes, users: users, statistics: statistics)
                    }
                    let merger = try folds.finish(job.id, partials: partials)
                    if let ceiling, let excess = MalformedCeiling.excess(merger.statistics, ceiling: ceiling) { throw excess }
                    let directory = report.directory != nil ? try Self.directory(of: job.id, in: files) : nil
                    let (csv, rows) = try merger.csv(of: report, directory: directory)
                    try files.writeSummary(ReportSummary(csv: csv), of: job.id)
                    try files.write(csv, to: files.resultPath(job.id))
                    try files.write(try GzipDeflater.gzip(csv), to: files.gzipResultPath(job.id))
                    return .merged(resultBytes: Int64(csv.count), users: rows, statistics: merger.statistics)
                }
            }
            let (resultBytes, users, statistics): (Int64, Int, ReadStatistics)
            switch step {
            case .onWorkers(let ranges, let statistics):
                if try await store.planMerge(job.id, ranges: ranges, statistics: statistics) {
                    log.info("merge planned on the workers", metadata: ["ranges": "\(ranges.count)", "merge_workers": "\(mergeWorkers)"])
                }
                return
            case .merged(let bytes, let rows, let summed):
                (resultBytes, users, statistics) = (bytes, rows, summed)
            }
            // Every replica serves the result: it is in the shared blobs before the store says so.
            try await blobs.publish([files.resultPath(job.id), files.gzipResultPath(job.id), files.summaryPath(job.id)], exclusive: false)
            // Only partials a whole merge read without fault are kept for later jobs: kept before the
            // success is recorded, so a job seen succeeded has its shards cached (with shared blobs,
            // their upload takes a while).
            if leads {
                let names = blobs.isShared ? try await store.partialNames(of: job.id, task: nil) : [:]
                await shardCache.keep(job, names: names, now: clock.now())
            }
            let succeeded = try await store.succeed(
                job.id, users: users, resultBytes: resultBytes, statistics: statistics, now: clock.now())
            // Refused: cancelled while merging (its files go), or, with replicas, published by a
            // newer leader while this one was deposed (its files are that leader's: they stay).
            let cancelled = try await succeeded ? false : store.job(job.id)?.state == .cancelled
            // Best effort: what is left goes with the job's retention (or the next cancel).
            do {
                if succeeded {
                    try await blobs.removePartials(job.id)
                } else if cancelled {
                    try await blobs.removeJob(job.id)
                }
            } catch {
                log.warning("the job's files not removed", metadata: ["error": "\(error)"])
            }
            guard succeeded else { return }
            log.info("job succeeded", metadata: ["users": "\(users)", "bytes": "\(resultBytes)"])
        } catch let excess as MalformedCeiling {
            guard mayFail else { return }
            log.error("job failed", metadata: ["reason": "\(excess)"])
            _ = try? await store.finish(job.id, as: .failed, error: "\(excess)", now: clock.now())
        } catch let unusable as UnusablePartial {
            guard mayFail else { return }
            // Compute that task again; only a job that keeps losing partials fails.
            log.error("partial lost, computing its task again", metadata: ["task": "\(unusable.index)", "reason": "\(unusable.reason)"])
            do {
                let path = try await blobs.partial(of: job.id, index: unusable.index, store: store)
                await shardCache.forgetReused(job.id, task: unusable.index)
                try await threadPool.runIfActive { try? FileManager.default.removeItem(atPath: path) }
                try? await blobs.remove([path])
                if try await store.recompute(
                    job.id, task: unusable.index, reason: "\(unusable)", maxLosses: Self.maximumPartialLosses,
                    now: clock.now())
                {
                    log.error("job failed", metadata: ["reason": "partials lost \(Self.maximumPartialLosses) times"])
                }
            } catch {
                log.error("cannot send the task back", metadata: ["error": "\(error)"])
            }
        } catch {
            guard mayFail else { return }
            log.error("job failed", metadata: ["reason": "merge failed: \(error)"])
            do {
                _ = try await store.finish(job.id, as: .failed, error: "merge failed: \(error)", now: clock.now())
            } catch {
                log.error("cannot record the job's failure", metadata: ["error": "\(error)"])
            }
        }
    }
}
