import Foundation
import TallyFormats
import TallyReport

/// The summary `tally run` prints on standard error.
struct RunSummary {
    let plan: ReportPlan
    let statistics: ReadStatistics
    let users: Int
    let workers: Int
    let output: String
    let elapsed: Duration

    func print() {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let lines = statistics.lines
        CLIOutput.note("\(statistics.objects) objects (\(Self.bytes(statistics.bytes))) of \(plan.objectsListed) listed, \(plan.tasks.count) tasks, \(workers) workers")
        CLIOutput.note("\(lines.events) events read, \(statistics.eventsInWindow) in window, \(statistics.serviceAccountEvents) service-account rows skipped, \(lines.notEvents) other lines")
        let reasons = MalformedReason.allCases.filter { lines[$0] > 0 }.map { "\($0.rawValue) \(lines[$0])" }
        CLIOutput.note("\(lines.malformed) malformed lines" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: ", ")))
        for sample in lines.samples.prefix(3) {
            CLIOutput.note("  e.g. \(sample.object) line \(sample.line): \(sample.reason.rawValue)")
        }
        let rate = seconds > 0 ? Double(lines.events) / seconds : 0
        CLIOutput.note("\(users) users written to \(output) in \(String(format: "%.2f", seconds)) s (\(Int(rate)) events/s)")
    }

    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}
