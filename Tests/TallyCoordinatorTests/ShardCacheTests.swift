import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import TallyFormats
import TallyProtocol
import TallyReport
import TallySources
import TallyStore
import Testing

@testable import TallyCoordinator

/// The shard cache: a later job over the same source reuses the partials of the days both
/// windows cover, reads only the rest, and writes the same bytes as a cold run.
@Suite struct ShardCacheTests {
    /// Hourly logs from 2026-09-17T00 to 2026-09-21T13 (the test clock stands at 14:13 that day),
    /// some events filed in the neighbouring hour's object (never across midnight, so that each
    /// day's events lie in that day), the odd malformed line.
    final class Logs: Sendable {
        let root: String
        let clock = ManualClock()

        init() throws {
            root = NSTemporaryDirectory() + "tally-shard-cache-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
            var seed: UInt64 = 7
            func next(_ n: UInt64) -> UInt64 {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return (seed >> 33) % n
            }
            for hour in 0..<(4 * 24 + 14) {
                let start = Int64(hour) * 3600 + Self.firstHour
                var lines = [csvHeader]
                for _ in 0..<(5 + next(20)) {
                    // Mostly inside the object's hour; now and then a few minutes outside it.
                    var offset = Int64(next(3700)) - 50
                    if hour % 24 == 0 { offset = max(offset, 0) }
                    if hour % 24 == 23 { offset = min(offset, 3599) }
                    let user = next(12) == 0 ? "" : "user\(next(30))@example.com"
                    let status = ["NORMAL", "NORMAL", "DNS_ERROR", "CONNECTION_FAILED"][Int(next(4))]
                    lines.append(
                        "\(Self.text(start + offset)),\(user),\(status),\(next(5000)),\(next(5000)),10.0.\(next(4)).\(next(40)),dev-\(next(50)),"
                            + (next(3) == 0 ? "relaybalancer+https://relays.twingate.com" : ""))
                }
                if next(10) == 0 { lines.append("not a row") }
                try write(lines, hour: hour)
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        /// 2026-09-17T00:00:00Z.
        static let firstHour: Int64 = 1_789_603_200

        static func text(_ seconds: Int64) -> String {
            CivilTime.rfc3339(micros: seconds * 1_000_000).replacingOccurrences(of: "T", with: " ").replacingOccurrences(
                of: ".000Z", with: " UTC"
            )
            .replacingOccurrences(of: "Z", with: " UTC")
        }

        static func name(hour: Int) -> String {
            let text = CivilTime.rfc3339(micros: (Int64(hour) * 3600 + firstHour) * 1_000_000)
            return String(text.prefix(10)).replacingOccurrences(of: "-", with: "/") + "/" + String(text.dropFirst(11).prefix(2)) + ".csv"
        }

        func write(_ lines: [String], hour: Int) throws {
            let path = root + "/logs/" + Self.name(hour: hour)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }

        /// A coordinator with its own data directory over these logs.
        func coordinator(_ name: String, cache: ShardCachePolicy = ShardCachePolicy()) throws -> Coordinator {
            let source = ConfiguredSource(address: SourceAddress(kind: .file, url: root + "/logs"), format: .twingateCSV)
            var configuration = CoordinatorConfiguration(dataDirectory: root + "/" + name, sources: ["local": source])
            configuration.shardCache = cache
            configuration.store = testStore(key: root + "/" + name)
            let registry = PrometheusCollectorRegistry()
            return try Coordinator(
                configuration: configuration, clock: clock, registry: registry, metricsFactory: PrometheusMetricsFactory(registry: registry)
            )
        }
    }

    /// Runs one job to its end; its status and CSV.
    func run(_ coordinator: Coordinator, from: String, to: String, timezone: String? = nil) async throws -> (status: JobStatus, csv: String)
    {
        try await withClient(coordinator) { client in
            let submitted = try await client.execute(
                uri: "/v1/jobs", method: .post, headers: jsonHeaders, body: jobRequest(from: from, to: to, timezone: timezone))
            let job = try submitted.decode(JobStatus.self)
            await coordinator.runOnce()
            try await workUntilNoTasks(client)
            await coordinator.runOnce()
            let done = try await getJob(client, job.id)
            #expect(done.state == .succeeded, "\(done.error ?? "")")
            return (done, try await client.execute(uri: "/v1/jobs/\(job.id)/result", method: .get).text)
        }
    }

    /// Two windows of one zone, the days both cover whole, and the objects the later one's edges read.
    struct WindowPair: Sendable, CustomTestStringConvertible {
        var first: (String, String)
        var later: (String, String)
        var timezone: String?
        var reusedDays: Int
        var edgeObjects: Int
        var testDescription: String { "\(later.0) to \(later.1) in \(timezone ?? "UTC")" }
    }

    @Test(arguments: [
        // Cut mid-hour in UTC: two whole days in both windows; hours 12-23 and 0-14 at the edges.
        WindowPair(
            first: ("2026-09-17T12:30:00Z", "2026-09-20T12:30:00Z"), later: ("2026-09-17T13:30:00Z", "2026-09-20T13:30:00Z"),
            timezone: nil, reusedDays: 2, edgeObjects: 12 + 15),
        // Local days in a +05:45 zone (UTC 18:15 to 18:15, then 20:15 to 20:15): one whole day;
        // hours 19-23 and 0-21 at the edges.
        WindowPair(
            first: ("2026-09-18", "2026-09-20"), later: ("2026-09-18T02:00", "2026-09-20T02:00"),
            timezone: "Asia/Kathmandu", reusedDays: 1, edgeObjects: 5 + 22),
        // The 18th's objects are all read by both, but its first half hour lies outside the
        // later window: its cached partial does not fit and the day is read again.
        WindowPair(
            first: ("2026-09-17T00:00:00Z", "2026-09-21T00:00:00Z"), later: ("2026-09-18T00:30:00Z", "2026-09-21T00:00:00Z"),
            timezone: nil, reusedDays: 2, edgeObjects: 1 + 24 + 1),
    ])
    func aWarmRunReadsOnlyTheNewAndEdgeObjectsAndWritesTheColdRunsBytes(_ pair: WindowPair) async throws {
        let (first, later, timezone, reusedDays, edgeObjects) = (pair.first, pair.later, pair.timezone, pair.reusedDays, pair.edgeObjects)
        let logs = try Logs()
        let warm = try logs.coordinator("warm")
        let (before, _) = try await run(warm, from: first.0, to: first.1, timezone: timezone)
        #expect(before.statistics.shardsReused == 0)
        let (after, warmCSV) = try await run(warm, from: later.0, to: later.1, timezone: timezone)
        let (cold, coldCSV) = try await run(try logs.coordinator("cold"), from: later.0, to: later.1, timezone: timezone)
        #expect(warmCSV == coldCSV)
        #expect(warmCSV.count > 1000)
        // One task per whole day (the logs are small); the edges are the first and last days.
        #expect(after.statistics.shardsReused == Int64(reusedDays))
        #expect(after.statistics.objectsRead == Int64(edgeObjects))
        #expect(cold.statistics.shardsReused == 0 && cold.statistics.objectsRead == cold.progress.objectsTotal)
        #expect(after.progress.objects == cold.progress.objects && after.progress.objectsTotal == cold.progress.objectsTotal)
        #expect(after.progress.objectsTotal == Int64(edgeObjects + 24 * reusedDays))
        // The statistics are those of the data the report covers, cached or not.
        var (a, c) = (after.statistics, cold.statistics)
        (a.shardsReused, a.shardsComputed, a.objectsRead, a.bytesRead) = (nil, nil, nil, nil)
        (c.shardsReused, c.shardsComputed, c.objectsRead, c.bytesRead) = (nil, nil, nil, nil)
        #expect(a == c)
    }

    @Test func aChangedObjectIsReadAgainAndForgottenFromTheCache() async throws {
        let logs = try Logs()
        let warm = try logs.coordinator("warm")
        let window = ("2026-09-17T12:30:00Z", "2026-09-20T12:30:00Z")
        _ = try await run(warm, from: window.0, to: window.1)
        let (again, _) = try await run(warm, from: window.0, to: window.1)
        #expect(again.statistics.shardsReused == 2)
        // One object of September 18 gains a connection (a larger file, a newer time).
        let hour = 24 + 5
        var lines = try String(contentsOfFile: logs.root + "/logs/" + Logs.name(hour: hour), encoding: .utf8).split(separator: "\n").map(
            String.init)
        lines.append("2026-09-18 05:59:00 UTC,newcomer@example.com,NORMAL,1,2,10.9.9.9,dev-new,")
        try logs.write(lines, hour: hour)
        let (changed, changedCSV) = try await run(warm, from: window.0, to: window.1)
        #expect(changed.statistics.shardsReused == 1)
        #expect(changed.statistics.objectsRead == again.statistics.objectsRead! + 24)
        let (_, coldCSV) = try await run(try logs.coordinator("cold"), from: window.0, to: window.1)
        #expect(changedCSV == coldCSV)
        #expect(changedCSV.contains("newcomer@example.com"))
        // The old version's entry was replaced: still one shard per whole day, one file each.
        let size = try await warm.shardCache.store.cacheSize()
        #expect(size.shards == 2)
        let files = try FileManager.default.contentsOfDirectory(atPath: logs.root + "/warm/cache/shards")
        #expect(files.count == 2)
    }

    @Test func onlyShardsOlderThanTheSafetyMarginAreCached() async throws {
        let logs = try Logs()
        let warm = try logs.coordinator("warm")
        // To 15:00 on the clock's day (now 14:13): that day's events all lie in the window, but
        // its hours end within the hour's margin.
        let window = ("2026-09-18T12:00:00Z", "2026-09-21T15:00:00Z")
        _ = try await run(warm, from: window.0, to: window.1)
        logs.clock.advance(by: 7200)
        let (second, _) = try await run(warm, from: window.0, to: window.1)
        // The 19th and 20th came from the cache; the edge day (hours 11 to 23 of the 18th) and
        // the 21st (hours 0 to 13) were read.
        #expect(second.statistics.shardsReused == 2 && second.statistics.shardsComputed == 2)
        #expect(second.statistics.objectsRead == Int64(13 + 14))
        // Two hours later the 21st is past the margin: the second run cached it.
        let (third, _) = try await run(warm, from: window.0, to: window.1)
        #expect(third.statistics.shardsReused == 3 && third.statistics.objectsRead == 13)
    }

    @Test func theBoundKeepsTheCacheSmallAndAWarmRunStillWritesTheColdRunsBytes() async throws {
        let logs = try Logs()
        let unbounded = try logs.coordinator("unbounded")
        let window = ("2026-09-17T00:00:00Z", "2026-09-21T00:00:00Z")
        _ = try await run(unbounded, from: window.0, to: window.1)
        let full = try await unbounded.shardCache.store.cacheSize()
        #expect(full.shards == 4)  // the 17th to the 20th; the slack hour of the 21st lies outside
        var policy = ShardCachePolicy()
        policy.maximumBytes = full.bytes * 2 / 3
        let bounded = try logs.coordinator("bounded", cache: policy)
        _ = try await run(bounded, from: window.0, to: window.1)
        let kept = try await bounded.shardCache.store.cacheSize()
        #expect(kept.bytes <= policy.maximumBytes && kept.shards >= 1 && kept.shards < full.shards)
        #expect(try FileManager.default.contentsOfDirectory(atPath: logs.root + "/bounded/cache/shards").count == kept.shards)
        let (warm, warmCSV) = try await run(bounded, from: window.0, to: window.1)
        #expect(warm.statistics.shardsReused == Int64(kept.shards))
        let (_, coldCSV) = try await run(
            try logs.coordinator("cold", cache: ShardCachePolicy(maximumBytes: 0)), from: window.0, to: window.1)
        #expect(warmCSV == coldCSV)
    }

    @Test func theStartUpSweepRemovesFilesNothingNamesAndEverythingWhenTheCacheIsOff() async throws {
        let logs = try Logs()
        let warm = try logs.coordinator("warm")
        _ = try await run(warm, from: "2026-09-17T12:30:00Z", to: "2026-09-20T12:30:00Z")
        let folder = logs.root + "/warm/cache/shards"
        try "left by a crash".write(toFile: folder + "/orphan.partial", atomically: true, encoding: .utf8)
        await warm.shardCache.sweep()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted().count == 2)
        #expect(!FileManager.default.fileExists(atPath: folder + "/orphan.partial"))
        // Restarted with the cache off: its shards are forgotten and their files deleted.
        let off = try logs.coordinator("warm", cache: ShardCachePolicy(maximumBytes: 0))
        await off.shardCache.sweep()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        #expect(try await off.shardCache.store.cacheSize().shards == 0)
    }

    @Test func onlyPartialsThatKnowTheirEventsFitAWindow() throws {
        let window = try ReportWindow(from: 1_000, to: 2_000)
        var statistics = ReadStatistics()
        #expect(!ShardCache.eventsLie(statistics, in: window))  // an unknown engine revision
        statistics.engineRevision = Partial.engineRevision
        #expect(ShardCache.eventsLie(statistics, in: window))  // no event: fits any window
        statistics.lines.events = 3
        #expect(!ShardCache.eventsLie(statistics, in: window))  // events, span unknown (an older worker)
        statistics.eventSpan = EventSpan(earliest: 1_000, latest: 1_999)
        #expect(ShardCache.eventsLie(statistics, in: window))
        statistics.eventSpan = EventSpan(earliest: 999, latest: 1_500)
        #expect(!ShardCache.eventsLie(statistics, in: window))
    }

    @Test func theLeastRecentlyUsedShardsAreEvictedFirst() async throws {
        let root = NSTemporaryDirectory() + "tally-shard-lru-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SQLiteStores(path: root + "/tally.sqlite").shardCache
        func shard(_ name: String, used: Double) -> CachedShard {
            CachedShard(
                key: ShardKey(objects: name, versions: "v"), file: "cache/shards/\(name)", bytes: 10, statistics: ReadStatistics(),
                lastUsed: used)
        }
        #expect(try await store.cacheShards([shard("a", used: 1)], maxBytes: 25).isEmpty)
        #expect(try await store.cacheShards([shard("b", used: 2)], maxBytes: 25).isEmpty)
        try await store.touchCachedShards(["a"], now: 3)
        // `b` was used least recently: it goes when `c` comes.
        #expect(try await store.cacheShards([shard("c", used: 4)], maxBytes: 25).map(\.key.objects) == ["b"])
        #expect(Set(try await store.cachedShards(["a", "b", "c"]).keys) == ["a", "c"])
        // The same key with new versions replaces the entry, and its old file is named to delete.
        var newer = shard("a", used: 5)
        newer.key = ShardKey(objects: "a", versions: "w")
        newer.file = "cache/shards/a-w"
        #expect(try await store.cacheShards([newer], maxBytes: 25).map(\.file) == ["cache/shards/a"])
        let size = try await store.cacheSize()
        #expect(size.shards == 2 && size.bytes == 20)
    }
}

extension ShardCachePolicy {
    init(maximumBytes: Int64) {
        self.init()
        self.maximumBytes = maximumBytes
    }
}
