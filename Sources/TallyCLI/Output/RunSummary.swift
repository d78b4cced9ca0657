import Foundation
import TallyFormats
import TallyProtocol
import TallyReport

/// The summary `tally run` prints on standard error.
struct RunSummary {
    let status: JobStatus
    let workers: Int
    let output: String
    let elapsed: Duration

    func print() {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let p = status.progress
        let s = status.statistics
        CLIOutput.note("\(p.objects) objects (\(ByteSize.text(p.bytes))), \(p.tasksTotal) tasks, \(workers) workers")
        let kind = ReportKind(rawValue: status.report)
        // A report by Resource counts service accounts' connections; the others leave them out.
        let serviceAccounts = kind?.shape.skipsServiceAccounts == false ? "counted" : "skipped"
        CLIOutput.note(
            "\(s.events) events read, \(s.eventsInWindow) in window, \(s.serviceAccountRows) service-account rows \(serviceAccounts), \(s.otherLines) other lines"
        )
        let reasons = s.malformed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        CLIOutput.note("\(s.malformedTotal) malformed lines" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: ", ")))
        if s.sourceRetries > 0 {
            CLIOutput.note("\(s.sourceRetries) source reads retried (transient failures that healed)")
        }
        for sample in s.malformedSamples.prefix(3) {
            CLIOutput.note("  e.g. \(sample.object) line \(sample.line): \(sample.reason)")
        }
        let rate = seconds > 0 ? Double(s.events) / seconds : 0
        CLIOutput.note(
            "\(status.users ?? 0) \(Self.rowNoun(kind)) written to \(output) in \(String(format: "%.2f", seconds)) s (\(Int64(saturating: rate)) events/s)"
        )
        if let merge = Self.mergeSeconds(status) {
            CLIOutput.note("merge phase (last partial committed to CSV written) \(String(format: "%.3f", merge)) s")
        }
    }

    /// What a row of the report is, in the summary's words.
    static func rowNoun(_ kind: ReportKind?) -> String {
        switch kind {
        case .networkSummary: "Resources"
        case .resourceAccess: "user and Resource rows"
        default: "users"
        }
    }

    /// Seconds from the last partial's commit to the job's end, from the status timestamps.
    static func mergeSeconds(_ status: JobStatus) -> Double? {
        func micros(_ text: String?) -> Int64? {
            guard let text else { return nil }
            return Array(text.utf8).withUnsafeBytes { EventTimestamp.parseRFC3339($0) }
        }
        guard let last = micros(status.lastPartialAt), let end = micros(status.finishedAt) else { return nil }
        return Double(end - last) / 1e6
    }
}
