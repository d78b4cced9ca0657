import Foundation
import TallyClient
import TallyFormats
import TallyProtocol

/// Follows a job until it ends: a redrawn progress bar with ETA on a terminal, a plain line
/// every few seconds otherwise (logs, CI).
struct JobProgressDisplay {
    /// Whether standard error is a terminal.
    let interactive = isatty(STDERR_FILENO) == 1
    /// How often the job is polled.
    var pollInterval: Duration = .milliseconds(100)
    /// How often a plain line is printed when not on a terminal.
    var plainInterval: Duration = .seconds(5)
    /// Whether to print anything.
    var quiet = false
    /// Off a terminal: whether the first line comes at once (else after `plainInterval`), and
    /// whether the job's end gets a line (`tally run` ends with its own summary or error line).
    var plainAtStart = true
    var plainAtEnd = true

    /// Polls the job until it ends. `abandon` is asked on every poll; a reason it returns ends
    /// the wait with that error (used when the job can no longer progress).
    func follow(_ id: String, client: JobAPIClient, abandon: () -> String? = { nil }) async throws -> JobStatus {
        var lastPlain = ContinuousClock.now - (plainAtStart ? plainInterval : .zero)
        while true {
            let status = try await client.status(id)
            if !status.state.isTerminal, let reason = abandon() { throw JobError(reason: reason) }
            if !quiet {
                if interactive {
                    FileHandle.standardError.write(Data(("\r\u{1B}[K" + bar(status)).utf8))
                } else if status.state.isTerminal ? plainAtEnd : ContinuousClock.now - lastPlain >= plainInterval {
                    CLIOutput.note(line(status))
                    lastPlain = ContinuousClock.now
                }
            }
            if status.state.isTerminal {
                if interactive && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
                return status
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    func line(_ s: JobStatus) -> String {
        let p = s.progress
        return "job \(s.id) \(s.state.rawValue): tasks \(p.tasksDone)/\(p.tasksTotal), objects \(p.objects)/\(p.objectsTotal), "
            + "\(p.events) events, \(Int64(saturating: p.eventsPerSecond)) events/s" + retries(s) + eta(p)
    }

    func bar(_ s: JobStatus) -> String {
        let p = s.progress
        let fraction = p.bytesTotal > 0 ? min(1, Double(p.bytes) / Double(p.bytesTotal)) : (s.state.isTerminal ? 1 : 0)
        let width = 30
        let filled = Int(saturating: fraction * Double(width))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + String(format: "%3.0f%%", fraction * 100) + " \(s.state.rawValue) tasks \(p.tasksDone)/\(p.tasksTotal)"
            + " objects \(p.objects)/\(p.objectsTotal) \(Int64(saturating: p.eventsPerSecond)) events/s" + retries(s) + eta(p)
    }

    private func retries(_ s: JobStatus) -> String {
        let retries = s.statistics.sourceRetries
        return retries > 0 ? ", \(retries) retries" : ""
    }

    private func eta(_ p: JobProgress) -> String {
        guard let eta = p.etaSeconds else { return "" }
        return String(format: ", ETA %.0fs", eta)
    }
}
