import TallyFormats
import TallySketches
import Testing

@testable import TallyReport

/// The decoding ceiling: bytes from a remote process cannot make a decoder hold more than it.
@Suite struct PartialCeilingTests {
    let window = try! ReportWindow(from: 10 * hour, to: 20 * hour)

    /// `users` users with `eventsPerUser` events each; without devices and addresses when `bare`
    /// (the most users per byte a partial can hold).
    func partial(users: Int, eventsPerUser: Int, bare: Bool = false) -> Partial {
        var a = RowAggregator(window: window)
        var rng = SplitMix(seed: 3)
        for u in 0..<users {
            for _ in 0..<eventsPerUser {
                EventBuilder(
                    time: 10 * hour, user: "u\(u)", device: bare ? "" : "d\(rng.next() % 500)",
                    ip: bare ? "" : "10.\(rng.next() % 4).\(rng.next() % 250).\(rng.next() % 250)"
                ).send(to: &a)
            }
        }
        return a.makePartial(statistics: ReadStatistics())
    }

    /// What the coordinator's default ceiling (docs/security.md) rests on: real partials, and the densest possible ones, decode to a
    /// bounded multiple of their bytes.
    @Test(arguments: [(5000, 1, false), (200, 300, false), (10, 6000, false), (20_000, 1, true)])
    func partialsDecodeToABoundedMultipleOfTheirBytes(users: Int, events: Int, bare: Bool) throws {
        let bytes = partial(users: users, eventsPerUser: events, bare: bare).encoded()
        let held = try Partial(encoded: bytes).rows.reduce(0) { $0 + $1.estimatedBytes }
        #expect(held <= 16 * bytes.count, "\(bytes.count) bytes decode to \(held)")
    }

    @Test func usersPastTheCeilingAreRefusedBeforeMoreAreDecoded() throws {
        let bytes = partial(users: 2000, eventsPerUser: 2).encoded()
        let held = try Partial(encoded: bytes).rows.reduce(0) { $0 + $1.estimatedBytes }
        #expect(try Partial(encoded: bytes, memoryCeiling: held).rows.count == 2000)
        #expect(throws: SketchDecodingError.self) { try Partial(encoded: bytes, memoryCeiling: held - 1) }
        #expect(throws: SketchDecodingError.self) { try Partial(encoded: bytes, memoryCeiling: held / 10) }
    }
}
