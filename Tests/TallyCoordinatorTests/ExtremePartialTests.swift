import Foundation
import Hummingbird
import HummingbirdTesting
import PropertyBased
import TallyFormats
import TallyProtocol
import TallyReport
import TallySketches
import TallyStore
import TallyWeb
import Testing

@testable import TallyCoordinator

/// Partials with extreme values in every numeric field and sketch register, run through
/// everything that reads a worker's numbers: the upload check, the merge, both CSVs, the job's
/// totals and status, the malformed ceiling, the Reports page and the report page. Whatever a
/// worker claims, nothing traps (docs/security.md: every number from a worker is checked or
/// saturates). The pages see the numbers as if the upload check had let them through, so the
/// saturation behind it is tested on its own.
@Suite struct ExtremePartialTests {
    /// A value from a seed: 0, 1, the largest and near-largest, a power of two, small, or any.
    static func signed(_ seed: UInt64) -> Int64 {
        switch seed % 8 {
        case 0: 0
        case 1: 1
        case 2: .max
        case 3: .max - 1
        case 4: 1 << 62
        case 5: Int64((seed >> 4) % 1000)
        case 6: Int64(bitPattern: seed >> 1)
        default: .max / 2 + 1
        }
    }

    static func unsigned(_ seed: UInt64) -> UInt64 {
        seed % 8 == 2 ? .max : seed % 8 == 3 ? .max - 1 : UInt64(signed(seed))
    }

    /// A sketch: exact with a few hashes, or HyperLogLog registers of ranks from the seeds
    /// (1...51, the largest a 64-bit hash with 14 index bits gives).
    static func counter(_ seeds: [UInt64]) -> DistinctCounter {
        var counter = DistinctCounter()
        if seeds[0] % 3 == 0 {
            for index in 0..<UInt64(1 << 14) {
                let rank = 1 + (seeds[Int(index) % seeds.count] >> (index % 7)) % 51
                counter.insert(hash: index << 50 | (rank <= 50 ? 1 << (50 - rank) : 0))
            }
        } else {
            for seed in seeds.prefix(Int(seeds[1] % 6)) { counter.insert(hash: seed) }
        }
        return counter
    }

    static func partial(_ seeds: [UInt64]) -> Partial {
        var s = ReadStatistics()
        (s.objects, s.bytes, s.eventsInWindow, s.serviceAccountEvents) = (
            signed(seeds[0]), signed(seeds[1]), signed(seeds[2]), signed(seeds[3])
        )
        (s.lines.lines, s.lines.events, s.lines.notEvents) = (signed(seeds[4]), signed(seeds[5]), signed(seeds[6]))
        for i in s.lines.malformedByReason.indices { s.lines.malformedByReason[i] = signed(seeds[7 + i % 4]) }
        s.lines.samples = [.init(object: "x.csv", line: signed(seeds[11]), reason: MalformedReason.allCases[0])]
        let (a, b) = (Int64(bitPattern: seeds[12]), Int64(bitPattern: seeds[13]))
        s.eventSpan = seeds[14] % 2 == 0 ? EventSpan(earliest: min(a, b), latest: max(a, b)) : nil
        s.engineRevision = Partial.engineRevision
        var users: [RowAggregate] = []
        for u in 0..<Int(seeds[15] % 4) {
            let k = 16 + u * 12
            var c = UserCounters()
            (c.success, c.dnsFailures, c.otherFailures) = (unsigned(seeds[k]), unsigned(seeds[k + 1]), unsigned(seeds[k + 2]))
            c.relayedSuccesses = min(c.success, unsigned(seeds[k + 3]))
            (c.bytesTransferred, c.bytesReceived, c.lastAccess) = (
                unsigned(seeds[k + 4]), unsigned(seeds[k + 5]), Int64(bitPattern: seeds[k + 6])
            )
            var top = HeavyHitters<[UInt8]>()
            for i in 0..<Int(seeds[k + 7] % 12) {
                top.add(Array("10.0.\(i).\(seeds[k + 8] % 255)".utf8), count: unsigned(seeds[k + 9] &+ UInt64(i)))
            }
            let email = Array((seeds[k + 10] % 5 == 0 ? "=cmd|' /C calc'!A0" : "user\(u)@example.com").utf8)
            users.append(
                RowAggregate(
                    key: email, counters: c, devices: counter(Array(seeds[k...k + 11])),
                    clientIPs: counter(Array(seeds[(k + 1)...(k + 11)]) + [seeds[k]]), topValues: top))
        }
        return Partial(rows: users, statistics: s)
    }

    static let seeds = Gen.uint64().array(of: 64)

    @Test(.shrinking(false)) func noNumberAWorkerSendsTrapsTheCheckTheMergeTheCSVsOrTheFigures() async throws {
        let window = try ReportWindow(from: 1_790_000_000_000_000, to: 1_790_086_400_000_000)
        let task = ReportTask(index: 0, shard: nil, objects: [LogObject(name: "x.csv", size: 1 << 20)])
        await propertyCheck(count: 60, input: Self.seeds) { seeds in
            let partial = Self.partial(seeds)
            // What the coordinator receives: the bytes, decoded. The decoder refuses some (a
            // heavy-hitter total past 2^64); the rest of the way is walked with them anyway.
            let decoded = (try? Partial(encoded: partial.encoded())) ?? partial
            _ = try? decoded.checkPlausible(for: task, window: window)
            var merger = ReportMerger()
            merger.merge(decoded)
            merger.merge(decoded)
            let csv = merger.csv()
            _ = merger.inactiveUsersCSV(
                directory: UserDirectory(emails: [Array("a@example.com".utf8)]),
                rule: InactiveUsersCSV.Rule(now: Int64(bitPattern: seeds[60]), inactiveDays: Int(seeds[61] % 400) + 1))
            var totals = JobTotals()
            totals.add(decoded.statistics, sourceRetries: Self.signed(seeds[62]))
            totals.add(decoded.statistics, sourceRetries: .max)
            totals.addReused(decoded.statistics)
            _ = (totals.bytesRead, totals.objectsRead)
            _ = MalformedCeiling.excess(merger.statistics, ceiling: 0.5)?.description
            let figures: ReportFigures
            do {
                figures = try ReportFigures(csv: csv, name: "result.csv")
            } catch {
                Issue.record("the CSV the merge wrote does not read back: \(error)")
                return
            }
            _ = figures.glance
            _ = SVGChart.bars(figures.topUsers, title: "top")
            _ = SVGChart.logColumns(figures.clientIPBuckets, title: "ips")
            _ = figures.sorted(by: "total_bytes", descending: true)
        }
    }

    /// The same numbers through the store, the job's status, the Reports page and the report page.
    @Test(.shrinking(false)) func noNumberAWorkerSendsTrapsTheStatusOrThePages() async throws {
        await propertyCheck(count: 12, input: Self.seeds) { seeds in
            do {
                let fixture = try Fixture()
                let coordinator = try fixture.coordinator()
                try await withPlannedJob(coordinator) { client, job in
                    var merger = ReportMerger()
                    var round = 0
                    while let grant = try await lease(client, worker: "w1") {
                        // As if the upload check had let it through: committed straight into the store.
                        let partial = Self.partial(seeds.map { $0 &+ UInt64(round) })
                        round += 1
                        merger.merge(partial)
                        _ = try await coordinator.store.commit(
                            grant.leaseId, statistics: partial.statistics, sourceRetries: Self.signed(seeds[63]),
                            now: fixture.clock.now()
                        ) { _, _ in }
                        #expect(try await client.execute(uri: "/v1/jobs/\(job.id)", method: .get).status == .ok)
                        #expect(try await client.execute(uri: "/", method: .get).status == .ok)
                    }
                    #expect(try await coordinator.store.job(job.id)?.state == .merging, "the last commit moved the job to merging")
                    let csv = merger.csv()
                    try coordinator.files.write(csv, to: coordinator.files.resultPath(job.id))
                    #expect(
                        try await coordinator.store.succeed(
                            job.id, users: merger.userCount, resultBytes: Int64(csv.count),
                            statistics: merger.statistics, now: fixture.clock.now()))
                    for uri in ["/v1/jobs/\(job.id)", "/", "/reports/\(job.id)", "/reports/\(job.id)?sort=num_of_client_ip&order=desc"] {
                        let response = try await client.execute(uri: uri, method: .get)
                        #expect(response.status == .ok, "\(uri): \(response.text.prefix(300))")
                    }
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
