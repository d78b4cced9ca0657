import TallySketches
import Testing

@testable import TallyReport

/// The network-summary and resource-access aggregations (docs/design.md §1.8–1.10): the same
/// engine keyed by Resource and by user and Resource.
@Suite struct ResourceReportsTests {
    let window = try! ReportWindow(from: 0, to: 24 * hour)

    /// Events over a few users and Resources, with one Resource reached at 5,000 addresses and
    /// one pair from 5,000 devices (past the sketches' exact range), service accounts, events
    /// naming no Resource, and a user and network name holding a zero byte.
    func busyDay(into a: inout RowAggregator) {
        var rng = SplitMix(seed: 5)
        for n in 0..<16_000 {
            let heavy = n < 5_000
            let user = n % 17 == 0 ? "" : heavy ? "heavy@x" : "user\(rng.next() % 40)@x" + (n % 101 == 0 ? "\u{0}z" : "")
            let resource = heavy ? "7" : n % 13 == 0 ? "" : "\(rng.next() % 12)"
            EventBuilder(
                time: hour + Int64(n), user: user, outcome: [.success, .dnsFailure, .otherFailure][Int(rng.next() % 3)],
                transferred: rng.next() % 900, received: rng.next() % 900, relayed: rng.next() % 2 == 0,
                device: heavy ? "dev\(n)" : "dev\(rng.next() % 6)", ip: "10.0.0.\(rng.next() % 9)", resource: resource,
                rule: rng.next() % 4 == 0 ? "" : "*.r\(resource).corp", reached: heavy ? "h\(n).corp" : "a\(rng.next() % 3).corp",
                network: rng.next() % 5 == 0 ? "" : "net\u{0}\(rng.next() % 2)", networkID: "\(rng.next() % 3)",
                transport: ["tcp", "udp", "icmp", ""][Int(rng.next() % 4)]
            ).send(to: &a)
        }
    }

    @Test(arguments: [ReportShape.byResource, .byUserAndResource])
    func theDirectEncodingIsTheEncodingOfTheBuiltPartial(shape: ReportShape) throws {
        var a = RowAggregator(window: window, shape: shape)
        busyDay(into: &a)
        let built = a.makePartial(statistics: ReadStatistics())
        #expect(built.rowKey == shape.key)
        #expect(built.rows.contains { !$0.topValues.isExact || !$0.devices.isExact }, "a row past the exact range")
        #expect(a.encodedPartial(statistics: ReadStatistics()) == built.encoded())
        let decoded = try Partial(encoded: built.encoded())
        #expect(decoded.rowKey == shape.key && decoded.rows.count == built.rows.count)
    }

    @Test func serviceAccountsCountForResourcesNotForUsers() {
        var byResource = RowAggregator(window: window, shape: .byResource)
        var byPair = RowAggregator(window: window, shape: .byUserAndResource)
        for aggregator in [0, 1] {
            for user in ["", "ann@x"] {
                let event = EventBuilder(time: hour, user: user, resource: "7")
                if aggregator == 0 { event.send(to: &byResource) } else { event.send(to: &byPair) }
            }
        }
        let resources = byResource.makePartial(statistics: ReadStatistics()).rows
        #expect(resources.map(\.counters.success) == [2])
        let pairs = byPair.makePartial(statistics: ReadStatistics()).rows
        #expect(pairs.map(\.key) == [RowKey.pair(Array("ann@x".utf8), Array("7".utf8))])
    }

    @Test(arguments: [ReportShape.byUser, .byResource, .byUserAndResource])
    func partialsOfPartsMergeToThePartialOfTheWhole(shape: ReportShape) throws {
        var whole = RowAggregator(window: window, shape: shape)
        busyDay(into: &whole)
        // The same events read by three tasks, each keeping a third of the times.
        var merged = ReportMerger()
        for (from, to) in [(0, hour + 6_000), (hour + 6_000, hour + 12_000), (hour + 12_000, 24 * hour)] {
            var part = RowAggregator(window: try ReportWindow(from: from, to: to), shape: shape)
            busyDay(into: &part)
            merged.merge(try Partial(encoded: part.encodedPartial(statistics: ReadStatistics())))
        }
        var single = ReportMerger()
        single.merge(whole.makePartial(statistics: ReadStatistics()))
        let report: ReportSpec =
            switch shape.key {
            case .user: .activeUsers(window: window)
            case .resource: .networkSummary(window: window)
            case .userAndResource: .resourceAccess(window: window, directory: nil)
            }
        #expect(try merged.csv(of: report, directory: nil).csv == single.csv(of: report, directory: nil).csv)
    }

    @Test func pairKeysSortAsTheirPartsAndSplitBack() {
        var rng = SplitMix(seed: 3)
        let alphabet: [UInt8] = [0, 1, 0xFF, 0x41, 0x42]
        func text() -> [UInt8] { (0..<Int(rng.next() % 4)).map { _ in alphabet[Int(rng.next() % 5)] } }
        for _ in 0..<5_000 {
            let a = (text(), text()), b = (text(), text())
            let ka = RowKey.pair(a.0, a.1), kb = RowKey.pair(b.0, b.1)
            let byParts = a.0 != b.0 ? ByteStringOrder.compare(a.0, b.0) : ByteStringOrder.compare(a.1, b.1)
            #expect(ByteStringOrder.compare(ka, kb).signum() == byParts.signum())
            #expect(RowKey.split(ka) == (a.0, a.1))
        }
    }

    @Test func aDirectoryListsOnlyItsUsersAndThoseWhoReachedNothing() throws {
        var a = RowAggregator(window: window, shape: .byUserAndResource)
        for (user, resource) in [("ann@x", "7"), ("ann@x", "9"), ("bob@x", "7"), ("eve@x", "7")] {
            EventBuilder(time: hour, user: user, device: "d", ip: "1.1.1.1", resource: resource, rule: "r" + resource).send(to: &a)
        }
        var merger = ReportMerger()
        merger.merge(a.makePartial(statistics: ReadStatistics()))
        let directory = UserDirectory(emails: ["ann@x", "bob@x", "cy@x", "zed@x"].map { Array($0.utf8) })
        let (csv, rows) = try merger.csv(of: .resourceAccess(window: window, directory: "staff"), directory: directory)
        let lines = String(decoding: csv, as: UTF8.self).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).prefix(3).joined(separator: ",")
        }
        #expect(lines.dropFirst() == ["ann@x,7,r7", "ann@x,9,r9", "bob@x,7,r7", "cy@x,,", "zed@x,,"])
        #expect(rows == 5)
    }
}

/// A resource-access review merged range by range, with a directory, is the review merged whole:
/// the ranges are cut at users (`PartialUserStream.indexKeys`), so each holds all of a user's
/// rows or none, and a directory user who reached nothing is listed once.
@Suite struct ResourceAccessRangeTests {
    @Test(arguments: [2, 5, 16])
    func theRangesRowsInOrderAreTheWholeReview(ranges count: Int) throws {
        let window = try ReportWindow(from: 0, to: 1_000 * hour)
        var random = SplitMix(seed: UInt64(count))
        // Users reaching up to 40 Resources each: a partial's index falls inside users' rows.
        let encoded = (0..<3).map { task -> [UInt8] in
            var a = RowAggregator(window: window, shape: .byUserAndResource)
            for u in 0..<300 where random.next() % 4 != 0 {
                for _ in 0..<(1 + Int(random.next() % 40)) {
                    EventBuilder(
                        time: Int64(task) * hour, user: "user\(u)@x", device: "d\(random.next() % 3)", ip: "10.0.0.\(random.next() % 9)",
                        resource: "\(random.next() % 60)", rule: "r"
                    ).send(to: &a)
                }
            }
            return a.encodedPartial(statistics: ReadStatistics())
        }
        // Every other user of 0..<400 in the directory: some reached nothing, some are not in it.
        let directory = UserDirectory(emails: (0..<400).filter { $0 % 2 == 0 }.map { Array("user\($0)@x".utf8) })
        let report = ReportSpec.resourceAccess(window: window, directory: "staff")
        func rows(_ range: UserKeyRange) throws -> [UInt8] {
            var merge = try StreamingMerge(streams: try encoded.map { try PartialUserStream(PartialInMemory($0), range: range) })
            var out: [UInt8] = []
            _ = try ReportRows.write(&merge, report: report, directory: directory, range: range) { out += $0 }
            return out
        }
        let whole = try rows(.all)
        let samples = try encoded.flatMap { try Partial.indexKeys(encoded: $0) }
        #expect(samples.allSatisfy { RowKey.split($0).second.isEmpty }, "range bounds are users' first keys")
        let ranges = UserKeyRange.split(samples: samples, into: count)
        #expect(ranges.count > 1)
        #expect(try ranges.flatMap { try rows($0) } == whole)
        let text = String(decoding: whole, as: UTF8.self)
        #expect(text.contains("user398@x,,,,,,0,0,0,0,0,0\n") && !text.contains("user1@x,"))
    }
}
