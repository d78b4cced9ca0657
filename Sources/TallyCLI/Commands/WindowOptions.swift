import ArgumentParser
import TallyReport

/// The report window options shared by `run` and `submit`.
struct WindowOptions: ParsableArguments {
    @Option(help: "Window start: RFC 3339 instant, or with --tz a local date (2026-10-01) or time (2026-10-01T08:00).")
    var from: String

    @Option(help: "Window end (exclusive), same forms as --from.")
    var to: String

    @Option(name: .customLong("tz"), help: "IANA time zone for local dates and times, e.g. Europe/Paris.")
    var timeZone: String?

    /// Checks the window here, so a bad one is reported as a usage error naming the flag.
    func validateWindow() throws {
        do {
            _ = try ReportWindow(from: from, to: to, timeZone: timeZone)
        } catch {
            throw ValidationError("--\(error.field == "timezone" ? "tz" : error.field): \(error.reason)")
        }
    }
}
