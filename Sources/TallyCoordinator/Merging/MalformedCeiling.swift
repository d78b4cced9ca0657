import TallyFormats
import TallyReport

/// A job whose input was more broken than its request allows (`max_malformed_share`).
struct MalformedCeiling: Error, CustomStringConvertible {
    var malformed: Int64
    var lines: Int64
    var ceiling: Double
    var firstSample: String?

    var description: String {
        let share = lines > 0 ? Double(malformed) / Double(lines) : 0
        return "\(malformed) of \(lines) lines are malformed (\(percent(share))), more than the job allows (\(percent(ceiling)))"
            + (firstSample.map { "; first: \($0)" } ?? "")
    }

    private func percent(_ x: Double) -> String {
        // A share past 100 % (counts no reading gives, but a faulty partial could claim) is said
        // so, never converted to an integer that traps.
        guard x <= 1 else { return "over 100 %" }
        return String(Double(Int64(saturating: (x * 10_000).rounded())) / 100) + " %"
    }

    /// The error when `statistics` break the ceiling; nil when they keep within it.
    static func excess(_ statistics: ReadStatistics, ceiling: Double) -> MalformedCeiling? {
        let malformed = statistics.lines.malformed
        let lines = statistics.lines.lines
        guard lines > 0, Double(malformed) > ceiling * Double(lines) else { return nil }
        let first = statistics.lines.samples.first.map { "\($0.object) line \($0.line): \($0.reason.rawValue)" }
        return MalformedCeiling(malformed: malformed, lines: lines, ceiling: ceiling, firstSample: first)
    }
}
