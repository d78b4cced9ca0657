import Logging
import NIOPosix
import ServiceLifecycle
import TallyProtocol

/// The coordinator's timekeeper: expires lost leases, moves jobs whose every task is done to
/// the merge pipeline, and removes expired results. It works only from the store, so after a
/// restart it picks up exactly where the previous process stopped (a job caught mid-merge is
/// merged again). Planning runs in its own service (`Planner`), so a slow source listing never
/// delays lease expiry or merges.
struct JobScheduler: Service {
    let store: any JobStore
    let files: DataDirectory
    let configuration: CoordinatorConfiguration
    let clock: any CoordinatorClock
    let metrics: CoordinatorMetrics
    let merges: MergePipeline
    let wakeup: SchedulerWakeup
    let logger: Logger

    /// How often the loop runs at the latest (commits wake it earlier).
    static let tick: Duration = .milliseconds(200)
    /// How often expired results are removed, in seconds.
    static let cleanUpInterval: Double = 60

    func run() async throws {
        // Leases outlived a coordinator that was down: their workers could not heartbeat, so
        // give them a fresh lease period instead of counting the outage against them.
        try await store.extendLeases(until: clock.now() + configuration.leaseSeconds)
        await cancelWhenGracefulShutdown {
            var lastCleanUp: Double?
            while !Task.isCancelled {
                let now = clock.now()
                let cleanUp = lastCleanUp.map { now - $0 >= Self.cleanUpInterval } ?? true
                if cleanUp { lastCleanUp = now }
                await runOnce(cleanUp: cleanUp)
                await wakeup.wait(timeout: Self.tick)
            }
        }
    }

    /// One pass of every duty; errors are logged, never fatal to the loop. Returns the jobs
    /// ready to merge, which it has handed to the merge pipeline.
    @discardableResult
    func runOnce(cleanUp: Bool = false) async -> [JobRecord] {
        do {
            let expired = try await store.expireLeases(now: clock.now(), maxExpiries: configuration.maxLeaseExpiries)
            if expired > 0 {
                metrics.leaseExpiries.increment(by: expired)
                logger.warning("leases expired", metadata: ["count": "\(expired)"])
            }
            _ = try await store.promoteFinishedJobs()
            let merging = try await store.jobs(in: .merging)
            for job in merging { merges.requestMerge(job) }
            // Jobs cancelled or failed while running leave a head start behind.
            let running = try await store.jobs(in: .running)
            merges.submit(.keep(only: Set(running.map(\.id) + merging.map(\.id))))
            if cleanUp { try await removeExpiredResults() }
            return merging
        } catch {
            logger.error("scheduler pass failed", metadata: ["error": "\(error)"])
            return []
        }
    }

    private func removeExpiredResults() async throws {
        let cutoff = clock.now() - configuration.resultTTLDays * 86_400
        for jobId in try await store.expiredJobs(finishedBefore: cutoff) {
            // Forget first: a crash in between must not leave a result listed but missing.
            try await store.forgetResult(jobId)
            let files = self.files
            try await NIOThreadPool.singleton.runIfActive { files.removeJob(jobId) }
        }
        // Much later the job's record goes too (its files went above).
        let pruned = try await store.pruneJobs(finishedBefore: clock.now() - configuration.jobRetentionDays * 86_400)
        if !pruned.isEmpty {
            let files = self.files
            try await NIOThreadPool.singleton.runIfActive { for id in pruned { files.removeJob(id) } }
            logger.info("old jobs pruned", metadata: ["count": "\(pruned.count)"])
        }
    }
}
