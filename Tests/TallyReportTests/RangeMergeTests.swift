import TallyFormats
import TallySketches
import Testing

@testable import TallyReport

/// A report merged range by range (docs/design.md §3.8) is the report merged whole: for any
/// split of the key space, the ranges' rows in order are the whole report's rows, byte for byte,
/// for the active-users and the inactive-users reports.
@Suite struct RangeMergeTests {
    /// Partials of `tasks` tasks over `users` users, each task seeing a random share of them with
    /// random devices and client IPs (some users past the exact sketch range).
    static func partials(tasks: Int, users: Int, seed: UInt64) -> [[UInt8]] {
        var random = SplitMix(seed: seed)
        return (0..<tasks).map { task in
            var aggregator = RowAggregator(window: try! ReportWindow(from: 0, to: 1_000 * hour))
            for u in 0..<users where random.next() % 3 != 0 {
                let connections = 1 + Int(random.next() % (u % 97 == 0 ? 400 : 6))
                for c in 0..<connections {
                    EventBuilder(
                        time: Int64(task) * hour + Int64(c) * 1_000_000, user: "user\(u)@example.com",
                        outcome: random.next() % 5 == 0 ? .dnsFailure : .success, transferred: random.next() % 1000,
                        received: random.next() % 1000, relayed: random.next() % 2 == 0,
                        device: "d\(random.next() % (u % 97 == 0 ? 300 : 3))", ip: "10.0.\(u % 250).\(random.next() % 200)"
                    ).send(to: &aggregator)
                }
            }
            return aggregator.encodedPartial(statistics: ReadStatistics())
        }
    }

    static func wholeMerger(_ encoded: [[UInt8]]) throws -> ReportMerger {
        var merger = ReportMerger()
        for bytes in encoded { merger.merge(try Partial(encoded: bytes)) }
        return merger
    }

    static func rangeMerger(_ encoded: [[UInt8]], _ range: UserKeyRange) throws -> ReportMerger {
        var merger = ReportMerger()
        for bytes in encoded {
            merger.merge(Partial(rows: try Partial.rows(in: range, encoded: bytes), statistics: ReadStatistics()))
        }
        return merger
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func theRangesRowsInOrderAreTheWholeReport(ranges count: Int) throws {
        let encoded = Self.partials(tasks: 5, users: 1_500, seed: UInt64(count))
        let whole = try Self.wholeMerger(encoded).csv()
        let samples = try encoded.flatMap { try Partial.indexKeys(encoded: $0) }
        #expect(samples.count >= 5 * 3, "every partial indexes its 256th users")
        let ranges = UserKeyRange.split(samples: samples, into: count)
        #expect(ranges.count == min(count, ranges.count) && ranges.count >= min(count, 4))
        var joined = ActiveUsersCSV.header
        for range in ranges { joined += try Self.rangeMerger(encoded, range).rows() }
        #expect(joined == whole)
    }

    @Test func anySplitAtAnyEmailsGivesTheWholeReport() throws {
        let encoded = Self.partials(tasks: 3, users: 900, seed: 11)
        let whole = try Self.wholeMerger(encoded).csv()
        var random = SplitMix(seed: 5)
        for _ in 0..<20 {
            // Bounds at emails present, absent, before every user and after every one.
            var bounds = (0..<Int(random.next() % 6)).map { _ in Array("user\(random.next() % 1_200)@example.com".utf8) }
            bounds += [Array("a".utf8), Array("zzz".utf8)].filter { _ in random.next() % 3 == 0 }
            bounds = Array(Set(bounds)).sorted { ByteStringOrder.compare($0, $1) < 0 }
            var lower: [UInt8]? = nil
            var joined = ActiveUsersCSV.header
            for bound in bounds + [nil] {
                joined += try Self.rangeMerger(encoded, UserKeyRange(lower: lower, upper: bound)).rows()
                lower = bound
            }
            #expect(joined == whole)
        }
    }

    @Test func theInactiveReportSplitsTheSameWay() throws {
        let encoded = Self.partials(tasks: 4, users: 1_200, seed: 3)
        let directory = UserDirectory(emails: (0..<1_400).filter { $0 % 4 == 0 }.map { Array("user\($0)@example.com".utf8) })
        let rule = InactiveUsersCSV.Rule(now: 4 * hour, inactiveDays: 0)
        let shifted = InactiveUsersCSV.Rule(now: 3 * hour + 30 * 60_000_000, inactiveDays: 0)
        for rule in [rule, shifted] {
            let whole = try Self.wholeMerger(encoded).inactiveUsersCSV(directory: directory, rule: rule).csv
            let samples = try encoded.flatMap { try Partial.indexKeys(encoded: $0) }
            var joined = InactiveUsersCSV.header
            for range in UserKeyRange.split(samples: samples, into: 5) {
                joined += try Self.rangeMerger(encoded, range).inactiveUsersRows(directory: directory, rule: rule, range: range).bytes
            }
            #expect(joined == whole)
        }
    }

    @Test func aPartialOfAnOlderFormatIsRefused() throws {
        // Format 3 had no row key: its rows could be any report's, so it is not read.
        let bytes = Self.partials(tasks: 1, users: 50, seed: 9)[0]
        let body = Array(try ChecksummedFrame.unwrap(bytes, magic: Partial.magic, supportedVersions: 4...4).body)
        let old = ChecksummedFrame.wrap(magic: Partial.magic, version: 3, body: body)
        #expect(throws: SketchDecodingError.self) { try Partial(encoded: old) }
        #expect(throws: SketchDecodingError.self) { try PartialUserStream(PartialInMemory(old)) }
    }

    @Test func anIndexThatDoesNotMatchItsUsersIsRefused() throws {
        let partial = try Partial(encoded: Self.partials(tasks: 1, users: 800, seed: 2)[0])
        var w = Partial.beginBody(statistics: partial.statistics, rowKey: partial.rowKey, rowCount: partial.rows.count)
        var index = PartialIndex()
        for user in partial.rows {
            index.note(email: user.key, offset: w.count)
            Partial.encode(user, into: &w)
        }
        // A hostile worker points the second entry at another user: a range read would start
        // in the wrong place, so the partial must not be accepted.
        index.entries[1].email = partial.rows[300].key
        #expect(throws: SketchDecodingError.self) { try Partial(encoded: Partial.frame(w, index: index)) }
    }
}

/// The streaming merge (one user per partial in memory) gives `ReportMerger`'s bytes.
@Suite struct StreamingMergeTests {
    /// The CSV of a streamed merge: from the partials' bytes (each user folded in from them, not
    /// built), which must give what the same merge of the decoded users gives.
    static func streamedCSV(_ partials: [Partial]) throws -> [UInt8] {
        func csv<Stream: UserStream>(_ streams: [Stream]) throws -> [UInt8] {
            var merge = try StreamingMerge(streams: streams)
            var out = ActiveUsersCSV.header
            while let user = try merge.next() { ActiveUsersCSV.appendRow(user, to: &out) }
            return out
        }
        let fromBytes = try csv(partials.map { try PartialUserStream(PartialInMemory($0.encoded())) })
        #expect(try csv(partials.map { UserList($0.rows) }) == fromBytes)
        return fromBytes
    }

    @Test(arguments: [0, 1, 2, 7, 24])
    func theStreamedReportIsTheMergedReport(tasks: Int) throws {
        let partials = try RangeMergeTests.partials(tasks: tasks, users: 600, seed: UInt64(tasks) + 40).map {
            try Partial(encoded: $0)
        }
        var merger = ReportMerger()
        for partial in partials { merger.merge(partial) }
        #expect(try Self.streamedCSV(partials) == merger.csv())
    }

    /// Past 4,096 distinct client IPs a user's top-10 summary reduces, and then the order
    /// entries are folded in decides the bytes: the stream must fold them in plan order.
    @Test func aUserPastTheExactSummaryIsFoldedInPlanOrder() throws {
        var random = SplitMix(seed: 77)
        let partials = try (0..<8).map { task in
            var aggregator = RowAggregator(window: try ReportWindow(from: 0, to: 1_000 * hour))
            for i in 0..<1_500 {
                for _ in 0..<(1 + Int(random.next() % UInt64(1 + task))) {
                    EventBuilder(
                        time: Int64(task) * hour + Int64(i), user: "scanner@example.com", device: "d",
                        ip: "10.\(task).\(i / 250).\(random.next() % 250)"
                    ).send(to: &aggregator)
                }
            }
            EventBuilder(time: Int64(task) * hour, user: "user\(task)@example.com", ip: "10.9.9.9").send(to: &aggregator)
            return try Partial(encoded: aggregator.encodedPartial(statistics: ReadStatistics()))
        }
        var merger = ReportMerger()
        for partial in partials { merger.merge(partial) }
        #expect(try Self.streamedCSV(partials) == merger.csv())
        var reversed = ReportMerger()
        for partial in partials.reversed() { reversed.merge(partial) }
        #expect(reversed.csv() != merger.csv(), "the data must make the fold order matter")
    }

    @Test func aPartialReadBlockByBlockGivesItsUsersAndRefusesADamagedFrame() throws {
        for bytes in RangeMergeTests.partials(tasks: 3, users: 1_100, seed: 8) {
            let whole = try Partial(encoded: bytes)
            var stream = try PartialUserStream(PartialInMemory(bytes))
            var streamed: [[UInt8]] = []
            while let user = try stream.next() { streamed.append(user.key) }
            #expect(streamed == whole.rows.map(\.key))
            #expect(stream.statistics == whole.statistics)
            // One byte flipped inside a user: the checksum catches what decoding might not.
            var damaged = bytes
            damaged[bytes.count / 2] ^= 0x01
            let error = #expect(throws: SketchDecodingError.self) { _ = try PartialUserStream(PartialInMemory(damaged)) }
            #expect(error?.reason == .checksumMismatch)
        }
    }

    @Test func rangesOfStreamsJoinedInOrderAreTheWholeReport() throws {
        let encoded = RangeMergeTests.partials(tasks: 4, users: 1_300, seed: 21)
        let whole = try Self.streamedCSV(try encoded.map { try Partial(encoded: $0) })
        let keys = try encoded.flatMap { try PartialUserStream(PartialInMemory($0)).indexKeys }
        for count in [2, 3, 8] {
            var joined = ActiveUsersCSV.header
            for range in UserKeyRange.split(samples: keys, into: count) {
                var merge = try StreamingMerge(
                    streams: try encoded.map { try PartialUserStream(PartialInMemory($0), range: range, verify: false) })
                while let user = try merge.next() { ActiveUsersCSV.appendRow(user, to: &joined) }
            }
            #expect(joined == whole)
        }
    }

    /// What a merge task does on a worker (docs/design.md §3.9): each partial cut to its range's
    /// span, the slices merged, the rows written by `ReportRows`, the ranges joined in order:
    /// the whole report, byte for byte; a slice whose checksum is not the sender's is refused.
    @Test(arguments: [1, 5, 64])
    func slicesOfEachRangeMergedOnTheirOwnGiveTheWholeReport(ranges count: Int) throws {
        let encoded = RangeMergeTests.partials(tasks: 4, users: 2_000, seed: UInt64(40 + count))
        let whole = try Self.streamedCSV(try encoded.map { try Partial(encoded: $0) })
        let keys = try encoded.flatMap { try PartialUserStream(PartialInMemory($0)).indexKeys }
        let window = try ReportWindow(from: 0, to: 1_000 * hour)
        var joined = ReportRows.header(of: .activeUsers)
        var sliced = 0
        for range in UserKeyRange.split(samples: keys, into: count) {
            let slices = try encoded.map { bytes -> PartialSlice in
                let span = try #require(try PartialUserStream(PartialInMemory(bytes), range: range, verify: false).rangeSpan)
                sliced += span.count
                let slice = Array(bytes[span])
                return try PartialSlice(slice, checksum: PartialSlice.checksum(slice), range: range)
            }
            var merge = try StreamingMerge(streams: slices)
            _ = try ReportRows.write(&merge, report: .activeUsers(window: window), directory: nil, range: range) { joined += $0 }
        }
        #expect(joined == whole)
        // The slices hold users only: the frame, statistics and index stay on the coordinator.
        let partialBytes = encoded.reduce(0) { $0 + $1.count }
        if count == 1 { #expect(sliced < partialBytes) }
        var damaged = Array(encoded[0][20..<200])
        let checksum = PartialSlice.checksum(damaged)
        damaged[7] ^= 1
        #expect(throws: SketchDecodingError.self) { try PartialSlice(damaged, checksum: checksum, range: .all) }
    }

    @Test func aStreamOutOfOrderIsRefused() throws {
        let partial = try Partial(encoded: RangeMergeTests.partials(tasks: 1, users: 50, seed: 1)[0])
        var merge = try StreamingMerge(streams: [UserList(partial.rows.reversed())])
        #expect(throws: SketchDecodingError.self) { while try merge.next() != nil {} }
    }
}
