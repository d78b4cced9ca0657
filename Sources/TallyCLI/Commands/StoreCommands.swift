import ArgumentParser
import TallyCoordinator

/// `tally store …`: the coordinator's state as a whole.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Move a coordinator's state between stores.", subcommands: [Migrate.self])

    /// `tally store migrate`: SQLite to PostgreSQL.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Copy a data directory's SQLite store (jobs, tasks, tokens, sessions, schedules, deliveries, the shard-cache index, the activity log) into an empty PostgreSQL store. Stop the coordinator first."
        )

        @Option(help: "The coordinator's data directory, whose tally.sqlite and activity.sqlite are copied.")
        var fromDataDir: String

        @Option(help: "The PostgreSQL store: postgres://USER@HOST:PORT/DATABASE[?schema=NAME&sslmode=…].")
        var to: String

        @Option(help: "The file holding the database's password.")
        var toPasswordFile: String?

        func run() async throws {
            let counts = try await StoreMigration.copy(fromDataDirectory: fromDataDir, toURL: to, passwordFile: toPasswordFile)
            for (table, rows) in counts { print("\(table)\t\(rows)") }
            CLIOutput.note(
                "copied \(counts.reduce(0) { $0 + $1.rows }) rows; set store: {kind: postgres, url: …} in tally.yaml and start the coordinators"
            )
        }
    }
}
