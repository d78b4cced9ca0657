import TallyReport

/// Sums over a job's committed tasks, for progress. Kept up to date by each commit, so a status
/// request reads one row instead of decoding every task's statistics.
struct JobTotals: Sendable, Codable {
    var tasksDone = 0
    var objects: Int64 = 0
    var bytes: Int64 = 0
    var events: Int64 = 0
    var statistics = ReadStatistics()
    /// Source reads retried by the workers of the committed tasks.
    var sourceRetries: Int64 = 0

    init() {}

    init(from decoder: any Decoder) throws {
        // Totals written before retries were counted have no `source_retries`.
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tasksDone = try c.decode(Int.self, forKey: .tasksDone)
        objects = try c.decode(Int64.self, forKey: .objects)
        bytes = try c.decode(Int64.self, forKey: .bytes)
        events = try c.decode(Int64.self, forKey: .events)
        statistics = try c.decode(ReadStatistics.self, forKey: .statistics)
        sourceRetries = try c.decodeIfPresent(Int64.self, forKey: .sourceRetries) ?? 0
    }

    /// Adds one committed task's statistics.
    mutating func add(_ s: ReadStatistics, sourceRetries retries: Int64 = 0) {
        sourceRetries = sourceRetries.addingReportingOverflow(retries).overflow ? .max : sourceRetries + retries
        tasksDone += 1
        objects += s.objects
        bytes += s.bytes
        events += s.lines.events
        statistics.add(s)
    }
}
