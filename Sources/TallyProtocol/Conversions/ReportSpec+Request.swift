import TallyFormats
import TallyReport

extension ReportSpec {
    /// The report a job request asks for, parsed once where it enters (the API, the pages, the
    /// schedule runner, the CLI's flag check): an unknown kind, a field the kind does not take or
    /// a bad window is an error naming the field. An inactive-users request without `now` ends
    /// its look-back at `submittedAt` (whole milliseconds), and the job keeps that instant, so
    /// merging it again later gives the same report.
    public init(_ body: JobRequest, submittedAt now: Double) throws(ReportWindowError) {
        switch ReportKind(rawValue: body.report) {
        case .inactiveUsers:
            for (value, field) in [(body.from, "from"), (body.to, "to")] where value != nil {
                throw ReportWindowError(
                    field: field, reason: "an inactive-users report takes now, inactive_days and lookback_days, not \(field)")
            }
            let end =
                try body.now.map { text throws(ReportWindowError) in try ReportWindow.instant(text, field: "now", timeZone: body.timezone) }
                ?? Int64((now * 1_000_000).rounded(.down) / 1000) * 1000
            self = .inactiveUsers(
                try InactiveUsersSpec(now: end, inactiveDays: body.inactiveDays, lookbackDays: body.lookbackDays, directory: body.users))
        case .activeUsers:
            guard let from = body.from else { throw ReportWindowError(field: "from", reason: "missing field 'from'") }
            guard let to = body.to else { throw ReportWindowError(field: "to", reason: "missing field 'to'") }
            for (value, field) in [
                (body.inactiveDays.map(String.init), "inactive_days"), (body.lookbackDays.map(String.init), "lookback_days"),
                (body.now, "now"), (body.users, "users"),
            ] where value != nil {
                throw ReportWindowError(field: field, reason: "only an inactive-users report takes \(field)")
            }
            self = .activeUsers(window: try ReportWindow(from: from, to: to, timeZone: body.timezone))
        case nil:
            throw ReportWindowError(field: "report", reason: "unknown report '\(body.report)' (known: \(ReportKind.names))")
        }
    }
}
