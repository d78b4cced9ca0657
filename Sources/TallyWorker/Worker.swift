import Foundation
import Logging
import TallyProtocol
import TallyReport

/// A worker process's main loop: `concurrency` slots each lease a task, run it with heartbeats,
/// and upload its partial, until cancelled. A worker holds no state worth keeping: killed at
/// any moment, its leases expire and other workers take the tasks over.
public struct Worker: Sendable {
    /// The coordinator connection.
    public let coordinator: CoordinatorClient
    /// Name shown in the coordinator's logs and metrics.
    public let name: String
    /// Tasks run at once.
    public let concurrency: Int
    let logger: Logger

    /// Pause after an empty lease answer.
    static let idlePause: Duration = .milliseconds(250)

    /// A worker.
    public init(coordinator: CoordinatorClient, name: String, concurrency: Int, logger: Logger) {
        self.coordinator = coordinator
        self.name = name
        self.concurrency = concurrency
        self.logger = logger
    }

    /// Runs until the task is cancelled.
    public func run() async throws {
        logger.info("worker started", metadata: ["coordinator": "\(coordinator.baseURL)", "concurrency": "\(concurrency)"])
        await withTaskGroup(of: Void.self) { group in
            for slot in 0..<concurrency {
                group.addTask { await runSlot(slot) }
            }
        }
    }

    private func runSlot(_ slot: Int) async {
        while !Task.isCancelled {
            do {
                guard let grant = try await coordinator.lease(worker: name) else {
                    try await Task.sleep(for: Self.idlePause)
                    continue
                }
                try await runLeased(grant)
            } catch is CancellationError {
                return
            } catch {
                logger.error("worker slot error", metadata: ["slot": "\(slot)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Runs one leased task: the task races its heartbeat loop, which cancels it when the
    /// coordinator says stop.
    func runLeased(_ grant: LeaseGrant) async throws {
        var log = logger
        log[metadataKey: "job"] = "\(grant.jobId)"
        log[metadataKey: "task"] = "\(grant.task.index)"
        let started = ContinuousClock.now
        let outcome: Result<[UInt8], any Error>? = await withTaskGroup(of: Result<[UInt8], any Error>?.self) { group in
            group.addTask {
                do {
                    let source = try grant.source.open()
                    let partial = try await TaskRunner.run(grant.task, window: grant.window, format: grant.source.format, source: source)
                    return .success(partial.encoded())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(Int(grant.heartbeatSeconds * 1000)))
                    if Task.isCancelled { break }
                    let keep = (try? await coordinator.heartbeat(grant.leaseId)) ?? false
                    if !keep { return nil }
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .none:
            log.warning("task abandoned: the coordinator asked to stop")
        case .success(let bytes):
            let reply = try await coordinator.upload(grant.leaseId, partial: bytes)
            let seconds = (ContinuousClock.now - started).components.seconds
            if let reply, reply.committed {
                log.info("task done", metadata: ["seconds": "\(seconds)", "partial_bytes": "\(bytes.count)"])
            } else {
                log.warning("partial not committed", metadata: ["reason": "\(reply?.reason ?? "lease lost")"])
            }
        case .failure(let error):
            if error is CancellationError { throw error }
            log.error("task failed", metadata: ["error": "\(error)"])
            try await coordinator.reportFailure(grant.leaseId, reason: String(describing: error))
        }
    }
}
