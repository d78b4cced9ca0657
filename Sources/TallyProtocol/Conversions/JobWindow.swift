import TallyFormats
import TallyReport

/// The window a job request asks for, and the request as stored: an active-users job names its
/// window; an inactive-users job names `now` (the submit time when absent, recorded so the job
/// can be merged the same way later) and a look-back before it, with the defaults filled in.
/// The coordinator resolves requests with it; the CLI checks its flags with it.
public enum JobWindow {
    public static let defaultInactiveDays = 90
    public static let defaultLookbackDays = 365

    /// The stored request and its window; a problem names the field.
    public static func resolve(_ body: JobRequest, submittedAt now: Double) throws(ReportWindowError) -> (JobRequest, ReportWindow) {
        var request = body
        switch ReportKind(rawValue: body.report) {
        case .inactiveUsers:
            for (value, field) in [(body.from, "from"), (body.to, "to")] where value != nil {
                throw ReportWindowError(
                    field: field, reason: "an inactive-users report takes now, inactive_days and lookback_days, not \(field)")
            }
            let inactive = body.inactiveDays ?? defaultInactiveDays
            guard (1...Int(ReportWindow.maximumDays)).contains(inactive) else {
                throw ReportWindowError(field: "inactive_days", reason: "must be between 1 and \(ReportWindow.maximumDays)")
            }
            let lookback = body.lookbackDays ?? max(defaultLookbackDays, inactive)
            guard lookback >= inactive else {
                throw ReportWindowError(field: "lookback_days", reason: "must be at least inactive_days (\(inactive))")
            }
            let end =
                try body.now.map { text throws(ReportWindowError) in try ReportWindow.instant(text, field: "now", timeZone: body.timezone) }
                ?? Int64((now * 1_000_000).rounded(.down) / 1000) * 1000
            let window = try ReportWindow(days: lookback, endingAt: end)
            request.inactiveDays = inactive
            request.lookbackDays = lookback
            request.now = CivilTime.rfc3339(micros: end)
            return (request, window)
        default:
            guard let from = body.from else { throw ReportWindowError(field: "from", reason: "missing field 'from'") }
            guard let to = body.to else { throw ReportWindowError(field: "to", reason: "missing field 'to'") }
            for (value, field) in [
                (body.inactiveDays.map(String.init), "inactive_days"), (body.lookbackDays.map(String.init), "lookback_days"),
                (body.now, "now"), (body.users, "users"),
            ] where value != nil {
                throw ReportWindowError(field: field, reason: "only an inactive-users report takes \(field)")
            }
            return (request, try ReportWindow(from: from, to: to, timeZone: body.timezone))
        }
    }

    /// The rule an inactive-users job's stored request names.
    public static func inactiveRule(of request: JobRequest) -> InactiveUsersCSV.Rule? {
        guard ReportKind(rawValue: request.report) == .inactiveUsers, let now = request.now,
            let micros = Array(now.utf8).withUnsafeBytes({ EventTimestamp.parseRFC3339($0) })
        else { return nil }
        return InactiveUsersCSV.Rule(now: micros, inactiveDays: request.inactiveDays ?? defaultInactiveDays)
    }
}
