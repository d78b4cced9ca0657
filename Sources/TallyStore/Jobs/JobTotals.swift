import TallyFormats
import TallyReport

/// Sums over a job's committed tasks, for progress. Kept up to date by each commit, so a status
/// request reads one row instead of decoding every task's statistics.
package struct JobTotals: Sendable, Codable {
    package var tasksDone = 0
    package var objects: Int64 = 0
    package var bytes: Int64 = 0
    package var events: Int64 = 0
    package var statistics = ReadStatistics()
    /// Source reads retried by the workers of the committed tasks.
    package var sourceRetries: Int64 = 0
    /// Of the done tasks, those whose partial came from the shard cache, and their objects and
    /// bytes (counted in the sums above, but not read by this job).
    package var shardsReused = 0
    package var objectsReused: Int64 = 0
    package var bytesReused: Int64 = 0
    package var eventsReused: Int64 = 0

    package init() {}

    package init(from decoder: any Decoder) throws {
        // Totals written before retries were counted have no `source_retries`.
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tasksDone = try c.decode(Int.self, forKey: .tasksDone)
        objects = try c.decode(Int64.self, forKey: .objects)
        bytes = try c.decode(Int64.self, forKey: .bytes)
        events = try c.decode(Int64.self, forKey: .events)
        statistics = try c.decode(ReadStatistics.self, forKey: .statistics)
        sourceRetries = try c.decodeIfPresent(Int64.self, forKey: .sourceRetries) ?? 0
        shardsReused = try c.decodeIfPresent(Int.self, forKey: .shardsReused) ?? 0
        objectsReused = try c.decodeIfPresent(Int64.self, forKey: .objectsReused) ?? 0
        bytesReused = try c.decodeIfPresent(Int64.self, forKey: .bytesReused) ?? 0
        eventsReused = try c.decodeIfPresent(Int64.self, forKey: .eventsReused) ?? 0
    }

    /// Adds one committed task's statistics.
    package mutating func add(_ s: ReadStatistics, sourceRetries retries: Int64 = 0) {
        // Every sum saturates: statistics come from workers (docs/security.md).
        sourceRetries = sourceRetries.saturatingAdd(retries)
        tasksDone += 1
        objects = objects.saturatingAdd(s.objects)
        bytes = bytes.saturatingAdd(s.bytes)
        events = events.saturatingAdd(s.lines.events)
        statistics.add(s)
    }

    /// Adds a task whose partial came from the shard cache.
    package mutating func addReused(_ s: ReadStatistics) {
        add(s)
        shardsReused += 1
        objectsReused = objectsReused.saturatingAdd(s.objects)
        bytesReused = bytesReused.saturatingAdd(s.bytes)
        eventsReused = eventsReused.saturatingAdd(s.lines.events)
    }

    /// Objects and bytes this job's workers read from the source.
    package var objectsRead: Int64 { objects - objectsReused }
    package var bytesRead: Int64 { bytes - bytesReused }
}
