import ArgumentParser
import TallyFormats
import TallyGen
import TallyProtocol

/// `tally gen`: writes deterministic sample logs for demos, tests and benchmarks.
struct GenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Write sample Twingate logs (the same seed gives the same events in every format)."
    )

    @Option(help: "twingate-csv, twingate-s3 or twingate-analytics.")
    var format: SampleFormat

    @Option(help: "Number of users.")
    var users: Int = 100

    @Option(help: "First hour, RFC 3339 (e.g. 2026-10-01T00:00:00Z).")
    var start: String

    @Option(help: "Number of hours to write.")
    var hours: Int = 24

    @Option(help: "Connections per hour.")
    var eventsPerHour: Int = 10_000

    @Option(help: "Directory to write.")
    var out: String

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Flag(help: "Gzip the files (.gz).")
    var gzip = false

    @Option(help: "How often each user connects: zipf (a few users most, as in real logs) or uniform (the most distinct users).")
    var activity: SampleActivity = .zipf

    func run() throws {
        let micros = Array(start.utf8).withUnsafeBytes { EventTimestamp.parseRFC3339($0) }
        guard let micros else {
            throw ValidationError("--start: '\(start)' is not an RFC 3339 instant (2026-10-01T00:00:00Z)")
        }
        let options = SampleLogOptions(
            format: format, users: users, start: micros / 1_000_000, hours: hours,
            eventsPerHour: eventsPerHour, seed: seed, gzip: gzip, activity: activity)
        let summary = try SampleLogGenerator.write(options, to: out)
        CLIOutput.note("wrote \(summary.events) events in \(summary.files) files (\(ByteSize.text(summary.bytes))) to \(out)")
    }
}

extension SampleFormat: ExpressibleByArgument {}
extension SampleActivity: ExpressibleByArgument {}
