import TallyReport

/// Every committed partial of a merging job opened once, before it is merged here or planned
/// for the workers: its checksum verified, its statistics summed, its index keys and size read.
struct PartialSurvey {
    /// Each partial's stream of all its users, in plan order.
    var streams: [IndexedPartialStream] = []
    /// The partials' statistics, summed.
    var statistics = ReadStatistics()
    /// The partials' index keys: samples for choosing ranges.
    var keys: [[UInt8]] = []
    /// The partials' bytes, summed.
    var bytes = 0
    /// Whether every partial has an index (format 3): only then can ranges be read on their own.
    var indexed = true

    /// Nothing opened yet.
    init() {}

    /// Opens a job's partials, their paths in plan order; one that cannot be read is `UnusablePartial`.
    init(partials: [String]) throws {
        for (index, path) in partials.enumerated() {
            do {
                let file = try PartialFile(path: path)
                let stream = try PartialUserStream(file)
                statistics.add(stream.statistics)
                keys += stream.indexKeys
                bytes += file.count
                indexed = indexed && stream.rangeSpan != nil
                streams.append(IndexedPartialStream(index: index, path: path, stream: stream))
            } catch {
                throw UnusablePartial(index: index, reason: "its file \(path) cannot be read: \(error)")
            }
        }
    }
}
