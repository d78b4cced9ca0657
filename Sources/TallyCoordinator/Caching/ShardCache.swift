import Foundation
import Logging
import NIOPosix
import TallyReport
import TallySources
import TallyStore

/// Keeps the partials of finished tasks for later jobs over the same source and gives them back
/// where they fit (docs/design.md §3.6): a task over the same objects, none of them changed,
/// whose events all lie in the later job's window.
///
/// The cache only ever saves work: any failure to look up, link or record a shard is logged and
/// the task is computed as if nothing were cached.
struct ShardCache: Sendable {
    let store: any ShardCacheStore
    /// Where the cached partials are kept, beside the jobs' files.
    let blobs: any BlobStore
    var files: DataDirectory { blobs.files }
    let policy: ShardCachePolicy
    let threadPool: NIOThreadPool
    let metrics: CoordinatorMetrics
    let logger: Logger

    /// Looks up a planned job's tasks: their keys, and the cached partials that serve them,
    /// linked into the job's folder. A cached shard over an object that changed since is
    /// forgotten.
    func lookUp(
        _ plan: ReportPlan, source: ConfiguredSource, window: ReportWindow, rowKey: RowKey, jobId: String, now: Double
    ) async -> ShardLookup {
        guard policy.isEnabled, !plan.tasks.isEmpty else { return ShardLookup() }
        var log = logger
        log[metadataKey: "job"] = "\(jobId)"
        do {
            let tasks = plan.tasks
            var lookup = ShardLookup()
            lookup.keys = try await threadPool.runIfActive {
                var keys: [Int: ShardKey] = [:]
                for task in tasks { keys[task.index] = ShardKey(task: task, source: source, rowKey: rowKey) }
                return keys
            }
            let found = try await store.cachedShards(lookup.keys.values.map(\.objects))
            var fitting: [Int: CachedShard] = [:]
            var changed: [String] = []
            for (index, key) in lookup.keys {
                guard let shard = found[key.objects] else { continue }
                guard shard.key.versions == key.versions else {
                    changed.append(key.objects)
                    continue
                }
                if Self.eventsLie(shard.statistics, in: window) { fitting[index] = shard }
            }
            if !changed.isEmpty {
                log.info("cached shards over changed objects forgotten", metadata: ["shards": "\(changed.count)"])
                try await delete(try await store.forgetCachedShards(changed))
            }
            let (files, linkLog) = (self.files, log)
            var candidates: [Int: CachedShard] = [:]
            var missing: [String] = []
            for (index, shard) in fitting {
                // Evicted meanwhile, or lost: the task is computed instead, and a shard whose file
                // is gone is forgotten (an unreachable store only costs this job the reuse).
                do {
                    if try await blobs.fetch(files.path(relative: shard.file)) {
                        candidates[index] = shard
                    } else {
                        missing.append(shard.key.objects)
                    }
                } catch {
                    log.warning("cached shard not reusable", metadata: ["file": "\(shard.file)", "error": "\(error)"])
                }
            }
            if !missing.isEmpty {
                log.warning("cached shards whose files are gone forgotten", metadata: ["shards": "\(missing.count)"])
                _ = try await store.forgetCachedShards(missing)
            }
            let fetched = candidates
            let linked = try await threadPool.runIfActive {
                var linked: [Int: CachedShard] = [:]
                for (index, shard) in fetched {
                    // Damaged: the task is computed instead.
                    do {
                        try files.share(files.path(relative: shard.file), as: files.partialPath(jobId, index, origin: shard.key.fileToken))
                        linked[index] = shard
                    } catch {
                        linkLog.warning("cached shard not reusable", metadata: ["file": "\(shard.file)", "error": "\(error)"])
                    }
                }
                return linked
            }
            // A reused task is done without a lease: its partial is named by the shard it was given.
            try await blobs.publish(linked.map { files.partialPath(jobId, $0.key, origin: $0.value.key.fileToken) }, exclusive: false)
            lookup.reused = linked
            try await store.touchCachedShards(lookup.reused.values.map(\.key.objects), now: now)
            metrics.shardsReused.increment(by: lookup.reused.count)
            return lookup
        } catch {
            log.warning("shard cache lookup failed; computing every task", metadata: ["error": "\(error)"])
            return ShardLookup()
        }
    }

    /// Keeps the partials a succeeded job's workers computed, where they may serve a later job:
    /// a trusted worker token committed it (a single untrusted worker could otherwise forge the
    /// reports of every later job over the same hours; docs/security.md), every object has a version, every event lies in the job's window (so the window filter
    /// dropped nothing), and the shard's hours and events lie at least the safety margin in the
    /// past. Must run before the job's partials are removed; `names` names each task's partial
    /// (`JobStore.partialNames`).
    func keep(_ job: JobRecord, names: [Int: String], now: Double) async {
        guard policy.isEnabled else { return }
        var log = logger
        log[metadataKey: "job"] = "\(job.id)"
        do {
            let horizon = Int64(((now - policy.safetyMarginSeconds) * 1_000_000).rounded(.down))
            let candidates = try await store.computedShards(of: job.id).filter { computed in
                Self.eventsLie(computed.statistics, in: job.window) && (computed.statistics.eventSpan?.latest ?? Int64.min) < horizon
                    && (computed.shard?.end ?? Int64.min) <= horizon
            }
            guard !candidates.isEmpty else { return }
            let (files, shareLog) = (self.files, log)
            try await blobs.fetch(candidates.map { files.partialPath(job.id, $0.index, origin: names[$0.index]) })
            let shared = try await threadPool.runIfActive {
                var shared: [CachedShard] = []
                for computed in candidates {
                    let name = "cache/shards/\(computed.key.objects)-\(computed.key.versions.prefix(16)).partial"
                    do {
                        try files.share(
                            files.partialPath(job.id, computed.index, origin: names[computed.index]), as: files.path(relative: name))
                        let size = try FileManager.default.attributesOfItem(atPath: files.path(relative: name))[.size] as? Int64 ?? 0
                        shared.append(
                            CachedShard(
                                key: computed.key, file: name, bytes: size, statistics: computed.statistics, lastUsed: now,
                                producer: computed.producer))
                    } catch {
                        shareLog.warning("partial not cached", metadata: ["task": "\(computed.index)", "error": "\(error)"])
                    }
                }
                return shared
            }
            try await blobs.publish(shared.map { files.path(relative: $0.file) }, exclusive: false)
            let dropped = try await store.cacheShards(shared, maxBytes: policy.maximumBytes)
            // No row names a dropped shard's file any more (a file belongs to one key and version).
            try await delete(dropped)
            metrics.shardsCached.increment(by: shared.count)
            metrics.shardsEvicted.increment(by: dropped.count)
            metrics.shardCacheBytes.record(try await store.cacheSize().bytes)
            log.info("partials cached", metadata: ["shards": "\(shared.count)", "dropped": "\(dropped.count)"])
        } catch {
            log.warning("partials not cached", metadata: ["error": "\(error)"])
        }
    }

    /// Whether a partial computed by this engine revision dropped nothing by its window filter,
    /// every event it read lying in `window`: one with no event fits any window; one with events
    /// but no span (an older worker) fits none.
    static func eventsLie(_ statistics: ReadStatistics, in window: ReportWindow) -> Bool {
        // A partial of another engine revision (a worker not yet upgraded) may count differently.
        guard statistics.engineRevision == Partial.engineRevision else { return false }
        guard let span = statistics.eventSpan else { return statistics.lines.events == 0 }
        return span.lies(in: window)
    }

    /// Forgets the cached shard a job's task was given, when its partial turned out lost or
    /// damaged: the file it shares with the job is damaged too.
    func forgetReused(_ jobId: String, task index: Int) async {
        guard policy.isEnabled else { return }
        do {
            guard let shard = try await store.reusedShard(of: jobId, task: index) else { return }
            try await delete(try await store.forgetCachedShards([shard.key.objects]))
        } catch {
            logger.warning("damaged cached shard not forgotten", metadata: ["job": "\(jobId)", "task": "\(index)", "error": "\(error)"])
        }
    }

    /// At start-up: with the cache off, forgets every shard; otherwise deletes the files no
    /// shard names (left by a crash between a file's link and its row), here and in shared blobs.
    func sweep() async {
        do {
            let named = Set(try await store.cachedShardFiles())
            if !policy.isEnabled, !named.isEmpty { try await delete(try await store.forgetCachedShards(try await store.cachedShardKeys())) }
            let (files, keep) = (self.files, policy.isEnabled ? named : [])
            let removed = try await threadPool.runIfActive {
                let folder = files.shardCacheFolder
                var removed = 0
                for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
                where !keep.contains("cache/shards/" + name) {
                    try? FileManager.default.removeItem(atPath: folder + "/" + name)
                    removed += 1
                }
                return removed
            }
            let unnamed = try await blobs.storedNames(under: "cache/shards").filter { !keep.contains($0) }
            try await blobs.remove(unnamed.map { files.path(relative: $0) })
            if removed + unnamed.count > 0 {
                logger.info("shard cache files nothing names removed", metadata: ["files": "\(removed + unnamed.count)"])
            }
            metrics.shardCacheBytes.record(try await store.cacheSize().bytes)
        } catch {
            logger.warning("shard cache not swept", metadata: ["error": "\(error)"])
        }
    }

    /// Deletes the files of shards no longer recorded.
    private func delete(_ shards: [CachedShard]) async throws {
        guard !shards.isEmpty else { return }
        let paths = shards.map { files.path(relative: $0.file) }
        try await threadPool.runIfActive {
            for path in paths { try? FileManager.default.removeItem(atPath: path) }
        }
        try await blobs.remove(paths)
    }
}
