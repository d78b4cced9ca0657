import Foundation
import GRDB
import TallyProtocol
import TallyReport

/// The shard cache index in the shared SQLite database: which partial files later jobs may reuse, and who made them.
package struct SQLiteShardCacheStore: ShardCacheStore {
    package let database: DatabasePool

    /// The repository over a database opened by `SQLiteStores`.
    package init(database: DatabasePool) {
        self.database = database
    }

    package func cachedShards(_ keys: [String]) async throws -> [String: CachedShard] {
        guard !keys.isEmpty else { return [:] }
        return try await database.read { db in
            var found: [String: CachedShard] = [:]
            // In slices, under SQLite's limit on bound parameters.
            for start in stride(from: 0, to: keys.count, by: 500) {
                let slice = Array(keys[start..<min(start + 500, keys.count)])
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
                // Only what a worker still trusted produced (docs/security.md).
                for row in try Row.fetchAll(
                    db, sql: "SELECT * FROM shard_cache WHERE key IN (\(marks)) AND \(TrustedProducer.sql("producer_token"))",
                    arguments: StatementArguments(slice))
                {
                    let shard = try Self.cachedShard(from: row)
                    found[shard.key.objects] = shard
                }
            }
            return found
        }
    }

    package func cacheShards(_ shards: [CachedShard], maxBytes: Int64) async throws -> [CachedShard] {
        let encoder = TallyJSON.encoder()
        let statistics = try shards.map { try encoder.encode($0.statistics) }
        return try await database.write { db in
            var dropped: [CachedShard] = []
            for (shard, statistics) in zip(shards, statistics) {
                if let old = try Row.fetchOne(db, sql: "SELECT * FROM shard_cache WHERE key = ?", arguments: [shard.key.objects]) {
                    let replaced = try Self.cachedShard(from: old)
                    if replaced.file != shard.file { dropped.append(replaced) }
                }
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO shard_cache (key, versions, file, bytes, statistics, last_used, producer_token)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [shard.key.objects, shard.key.versions, shard.file, shard.bytes, statistics, shard.lastUsed, shard.producer])
            }
            var total = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM shard_cache") ?? 0
            guard total > maxBytes else { return dropped }
            // Least recently used first, read a row at a time, statistics only for those evicted.
            let cursor = try Row.fetchCursor(db, sql: "SELECT key, bytes FROM shard_cache ORDER BY last_used, key")
            var evictedKeys: [String] = []
            while total > maxBytes, let row = try cursor.next() {
                evictedKeys.append(row["key"])
                total -= row["bytes"] as Int64
            }
            for key in evictedKeys {
                if let row = try Row.fetchOne(db, sql: "SELECT * FROM shard_cache WHERE key = ?", arguments: [key]) {
                    dropped.append(try Self.cachedShard(from: row))
                }
                try db.execute(sql: "DELETE FROM shard_cache WHERE key = ?", arguments: [key])
            }
            return dropped
        }
    }

    package func forgetCachedShards(_ keys: [String]) async throws -> [CachedShard] {
        try await database.write { db in
            var forgotten: [CachedShard] = []
            for key in keys {
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM shard_cache WHERE key = ?", arguments: [key]) else { continue }
                forgotten.append(try Self.cachedShard(from: row))
                try db.execute(sql: "DELETE FROM shard_cache WHERE key = ?", arguments: [key])
            }
            return forgotten
        }
    }

    package func touchCachedShards(_ keys: [String], now: Double) async throws {
        guard !keys.isEmpty else { return }
        try await database.write { db in
            for key in keys {
                try db.execute(sql: "UPDATE shard_cache SET last_used = MAX(last_used, ?) WHERE key = ?", arguments: [now, key])
            }
        }
    }

    package func computedShards(of jobId: String) async throws -> [ComputedShard] {
        try await database.read { db in
            let decoder = TallyJSON.decoder()
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT idx, shard_start, shard_end, statistics, shard_key, shard_versions, committed_token FROM tasks
                    WHERE job_id = ? AND state = 'done' AND reused = 0 AND shard_key IS NOT NULL AND statistics IS NOT NULL
                    AND committed_token IS NOT NULL AND \(TrustedProducer.sql("committed_token")) ORDER BY idx
                    """, arguments: [jobId]
            ).map { row in
                return ComputedShard(
                    index: row["idx"], key: ShardKey(objects: row["shard_key"], versions: row["shard_versions"]),
                    shard: SQLiteJobStore.shard(from: row),
                    statistics: try decoder.decode(ReadStatistics.self, from: row["statistics"] as Data),
                    producer: row["committed_token"])
            }
        }
    }

    package func reusedShard(of jobId: String, task index: Int) async throws -> CachedShard? {
        try await database.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT c.* FROM tasks t JOIN shard_cache c ON c.key = t.shard_key AND c.versions = t.shard_versions
                    WHERE t.job_id = ? AND t.idx = ? AND t.reused = 1
                    """, arguments: [jobId, index]
            ).map(Self.cachedShard(from:))
        }
    }

    package func cachedShardKeys() async throws -> [String] {
        try await database.read { db in try String.fetchAll(db, sql: "SELECT key FROM shard_cache") }
    }

    package func cachedShardFiles() async throws -> [String] {
        try await database.read { db in try String.fetchAll(db, sql: "SELECT file FROM shard_cache") }
    }

    package func cacheSize() async throws -> (shards: Int, bytes: Int64) {
        try await database.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM shard_cache")
            return (row?["n"] ?? 0, row?["b"] ?? 0)
        }
    }

    private static func cachedShard(from row: Row) throws -> CachedShard {
        CachedShard(
            key: ShardKey(objects: row["key"], versions: row["versions"]), file: row["file"], bytes: row["bytes"],
            statistics: try TallyJSON.decoder().decode(ReadStatistics.self, from: row["statistics"] as Data), lastUsed: row["last_used"],
            producer: row["producer_token"] ?? "")
    }
}
