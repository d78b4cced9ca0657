import ArgumentParser
import AsyncHTTPClient
import Foundation
import TallyClient
import TallyFormats
import TallyProtocol
import TallyReport
import TallySources

/// `tally run`: the whole job on one machine — an embedded coordinator, `--workers` worker
/// processes over loopback HTTP, the CSV written to `--out`.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a report (active-users, inactive-users, network-summary, resource-access) over a log source and write the CSV."
    )

    @Option(help: "Log source: a directory path, file://, http(s):// URL of an nginx JSON autoindex, or s3://bucket/prefix.")
    var source: String

    @OptionGroup var window: WindowOptions

    @Option(
        help:
            "inactive-users, resource-access: a user directory, a CSV with an email (or user_email, user) column: a path or http(s):// URL."
    )
    var users: String?

    @Option(help: "Log format: auto, twingate-csv, twingate-s3 or twingate-analytics.")
    var format: LogFormat = .auto

    @Option(help: "Worker processes (default: number of cores).")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "CSV file to write.")
    var out: String

    @Option(help: "Fail when more than this share (0 to 1) of the lines read are malformed.")
    var maxMalformedShare: Double?

    @Flag(help: "No progress (a bar on a terminal, a line every few seconds otherwise); the summary is still printed.")
    var quiet = false

    @Option(help: "Also write the job's final status to this file as JSON, as GET /v1/jobs/{id} answers (for scripts).")
    var statusJson: String?

    @Flag(help: "Write the empty report when the source holds no object of the format, or none in the window (else exit 3).")
    var allowEmpty = false

    func validate() throws {
        guard workers >= 1, workers <= 256 else { throw ValidationError("--workers must be between 1 and 256") }
        if let share = maxMalformedShare, !(0...1).contains(share) {
            throw ValidationError("--max-malformed-share must be between 0 and 1")
        }
    }

    func run() async throws {
        let report = try window.validateWindow(users: users.map { _ in LocalCluster.directoryName })
        let spec = ConfiguredSource(address: try SourceAddress(url: source).absolute(), format: format)
        // Before starting anything: a source that cannot be opened, or would give an empty report.
        // (Opening makes no request, so that client never starts a connection pool.)
        _ = try spec.open(client: SourceHTTPClient())
        // A listing that fails even retried is left to the job, which reports it as it reads.
        let listing = SourceHTTPClient()
        let empty = try? await EmptySourceCheck.problem(of: spec, window: report.window, location: source, client: listing)
        try? await listing.shutdown()
        if let empty = empty ?? nil {
            guard allowEmpty else { CLIOutput.fail(empty + "; --allow-empty writes the empty report", status: ExitStatus.empty) }
            CLIOutput.note("warning: " + empty + "; the report is empty")
        }
        let started = ContinuousClock.now
        let directory = users.map { $0.contains("://") ? $0 : URL(fileURLWithPath: $0).standardizedFileURL.path }
        let cluster = try await LocalCluster.start(source: spec, userDirectory: directory, workers: workers)
        let interrupt = SignalTrap.install([SIGINT, SIGTERM]) {
            cluster.killChildrenNow()
            Foundation.exit(130)
        }
        defer { interrupt.cancel() }
        let http = try CoordinatorHTTPClient.make()
        do {
            let client = JobAPIClient(CoordinatorConnection(baseURL: cluster.url, http: http, token: cluster.token))
            let job = try await client.submit(
                window.request(
                    source: LocalCluster.sourceName, users: users.map { _ in LocalCluster.directoryName },
                    maxMalformedShare: maxMalformedShare))
            let final = try await JobProgressDisplay(quiet: quiet, plainAtStart: false, plainAtEnd: false).follow(job.id, client: client) {
                cluster.workersGone()
            }
            guard final.state == .succeeded else {
                throw JobError(reason: final.error ?? "job \(final.state.rawValue)")
            }
            try await AtomicFile.fetch(job.id, with: client, to: out)
            if let statusJson {
                do {
                    try TallyJSON.encoder().encode(final).write(to: URL(fileURLWithPath: statusJson))
                } catch {
                    throw ValidationError("cannot write --status-json \(statusJson): \(error.localizedDescription)")
                }
            }
            await cluster.shutdown()
            try? await http.shutdown()
            RunSummary(status: final, workers: workers, output: out, elapsed: ContinuousClock.now - started).print()
        } catch {
            await cluster.shutdown()
            try? await http.shutdown()
            throw error
        }
    }
}

extension LogFormat: ExpressibleByArgument {}
