import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `tally` executable: parses the command line and turns every failure into one line on
/// standard error and a non-zero exit status (docs/design.md §5.1).
@main
enum TallyMain {
    static func main() async {
        LoggingSetup.bootstrapMetrics()
        let command: any ParsableCommand
        let logFormat: LogLineFormat?
        do {
            command = try Tally.parseAsRoot()
            logFormat = Tally.logFormat(of: try Tally.parseAsRoot())
        } catch {
            let code = Tally.exitCode(for: error)
            if code == .success { Tally.exit(withError: error) }  // --help, --version
            CLIOutput.fail(Tally.message(for: error), status: ExitStatus.usage)
        }
        LoggingSetup.bootstrap(format: logFormat)
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch let error as ValidationError {
            CLIOutput.fail(error.message, status: ExitStatus.usage)
        } catch {
            // `--help` and `--version` arrive here as ArgumentParser's own errors.
            if Tally.exitCode(for: error) == .success { Tally.exit(withError: error) }
            CLIOutput.fail(String(describing: error), status: ExitStatus.failure)
        }
    }
}

/// The root command.
struct Tally: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "Per-user activity reports from Twingate connection logs.",
        subcommands: [
            RunCommand.self, CoordinatorCommand.self, WorkerCommand.self, SubmitCommand.self, UserCommand.self, ActivityCommand.self,
            StatusCommand.self, ListCommand.self, FetchCommand.self, CancelCommand.self, NotifyCommand.self, ScheduleCommand.self,
            TokenCommand.self, StoreCommand.self, GenCommand.self,
        ]
    )

    /// The log format a service command asks for (parsed apart from the command that runs, so
    /// the running one is never shared).
    static func logFormat(of command: any ParsableCommand) -> LogLineFormat? {
        (command as? any LogFormatOption)?.logFormat
    }
}

/// Exit statuses.
enum ExitStatus {
    /// The job failed or the source could not be read.
    static let failure: Int32 = 1
    /// Bad arguments.
    static let usage: Int32 = 2
    /// Nothing to report: no object of the format in the source, or none in the window
    /// (`tally run --allow-empty` writes the empty report instead).
    static let empty: Int32 = 3
}

/// Standard-error output shared by the commands.
enum CLIOutput {
    /// Writes one line to standard error.
    static func note(_ line: String) {
        FileHandle.standardError.write(Data(("tally: " + line + "\n").utf8))
    }

    /// Writes the reason as one line (line breaks folded) and exits.
    static func fail(_ reason: String, status: Int32) -> Never {
        let oneLine = reason.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        FileHandle.standardError.write(Data(("tally: error: " + oneLine + "\n").utf8))
        exit(status)
    }
}
