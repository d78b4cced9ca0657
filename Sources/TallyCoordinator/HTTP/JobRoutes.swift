import Foundation
import Hummingbird
import TallyAccess
import TallyFormats
import TallyNotifications
import TallyProtocol
import TallyReport
import TallyServices
import TallyStore

/// `/v1/jobs`: submit, inspect, list, cancel and download report jobs.
struct JobRoutes: Sendable {
    let store: any JobStore
    let notifications: any NotificationStore
    let files: DataDirectory
    let configuration: CoordinatorConfiguration
    let clock: any CoordinatorClock
    /// Creates jobs: the checks every door shares.
    let service: JobService
    /// Re-announcements per job in the last hour.
    let announcements: Announcements

    /// Jobs per page when the client does not say.
    static let defaultPageSize = 20
    /// Largest page.
    static let maximumPageSize = 200

    func add(to router: SecuredRouter) {
        let jobs = router.group("v1/jobs")
        jobs.post(.createJob) { request, context in try await submit(request, by: context.identity) }
        jobs.get(.listJobs) { request, context in try await list(request, for: context.identity) }
        jobs.get(":id", .getJob) { _, context in try JSONBody.make(try await status(of: try await job(context))) }
        jobs.delete(":id", .cancelJob) { _, context in try await cancel(try await job(context)) }
        jobs.post(":id/notify", .notifyJob) { request, context in
            try await notify(try await job(context), request: request, identity: context.identity)
        }
        jobs.get(":id/result", .getResult) { request, context in
            try await result(of: try await job(context), request: request, context: context)
        }
    }

    private func job(_ context: CoordinatorRequestContext) async throws -> JobRecord {
        try await visibleJob(context.parameters.get("id") ?? "", to: context.identity)
    }

    private func submit(_ request: Request, by identity: Identity) async throws -> Response {
        let body = try await JSONBody.decode(JobRequest.self, from: request)
        var key: String?
        if let text = request.headerValue("Idempotency-Key") {
            guard (1...255).contains(text.utf8.count), text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw APIError(.badRequest, "Idempotency-Key must be 1 to 255 visible ASCII characters", field: "Idempotency-Key")
            }
            key = text
        }
        let (job, replayed) = try await create(body, idempotencyKey: key, by: identity)
        var response = try JSONBody.make(try await status(of: job), status: .accepted)
        if replayed { response.headers.append(.init(name: .init("Idempotent-Replayed")!, value: "true")) }
        return response
    }

    /// Checks a job request and stores the job (`JobService`); the service's refusal as the API
    /// says it: `400` naming the field, `429` past the user's quota, `409` for a reused key.
    func create(_ body: JobRequest, idempotencyKey key: String?, by identity: Identity) async throws -> (job: JobRecord, replayed: Bool) {
        do {
            return try await service.create(body, owner: identity.user, idempotencyKey: key, maxActive: configuration.maxActiveJobsPerUser)
        } catch let error as JobRequestError {
            throw Self.apiError(error)
        }
    }

    /// A refused job request as an API answer.
    static func apiError(_ error: JobRequestError) -> APIError {
        switch error.kind {
        case .invalid: APIError(.badRequest, error.reason, field: error.field)
        case .tooManyActive: APIError(.tooManyRequests, error.reason)
        case .keyReused: APIError(.conflict, error.reason, field: error.field)
        }
    }

    private func list(_ request: Request, for identity: Identity) async throws -> Response {
        let query = request.uri.queryParameters
        var limit = Self.defaultPageSize
        if let text = query["limit"] {
            guard let value = Int(text), value >= 1, value <= Self.maximumPageSize else {
                throw APIError(.badRequest, "limit must be between 1 and \(Self.maximumPageSize)", field: "limit")
            }
            limit = value
        }
        var before: Int64?
        if let text = query["before"] {
            guard let value = Int64(text), value >= 0 else {
                throw APIError(.badRequest, "before must be a cursor from a previous page", field: "before")
            }
            before = value
        }
        let page = try await store.jobs(limit: limit + 1, beforeSequence: before, owner: identity.role == .admin ? nil : identity.user)
        let shown = Array(page.prefix(limit))
        let next = page.count > limit ? shown.last.map { String($0.sequence) } : nil
        return try JSONBody.make(JobList(jobs: try await statuses(of: shown), next: next))
    }

    private func cancel(_ job: JobRecord) async throws -> Response {
        try JSONBody.make(try await status(of: try await cancelJob(job)))
    }

    /// Cancels a job that has not ended (`409` for one that has); the job as it is now.
    func cancelJob(_ job: JobRecord) async throws -> JobRecord {
        guard try await store.finish(job.id, as: .cancelled, error: nil, now: clock.now()) else {
            throw APIError(.conflict, "job '\(job.id)' already \(job.state.rawValue)", field: "id")
        }
        return try await store.job(job.id) ?? job
    }

    /// A job the identity may see, or `404` (another user's job answers as if it did not exist).
    func visibleJob(_ id: String, to identity: Identity) async throws -> JobRecord {
        guard let job = try await store.job(id), identity.mayAccess(jobOwnedBy: job.owner) else {
            throw APIError(.notFound, "no job '\(id)'", field: "id")
        }
        return job
    }

    private func result(of job: JobRecord, request: Request, context: CoordinatorRequestContext) async throws -> Response {
        guard job.state == .succeeded else {
            throw APIError(
                .conflict, "job '\(job.id)' is \(job.state.rawValue); its result is not ready" + (job.error.map { ": \($0)" } ?? ""),
                field: "id")
        }
        guard job.resultBytes != nil else {
            throw APIError(
                .gone,
                "the result of job '\(job.id)' expired \(resultExpiry(job).map { "at \($0) " } ?? "")"
                    + "(results are kept result_ttl_days, \(String(format: "%g", configuration.resultTTLDays)) days); submit the job again",
                field: "id")
        }
        let acceptsGzip = request.headers[values: .acceptEncoding].joined(separator: ",").lowercased().contains("gzip")
        let path = acceptsGzip ? files.gzipResultPath(job.id) : files.resultPath(job.id)
        let body = try await FileIO().loadFile(path: path, context: context)
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(Self.fileName(job))\""
        if acceptsGzip { headers[.contentEncoding] = "gzip" }
        headers[.vary] = "Accept-Encoding"
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `tally-active-users-20261001T000000Z-20261101T000000Z.csv`.
    static func fileName(_ job: JobRecord) -> String {
        func compact(_ micros: Int64) -> String {
            CivilTime.rfc3339(micros: micros).filter { $0 != "-" && $0 != ":" }.replacingOccurrences(of: ".", with: "")
        }
        return "tally-\(job.definition.report.kind.rawValue)-\(compact(job.window.from))-\(compact(job.window.to)).csv"
    }

    /// The API view of a job.
    func status(of job: JobRecord) async throws -> JobStatus {
        let totals = try await store.totals(job.id)
        let final = job.state == .succeeded ? try await store.finalStatistics(job.id) : nil
        return status(of: job, totals: totals, final: final, deliveries: try await notifications.deliveries(of: job.id))
    }

    /// The API view of many jobs: three reads in all, not three a job.
    func statuses(of jobs: [JobRecord]) async throws -> [JobStatus] {
        let ids = jobs.map(\.id)
        let sums = try await store.totalsAndFinalStatistics(of: ids)
        let deliveries = try await notifications.deliveries(ofJobs: ids)
        return jobs.map { job in
            let (totals, final) = sums[job.id] ?? (JobTotals(), nil)
            return status(of: job, totals: totals, final: job.state == .succeeded ? final : nil, deliveries: deliveries[job.id] ?? [])
        }
    }

    private func status(of job: JobRecord, totals: JobTotals, final: ReadStatistics?, deliveries sent: [Delivery]) -> JobStatus {
        let statistics = final ?? totals.statistics
        let elapsed = job.startedAt.map { (job.finishedAt ?? clock.now()) - $0 } ?? 0
        let rate = elapsed > 0 ? Double(totals.events - totals.eventsReused) / elapsed : 0
        var eta: Double?
        // From what this job read itself: cached shards took no time.
        if job.state == .running, totals.bytesRead > 0, elapsed > 0 {
            eta = max(0, Double(job.bytesTotal - totals.bytes) / (Double(totals.bytesRead) / elapsed))
        }
        var jobStatistics = JobStatistics(statistics)
        jobStatistics.sourceRetries = totals.sourceRetries
        jobStatistics.taskCopiesStarted = Int64(job.copiesStarted)
        jobStatistics.taskCopiesWon = Int64(job.copiesWon)
        jobStatistics.shardsComputed = Int64(totals.tasksDone - totals.shardsReused)
        jobStatistics.shardsReused = Int64(totals.shardsReused)
        jobStatistics.objectsRead = totals.objectsRead
        jobStatistics.bytesRead = totals.bytesRead
        let progress = JobProgress(
            tasksDone: totals.tasksDone, tasksTotal: job.tasksTotal, objects: totals.objects, objectsTotal: job.objectsTotal,
            bytes: totals.bytes, bytesTotal: job.bytesTotal, events: totals.events, eventsPerSecond: rate, etaSeconds: eta)
        let definition = job.definition
        var inactive: InactiveUsersSpec?
        if case .inactiveUsers(let spec) = definition.report { inactive = spec }
        var status = JobStatus(
            id: job.id, report: definition.report.kind.rawValue, source: definition.source, from: definition.requestedFrom,
            to: definition.requestedTo, inactiveDays: inactive?.inactiveDays, lookbackDays: inactive?.lookbackDays,
            now: inactive.map { CivilTime.rfc3339(micros: $0.now) }, userDirectory: inactive?.directory,
            timezone: job.definition.timezone, windowFrom: CivilTime.rfc3339(micros: job.window.from),
            windowTo: CivilTime.rfc3339(micros: job.window.to), state: job.state, progress: progress,
            statistics: jobStatistics, error: job.error, users: job.users, resultBytes: job.resultBytes,
            createdAt: WireTime.timestamp(job.createdAt), startedAt: job.startedAt.map(WireTime.timestamp),
            lastPartialAt: job.lastPartialAt.map(WireTime.timestamp), finishedAt: job.finishedAt.map(WireTime.timestamp),
            resultExpiresAt: resultExpiry(job), resultExpired: job.state == .succeeded ? job.resultBytes == nil : nil)
        if !sent.isEmpty {
            status.notifications = sent.map {
                NotificationStatus(
                    target: $0.target, state: $0.state, attempts: $0.attempts, lastStatus: $0.lastStatus, lastError: $0.lastError,
                    nextAttemptAt: $0.state == "pending" ? $0.nextAt.map(WireTime.timestamp) : nil)
            }
        }
        if let zone = job.definition.timezone {
            status.windowFromLocal = ReportWindow.local(job.window.from, timeZone: zone)
            status.windowToLocal = ReportWindow.local(job.window.to, timeZone: zone)
            if let from = definition.requestedFrom, let to = definition.requestedTo,
                let notes = try? ReportWindow.resolve(from: from, to: to, timeZone: zone).notes, !notes.isEmpty
            {
                status.windowNotes = notes
            }
        }
        return status
    }

    /// Announces a job's end again (all its targets, or `?target=NAME`), with new message ids.
    /// Only to the job's own targets, except for an admin; at most `Announcements.limit` times
    /// an hour per job, so a reporter cannot turn the coordinator into a webhook cannon.
    private func notify(_ job: JobRecord, request: Request, identity: Identity) async throws -> Response {
        guard job.state == .succeeded || job.state == .failed else {
            throw APIError(.conflict, "job '\(job.id)' is \(job.state.rawValue); only an ended job is announced", field: "id")
        }
        let target = request.uri.queryParameters["target"].map(String.init)
        if let target, configuration.notifications.targets[target] == nil {
            throw APIError(.badRequest, "unknown notification target '\(target)'", field: "target")
        }
        let targets = job.definition.notifyTargets
        if let target, !targets.contains(target), identity.role != .admin {
            throw APIError(
                .forbidden, "job '\(job.id)' does not name the target '\(target)'; only an admin may announce it elsewhere", field: "target"
            )
        }
        guard target != nil || !targets.isEmpty else {
            throw APIError(.badRequest, "job '\(job.id)' names no notification target; give one with ?target=NAME", field: "target")
        }
        if let wait = announcements.take(job.id, now: clock.now()) {
            var error = APIError(
                .tooManyRequests,
                "job '\(job.id)' was announced again \(Announcements.limit) times in the last hour; "
                    + "try again in \(Int64(saturating: wait.rounded(.up))) s")
            error.headers[.retryAfter] = String(Int64(saturating: wait.rounded(.up)))
            throw error
        }
        _ = try await notifications.redeliver(job.id, target: target, targets: targets, now: clock.now())
        return try JSONBody.make(try await status(of: try await store.job(job.id) ?? job), status: .accepted)
    }

    /// When a succeeded job's result expires (or expired).
    func resultExpiry(_ job: JobRecord) -> String? {
        guard job.state == .succeeded, let finished = job.finishedAt else { return nil }
        return WireTime.timestamp(finished + configuration.resultTTLDays * 86_400)
    }
}
