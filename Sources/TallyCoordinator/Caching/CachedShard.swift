import TallyReport

/// A task's partial kept for later jobs, as the cache records it.
struct CachedShard: Sendable, Equatable {
    /// The task it was computed for.
    var key: ShardKey
    /// The partial's file, relative to the data directory.
    var file: String
    /// The file's size.
    var bytes: Int64
    /// The partial's statistics, event span included: what the reusing job's task records.
    var statistics: ReadStatistics
    /// When it was cached or last reused (seconds since the epoch); the least recently used go
    /// first when the cache is over its bound.
    var lastUsed: Double
    /// The worker token that computed it: reused only while that token is trusted.
    var producer: String = ""
}
