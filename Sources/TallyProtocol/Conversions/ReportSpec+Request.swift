import TallyFormats
import TallyReport

extension ReportSpec {
    /// The report a job request asks for, parsed once where it enters (the API, the pages, the
    /// schedule runner, the CLI's flag check): an unknown kind, a field the kind does not take or
    /// a bad window is an error naming the field. An inactive-users request without `now` ends
    /// its look-back at `submittedAt` (whole milliseconds), and the job keeps that instant, so
    /// merging it again later gives the same report.
    public init(_ body: JobRequest, submittedAt now: Double) throws(ReportWindowError) {
        let kind = ReportKind(rawValue: body.report)
        switch kind {
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
        case .activeUsers, .networkSummary, .resourceAccess:
            guard let from = body.from else { throw ReportWindowError(field: "from", reason: "missing field 'from'") }
            guard let to = body.to else { throw ReportWindowError(field: "to", reason: "missing field 'to'") }
            for (value, field) in [
                (body.inactiveDays.map(String.init), "inactive_days"), (body.lookbackDays.map(String.init), "lookback_days"),
                (body.now, "now"),
            ] where value != nil {
                throw ReportWindowError(field: field, reason: "only an inactive-users report takes \(field)")
            }
            if body.users != nil, kind?.takesDirectory != true {
                throw ReportWindowError(field: "users", reason: "only inactive-users and resource-access reports take users")
            }
            let window = try ReportWindow(from: from, to: to, timeZone: body.timezone)
            switch kind {
            case .networkSummary: self = .networkSummary(window: window)
            case .resourceAccess: self = .resourceAccess(window: window, directory: body.users)
            default: self = .activeUsers(window: window)
            }
        case nil:
            throw ReportWindowError(field: "report", reason: "unknown report '\(body.report)' (known: \(ReportKind.names))")
        }
    }
}
