import ArgumentParser
import Foundation
import TallyAccess
import TallyClient
import TallyCoordinator
import TallyFormats
import TallyProtocol

/// `tally user activity NAME`: shows, or with `--logs`/`--off` sets, whether a user's API
/// requests are written to the activity log and to which named logs.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Per-user settings.", subcommands: [Activity.self])

    struct Activity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or set where a user's API requests are logged: --logs a,b sends them to those logs, --off stops them.")

        @OptionGroup var target: AdministrationTarget

        @Argument(help: "The user (a token's user name).")
        var user: String

        @Option(help: "Comma-separated log names to send the user's rows to.")
        var logs: String?

        @Flag(help: "Stop writing the user's rows.")
        var off = false

        func validate() throws {
            guard !(off && logs != nil) else { throw ValidationError("give --logs or --off, not both") }
        }

        func run() async throws {
            let setting: ActivitySetting? =
                off
                ? .off
                : logs.map {
                    ActivitySetting(enabled: true, logs: $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                }
            if let problem = setting?.problem { throw ValidationError(problem) }
            let user = self.user
            // A data directory does not know tally.yaml's default: nil stands for "the default".
            let shown: ActivitySetting? = try await target.run(
                local: { dataDir, store in
                    let administration = try ActivityAdministration(dataDirectory: dataDir, store: store)
                    if let setting { try await administration.set(setting, for: user) }
                    return try await administration.setting(of: user)
                },
                remote: { connection in
                    let client = ActivityAPIClient(connection)
                    if let setting { return try await client.set(setting, for: user).setting }
                    return try await client.setting(of: user).setting
                })
            let state = shown.map { $0.enabled ? "on, logs " + $0.logs.joined(separator: ",") : "off" } ?? "activity_log.default"
            print("\(user.escapingControlCharacters)\t\(state)")
        }
    }
}

/// `tally activity`: exports activity log rows to a file (CSV or NDJSON).
struct ActivityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "activity", abstract: "Export the API activity log.")

    @OptionGroup var target: AdministrationTarget

    @Option(help: "The named log (default: default).")
    var log: String?

    @Option(help: "Only this user's rows.")
    var user: String?

    @Option(help: "Rows written at or after this RFC 3339 time.")
    var from: String?

    @Option(help: "Rows written before this RFC 3339 time.")
    var to: String?

    @Option(help: "csv or ndjson.")
    var format: String = "csv"

    @Option(help: "The file to write (replaced whole, or left as it was on failure).")
    var out: String

    func run() async throws {
        guard let format = ActivityExport.Format(rawValue: format) else { throw ValidationError("--format must be csv or ndjson") }
        let export: ActivityExport
        do {
            export = try ActivityExport(log: log, user: user, from: from, to: to, format: format)
        } catch {
            throw ValidationError("--\(error.field): \(error.reason)")
        }
        let (log, user, from, to) = (self.log, self.user, self.from, self.to)
        try await AtomicFile.stream(to: out) { write in
            try await target.run(
                local: { dataDir, store in
                    try await ActivityAdministration(dataDirectory: dataDir, store: store).export(export) { text in
                        try write(Array(text.utf8))
                    }
                },
                remote: { connection in
                    try await ActivityAPIClient(connection).export(log: log, user: user, from: from, to: to, ndjson: format == .ndjson) {
                        chunk in
                        try write(chunk.readableBytesView)
                    }
                })
        }
    }
}
