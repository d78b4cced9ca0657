import TallyFormats
import TallySketches
import Testing

@testable import TallyReport

/// The upload check: an honest partial passes; a partial with any count no reading of its
/// task's objects could give is refused, naming the field.
@Suite struct PartialPlausibilityTests {
    let window = try! ReportWindow(from: 10 * hour, to: 20 * hour)
    let task = ReportTask(index: 0, shard: nil, objects: [LogObject(name: "a.csv", size: 1000), LogObject(name: "b.csv", size: 500)])

    /// What a worker computes for `task`: events of three users, one service account, one
    /// event outside the window, two malformed lines.
    func honest() -> Partial {
        var a = RowAggregator(window: window)
        for i in 0..<40 {
            EventBuilder(
                time: 10 * hour + Int64(i) * 1000, user: "u\(i % 3)@example.com", outcome: i % 7 == 0 ? .dnsFailure : .success,
                transferred: 10, received: 20, relayed: i % 2 == 0, device: "d\(i % 5)", ip: "10.0.0.\(i % 9)"
            ).send(to: &a)
        }
        EventBuilder(time: 11 * hour, user: "").send(to: &a)
        EventBuilder(time: 21 * hour, user: "late@example.com").send(to: &a)
        var s = ReadStatistics()
        (s.objects, s.bytes) = (2, 1500)
        s.lines.lines = 50
        s.lines.events = 42
        s.lines.notEvents = 2
        s.lines.malformedByReason[0] = 2
        s.lines.samples = [.init(object: "b.csv", line: 7, reason: MalformedReason.allCases[0])]
        return a.makePartial(statistics: s)
    }

    func refusal(_ change: (inout ReadStatistics, inout [RowAggregate]) -> Void) -> String? {
        let p = honest()
        var (s, users) = (p.statistics, p.rows)
        change(&s, &users)
        do {
            try Partial(rows: users, statistics: s).checkPlausible(for: task, window: window)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test func anHonestPartialPasses() throws {
        try honest().checkPlausible(for: task, window: window)
        #expect(refusal { _, _ in } == nil)
    }

    @Test func everyImplausibleCountIsRefusedNamingIt() {
        let cases: [(String, (inout ReadStatistics, inout [RowAggregate]) -> Void)] = [
            ("objects is 3", { s, _ in s.objects = 3 }),
            ("bytes is 4611686018427387904", { s, _ in s.bytes = 1 << 62 }),
            ("bytes is 1499", { s, _ in s.bytes = 1499 }),
            ("lines is 9223372036854775807", { s, _ in s.lines.lines = .max }),
            ("add up to 9223372036854775807, more than the 50 lines", { s, _ in s.lines.malformedByReason[0] = .max }),
            ("events in the window (43)", { s, _ in s.eventsInWindow = 43 }),
            ("service-account events (42)", { s, _ in s.serviceAccountEvents = 42 }),
            ("names 'other.csv'", { s, _ in s.lines.samples[0].object = "other.csv" }),
            (
                "the rows' connections add up to 40, the in-window events naming a user are 39",
                { s, _ in
                    s.eventsInWindow -= 1
                    s.lines.events -= 1
                }
            ),
            ("has no connection", { _, users in users[0].counters = UserCounters() }),
            ("last accessed at 72000000000, outside the window", { _, users in users[0].counters.lastAccess = 20 * hour }),
            (
                "outside the events read",
                { s, users in
                    s.eventSpan?.latest = 15 * hour
                    users[0].counters.lastAccess = 16 * hour
                }
            ),
            (
                "has 25 devices in 14 connections",
                { _, users in
                    for h in 0..<20 { users[0].devices.insert(hash: UInt64(h) &* 0x9E37_79B9_7F4A_7C15) }
                }
            ),
            (
                "approximate count of client IPs in only 14 connections",
                { _, users in
                    for h in 0..<5000 { users[0].clientIPs.insert(hash: UInt64(h) &* 0x9E37_79B9_7F4A_7C15) }
                }
            ),
            (
                "connections counted by the top 10, more than 14",
                { _, users in users[0].topValues.add(Array("9.9.9.9".utf8), count: 100) }
            ),
            (
                "has Resource names its report does not keep",
                { _, users in
                    var names = RowAggregate.ResourceNames()
                    names.networks.add(RowKey.pair(Array("office".utf8), Array("1".utf8)), count: 100)
                    users[0].resourceNames = names
                }
            ),
            (
                "after the last access",
                { _, users in
                    let c = users[0].counters
                    users[0].counters.firstAccess = c.lastAccess
                    users[0].counters.lastAccess = c.firstAccess
                }
            ),
        ]
        for (fragment, change) in cases {
            let reason = refusal(change)
            #expect(reason?.contains(fragment) == true, "\(fragment): \(reason ?? "accepted")")
        }
    }

    /// A worker that aggregated another report's rows (a stale or hostile one) would merge
    /// users into a Resource report: the partial says what its rows are, and a mismatch is refused.
    @Test func aPartialOfAnotherReportsRowsIsRefused() throws {
        #expect(throws: ImplausiblePartial("its rows are keyed by user, the job's report by resource")) {
            try honest().checkPlausible(for: task, window: window, rowKey: .resource)
        }
        var a = RowAggregator(window: window, shape: .byResource)
        EventBuilder(time: 10 * hour, user: "u@example.com", resource: "7").send(to: &a)
        var s = ReadStatistics()
        (s.objects, s.bytes, s.lines.lines, s.lines.events) = (2, 1500, 1, 1)
        let bytes = a.encodedPartial(statistics: s)
        #expect(throws: ImplausiblePartial.self) { try Partial.checkedStatistics(encoded: bytes, for: task, window: window) }
        _ = try Partial.checkedStatistics(encoded: bytes, for: task, window: window, rowKey: .resource)
        // A pair's key only `RowKey.pair` writes, and no measure the report does not keep.
        var pairs = RowAggregator(window: window, shape: .byUserAndResource)
        EventBuilder(time: 10 * hour, user: "u@example.com", device: "d", resource: "7").send(to: &pairs)
        var forged = pairs.makePartial(statistics: s)
        try forged.checkPlausible(for: task, window: window, rowKey: .userAndResource)
        forged.rows[0].key = Array("u@example.com".utf8)
        #expect(throws: ImplausiblePartial("user 'u@example.com': a key that is not a user and Resource pair")) {
            try forged.checkPlausible(for: task, window: window, rowKey: .userAndResource)
        }
        var padded = a.makePartial(statistics: s)
        padded.rows[0].devices.insert(hash: 42)
        #expect(throws: ImplausiblePartial("user '7' has devices or client IPs its report does not count")) {
            try padded.checkPlausible(for: task, window: window, rowKey: .resource)
        }
    }

    @Test func anApproximateCountWithinItsErrorOfManyConnectionsPasses() throws {
        var a = RowAggregator(window: window)
        for i in 0..<6000 { EventBuilder(time: 10 * hour, user: "busy@example.com", ip: "ip\(i)").send(to: &a) }
        var s = ReadStatistics()
        (s.objects, s.bytes, s.lines.lines, s.lines.events) = (2, 1500, 6000, 6000)
        let p = a.makePartial(statistics: s)
        #expect(!p.rows[0].clientIPs.isExact)
        try p.checkPlausible(for: task, window: window)
    }
}
