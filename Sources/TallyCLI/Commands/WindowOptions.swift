import ArgumentParser
import Foundation
import TallyProtocol
import TallyReport

extension ReportKind: ExpressibleByArgument {}

/// What report, over which window: the options shared by `run` and `submit`. An active-users,
/// network-summary or resource-access report takes `--from` and `--to`; an inactive-users one
/// `--now`, `--inactive-days` and `--lookback-days` (and, as resource-access may, a user
/// directory, named by each command its own way).
struct WindowOptions: ParsableArguments {
    @Option(help: "active-users, inactive-users, network-summary or resource-access.")
    var report: ReportKind = .activeUsers

    @Option(help: "Window start: RFC 3339 instant, or with --tz a local date (2026-10-01) or time (2026-10-01T08:00).")
    var from: String?

    @Option(help: "Window end (exclusive), same forms as --from.")
    var to: String?

    @Option(
        name: .customLong("tz"),
        help: "IANA time zone for local dates and times, e.g. Europe/Paris (default: this machine's, from TZ or /etc/localtime).")
    var timeZone: String?

    @Option(help: "inactive-users: days without a counted connection that make a user inactive (default 90).")
    var inactiveDays: Int?

    @Option(help: "inactive-users: days before --now scanned for last connections (default 365, at least --inactive-days).")
    var lookbackDays: Int?

    @Option(help: "inactive-users: the end of the look-back, same forms as --from (default: now).")
    var now: String?

    /// The zone local dates and times are read in: `--tz`, else this machine's when a bound is a
    /// local date or time (the report's rule is the user's local time; docs/design.md §5.1).
    var zone: String? {
        if let timeZone { return timeZone }
        guard [from, to, now].contains(where: { $0.map { !ReportWindow.isInstant($0) } ?? false }) else { return nil }
        return TimeZone.current.identifier
    }

    /// The job request these options make.
    func request(source: String, users: String?, maxMalformedShare: Double?) -> JobRequest {
        JobRequest(
            report: report.rawValue, source: source, from: from, to: to, timezone: zone, maxMalformedShare: maxMalformedShare,
            inactiveDays: inactiveDays, lookbackDays: lookbackDays, now: now, users: users)
    }

    /// Checks the window here, with the coordinator's own rules, so a bad one is reported as a
    /// usage error naming the flag; a local time the zone skips or repeats is reported with the
    /// instant used, and the machine's zone when it was taken for `--tz`. The report's spec.
    @discardableResult
    func validateWindow(users: String? = nil) throws -> ReportSpec {
        do {
            let spec = try ReportSpec(request(source: "", users: users, maxMalformedShare: nil), submittedAt: Date().timeIntervalSince1970)
            if timeZone == nil, let zone {
                CLIOutput.note("note: local dates and times read in \(zone), this machine's time zone (--tz to choose another)")
            }
            if let from, let to, zone != nil {
                for note in try ReportWindow.resolve(from: from, to: to, timeZone: zone).notes { CLIOutput.note("note: " + note) }
            }
            return spec
        } catch {
            let flag = error.field == "timezone" ? "tz" : error.field.replacingOccurrences(of: "_", with: "-")
            throw ValidationError("--\(flag): \(error.reason)")
        }
    }
}
