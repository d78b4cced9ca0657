import Foundation
import PostgresNIO
import TallyProtocol
import TallyReport
import TallyStore

/// The shard cache index in the shared PostgreSQL database: which partial files later jobs may
/// reuse, and who made them, as `SQLiteShardCacheStore` keeps it. `cacheShards` runs one replica
/// at a time (an advisory lock), as every write does in SQLite: two replicas caching the same
/// key at once would each miss the other's file among those it drops, and two evicting at once
/// would evict twice over.
package final class PostgresShardCacheStore: ShardCacheStore {
    package let database: PostgresDatabase

    /// The repository over a migrated database.
    package init(database: PostgresDatabase) {
        self.database = database
    }

    package func cachedShards(_ keys: [String]) async throws -> [String: CachedShard] {
        guard !keys.isEmpty else { return [:] }
        var found: [String: CachedShard] = [:]
        // Only what a worker still trusted produced (docs/security.md).
        for row in try await database.rows(
            "SELECT * FROM shard_cache WHERE key = ANY(\(keys)) AND \(unescaped: TrustedProducer.sql("producer_token"))")
        {
            let shard = try Self.cachedShard(from: row)
            found[shard.key.objects] = shard
        }
        return found
    }

    package func cacheShards(_ shards: [CachedShard], maxBytes: Int64) async throws -> [CachedShard] {
        let encoder = TallyJSON.encoder()
        let statistics = try shards.map { try encoder.encode($0.statistics) }
        return try await database.transaction { tx in
            try await tx.execute("SELECT pg_advisory_xact_lock(\(Self.cacheLock))")
            var dropped: [CachedShard] = []
            for (shard, statistics) in zip(shards, statistics) {
                // The row it replaces, read (and locked) as the statement starts; then the shard in its place.
                let replaced = try await tx.one(
                    """
                    WITH old AS (SELECT * FROM shard_cache WHERE key = \(shard.key.objects) FOR UPDATE),
                    new AS (
                        INSERT INTO shard_cache (key, versions, file, bytes, statistics, last_used, producer_token)
                        VALUES (\(shard.key.objects), \(shard.key.versions), \(shard.file), \(shard.bytes), \(statistics), \(shard.lastUsed),
                            \(shard.producer))
                        ON CONFLICT (key) DO UPDATE SET versions = EXCLUDED.versions, file = EXCLUDED.file, bytes = EXCLUDED.bytes,
                            statistics = EXCLUDED.statistics, last_used = EXCLUDED.last_used, producer_token = EXCLUDED.producer_token
                        RETURNING 1)
                    SELECT * FROM old
                    """
                ).map(Self.cachedShard(from:))
                if let replaced, replaced.file != shard.file { dropped.append(replaced) }
            }
            let total =
                try await tx.one("SELECT COALESCE(SUM(bytes), 0)::BIGINT AS total FROM shard_cache")?.value("total", as: Int64.self) ?? 0
            guard total > maxBytes else { return dropped }
            // Least recently used first, while the cache is over its bound: a row goes when the rows
            // before it leave more than `maxBytes`.
            let evicted = try await tx.rows(
                """
                WITH evicted AS (
                    DELETE FROM shard_cache WHERE key IN (
                        SELECT key FROM (
                            SELECT key, bytes, SUM(bytes) OVER (ORDER BY last_used, key COLLATE "C") AS running, SUM(bytes) OVER () AS total
                            FROM shard_cache) AS r
                        WHERE r.total - (r.running - r.bytes) > \(maxBytes))
                    RETURNING *)
                SELECT * FROM evicted ORDER BY last_used, key COLLATE "C"
                """)
            return dropped + (try evicted.map(Self.cachedShard(from:)))
        }
    }

    package func forgetCachedShards(_ keys: [String]) async throws -> [CachedShard] {
        guard !keys.isEmpty else { return [] }
        // A transaction, so that a deadlock with another replica's writes runs again.
        let rows = try await database.transaction { tx in
            try await tx.rows("DELETE FROM shard_cache WHERE key = ANY(\(keys)) RETURNING *")
        }
        var forgotten: [String: CachedShard] = [:]
        for row in rows {
            let shard = try Self.cachedShard(from: row)
            forgotten[shard.key.objects] = shard
        }
        // In the order asked, as SQLite returns them.
        return keys.compactMap { forgotten.removeValue(forKey: $0) }
    }

    package func touchCachedShards(_ keys: [String], now: Double) async throws {
        guard !keys.isEmpty else { return }
        _ = try await database.transaction { tx in
            try await tx.execute("UPDATE shard_cache SET last_used = GREATEST(last_used, \(now)) WHERE key = ANY(\(keys))")
        }
    }

    package func computedShards(of jobId: String) async throws -> [ComputedShard] {
        let decoder = TallyJSON.decoder()
        return try await database.rows(
            """
            SELECT idx, shard_start, shard_end, statistics, shard_key, shard_versions, committed_token FROM tasks
            WHERE job_id = \(jobId) AND state = 'done' AND reused = 0 AND shard_key IS NOT NULL AND statistics IS NOT NULL
            AND committed_token IS NOT NULL AND \(unescaped: TrustedProducer.sql("committed_token")) ORDER BY idx
            """
        ).map { row in
            var shard: TimeShard?
            if let start = try row.value("shard_start", as: Int64?.self), let end = try row.value("shard_end", as: Int64?.self) {
                shard = TimeShard(start: start, end: end)
            }
            return ComputedShard(
                index: try row.value("idx"), key: ShardKey(objects: try row.value("shard_key"), versions: try row.value("shard_versions")),
                shard: shard, statistics: try decoder.decode(ReadStatistics.self, from: try row.value("statistics", as: Data.self)),
                producer: try row.value("committed_token"))
        }
    }

    package func reusedShard(of jobId: String, task index: Int) async throws -> CachedShard? {
        try await database.one(
            """
            SELECT c.* FROM tasks t JOIN shard_cache c ON c.key = t.shard_key AND c.versions = t.shard_versions
            WHERE t.job_id = \(jobId) AND t.idx = \(index) AND t.reused = 1
            """
        ).map(Self.cachedShard(from:))
    }

    package func cachedShardKeys() async throws -> [String] {
        try await database.rows("SELECT key FROM shard_cache").map { try $0.value("key") }
    }

    package func cachedShardFiles() async throws -> [String] {
        try await database.rows("SELECT file FROM shard_cache").map { try $0.value("file") }
    }

    package func cacheSize() async throws -> (shards: Int, bytes: Int64) {
        let row = try await database.one("SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0)::BIGINT AS b FROM shard_cache")
        return (try row?.value("n", as: Int.self) ?? 0, try row?.value("b", as: Int64.self) ?? 0)
    }

    /// The advisory lock `cacheShards` holds (one-key space; the migrations hold 7_411_000_001).
    static let cacheLock: Int64 = 7_411_000_002

    private static func cachedShard(from row: PostgresRandomAccessRow) throws -> CachedShard {
        CachedShard(
            key: ShardKey(objects: try row.value("key"), versions: try row.value("versions")), file: try row.value("file"),
            bytes: try row.value("bytes"),
            statistics: try TallyJSON.decoder().decode(ReadStatistics.self, from: try row.value("statistics", as: Data.self)),
            lastUsed: try row.value("last_used"), producer: try row.value("producer_token", as: String?.self) ?? "")
    }
}
