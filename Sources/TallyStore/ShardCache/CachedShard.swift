import TallyReport

/// A task's partial kept for later jobs, as the cache records it.
package struct CachedShard: Sendable, Equatable {
    /// The task it was computed for.
    package var key: ShardKey
    /// The partial's file, relative to the data directory.
    package var file: String
    /// The file's size.
    package var bytes: Int64
    /// The partial's statistics, event span included: what the reusing job's task records.
    package var statistics: ReadStatistics
    /// When it was cached or last reused (seconds since the epoch); the least recently used go
    /// first when the cache is over its bound.
    package var lastUsed: Double
    /// The worker token that computed it: reused only while that token is trusted.
    package var producer: String = ""

    /// A value with every field given.
    package init(key: ShardKey, file: String, bytes: Int64, statistics: ReadStatistics, lastUsed: Double, producer: String = "") {
        self.key = key
        self.file = file
        self.bytes = bytes
        self.statistics = statistics
        self.lastUsed = lastUsed
        self.producer = producer
    }
}
