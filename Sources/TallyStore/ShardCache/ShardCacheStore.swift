import TallyReport

/// A task a job's workers computed, with what the cache needs to keep its partial.
package struct ComputedShard: Sendable {
    package var index: Int
    package var key: ShardKey
    /// The hours its objects were filed under; nil for undated objects.
    package var shard: TimeShard?
    package var statistics: ReadStatistics
    /// The token whose worker committed it ('' in the open mode).
    package var producer: String

    /// A value with every field given.
    package init(index: Int, key: ShardKey, shard: TimeShard? = nil, statistics: ReadStatistics, producer: String) {
        self.index = index
        self.key = key
        self.shard = shard
        self.statistics = statistics
        self.producer = producer
    }
}

/// The index of cached shards (their files live in the data directory's `cache` folder), in
/// the coordinator's store so that a job's start and its reused tasks are one transaction.
package protocol ShardCacheStore: Sendable {
    /// The cached shards whose keys' `objects` digests are among `keys`.
    func cachedShards(_ keys: [String]) async throws -> [String: CachedShard]
    /// Records shards (each replacing one with the same key), then evicts the least recently
    /// used until the cache holds at most `maxBytes`, in one transaction. Returns the shards
    /// dropped (replaced or evicted; possibly some of these), whose files the caller deletes.
    func cacheShards(_ shards: [CachedShard], maxBytes: Int64) async throws -> [CachedShard]
    /// Forgets shards (an object changed, a file was damaged); returns those that were there.
    func forgetCachedShards(_ keys: [String]) async throws -> [CachedShard]
    /// Marks shards used now.
    func touchCachedShards(_ keys: [String], now: Double) async throws
    /// A job's done tasks that its workers computed and that have a key.
    func computedShards(of jobId: String) async throws -> [ComputedShard]
    /// The cached shard a job's task was given, when it was given one.
    func reusedShard(of jobId: String, task index: Int) async throws -> CachedShard?
    /// Every shard's key, and every shard's file.
    func cachedShardKeys() async throws -> [String]
    func cachedShardFiles() async throws -> [String]
    /// Shards cached and their bytes.
    func cacheSize() async throws -> (shards: Int, bytes: Int64)
}
