import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TallyClient
import TallyFormats
import TallyProtocol
import TallyReport
import TallySources

/// A worker process's main loop: `concurrency` slots each lease a task, run it with heartbeats,
/// and upload its partial, until cancelled. A worker holds no state worth keeping: killed at
/// any moment, its leases expire and other workers take the tasks over.
///
/// A ServiceLifecycle service: graceful shutdown stops it; its leases then expire and go to
/// other workers.
public struct Worker: Service {
    /// The coordinator connection.
    public let coordinator: WorkerProtocolClient
    /// Name shown in the coordinator's logs and metrics.
    public let name: String
    /// Tasks run at once.
    public let concurrency: Int
    let logger: Logger

    /// Pauses after empty lease answers: the first is short, because a worker that just
    /// started or just finished a task is likely to find one (a job being planned, the next
    /// task of a running job), then they double up to the longest, which is all an idle worker
    /// costs the coordinator.
    static let shortestIdlePause: Duration = .milliseconds(20)
    static let longestIdlePause: Duration = .milliseconds(250)

    /// A worker.
    /// The sources' HTTP client: the worker's own, shut down when it stops.
    let sources = SourceHTTPClient()
    /// When the worker races a slow object read with a second request (every slot's reads).
    let hedging = ReadHedging()
    /// Whether the coordinator takes the merge extension; an older one refuses the field.
    private let merging = MergeOffer()

    /// Whether merge tasks are still offered, shared by the slots.
    private final class MergeOffer: Sendable {
        let offered = Mutex(true)
    }

    /// Asks for a task, offering to run merge tasks unless the coordinator predates them (it
    /// refuses the `capabilities` field with a `400` naming it): then it asks as a v1 worker.
    private func lease() async throws -> LeaseGrant? {
        guard merging.offered.withLock({ $0 }) else { return try await coordinator.lease(worker: name) }
        do {
            return try await coordinator.lease(worker: name, capabilities: [WorkerProtocol.mergeCapability])
        } catch ClientError.refused(let status, let reason) where status == 400 && reason.contains("capabilities") {
            merging.offered.withLock { $0 = false }
            logger.warning("the coordinator predates merge tasks: upgrade it; asking for aggregation tasks only")
            return try await coordinator.lease(worker: name)
        }
    }

    public init(coordinator: WorkerProtocolClient, name: String, concurrency: Int, logger: Logger) {
        self.coordinator = coordinator
        self.name = name
        self.concurrency = concurrency
        self.logger = logger
    }

    /// Runs until graceful shutdown or cancellation.
    public func run() async throws {
        logger.info("worker started", metadata: ["coordinator": "\(coordinator.connection.baseURL)", "concurrency": "\(concurrency)"])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for slot in 0..<concurrency {
                    group.addTask { await runSlot(slot) }
                }
            }
        }
        do { try await sources.shutdown() } catch { logger.warning("source client shutdown failed", metadata: ["error": "\(error)"]) }
    }

    private func runSlot(_ slot: Int) async {
        var idlePause = Self.shortestIdlePause
        while !Task.isCancelled {
            do {
                guard let grant = try await lease() else {
                    try await Task.sleep(for: idlePause)
                    idlePause = min(idlePause * 2, Self.longestIdlePause)
                    continue
                }
                idlePause = Self.shortestIdlePause
                try await runLeased(grant)
            } catch is CancellationError {
                return
            } catch {
                logger.error("worker slot error", metadata: ["slot": "\(slot)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// How a leased task ended.
    enum Outcome: Sendable {
        /// The partial was uploaded; `reply` is nil when the lease had been lost meanwhile.
        case uploaded(UploadReply?, bytes: Int)
        /// Reading, parsing or uploading failed; `permanent` when trying again cannot help.
        case failed(String, permanent: Bool)
        /// The coordinator said stop (job cancelled or ended, lease gone).
        case stopped
    }

    /// Runs one leased task: the work (read, aggregate, upload) races the heartbeat loop, which
    /// keeps the lease alive until the upload is answered and cancels the work when the
    /// coordinator says stop.
    func runLeased(_ grant: LeaseGrant) async throws {
        var taskLog = logger
        taskLog[metadataKey: "job"] = "\(grant.jobId)"
        taskLog[metadataKey: "task"] = "\(grant.task.index)"
        let log = taskLog
        let started = ContinuousClock.now
        let outcome: Outcome = await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                do {
                    if let merge = grant.merge {
                        guard let (rows, count) = try await MergeTaskRunner.run(grant, merge: merge, coordinator: coordinator) else {
                            return .stopped
                        }
                        return .uploaded(try await coordinator.uploadRows(grant.leaseId, rows: rows, count: count), bytes: rows.count)
                    }
                    let source = try grant.source.configuredSource()
                    let retry = grant.retry?.policy ?? SourceRetryPolicy()
                    let (bytes, retries) = try await TaskRunner.runEncoded(
                        grant.task.engineTask, window: try grant.window.engineWindow(), shape: try grant.shape(), format: source.format,
                        source: try source.open(client: sources),
                        retry: retry, hedging: hedging,
                        onRetry: { retry, error, pause in
                            log.warning(
                                "source read failed, retrying",
                                metadata: [
                                    "retry": "\(retry)", "error": "\(error)", "pause_seconds": "\(String(format: "%.2f", pause))",
                                ])
                        },
                        onHedge: { object, offset in
                            log.info(
                                "slow read hedged: the rest asked for again", metadata: ["object": "\(object)", "offset": "\(offset)"])
                        })
                    return .uploaded(
                        try await coordinator.upload(grant.leaseId, partial: bytes, sourceRetries: retries), bytes: bytes.count)
                } catch is CancellationError {
                    return nil
                } catch let error as SourceError {
                    return .failed(String(describing: error), permanent: !error.isTransient)
                } catch let error as LogReadError {
                    // A corrupt or oversized object reads the same the next time.
                    return .failed(String(describing: error), permanent: true)
                } catch let error as ReportWindowError {
                    return .failed(String(describing: error), permanent: true)
                } catch let error as WireFormatError {
                    return .failed(String(describing: error), permanent: true)
                } catch {
                    return .failed(String(describing: error), permanent: false)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(Int(grant.heartbeatSeconds * 1000)))
                    if Task.isCancelled { return nil }
                    let keep = (try? await coordinator.heartbeat(grant.leaseId)) ?? false
                    if !keep { return .stopped }
                }
                return nil
            }
            var result: Outcome = .stopped
            if let first = await group.next(), let outcome = first { result = outcome }
            group.cancelAll()
            return result
        }
        try Task.checkCancellation()
        switch outcome {
        case .stopped:
            log.warning("task abandoned: the coordinator asked to stop")
        case .uploaded(let reply, let bytes):
            if let reply, reply.committed {
                log.info(
                    "task done",
                    metadata: ["seconds": "\((ContinuousClock.now - started).components.seconds)", "partial_bytes": "\(bytes)"])
            } else {
                log.warning("partial not committed", metadata: ["reason": "\(reply?.reason ?? "lease lost")"])
            }
        case .failed(let reason, let permanent):
            log.error("task failed", metadata: ["error": "\(reason)", "permanent": "\(permanent)"])
            try await coordinator.reportFailure(grant.leaseId, reason: reason, permanent: permanent)
        }
    }
}
