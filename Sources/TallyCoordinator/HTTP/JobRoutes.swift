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
        jobs.get(":id", .getJob) { _, context in try JSONBody.make(try await service.status(of: try await job(context))) }
        jobs.delete(":id", .cancelJob) { _, context in try await cancel(try await job(context)) }
        jobs.post(":id/notify", .notifyJob) { request, context in
            try await notify(try await job(context), request: request, identity: context.identity)
        }
        jobs.get(":id/result", .getResult) { request, context in
            try await result(of: try await job(context), request: request, context: context)
        }
    }

    private func job(_ context: CoordinatorRequestContext) async throws -> JobRecord {
        try await APIError.mapping { try await service.visibleJob(context.parameters.get("id") ?? "", to: context.identity) }
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
        var response = try JSONBody.make(try await service.status(of: job), status: .accepted)
        if replayed { response.headers.append(.init(name: .init("Idempotent-Replayed")!, value: "true")) }
        return response
    }

    /// Checks a job request and stores the job (`JobService`); the service's refusal as the API
    /// says it: `400` naming the field, `429` past the user's quota, `409` for a reused key.
    func create(_ body: JobRequest, idempotencyKey key: String?, by identity: Identity) async throws -> (job: JobRecord, replayed: Bool) {
        try await APIError.mapping {
            try await service.create(body, owner: identity.user, idempotencyKey: key, maxActive: configuration.maxActiveJobsPerUser)
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
        return try JSONBody.make(JobList(jobs: try await service.statuses(of: shown), next: next))
    }

    private func cancel(_ job: JobRecord) async throws -> Response {
        try JSONBody.make(try await service.status(of: try await APIError.mapping { try await service.cancel(job) }))
    }

    private func result(of job: JobRecord, request: Request, context: CoordinatorRequestContext) async throws -> Response {
        let acceptsGzip = request.headers[values: .acceptEncoding].joined(separator: ",").lowercased().contains("gzip")
        let file = try await service.localResultFile(of: job, gzipped: acceptsGzip)
        let body = try await FileIO().loadFile(path: file.path, context: context)
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(file.csvName)\""
        if acceptsGzip { headers[.contentEncoding] = "gzip" }
        headers[.vary] = "Accept-Encoding"
        return Response(status: .ok, headers: headers, body: body)
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
        return try JSONBody.make(try await service.status(of: try await store.job(job.id) ?? job), status: .accepted)
    }
}
