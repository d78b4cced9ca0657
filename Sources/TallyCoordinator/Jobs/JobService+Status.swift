import TallyFormats
import TallyProtocol
import TallyReport
import TallyStore

/// How jobs are shown: the API's view (`JobStatus`), which the pages show too.
extension JobService {
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
            now: inactive.map { CivilTime.rfc3339(micros: $0.now) }, userDirectory: definition.report.directory,
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

    /// When a succeeded job's result expires (or expired).
    func resultExpiry(_ job: JobRecord) -> String? {
        guard job.state == .succeeded, let finished = job.finishedAt else { return nil }
        return WireTime.timestamp(finished + configuration.resultTTLDays * 86_400)
    }
}
