import ArgumentParser
import Foundation
import TallyFormats
import TallyReport
import TallySources

/// `tally run`: the whole job on one machine, from a source URL or path to the CSV file.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an active-users report over a log source and write the CSV."
    )

    @Option(help: "Log source: a directory path, file://, or http(s):// URL of an nginx JSON autoindex.")
    var source: String

    @Option(help: "Window start: RFC 3339 instant, or with --tz a local date (2026-10-01) or time (2026-10-01T08:00).")
    var from: String

    @Option(help: "Window end (exclusive), same forms as --from.")
    var to: String

    @Option(name: .customLong("tz"), help: "IANA time zone for local dates and times, e.g. Europe/Paris.")
    var timeZone: String?

    @Option(help: "Log format: auto, twingate-csv, twingate-s3 or twingate-analytics.")
    var format: LogFormat = .auto

    @Option(help: "Tasks run in parallel (default: number of cores).")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "CSV file to write.")
    var out: String

    func validate() throws {
        guard workers >= 1, workers <= 1024 else { throw ValidationError("--workers must be between 1 and 1024") }
    }

    func run() async throws {
        let window: ReportWindow
        do {
            window = try ReportWindow(from: from, to: to, timeZone: timeZone)
        } catch {
            throw ValidationError("--\(error.field == "timezone" ? "tz" : error.field): \(error.reason)")
        }
        let started = ContinuousClock.now
        let logSource = try LogSources.open(source)
        let objects = try await logSource.list(format: format)
        let plan = ReportPlan(objects: objects, window: window)
        let job = LocalJob(plan: plan, window: window, format: format, source: logSource, workers: workers)
        let merger = try await job.run()
        let csv = merger.csv()
        try AtomicFile.write(csv, to: out)
        RunSummary(plan: plan, statistics: merger.statistics, users: merger.userCount, workers: workers,
                   output: out, elapsed: ContinuousClock.now - started).print()
    }
}

extension LogFormat: ExpressibleByArgument {}
