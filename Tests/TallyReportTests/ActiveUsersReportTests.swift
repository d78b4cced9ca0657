import TallyFormats
import TallySketches
import Testing

@testable import TallyReport

@Suite struct ActiveUsersReportTests {
    let window = try! ReportWindow(from: 10 * hour, to: 20 * hour)

    @Test(arguments: [
        (UInt64(1), UInt64(3), "33.33"), (2, 3, "66.67"), (1, 8, "12.50"), (1, 200, "0.50"),
        (1, 400, "0.25"), (1, 800, "0.13"), (1, 1600, "0.06"), (3, 1600, "0.19"), (0, 5, "0.00"),
        (5, 5, "100.00"), (0, 0, "0.00"), (UInt64.max / 3, UInt64.max, "33.33"),
    ])
    func percentRoundsHalfUpFromTheExactRatio(part: UInt64, whole: UInt64, expected: String) {
        #expect(ActiveUsersCSV.percent(part, of: whole) == expected)
    }

    @Test func everyColumnOfOneUser() {
        var a = RowAggregator(window: window)
        EventBuilder(time: 10 * hour, user: "b@x", transferred: 10, received: 5, relayed: true, device: "d1", ip: "9.9.9.9").send(to: &a)
        EventBuilder(time: 11 * hour + 1_234_567, user: "b@x", transferred: 1, received: 1, device: "d2", ip: "1.1.1.1").send(to: &a)
        EventBuilder(time: 12 * hour, user: "b@x", transferred: 1, received: 1, relayed: true, device: "d1", ip: "1.1.1.1").send(to: &a)
        EventBuilder(time: 13 * hour, user: "b@x", outcome: .dnsFailure, ip: "10.0.0.1").send(to: &a)
        EventBuilder(time: 13 * hour, user: "b@x", outcome: .otherFailure, ip: "2.2.2.2").send(to: &a)
        EventBuilder(time: 20 * hour, user: "b@x", transferred: 100).send(to: &a)  // outside: to is exclusive
        EventBuilder(time: 10 * hour - 1, user: "late@x").send(to: &a)
        EventBuilder(time: 15 * hour, user: "").send(to: &a)  // service account
        EventBuilder(time: 15 * hour, user: "a, \"q\"@x").send(to: &a)
        let partial = a.makePartial(statistics: ReadStatistics())
        #expect(partial.statistics.eventsInWindow == 7)
        #expect(partial.statistics.serviceAccountEvents == 1)
        let lines = render([partial]).split(separator: "\n").map(String.init)
        #expect(lines[0] == ActiveUsersCSV.columns.joined(separator: ","))
        // Quoted email sorts first (`"` < `b`); ties in IP counts broken by text order.
        #expect(lines[1] == "\"a, \"\"q\"\"@x\",1970-01-01T15:00:00.000Z,1,1,0,0,0,0,0,0,0.00,100.00,0,0,")
        #expect(lines[2] == "b@x,1970-01-01T13:00:00.000Z,5,3,2,1,1,19,12,7,66.67,33.33,2,4,1.1.1.1;10.0.0.1;2.2.2.2;9.9.9.9")
        #expect(lines.count == 3)
    }

    @Test func topTenKeepsTheMostFrequentAndBreaksTiesByByteOrder() {
        var a = RowAggregator(window: window)
        for i in 0..<15 {
            for _ in 0...(i % 5) { EventBuilder(time: 11 * hour, user: "u", ip: "10.0.0.\(i)").send(to: &a) }
        }
        let row = render([a.makePartial(statistics: ReadStatistics())]).split(separator: "\n")[1]
        let top = row.split(separator: ",").last!.split(separator: ";").map(String.init)
        #expect(
            top == [
                "10.0.0.14", "10.0.0.4", "10.0.0.9", "10.0.0.13", "10.0.0.3", "10.0.0.8", "10.0.0.12", "10.0.0.2", "10.0.0.7", "10.0.0.1",
            ])
    }

    @Test func partialsRoundTripAndMergeLikeOneBigTask() throws {
        var whole = RowAggregator(window: window)
        var parts = [RowAggregator(window: window), RowAggregator(window: window), RowAggregator(window: window)]
        var rng = SplitMix(seed: 42)
        for n in 0..<5000 {
            let e = EventBuilder(
                time: 10 * hour + Int64(rng.next() % UInt64(10 * hour)), user: "user\(rng.next() % 40)@x",
                outcome: [.success, .dnsFailure, .otherFailure][Int(rng.next() % 3)],
                transferred: rng.next() % 1000, received: rng.next() % 1000, relayed: rng.next() % 2 == 0,
                device: "d\(rng.next() % 100)", ip: "10.0.\(rng.next() % 3).\(rng.next() % 50)")
            e.send(to: &whole)
            e.send(to: &parts[n % 3])
        }
        let partials = try parts.map { try Partial(encoded: $0.makePartial(statistics: ReadStatistics()).encoded()) }
        #expect(render(partials) == render([whole.makePartial(statistics: ReadStatistics())]))
    }

    @Test func aPartialKnowsTheSpanOfEveryEventItRead() throws {
        var a = RowAggregator(window: window)
        #expect(a.makePartial(statistics: ReadStatistics()).statistics.eventSpan == nil)
        EventBuilder(time: 12 * hour, user: "b@x").send(to: &a)
        EventBuilder(time: 9 * hour, user: "early@x").send(to: &a)  // outside the window, still in the span
        EventBuilder(time: 21 * hour, user: "").send(to: &a)
        let partial = try Partial(encoded: a.makePartial(statistics: ReadStatistics()).encoded())
        #expect(partial.statistics.eventSpan == EventSpan(earliest: 9 * hour, latest: 21 * hour))
        #expect(partial.statistics.eventSpan?.lies(in: window) == false)
        #expect(EventSpan(earliest: 10 * hour, latest: 20 * hour - 1).lies(in: window))
        // The bytes written straight from the aggregator are those of the partial.
        #expect(a.encodedPartial(statistics: ReadStatistics()) == a.makePartial(statistics: ReadStatistics()).encoded())
    }

    @Test func partialsWithDifferentUsersMergeLikeOneBigTask() throws {
        // Each part sees its own mix of users (some in one part only, some in all, emails that
        // are prefixes of others), so the merger must interleave new users, not only fold.
        let emails = ["a", "a@x", "ab", "b@x", "b@x.y", "z", "Z", "\u{e9}@x", "m@x"]
        var whole = RowAggregator(window: window)
        var parts = (0..<4).map { _ in RowAggregator(window: window) }
        var rng = SplitMix(seed: 7)
        for n in 0..<3000 {
            let part = n % 4
            // Users 0...2 appear in every part, the others only in parts whose index divides theirs.
            let candidates = emails.indices.filter { $0 < 3 || ($0 % (part + 1) == 0) }
            let user = emails[candidates[Int(rng.next() % UInt64(candidates.count))]]
            let e = EventBuilder(
                time: 10 * hour + Int64(n), user: user, transferred: rng.next() % 100,
                device: "d\(rng.next() % 5)", ip: "10.0.0.\(rng.next() % 20)")
            e.send(to: &whole)
            e.send(to: &parts[part])
        }
        let partials = try parts.map { try Partial(encoded: $0.makePartial(statistics: ReadStatistics()).encoded()) }
        let expected = render([whole.makePartial(statistics: ReadStatistics())])
        #expect(render(partials) == expected)
        #expect(render(partials.reversed()) == expected)
        #expect(expected.split(separator: "\n").count == 1 + emails.count)
    }

    @Test func aPartialBuiltWithAnEmailTwiceHoldsItOnce() throws {
        var a = RowAggregator(window: window), b = RowAggregator(window: window)
        EventBuilder(time: 11 * hour, user: "u@x", transferred: 5, device: "d1", ip: "1.1.1.1").send(to: &a)
        EventBuilder(time: 12 * hour, user: "u@x", transferred: 7, device: "d2", ip: "1.1.1.1").send(to: &b)
        let both = Partial(
            rows: a.makePartial(statistics: ReadStatistics()).rows + b.makePartial(statistics: ReadStatistics()).rows,
            statistics: ReadStatistics())
        #expect(both.rows.count == 1)
        #expect(render([both]) == render([a.makePartial(statistics: ReadStatistics()), b.makePartial(statistics: ReadStatistics())]))
    }

    @Test func partialsWithUsersOutOfOrderAreRejected() throws {
        var a = RowAggregator(window: window)
        EventBuilder(time: 11 * hour, user: "a@x").send(to: &a)
        EventBuilder(time: 11 * hour, user: "b@x").send(to: &a)
        var partial = a.makePartial(statistics: ReadStatistics())
        partial.rows.reverse()
        #expect(throws: (any Error).self) { _ = try Partial(encoded: partial.encoded()) }
        partial.rows[0] = partial.rows[1]  // the same user twice
        #expect(throws: (any Error).self) { _ = try Partial(encoded: partial.encoded()) }
    }

    @Test func theDirectEncodingIsTheEncodingOfTheBuiltPartial() throws {
        // Workers upload `encodedPartial`; it must be byte for byte what building the sketches
        // and encoding them gives, including for users past the exact range (5,000 IPs), users
        // without devices or IPs, and IP texts longer than 127 bytes.
        var a = RowAggregator(window: window)
        var rng = SplitMix(seed: 11)
        for n in 0..<20_000 {
            let k = Int(rng.next() % 300)
            let user = n < 5_000 ? "heavy@x" : "user\(k)@" + String(repeating: "x", count: k % 40)
            let ip =
                n < 5_000
                ? "10.\(n / 65536).\(n / 256 % 256).\(n % 256)"
                : (rng.next() % 5 == 0 ? "" : "192.168.\(rng.next() % 4).\(rng.next() % 60)")
            let device = rng.next() % 7 == 0 ? "" : "dev\(rng.next() % 9)"
            EventBuilder(
                time: 10 * hour + Int64(n), user: user, outcome: [.success, .dnsFailure, .otherFailure][Int(rng.next() % 3)],
                transferred: rng.next() % 5000, received: rng.next() % 5000, relayed: rng.next() % 3 == 0,
                device: device, ip: ip
            ).send(to: &a)
        }
        // Length prefixes of two bytes: 256 encodes as 80 02 and sorts before 129 (81 01).
        for length in [130, 129, 256] {
            EventBuilder(time: 11 * hour, user: "long-ip@x", ip: String(repeating: "f", count: length)).send(to: &a)
        }
        EventBuilder(time: 11 * hour, user: "long-ip@x", ip: "1.1.1.1").send(to: &a)
        EventBuilder(time: 11 * hour, user: "bare@x").send(to: &a)
        var statistics = ReadStatistics()
        statistics.objects = 3
        statistics.bytes = 12345
        let built = a.makePartial(statistics: statistics)
        #expect(built.rows.count == 303)
        #expect(built.rows.contains { $0.key == Array("heavy@x".utf8) && !$0.clientIPs.isExact })
        #expect(a.encodedPartial(statistics: statistics) == built.encoded())
        #expect(
            RowAggregator(window: window).encodedPartial(statistics: statistics)
                == RowAggregator(window: window).makePartial(statistics: statistics).encoded())
    }

    @Test func partialsClaimingNegativeCountsAreRejectedNotTrusted() throws {
        // A faulty worker's partial must not be able to crash the coordinator's sums.
        var statistics = ReadStatistics()
        statistics.lines.events = -1
        let bytes = RowAggregator(window: window).makePartial(statistics: statistics).encoded()
        #expect(throws: (any Error).self) { _ = try Partial(encoded: bytes) }
        var huge = ReadStatistics()
        huge.objects = .max
        var merged = ReadStatistics()
        merged.add(huge)
        merged.add(huge)
        #expect(merged.objects == .max)
    }

    @Test func corruptPartialBytesThrow() throws {
        var a = RowAggregator(window: window)
        EventBuilder(time: 11 * hour, user: "u", device: "d", ip: "1.2.3.4").send(to: &a)
        let bytes = a.makePartial(statistics: ReadStatistics()).encoded()
        for cut in [0, 3, bytes.count / 2, bytes.count - 1] {
            #expect(throws: (any Error).self) { _ = try Partial(encoded: Array(bytes.prefix(cut))) }
        }
        var flipped = bytes
        flipped[bytes.count / 2] ^= 1
        #expect(throws: (any Error).self) { _ = try Partial(encoded: flipped) }
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
