import Logging
import ServiceLifecycle
import Synchronization
import TallyProtocol
import TallyServices
import TallyStore

/// The coordinator's timekeeper: expires lost leases and removes expired results; at start-up
/// it hands the merge pipeline the jobs a previous process left merging. It works only from the
/// store, so after a restart it picks up exactly where the previous process stopped (a job
/// caught mid-merge is merged again). Planning runs in its own service (`Planner`), so a slow
/// source listing never delays lease expiry or merges.
struct JobScheduler: Service {
    let store: any JobStore
    /// Where expired results and pruned jobs' files are removed from.
    let blobs: any BlobStore
    let configuration: CoordinatorConfiguration
    let clock: any CoordinatorClock
    let metrics: CoordinatorMetrics
    let merges: MergePipeline
    let logger: Logger

    /// How often leases are checked for expiry.
    static let tick: Double = 0.2
    /// How often expired results are removed, in seconds.
    static let cleanUpInterval: Double = 60

    func run() async throws {
        // Leases outlived a coordinator that was down: their workers could not heartbeat, so
        // give them a fresh lease period instead of counting the outage against them.
        // With replicas a new term is not an outage: the workers kept heartbeating to the others.
        if !configuration.store.isShared { try await store.extendLeases(until: clock.now() + configuration.leaseSeconds) }
        await resumeMerges()
        let lastCleanUp = Mutex<Double?>(nil)
        await PeriodicService.run(every: Self.tick, on: clock) {
            let now = clock.now()
            let cleanUp = lastCleanUp.withLock { last in
                guard last.map({ now - $0 >= Self.cleanUpInterval }) ?? true else { return false }
                last = now
                return true
            }
            await runOnce(cleanUp: cleanUp)
        }
    }

    /// At start-up, hands the merge pipeline the jobs a previous process left merging — and
    /// running jobs whose every task is done, which a store of a release that promoted jobs
    /// outside the commit may hold. Afterwards commits and plans queue their own merges.
    func resumeMerges() async {
        do {
            _ = try await store.promoteFinishedJobs()
            for job in try await store.jobs(in: .merging) { merges.requestMerge(job) }
        } catch {
            logger.error("cannot resume merges", metadata: ["error": "\(error)"])
        }
    }

    /// One pass: expire lost leases, drop head starts of jobs that ended, and (with `cleanUp`)
    /// remove expired results. Errors are logged, never fatal to the loop.
    func runOnce(cleanUp: Bool = false) async {
        do {
            let expired = try await store.expireLeases(now: clock.now(), maxExpiries: configuration.maxLeaseExpiries)
            if expired > 0 {
                metrics.leaseExpiries.increment(by: expired)
                logger.warning("leases expired", metadata: ["count": "\(expired)"])
            }
            // Jobs cancelled or failed while running leave a head start behind.
            let running = try await store.jobs(in: .running)
            let merging = try await store.jobs(in: .merging)
            merges.submit(.keep(only: Set(running.map(\.id) + merging.map(\.id))))
            await merges.supervise(merging)
            // With replicas, the commit that completed a job may have reached another one: the
            // leader takes every merging job up itself (a job already merging is not queued twice).
            // So does a replica whose merge could not fetch the job's files from shared blobs.
            if configuration.store.isShared || configuration.blobs.isShared {
                for job in merging { merges.requestMerge(job) }
            }
            if cleanUp { try await removeExpiredResults() }
        } catch {
            logger.error("scheduler pass failed", metadata: ["error": "\(error)"])
        }
    }

    private func removeExpiredResults() async throws {
        let cutoff = clock.now() - configuration.resultTTLDays * 86_400
        for jobId in try await store.expiredJobs(finishedBefore: cutoff) {
            // Forget first: a crash in between must not leave a result listed but missing.
            try await store.forgetResult(jobId)
            try await blobs.removeJob(jobId)
        }
        // Much later the job's record goes too (its files went above).
        let pruned = try await store.pruneJobs(finishedBefore: clock.now() - configuration.jobRetentionDays * 86_400)
        if !pruned.isEmpty {
            for id in pruned { try await blobs.removeJob(id) }
            logger.info("old jobs pruned", metadata: ["count": "\(pruned.count)"])
        }
        // Shared blobs of jobs the store no longer knows: a deposed leader's late upload of a
        // result, a removal that failed (docs/design.md §3.11).
        if blobs.isShared {
            let stored = Set(
                try await blobs.storedNames(under: "jobs").compactMap { $0.split(separator: "/").dropFirst().first.map(String.init) })
            for id in stored where try await store.job(id) == nil {
                try await blobs.removeFolder(blobs.files.jobFolder(id))
                logger.info("files of a job the store does not know removed", metadata: ["job": "\(id)"])
            }
        }
    }
}
