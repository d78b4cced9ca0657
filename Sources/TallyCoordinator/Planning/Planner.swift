import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import TallyProtocol
import TallyReport
import TallyServices
import TallySources
import TallyStore

/// Plans queued jobs: lists each job's source and stores the plan's tasks. It runs in its own
/// service so that a slow or failing listing holds up only planning, never lease expiry or
/// merges, and every listing has an overall deadline.
struct Planner: Service {
    let store: any JobStore
    /// Where user directories are kept for the merge.
    let blobs: any BlobStore
    let shardCache: ShardCache
    let threadPool: NIOThreadPool
    let configuration: CoordinatorConfiguration
    let clock: any CoordinatorClock
    /// Where a job whose plan has nothing left to compute goes straight away.
    let merges: MergePipeline
    let wakeup: Wakeup
    /// The coordinator's client for listings and user directories; the planner, its only user,
    /// shuts it down when it stops.
    let sources: SourceHTTPClient
    let logger: Logger

    /// How often queued jobs are looked for at the latest (submits wake it earlier).
    static let tick: Double = 0.5

    func run() async throws {
        await shardCache.sweep()
        await PeriodicService.run(every: Self.tick, on: clock, wakeup: wakeup) { await runOnce() }
        do { try await sources.shutdown() } catch { logger.warning("source client shutdown failed", metadata: ["error": "\(error)"]) }
    }

    /// Plans every queued job, oldest first.
    func runOnce() async {
        do {
            for job in try await store.jobs(in: .queued) {
                guard !Task.isCancelled else { return }
                await plan(job)
            }
        } catch {
            logger.error("planning pass failed", metadata: ["error": "\(error)"])
        }
    }

    /// Lists the job's source (within the listing deadline) and stores its plan, or fails the
    /// job with the reason.
    func plan(_ job: JobRecord) async {
        var log = logger
        log[metadataKey: "job"] = "\(job.id)"
        guard let source = configuration.sources[job.definition.source] else {
            await fail(job.id, "source '\(job.definition.source)' is no longer configured", log)
            return
        }
        do {
            let listingLog = log
            let retryPolicy = configuration.sourceRetry
            let objects = try await Deadline.run(seconds: configuration.listingTimeoutSeconds, expired: { _ in ListingTimeout() }) {
                try await Self.list(source, client: sources, retry: retryPolicy, log: listingLog)
            }
            let plan = ReportPlan(objects: objects, window: job.window, targetTaskBytes: configuration.taskTargetBytes)
            if let name = job.definition.report.directory {
                try await storeDirectory(name, of: job)
            }
            // A planning interrupted before its job started may have linked cached partials under
            // another plan's indexes: a queued job starts with none.
            try await blobs.removePartials(job.id)
            let shards = await shardCache.lookUp(
                plan, source: source, window: job.window, rowKey: job.definition.report.shape.key, jobId: job.id, now: clock.now())
            if try await store.start(job.id, plan: plan, shards: shards, now: clock.now()),
                let started = try await store.job(job.id)
            {
                merges.requestMerge(started)  // every shard reused, or none to read
            }
            log.info(
                "job planned",
                metadata: [
                    "tasks": "\(plan.tasks.count)", "objects": "\(plan.objectsSelected)", "bytes": "\(plan.bytes)",
                    "reused": "\(shards.reused.count)",
                ])
        } catch let error as UserDirectoryError {
            await fail(job.id, "\(error)", log)
        } catch is ListingTimeout {
            await fail(
                job.id,
                "cannot list source '\(job.definition.source)': no listing within \(String(format: "%g", configuration.listingTimeoutSeconds)) s",
                log)
        } catch is CancellationError {
            return  // shutting down: the job stays queued for the next start
        } catch let error as BlobStoreError {
            // The files' store, not the source: the job stays queued and is planned again.
            log.warning("the job's files cannot be stored; planning it again later", metadata: ["error": "\(error)"])
        } catch {
            await fail(job.id, "cannot list source '\(job.definition.source)': \(error)", log)
        }
    }

    /// Reads the job's user directory (within the listing deadline, retried like a listing),
    /// checks it, and keeps its emails in the job's folder for the merge.
    private func storeDirectory(_ name: String, of job: JobRecord) async throws {
        guard let location = configuration.userDirectories[name] else {
            throw UserDirectoryError(file: name, line: 0, reason: "no longer configured")
        }
        let (retry, log) = (configuration.sourceRetry, logger)
        let bytes: [UInt8]
        do {
            bytes = try await Deadline.run(seconds: configuration.listingTimeoutSeconds, expired: { _ in ListingTimeout() }) {
                try await retry.run(
                    { try await SingleFile.read(location, limit: Self.maximumDirectoryBytes, client: sources) },
                    onRetry: { attempt, error, pause in
                        log.warning(
                            "reading the user directory failed, retrying",
                            metadata: ["error": "\(error)", "retry": "\(attempt)", "pause_seconds": "\(pause)"])
                    })
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Named as the directory's failure, not the source's.
            throw UserDirectoryError(
                file: location, line: 0,
                reason: error is ListingTimeout ? "not read within \(configuration.listingTimeoutSeconds) s" : "\(error)")
        }
        let files = blobs.files
        try await threadPool.runIfActive {
            let directory = try UserDirectory(csv: bytes, name: location)
            try files.write(directory.encoded(), to: files.userDirectoryPath(job.id))
        }
        try await blobs.publish(files.userDirectoryPath(job.id), exclusive: false)
    }

    /// The largest user directory read.
    static let maximumDirectoryBytes = 512 << 20

    /// The source's objects, retrying errors that may be passing under the source retry policy.
    private static func list(
        _ source: ConfiguredSource, client: SourceHTTPClient, retry: SourceRetryPolicy, log: Logger
    ) async throws -> [LogObject] {
        try await retry.run(
            { try await source.open(client: client).list(format: source.format) },
            onRetry: { attempt, error, pause in
                log.warning(
                    "listing failed, retrying", metadata: ["error": "\(error)", "retry": "\(attempt)", "pause_seconds": "\(pause)"])
            })
    }

    private struct ListingTimeout: Error {}

    private func fail(_ jobId: String, _ reason: String, _ log: Logger) async {
        log.error("job failed", metadata: ["reason": "\(reason)"])
        do {
            _ = try await store.finish(jobId, as: .failed, error: reason, now: clock.now())
        } catch {
            log.error("cannot record the job's failure", metadata: ["error": "\(error)"])
        }
    }
}
