import Foundation
import Hummingbird
import Logging
import TallyProtocol
import TallyReport

/// `/v1/worker`: the worker protocol (see `WorkerProtocol`).
struct WorkerRoutes: Sendable {
    let store: JobStore
    let files: DataDirectory
    let configuration: CoordinatorConfiguration
    let metrics: CoordinatorMetrics
    let merges: RunningMerges
    let wakeup: SchedulerWakeup
    let logger: Logger

    /// Largest partial accepted.
    static let maximumPartialBytes = 1 << 30

    func add(to router: Router<CoordinatorRequestContext>) {
        let worker = router.group("v1/worker")
        worker.post("lease") { request, _ in try await lease(request) }
        worker.post("leases/:lease/heartbeat") { _, context in try heartbeat(context) }
        worker.put("leases/:lease/partial") { request, context in try await upload(request, context) }
        worker.post("leases/:lease/failure") { request, context in try await failure(request, context) }
    }

    private func lease(_ request: Request) async throws -> Response {
        let body = try await JSONResponse.decode(LeaseRequest.self, from: request)
        guard body.protocolVersion == WorkerProtocol.version else {
            throw APIError(.badRequest, "worker protocol \(body.protocolVersion) is not supported (this coordinator speaks \(WorkerProtocol.version))", field: "protocol_version")
        }
        let now = JobScheduler.now()
        metrics.workerSeen(body.worker, at: now)
        guard let (job, task) = try store.lease(worker: body.worker, seconds: configuration.leaseSeconds, now: now),
              let leaseId = task.leaseId else {
            return Response(status: .noContent)
        }
        guard let source = configuration.sources[job.request.source] else {
            _ = try store.recordFailure(leaseId, reason: "source '\(job.request.source)' is no longer configured", maxAttempts: 1, now: now)
            return Response(status: .noContent)
        }
        logger.with(job: job.id).debug("task leased", metadata: ["task": "\(task.index)", "worker": "\(body.worker)"])
        return try JSONResponse.make(LeaseGrant(
            leaseId: leaseId, jobId: job.id, leaseSeconds: configuration.leaseSeconds,
            heartbeatSeconds: max(0.5, configuration.leaseSeconds / 3), source: source, window: job.window, task: task.task))
    }

    private func heartbeat(_ context: CoordinatorRequestContext) throws -> Response {
        let leaseId = context.parameters.get("lease") ?? ""
        if let task = try store.leasedTask(leaseId), let worker = task.worker { metrics.workerSeen(worker, at: JobScheduler.now()) }
        switch try store.heartbeat(leaseId, seconds: configuration.leaseSeconds, now: JobScheduler.now()) {
        case .renewed: return try JSONResponse.make(HeartbeatReply(action: .continue, leaseSeconds: configuration.leaseSeconds))
        case .stop: return try JSONResponse.make(HeartbeatReply(action: .stop, leaseSeconds: 0))
        case .unknown: throw APIError(.gone, "lease '\(leaseId)' is not current", field: "lease")
        }
    }

    private func upload(_ request: Request, _ context: CoordinatorRequestContext) async throws -> Response {
        let leaseId = context.parameters.get("lease") ?? ""
        guard let task = try store.leasedTask(leaseId) else {
            metrics.uploadsIgnored.increment()
            throw APIError(.conflict, "lease '\(leaseId)' is not current; the task was given to another worker", field: "lease")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumPartialBytes)
        } catch {
            throw APIError(.contentTooLarge, "partial larger than \(Self.maximumPartialBytes) bytes")
        }
        let upload = files.uploadPath(task.jobId, leaseId: leaseId)
        let files = self.files
        let partial: Partial = try await BlockingWork.run {
            let bytes = Array(body.readableBytesView)
            let partial: Partial
            do {
                partial = try Partial(encoded: bytes)
            } catch {
                throw APIError(.badRequest, "partial rejected: \(error)")
            }
            try files.write(bytes, to: upload)
            return partial
        }
        let outcome = try store.commit(leaseId, statistics: partial.statistics, now: JobScheduler.now()) { jobId, index in
            try DataDirectory.rename(upload, files.partialPath(jobId, index))
        }
        switch outcome {
        case .committed:
            metrics.partialsCommitted.increment()
            metrics.eventsProcessed.increment(by: partial.statistics.lines.events)
            metrics.bytesProcessed.increment(by: partial.statistics.bytes)
            logger.with(job: task.jobId).debug("partial committed", metadata: ["task": "\(task.index)"])
            // Fold it into the job's report now, off the request, so little is left to merge
            // when the last partial arrives; then let the scheduler see whether it was the last.
            let (merges, wakeup, jobId, index) = (self.merges, self.wakeup, task.jobId, task.index)
            Task {
                _ = try? await BlockingWork.run { merges.advance(jobId, committed: (index, partial)) }
                wakeup.signal()
            }
            return try JSONResponse.make(UploadReply(committed: true))
        case .alreadyCommitted:
            try? FileManager.default.removeItem(atPath: upload)
            metrics.uploadsIgnored.increment()
            return try JSONResponse.make(UploadReply(committed: false, reason: "already committed"))
        case .jobEnded:
            try? FileManager.default.removeItem(atPath: upload)
            metrics.uploadsIgnored.increment()
            return try JSONResponse.make(UploadReply(committed: false, reason: "job no longer running"))
        case .leaseLost:
            try? FileManager.default.removeItem(atPath: upload)
            metrics.uploadsIgnored.increment()
            throw APIError(.conflict, "lease '\(leaseId)' is not current; the task was given to another worker", field: "lease")
        }
    }

    private func failure(_ request: Request, _ context: CoordinatorRequestContext) async throws -> Response {
        let leaseId = context.parameters.get("lease") ?? ""
        let report = try await JSONResponse.decode(FailureReport.self, from: request)
        metrics.taskFailures.increment()
        if let jobId = try store.recordFailure(leaseId, reason: report.reason, maxAttempts: configuration.maxAttempts, now: JobScheduler.now()) {
            logger.with(job: jobId).error("job failed after repeated task failures", metadata: ["reason": "\(report.reason)"])
        }
        return Response(status: .noContent)
    }
}
