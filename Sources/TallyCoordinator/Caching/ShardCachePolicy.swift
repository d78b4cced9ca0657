/// How many computed partials are kept for later jobs, and which (`shard_cache` in tally.yaml).
public struct ShardCachePolicy: Sendable, Equatable {
    /// The cache's bound in bytes of partial files; the least recently used go first. 0 turns
    /// the cache off.
    public var maximumBytes: Int64 = 4 << 30
    /// A partial is cached only when its latest event and the end of its objects' hours are at
    /// least this far in the past when its job ends, so that an hour still being written (a
    /// late object, a file still growing under a coarse modification time) is read again.
    public var safetyMarginSeconds: Double = 3600

    /// The defaults: 4 GiB, one hour.
    public init() {}

    /// Whether partials are cached at all.
    public var isEnabled: Bool { maximumBytes > 0 }
}
