import Foundation
import Logging
import ServiceLifecycle
import TallyProtocol
import TallyReport
import TallySources

/// The coordinator's background loop: plans queued jobs, expires lost leases, merges finished
/// jobs and removes expired results. It works only from the store, so after a restart it picks
/// up exactly where the previous process stopped (a job caught mid-merge is merged again).
struct JobScheduler: Service {
    let store: JobStore
    let files: DataDirectory
    let configuration: CoordinatorConfiguration
    let metrics: CoordinatorMetrics
    let merges: RunningMerges
    let wakeup: SchedulerWakeup
    let logger: Logger

    /// How often the loop runs at the latest (request handlers wake it earlier).
    static let tick: Duration = .milliseconds(200)
    /// How often expired results are removed.
    static let cleanUpInterval: Duration = .seconds(60)
    /// Listing attempts before a job fails on a source error that may be passing.
    static let listingAttempts = 3

    func run() async throws {
        // Leases outlived a coordinator that was down: their workers could not heartbeat, so
        // give them a fresh lease period instead of counting the outage against them.
        try store.extendLeases(until: Self.now() + configuration.leaseSeconds)
        await cancelWhenGracefulShutdown {
            var lastCleanUp: ContinuousClock.Instant?
            while !Task.isCancelled {
                // By the clock, not by passes: wake-ups make passes as frequent as commits.
                let now = ContinuousClock.now
                let cleanUp = lastCleanUp.map { now - $0 >= Self.cleanUpInterval } ?? true
                if cleanUp { lastCleanUp = now }
                await runOnce(cleanUp: cleanUp)
                await wakeup.wait(timeout: Self.tick)
            }
        }
    }

    /// One pass of every duty; errors are logged, never fatal to the loop.
    func runOnce(cleanUp: Bool = false) async {
        do {
            let expired = try store.expireLeases(now: Self.now(), maxExpiries: configuration.maxLeaseExpiries)
            if expired > 0 {
                metrics.leaseExpiries.increment(by: Int64(expired))
                logger.warning("leases expired", metadata: ["count": "\(expired)"])
            }
            for job in try store.jobs(in: .queued) { await plan(job) }
            _ = try store.promoteFinishedJobs()
            let merging = try store.jobs(in: .merging)
            for job in merging { await merge(job) }
            if merges.jobCount > 0 {
                // Jobs cancelled or failed while running leave a head start behind.
                merges.keep(only: Set(try store.jobs(in: .running).map(\.id) + merging.map(\.id)))
            }
            if cleanUp { try removeExpiredResults() }
        } catch {
            logger.error("scheduler pass failed", metadata: ["error": "\(error)"])
        }
    }

    /// Lists the job's source and stores its plan.
    func plan(_ job: JobRecord) async {
        let log = logger.with(job: job.id)
        guard let spec = configuration.sources[job.request.source] else {
            fail(job.id, "source '\(job.request.source)' is no longer configured")
            return
        }
        var attempt = 1
        while true {
            do {
                let source = try spec.open()
                let objects = try await source.list(format: spec.format)
                let plan = ReportPlan(objects: objects, window: job.window)
                try store.start(job.id, plan: plan, now: Self.now())
                log.info("job planned", metadata: ["tasks": "\(plan.tasks.count)", "objects": "\(plan.objectsSelected)", "bytes": "\(plan.bytes)"])
                return
            } catch let error as SourceError where error.isTransient && attempt < Self.listingAttempts {
                log.warning("listing failed, retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                attempt += 1
                try? await Task.sleep(for: .seconds(attempt))
            } catch {
                fail(job.id, "cannot list source '\(job.request.source)': \(error)")
                return
            }
        }
    }

    /// Merges a job's partials in plan order into the CSV result.
    func merge(_ job: JobRecord) async {
        let log = logger.with(job: job.id)
        do {
            let files = self.files
            let merges = self.merges
            let (csv, users, statistics) = try await BlockingWork.run {
                let merger = try merges.finish(job.id, tasksTotal: job.tasksTotal)
                let csv = merger.csv()
                try files.write(csv, to: files.resultPath(job.id))
                try files.write(try DataDirectory.gzip(csv), to: files.gzipResultPath(job.id))
                return (csv, merger.userCount, merger.statistics)
            }
            guard try store.succeed(job.id, users: users, resultBytes: Int64(csv.count), statistics: statistics, now: Self.now()) else {
                // Cancelled while merging: the job keeps its state, its files go.
                files.removeJob(job.id)
                return
            }
            try? FileManager.default.removeItem(atPath: files.jobFolder(job.id) + "/partials")
            log.info("job succeeded", metadata: ["users": "\(users)", "bytes": "\(csv.count)"])
        } catch {
            fail(job.id, "merge failed: \(error)")
        }
    }

    private func fail(_ jobId: String, _ reason: String) {
        logger.with(job: jobId).error("job failed", metadata: ["reason": "\(reason)"])
        _ = try? store.finish(jobId, as: .failed, error: reason, now: Self.now())
    }

    private func removeExpiredResults() throws {
        let cutoff = Self.now() - configuration.resultTTLDays * 86_400
        for jobId in try store.expiredJobs(finishedBefore: cutoff) {
            // Forget first: a crash in between must not leave a result listed but missing.
            try store.forgetResult(jobId)
            files.removeJob(jobId)
        }
    }

    /// Wall-clock seconds since the epoch (lease deadlines must survive restarts).
    static func now() -> Double { Date().timeIntervalSince1970 }
}

extension Logger {
    /// This logger with the job id attached to every line.
    func with(job: String) -> Logger {
        var copy = self
        copy[metadataKey: "job"] = "\(job)"
        return copy
    }
}
