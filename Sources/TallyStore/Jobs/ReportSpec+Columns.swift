import TallyReport

extension ReportSpec {
    /// The report a job's columns describe, in whichever database they are kept; a kind no
    /// release of tally writes, or an inactive-users job without its instant, names the job.
    package static func stored(
        jobId: String, kind: String, windowFrom: Int64, windowTo: Int64, inactiveNow: Int64?, inactiveDays: Int?,
        lookbackDays: Int?, directory: String?
    ) throws -> ReportSpec {
        switch ReportKind(rawValue: kind) {
        case .activeUsers:
            return .activeUsers(window: try ReportWindow(from: windowFrom, to: windowTo))
        case .inactiveUsers:
            guard let now = inactiveNow else { throw StoreError("job \(jobId) has no inactive_now") }
            return .inactiveUsers(
                try InactiveUsersSpec(now: now, inactiveDays: inactiveDays, lookbackDays: lookbackDays, directory: directory))
        case .networkSummary:
            return .networkSummary(window: try ReportWindow(from: windowFrom, to: windowTo))
        case .resourceAccess:
            return .resourceAccess(window: try ReportWindow(from: windowFrom, to: windowTo), directory: directory)
        case nil:
            throw StoreError("job \(jobId) has an unknown report kind '\(kind)'")
        }
    }
}
