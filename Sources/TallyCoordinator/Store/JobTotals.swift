import TallyReport

/// Sums over a job's committed tasks, for progress. Kept up to date by each commit, so a status
/// request reads one row instead of decoding every task's statistics.
struct JobTotals: Sendable, Codable {
    var tasksDone = 0
    var objects: Int64 = 0
    var bytes: Int64 = 0
    var events: Int64 = 0
    var statistics = ReadStatistics()

    /// Adds one committed task's statistics.
    mutating func add(_ s: ReadStatistics) {
        tasksDone += 1
        objects += s.objects
        bytes += s.bytes
        events += s.lines.events
        statistics.add(s)
    }
}
