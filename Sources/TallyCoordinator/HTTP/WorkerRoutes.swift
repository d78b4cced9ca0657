import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOPosix
import TallyFormats
import TallyProtocol
import TallyReport
import TallyServices
import TallyStore

/// `/v1/worker`: the worker protocol (see `WorkerProtocol`).
struct WorkerRoutes: Sendable {
    let store: any JobStore
    /// Where uploads are published before their commit, and partials read from.
    let blobs: any BlobStore
    var files: DataDirectory { blobs.files }
    let configuration: CoordinatorConfiguration
    let clock: any CoordinatorClock
    let metrics: CoordinatorMetrics
    let merges: MergePipeline
    let threadPool: NIOThreadPool
    /// Uploads being received at once (`max_concurrent_uploads`).
    let uploadSlots: UploadSlots
    let logger: Logger

    func add(to router: SecuredRouter) {
        let worker = router.group("v1/worker")
        worker.post("lease", .leaseTask) { request, context in try await lease(request, context) }
        worker.post("leases/:lease/heartbeat", .heartbeat) { _, context in try await heartbeat(context) }
        worker.put("leases/:lease/partial", .uploadPartial) { request, context in try await upload(request, context) }
        worker.post("leases/:lease/failure", .reportFailure) { request, context in try await failure(request, context) }
        worker.get("leases/:lease/partials/:index", .readPartialSlice) { _, context in try await partialSlice(context) }
        worker.get("leases/:lease/directory", .readUserDirectory) { _, context in try await userDirectory(context) }
        worker.put("leases/:lease/rows", .uploadRows) { request, context in try await uploadRows(request, context) }
    }

    /// The task `context`'s lease names, when that lease was taken with the same token; a lease
    /// is bound to the worker identity that took it.
    private func ownLease(_ context: CoordinatorRequestContext) async throws -> (leaseId: String, task: TaskRecord?) {
        let leaseId = context.parameters.get("lease") ?? ""
        let task = try await store.leasedTask(leaseId)
        if let task, (task.leaseToken ?? "") != context.identity.tokenId {
            throw APIError(.forbidden, "lease '\(leaseId)' was taken with another token", field: "lease")
        }
        return (leaseId, task)
    }

    private func lease(_ request: Request, _ context: CoordinatorRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(LeaseRequest.self, from: request)
        // Worker names become log values and a metric label: short, printable, no separators.
        guard (1...128).contains(body.worker.count),
            body.worker.unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._@:+-".unicodeScalars.contains($0))
            })
        else {
            throw APIError(.badRequest, "worker names are 1 to 128 ASCII letters, digits and . _ @ : + -", field: "worker")
        }
        guard body.protocolVersion == WorkerProtocol.version else {
            throw APIError(
                .badRequest, "worker protocol \(body.protocolVersion) is not supported (this coordinator speaks \(WorkerProtocol.version))",
                field: "protocol_version")
        }
        let now = clock.now()
        metrics.workerSeen(body.worker, at: now)
        // Merge tasks go to workers that run them, with a token trusted like the shard cache's
        // producers (docs/security.md): their rows enter the report as they are.
        let mergeCapable =
            body.capabilities?.contains(WorkerProtocol.mergeCapability) == true && (context.identity.token?.trusted ?? true)
        if mergeCapable { merges.mergeWorkers.saw(body.worker, at: now) }
        guard
            let granted = try await store.lease(
                worker: body.worker, token: context.identity.tokenId, seconds: configuration.leaseSeconds,
                stragglers: configuration.stragglers, mergeCapable: mergeCapable, now: now)
        else {
            return Response(status: .noContent)
        }
        let (job, task, leaseId) = (granted.job, granted.task, granted.leaseId)
        guard let source = configuration.sources[job.definition.source] else {
            _ = try await store.recordFailure(
                leaseId, reason: "source '\(job.definition.source)' is no longer configured", maxAttempts: 1,
                retryDelay: { _ in 0 }, now: now)
            return Response(status: .noContent)
        }
        if granted.isCopy {
            metrics.copiesStarted.increment()
            logger.with(job: job.id).info(
                "straggler copied to another worker",
                metadata: [
                    "task": "\(task.index)", "worker": "\(body.worker)", "straggler_worker": "\(task.worker ?? "?")",
                ])
        } else {
            logger.with(job: job.id).debug("task leased", metadata: ["task": "\(task.index)", "worker": "\(body.worker)"])
        }
        return try JSONBody.make(
            LeaseGrant(
                leaseId: leaseId, jobId: job.id, leaseSeconds: configuration.leaseSeconds,
                heartbeatSeconds: max(0.5, configuration.leaseSeconds / 3), source: SourceSpec(source), window: WireWindow(job.window),
                task: WireTask(task.task), retry: WireRetryPolicy(configuration.sourceRetry),
                merge: task.mergeRange.map { range in
                    WireMergeTask(
                        partials: job.tasksTotal, range: range, report: job.definition.report,
                        hasDirectory: job.definition.report.directory != nil)
                }, report: job.definition.report.kind.rawValue))
    }

    /// The merge task `context`'s lease holds, with its job; 409 when the lease holds none.
    private func mergeLease(_ context: CoordinatorRequestContext) async throws -> (
        leaseId: String, task: TaskRecord, range: UserKeyRange, job: JobRecord
    ) {
        let (leaseId, leased) = try await ownLease(context)
        guard let task = leased, task.state == .leased else {
            throw APIError(.conflict, "lease '\(leaseId)' is not current; the task was given to another worker", field: "lease")
        }
        guard let range = task.mergeRange else { throw APIError(.badRequest, "lease '\(leaseId)' holds no merge task", field: "lease") }
        guard let job = try await store.job(task.jobId), job.state == .merging else {
            throw APIError(.conflict, "job '\(task.jobId)' is no longer merging", field: "lease")
        }
        return (leaseId, task, range, job)
    }

    /// A merge task reads the blocks of one partial that hold its range (docs/design.md §3.9).
    private func partialSlice(_ context: CoordinatorRequestContext) async throws -> Response {
        let (_, _, range, job) = try await mergeLease(context)
        guard let index = context.parameters.get("index").flatMap(Int.init), (0..<job.tasksTotal).contains(index) else {
            throw APIError(.notFound, "no partial '\(context.parameters.get("index") ?? "")' in job '\(job.id)'", field: "index")
        }
        let path = try await blobs.partial(of: job.id, index: index, store: store)
        // Read twice a chunk at a time (the checksum first, as it goes in the head), so a slice
        // being served holds one chunk, however many workers read slices at once.
        let (file, span, checksum) = try await threadPool.runIfActive { () throws -> (PartialFile, Range<Int>, UInt32) in
            do {
                let file = try PartialFile(path: path)
                // The whole file's checksum was verified when the merge was planned.
                let stream = try PartialUserStream(file, range: range, verify: false)
                guard let span = stream.rangeSpan else { throw CoordinatorError.storage("partial \(index) has no index") }
                var checksum: UInt32 = 0
                var offset = span.lowerBound
                while offset < span.upperBound {
                    let chunk = try file.read(offset: offset, count: min(Self.sliceChunk, span.upperBound - offset))
                    guard !chunk.isEmpty else { throw CoordinatorError.storage("\(path) ends before its index says") }
                    checksum = PartialSlice.checksum(chunk, continuing: checksum)
                    offset += chunk.count
                }
                return (file, span, checksum)
            } catch {
                throw APIError(.internalServerError, "partial \(index) of job '\(job.id)' cannot be read: \(error)")
            }
        }
        let pool = threadPool
        var response = Response(
            status: .ok, headers: [.contentType: "application/octet-stream"],
            body: ResponseBody(contentLength: span.count) { writer in
                var offset = span.lowerBound
                while offset < span.upperBound {
                    let (start, count) = (offset, min(Self.sliceChunk, span.upperBound - offset))
                    let chunk = try await pool.runIfActive { try file.read(offset: start, count: count) }
                    guard chunk.count == count else { throw CoordinatorError.storage("\(path) changed while it was served") }
                    try await writer.write(ByteBuffer(bytes: chunk))
                    offset += count
                }
                try await writer.finish(nil)
            })
        response.headers[HTTPTypes.HTTPField.Name(WorkerProtocol.sliceChecksumHeader)!] = String(checksum)
        return response
    }

    /// Bytes of a slice read and sent at a time.
    static let sliceChunk = 1 << 20

    /// A merge task of a job with a directory (inactive-users, resource-access) reads the directory.
    private func userDirectory(_ context: CoordinatorRequestContext) async throws -> Response {
        let (_, _, _, job) = try await mergeLease(context)
        let path = files.userDirectoryPath(job.id)
        _ = try await blobs.refetch(path)
        let bytes = try await threadPool.runIfActive { FileManager.default.contents(atPath: path) }
        guard let bytes else { throw APIError(.notFound, "job '\(job.id)' has no user directory", field: "lease") }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A merge task's rows: checked to be well-formed rows of its range, in order, as many as
    /// announced, then committed like a partial; the job's last range has the result joined.
    private func uploadRows(_ request: Request, _ context: CoordinatorRequestContext) async throws -> Response {
        let (leaseId, task) = try await uploadingLease(request, context)
        guard task.mergeRange != nil, let job = try await store.job(task.jobId) else {
            throw APIError(.badRequest, "lease '\(leaseId)' holds no merge task", field: "lease")
        }
        let kind = job.definition.report.kind
        guard let announced = request.headerValue(WorkerProtocol.rowsHeader).flatMap(Int.init), announced >= 0 else {
            throw APIError(.badRequest, "missing or malformed \(WorkerProtocol.rowsHeader) header", field: WorkerProtocol.rowsHeader)
        }
        let upload = files.uploadPath(task.jobId, leaseId: leaseId)
        // The rows inflated and the range's record, kept as they are checked (`AcceptedRange`);
        // what is not installed with a commit is removed.
        let (rowsUpload, recordUpload, files) = (upload + ".csv", upload + ".json", self.files)
        defer { for path in [rowsUpload, recordUpload] { try? FileManager.default.removeItem(atPath: path) } }
        // A range's CSV is about 2 to 4 times its compressed bytes; far more is a bomb.
        let limit = Int64(configuration.maximumPartialBytes) * 16
        let rows = try await receive(request.body, into: upload) { segment in
            try AcceptedRange.accept(
                segment: segment, kind: kind, rows: announced, limit: limit, rowsPath: rowsUpload, recordPath: recordUpload, files: files)
        }
        let (range, blobs) = (files.rangeFiles(task.jobId, task.index, lease: leaseId), self.blobs)
        let uploads = [(rowsUpload, range.rows), (recordUpload, range.record), (upload, range.segment)]
        let staged = try await blobs.stage(uploads)
        let outcome = try await store.commitRange(leaseId, rows: announced, bytes: rows.length, crc: rows.crc, now: clock.now()) { _, _ in
            try blobs.installOnCommit(uploads)
        }
        return try await reply(to: outcome, upload: upload, staged: staged, leaseId: leaseId) { jobId, index, completesJob in
            logger.with(job: jobId).debug("range committed", metadata: ["task": "\(index)", "rows": "\(announced)"])
            if completesJob, let job = try await store.job(jobId) { merges.requestMerge(job) }
        }
    }

    private func heartbeat(_ context: CoordinatorRequestContext) async throws -> Response {
        let (leaseId, task) = try await ownLease(context)
        if let worker = task?.worker { metrics.workerSeen(worker, at: clock.now()) }
        switch try await store.heartbeat(leaseId, seconds: configuration.leaseSeconds, now: clock.now()) {
        case .renewed: return try JSONBody.make(HeartbeatReply(action: .continue, leaseSeconds: configuration.leaseSeconds))
        case .stop: return try JSONBody.make(HeartbeatReply(action: .stop, leaseSeconds: 0))
        case .unknown: throw APIError(.gone, "lease '\(leaseId)' is not current", field: "lease")
        }
    }

    /// The task an upload's lease holds (partial or rows, both octet streams); `409`, counted as
    /// an ignored upload, when the lease is not current.
    private func uploadingLease(_ request: Request, _ context: CoordinatorRequestContext) async throws -> (
        leaseId: String, task: TaskRecord
    ) {
        let (leaseId, leased) = try await ownLease(context)
        try JSONBody.requireContentType("application/octet-stream", of: request)
        guard let task = leased else {
            metrics.uploadsIgnored.increment()
            throw APIError(.conflict, "lease '\(leaseId)' is not current; the task was given to another worker", field: "lease")
        }
        return (leaseId, task)
    }

    private func upload(_ request: Request, _ context: CoordinatorRequestContext) async throws -> Response {
        let (leaseId, task) = try await uploadingLease(request, context)
        let upload = files.uploadPath(task.jobId, leaseId: leaseId)
        guard let job = try await store.job(task.jobId) else {
            throw APIError(.conflict, "job '\(task.jobId)' is gone", field: "lease")
        }
        // Decoded whole only when a head start will fold it; else checked user by user and let
        // go, so an upload holds its bytes, not its users (docs/design.md §3.8).
        let (headStart, ceiling, window, rowKey) = (
            configuration.effectiveMergeMemoryBytes > 0, configuration.maximumPartialMemoryBytes, job.window,
            job.definition.report.shape.key
        )
        let statistics: ReadStatistics
        let partial: Partial?
        do {
            (statistics, partial) = try await receive(request.body, into: upload) { bytes in
                guard headStart else {
                    return (
                        try Partial.checkedStatistics(
                            encoded: bytes, memoryCeiling: ceiling, for: task.task, window: window, rowKey: rowKey),
                        nil
                    )
                }
                let partial = try Partial(encoded: bytes, memoryCeiling: ceiling)
                try partial.checkPlausible(for: task.task, window: window, rowKey: rowKey)
                return (partial.statistics, partial)
            }
        } catch let implausible as ImplausiblePartial {
            // Counts as the attempt's failure: the task goes to another worker (or, after
            // max_attempts, the job fails with the reason).
            try? FileManager.default.removeItem(atPath: upload)
            metrics.partialsRefused.increment()
            let reason = "partial refused: \(implausible.reason)"
            logger.with(job: task.jobId).warning(
                "implausible partial refused",
                metadata: [
                    "task": "\(task.index)", "worker": "\(task.worker ?? "?")", "reason": "\(implausible.reason)",
                ])
            let configuration = self.configuration
            _ = try await store.recordFailure(
                leaseId, reason: reason, maxAttempts: configuration.maxAttempts,
                retryDelay: { configuration.taskRetryDelay(afterFailures: $0) }, now: clock.now())
            throw APIError(.unprocessableContent, reason)
        }
        // A worker's count of its retries; a missing or malformed header counts none.
        let retries = request.headerValue(WorkerProtocol.sourceRetriesHeader).flatMap { Int64($0) }.map { min(max($0, 0), 1_000_000) } ?? 0
        // The file's name carries the lease with shared blobs: the commit row says which counts.
        let (uploads, blobs) = ([(upload, files.partialPath(task.jobId, task.index, origin: leaseId))], self.blobs)
        let staged = try await blobs.stage(uploads)
        let outcome = try await store.commit(leaseId, statistics: statistics, sourceRetries: retries, now: clock.now()) { _, _ in
            try blobs.installOnCommit(uploads)
        }
        return try await reply(to: outcome, upload: upload, staged: staged, leaseId: leaseId) { jobId, index, completesJob in
            metrics.sourceRetries.increment(by: Int(retries))
            metrics.eventsProcessed.increment(by: Int(statistics.lines.events))
            metrics.bytesProcessed.increment(by: Int(statistics.bytes))
            logger.with(job: jobId).debug("partial committed", metadata: ["task": "\(index)"])
            // Fold it into the job's report now, off the request, so little is left to merge
            // when the last partial arrives; the last one also has the pipeline merge the job.
            merges.submit(.committed(jobId: jobId, index: index, partial: partial, completesJob: completesJob))
        }
    }

    /// The answer to an upload's commit, partial or rows: `committed` runs for a commit; an
    /// upload that did not commit has its file removed, and what was `staged` for it in shared
    /// blobs withdrawn (unless the lease committed it before: a retried upload).
    private func reply(
        to outcome: CommitOutcome, upload: String, staged: [String], leaseId: String,
        committed: (_ jobId: String, _ index: Int, _ completesJob: Bool) async throws -> Void
    ) async throws -> Response {
        switch outcome {
        case .committed(let jobId, let index, let byCopy, let completesJob):
            metrics.partialsCommitted.increment()
            if byCopy { metrics.copiesWon.increment() }
            try await committed(jobId, index, completesJob)
            return try JSONBody.make(UploadReply(committed: true))
        case .alreadyCommitted, .otherCopyWon, .jobEnded, .leaseLost:
            try? FileManager.default.removeItem(atPath: upload)
            // What the lease itself committed before stays: its commit row names it.
            if outcome != .alreadyCommitted { await blobs.withdraw(staged, logger: logger) }
            metrics.uploadsIgnored.increment()
            switch outcome {
            case .otherCopyWon:
                return try JSONBody.make(UploadReply(committed: false, reason: "another copy of the task committed first"))
            case .jobEnded:
                return try JSONBody.make(UploadReply(committed: false, reason: "job no longer running"))
            case .leaseLost:
                throw APIError(.conflict, "lease '\(leaseId)' is not current; the task was given to another worker", field: "lease")
            default:
                return try JSONBody.make(UploadReply(committed: false, reason: "already committed"))
            }
        }
    }

    /// Streams an upload's body to its file (never more than `max_partial_bytes`, never the
    /// whole body in memory while it arrives), then decodes it; the file is removed on failure.
    ///
    /// An upload slot (`max_concurrent_uploads`) is taken when the body's first bytes arrive and
    /// given back once the partial is decoded: a client that opens an upload and sends nothing
    /// holds no slot, and one that trickles is cut by the minimum body rate
    /// (`RequestDeadlineHandler`), so slow uploads cannot lock out the other workers.
    /// Streams an upload to its file under the size and concurrency limits, then runs `check` on
    /// its bytes on the thread pool while the upload slot is still held (the slot bounds the
    /// memory of decoding too). A decoding error is `400`; `ImplausiblePartial` passes through.
    private func receive<T: Sendable>(
        _ body: RequestBody, into path: String, check: @escaping @Sendable ([UInt8]) throws -> T
    ) async throws -> T {
        let slots = uploadSlots
        var holdsSlot = false
        defer { if holdsSlot { slots.giveBack() } }
        let files = self.files, limit = configuration.maximumPartialBytes
        let file: UploadFile
        do {
            file = try await threadPool.runIfActive { try UploadFile(path: path, files: files) }
        } catch {
            throw Self.storageError(error)
        }
        do {
            var pending = ByteBuffer()
            var received = 0
            for try await chunk in body {
                if !holdsSlot {
                    guard slots.take() else {
                        var error = APIError(.serviceUnavailable, "\(slots.capacity) uploads are already being received; try again shortly")
                        error.headers[.retryAfter] = "1"
                        throw error
                    }
                    holdsSlot = true
                }
                received += chunk.readableBytes
                guard received <= limit else { throw APIError(.contentTooLarge, "partial larger than max_partial_bytes (\(limit) bytes)") }
                pending.writeImmutableBuffer(chunk)
                if pending.readableBytes >= Self.writeChunk {
                    let full = pending
                    pending = ByteBuffer()
                    try await append(full, to: file)
                }
            }
            try await append(pending, to: file)
            return try await threadPool.runIfActive {
                let bytes: [UInt8]
                do { bytes = try file.finish() } catch { throw Self.storageError(error) }
                do {
                    return try check(bytes)
                } catch let implausible as ImplausiblePartial {
                    throw implausible
                } catch {
                    throw APIError(.badRequest, "partial rejected: \(error)")
                }
            }
        } catch {
            try? await threadPool.runIfActive { file.discard() }
            throw error
        }
    }

    /// Bytes gathered before each write to the upload file.
    static let writeChunk = 1 << 20

    private func append(_ buffer: ByteBuffer, to file: UploadFile) async throws {
        guard buffer.readableBytes > 0 else { return }
        do {
            try await threadPool.runIfActive { try file.append(buffer) }
        } catch {
            throw Self.storageError(error)
        }
    }

    /// The coordinator's disk, not the worker's upload: say so, and why (`507`, which workers retry).
    private static func storageError(_ error: any Error) -> APIError {
        APIError(.init(code: 507, reasonPhrase: "Insufficient Storage"), "the coordinator cannot store the partial: \(error)")
    }

    private func failure(_ request: Request, _ context: CoordinatorRequestContext) async throws -> Response {
        let (leaseId, _) = try await ownLease(context)
        var report = try await JSONBody.decode(FailureReport.self, from: request)
        // The reason becomes the job's error and a log value: bounded, control characters written out.
        report.reason = String(report.reason.prefix(2000)).escapingControlCharacters
        metrics.taskFailures.increment()
        // A permanent failure (trying again cannot help) fails the job at once; others wait a
        // growing delay before the task may be leased again.
        let configuration = self.configuration
        let maxAttempts = report.permanent == true ? 1 : configuration.maxAttempts
        if let jobId = try await store.recordFailure(
            leaseId, reason: report.reason, maxAttempts: maxAttempts,
            retryDelay: { configuration.taskRetryDelay(afterFailures: $0) },
            now: clock.now())
        {
            logger.with(job: jobId).error("job failed after repeated task failures", metadata: ["reason": "\(report.reason)"])
        }
        return Response(status: .noContent)
    }
}
