import Foundation
import TallyAccess
import TallyFormats
import TallyProtocol
import TallyReport
import TallyServices
import TallyStore

/// Jobs as every door uses them (the API, the pages, the schedule runner): one creation path
/// with one set of checks — a known report kind, a configured source and user
/// directory, known notification targets (duplicates dropped, at most `maximumNotifyTargets`),
/// allowed e-mail addresses, the window's bounds, the user's quota, the idempotency key.
struct JobService: Sendable {
    let store: any JobStore
    let notifications: any NotificationStore
    /// Where results are kept: a result another replica wrote is fetched before it is sent.
    let blobs: any BlobStore
    let configuration: CoordinatorConfiguration
    let clock: any CoordinatorClock
    /// Wakes the planner, so a job is planned as soon as it is submitted.
    let planner: Wakeup

    /// Notification targets one job may name (after duplicates are dropped), and e-mail
    /// addresses: each is one delivery per announcement.
    static let maximumNotifyTargets = 8
    static let maximumNotifyEmails = 16

    /// The job a request asks for, checked and typed; a problem names the field.
    func checked(_ request: JobRequest, submittedAt now: Double) throws(JobError) -> JobDefinition {
        guard ReportKind(rawValue: request.report) != nil else {
            throw .invalid("unknown report '\(request.report)' (known: \(ReportKind.names))", field: "report")
        }
        guard configuration.sources[request.source] != nil else {
            throw .invalid(
                "unknown source '\(request.source)' (configured: \(configuration.sources.keys.sorted().joined(separator: ", ")))",
                field: "source")
        }
        if let share = request.maxMalformedShare, !(0...1).contains(share) {
            throw .invalid("max_malformed_share must be between 0 and 1", field: "max_malformed_share")
        }
        if let users = request.users, configuration.userDirectories[users] == nil {
            throw .invalid(
                "unknown user directory '\(users)' (configured: \(configuration.userDirectories.keys.sorted().joined(separator: ", ")))",
                field: "users")
        }
        // A target or address named twice is announced to once.
        let targets = Self.unique(request.notify ?? [])
        let emails = Self.unique(request.notifyEmails ?? [], by: { $0.lowercased() })
        try checkTargets(targets)
        if !emails.isEmpty {
            guard let email = configuration.notifications.email else {
                throw .invalid("this coordinator sends no e-mail (notifications.email is not configured)", field: "notify_emails")
            }
            guard emails.count <= Self.maximumNotifyEmails else {
                throw .invalid("at most \(Self.maximumNotifyEmails) addresses", field: "notify_emails")
            }
            for (i, address) in emails.enumerated() {
                if let problem = email.problem(with: address) { throw .invalid(problem, field: "notify_emails[\(i)]") }
            }
        }
        let report: ReportSpec
        do {
            report = try ReportSpec(request, submittedAt: now)
        } catch {
            throw .invalid(error.reason, field: error.field)
        }
        // Every kind but inactive-users is asked for over a window (`from`, `to`).
        let windowed = report.kind != .inactiveUsers
        return JobDefinition(
            report: report, source: request.source, timezone: request.timezone,
            requestedFrom: windowed ? request.from : nil, requestedTo: windowed ? request.to : nil,
            maxMalformedShare: request.maxMalformedShare, notifyTargets: targets, notifyEmails: emails)
    }

    /// Checks a list of notification targets (a job's or a schedule's), duplicates dropped.
    func checkTargets(_ targets: [String]?) throws(JobError) {
        let targets = Self.unique(targets ?? [])
        guard targets.count <= Self.maximumNotifyTargets else {
            throw .invalid("at most \(Self.maximumNotifyTargets) notification targets", field: "notify")
        }
        for (i, name) in targets.enumerated() where configuration.notifications.targets[name] == nil {
            throw .invalid(
                "unknown notification target '\(name)' (configured: \(configuration.notifications.targets.keys.sorted().joined(separator: ", ")))",
                field: "notify[\(i)]")
        }
    }

    /// Checks and stores a job for `owner`; with an idempotency key seen before (per owner), the
    /// job it made.
    func create(
        _ body: JobRequest, owner: String, idempotencyKey key: String?, maxActive: Int,
        submittedAt: Double? = nil
    ) async throws -> (job: JobRecord, replayed: Bool) {
        let now = clock.now()
        let definition = try checked(body, submittedAt: submittedAt ?? now)
        // Keys are per user: one user's key never returns another user's job. A replay must send
        // the same request (as sent, before defaults such as an inactive job's `now` are filled).
        let idempotency = try key.map { (key: owner + "\u{0}" + $0, request: try TallyJSON.encoder().encode(body)) }
        switch try await store.createJob(definition, owner: owner, maxActive: maxActive, idempotency: idempotency, now: now)
        {
        case .created(let job):
            planner.signal()  // plan it now rather than at the next tick
            return (job, false)
        case .replayed(let job):
            return (job, true)
        case .tooManyActive(let active):
            throw JobError(
                kind: .tooManyActive,
                reason: "user '\(owner)' has \(active) jobs queued or running, the most allowed "
                    + "(max_active_jobs_per_user); wait for one to end or cancel one")
        case .keyReused:
            throw JobError(
                kind: .keyReused, reason: "Idempotency-Key '\(key ?? "")' was used in the last 24 hours for another request",
                field: "Idempotency-Key")
        }
    }

    /// The elements in first-seen order, without repeats (by `key`).
    static func unique(_ items: [String], by key: (String) -> String = { $0 }) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert(key($0)).inserted }
    }

    // MARK: One job

    /// A job `identity` may see; another user's job is not found, exactly like a missing one.
    func visibleJob(_ id: String, to identity: Identity) async throws -> JobRecord {
        guard let job = try await store.job(id), identity.mayAccess(jobOwnedBy: job.owner) else {
            throw JobError(kind: .notFound, reason: "no job '\(id)'", field: "id")
        }
        return job
    }

    /// Cancels a job that has not ended; the job as it is now.
    func cancel(_ job: JobRecord) async throws -> JobRecord {
        guard try await store.finish(job.id, as: .cancelled, error: nil, now: clock.now()) else {
            throw JobError(kind: .wrongState, reason: "job '\(job.id)' already \(job.state.rawValue)", field: "id")
        }
        return try await store.job(job.id) ?? job
    }

    /// The result of a succeeded job, its local copy fetched when another replica wrote it.
    /// Streamed through the replica rather than redirected to the bucket: the caller's token,
    /// role and activity row apply to it, and clients need only the coordinator's address.
    func localResultFile(of job: JobRecord, gzipped: Bool) async throws -> ResultFile {
        let file = try await APIError.mapping { () throws(JobError) in try resultFile(of: job, gzipped: gzipped) }
        guard try await blobs.fetch(file.path) else {
            throw APIError(.gone, "the result of job '\(job.id)' is missing from the coordinator's files", field: "id")
        }
        return file
    }

    /// The result of a succeeded job whose files are still kept (the CSV, or its gzip copy).
    func resultFile(of job: JobRecord, gzipped: Bool) throws(JobError) -> ResultFile {
        guard job.state == .succeeded else {
            throw JobError(
                kind: .wrongState,
                reason: "job '\(job.id)' is \(job.state.rawValue); its result is not ready" + (job.error.map { ": \($0)" } ?? ""),
                field: "id")
        }
        guard job.resultBytes != nil else {
            throw JobError(
                kind: .resultExpired,
                reason: "the result of job '\(job.id)' expired \(resultExpiry(job).map { "at \($0) " } ?? "")"
                    + "(results are kept result_ttl_days, \(String(format: "%g", configuration.resultTTLDays)) days); submit the job again",
                field: "id")
        }
        func compact(_ micros: Int64) -> String {
            CivilTime.rfc3339(micros: micros).filter { $0 != "-" && $0 != ":" }.replacingOccurrences(of: ".", with: "")
        }
        return ResultFile(
            path: gzipped ? blobs.files.gzipResultPath(job.id) : blobs.files.resultPath(job.id),
            csvName: "tally-\(job.definition.report.kind.rawValue)-\(compact(job.window.from))-\(compact(job.window.to)).csv")
    }
}
