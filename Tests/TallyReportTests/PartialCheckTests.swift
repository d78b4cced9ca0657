import TallyFormats
import TallySketches
import Testing

@testable import TallyReport

/// The upload check (`Partial.check`) reads a partial's bytes without building its sketches; it
/// must accept what decoding accepts, refuse what decoding refuses, and count the same memory.
@Suite struct PartialCheckTests {
    let window = try! ReportWindow(from: 10 * hour, to: 20 * hour)

    /// `users` users with `eventsPerUser` events each, their devices and IPs drawn from `spread`
    /// values (past 4,096 of them a user's sketches turn approximate and its top list reduces).
    func partialBytes(users: Int, eventsPerUser: Int, spread: UInt64, seed: UInt64) -> [UInt8] {
        var a = RowAggregator(window: window)
        var rng = SplitMix(seed: seed)
        for u in 0..<users {
            for _ in 0..<eventsPerUser {
                let ip = rng.next() % spread
                EventBuilder(
                    time: 10 * hour + Int64(rng.next() % 1000), user: "u\(u)@example.com", device: "d\(rng.next() % spread)",
                    ip: "10.\(ip >> 16).\((ip >> 8) & 255).\(ip & 255)"
                ).send(to: &a)
            }
        }
        return a.makePartial(statistics: ReadStatistics()).encoded()
    }

    func checked(_ bytes: [UInt8], memoryCeiling: Int = .max) throws -> (ReadStatistics, [UserSummary]) {
        var users: [UserSummary] = []
        let statistics = try Partial.check(bytes, memoryCeiling: memoryCeiling) { _, _ in
        } user: {
            users.append($0)
        }
        return (statistics, users)
    }

    @Test(arguments: [(300, 3, UInt64(50)), (20, 400, 100_000), (3, 9000, 1_000_000)])
    func theCheckSeesWhatDecodingBuildsAndCountsTheSameMemory(users: Int, events: Int, spread: UInt64) throws {
        let bytes = partialBytes(users: users, eventsPerUser: events, spread: spread, seed: 5)
        let decoded = try Partial(encoded: bytes)
        let (statistics, summaries) = try checked(bytes)
        #expect(statistics == decoded.statistics)
        #expect(summaries.count == decoded.rows.count)
        for (summary, user) in zip(summaries, decoded.rows) {
            let expected = user.summary
            #expect(Array(summary.email) == user.key)
            #expect(summary.counters == expected.counters)
            #expect(summary.devices == expected.devices && summary.clientIPs == expected.clientIPs)
            #expect(summary.topTotal == expected.topTotal)
        }
        if spread > 100_000 { #expect(decoded.rows.contains { !$0.clientIPs.isExact }, "the test reaches approximate users") }
        // The ceiling falls where decoding's does.
        let held = decoded.rows.reduce(0) { $0 + $1.estimatedBytes }
        _ = try checked(bytes, memoryCeiling: held)
        #expect(throws: SketchDecodingError.self) { try checked(bytes, memoryCeiling: held - 1) }
    }

    /// Bytes changed anywhere in the body (and framed again, so the checksum does not stop them):
    /// whatever the check accepts decodes, to as many users; whatever decoding refuses the check
    /// refuses; and what only decoding accepts is out of the canonical order the encoder writes.
    @Test func damagedBodiesGetTheSameVerdictFromTheCheckAsFromDecoding() throws {
        let bytes = partialBytes(users: 40, eventsPerUser: 6, spread: 30, seed: 7)
        let (version, body) = try ChecksummedFrame.unwrap(bytes, magic: Partial.magic, supportedVersions: Partial.supportedVersions)
        var rng = SplitMix(seed: 11)
        var accepted = 0
        var refused = 0
        for _ in 0..<3000 {
            var damaged = Array(body)
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(damaged.count))
                damaged[at] = rng.next() % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : damaged[at] ^ 1
            }
            let framed = ChecksummedFrame.wrap(magic: Partial.magic, version: version, body: damaged)
            let decoded = try? Partial(encoded: framed)
            let summaries = try? checked(framed).1
            if let summaries {
                accepted += 1
                #expect(decoded?.rows.count == summaries.count)
            } else {
                refused += 1
                if let decoded { #expect(decoded.encoded() != framed, "only a non-canonical partial is refused by the check alone") }
            }
        }
        #expect(accepted > 0 && refused > 0)
    }
}
