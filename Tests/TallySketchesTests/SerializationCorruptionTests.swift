import TallySketches
import Testing

/// Corrupted input of every kind must throw `SketchDecodingError`, never trap.
@Suite struct SerializationCorruptionTests {
    private static let exactCounter = counter(over: 0..<60, base: 11)
    private static let approximateCounter = counter(over: 0..<50_000, base: 11)
    private static let heavyHitters: HeavyHitters<[UInt8]> = {
        var summary = HeavyHitters<[UInt8]>(capacity: 8)
        for index in 0..<40 { summary.add(Array("10.0.\(index % 23).\(index)".utf8), count: UInt64(index % 7 + 1)) }
        return summary
    }()

    @Test func everyTruncationThrows() {
        let counters = [Self.exactCounter.serialized(), Self.approximateCounter.serialized()]
        for bytes in counters {
            for length in 0..<bytes.count {
                #expect(throwsDecodingError { try DistinctCounter(serialized: Array(bytes[..<length])) })
            }
        }
        let summary = Self.heavyHitters.serialized()
        for length in 0..<summary.count {
            #expect(throwsDecodingError { try HeavyHitters<[UInt8]>(serialized: Array(summary[..<length])) })
        }
    }

    @Test func everySingleByteFlipThrows() {
        let exact = Self.exactCounter.serialized()
        let summary = Self.heavyHitters.serialized()
        for mask: UInt8 in [0x01, 0x40, 0xFF] {
            for position in exact.indices {
                var corrupted = exact
                corrupted[position] ^= mask
                #expect(throwsDecodingError { try DistinctCounter(serialized: corrupted) }, "byte \(position)")
            }
            for position in summary.indices {
                var corrupted = summary
                corrupted[position] ^= mask
                #expect(throwsDecodingError { try HeavyHitters<[UInt8]>(serialized: corrupted) }, "byte \(position)")
            }
        }
        // The 12 KB approximate form: a spread of positions covering header, body and trailer.
        let approximate = Self.approximateCounter.serialized()
        for position in stride(from: 0, to: approximate.count, by: 37) + [approximate.count - 1] {
            var corrupted = approximate
            corrupted[position] ^= 0x20
            #expect(throwsDecodingError { try DistinctCounter(serialized: corrupted) }, "byte \(position)")
        }
    }

    @Test func randomGarbageThrows() {
        var generator = SplitMix64(seed: 99)
        for _ in 0..<2_000 {
            let length = Int(generator.next() % 300)
            let garbage = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            #expect(throwsDecodingError { try DistinctCounter(serialized: garbage) })
            #expect(throwsDecodingError { try HeavyHitters<[UInt8]>(serialized: garbage) })
            // Garbage with the right magic gets as far as the length or checksum check.
            #expect(throwsDecodingError { try DistinctCounter(serialized: DistinctCounter.frameMagic + garbage) })
        }
    }

    @Test func garbageBodiesInValidFramesAreRefusedOrRoundTrip() {
        // A valid frame around random bytes reaches the body decoders. They may accept a body that
        // happens to be well formed, but then what they built must be a sketch that encodes and
        // decodes to itself; anything else must be refused with a decoding error (never a trap
        // or another error).
        var generator = SplitMix64(seed: 7)
        var refused = 0
        var accepted = 0
        for _ in 0..<3_000 {
            let length = Int(generator.next() % 64)
            var body = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            // Bias the first bytes toward valid modes and small counts to reach deeper code.
            if !body.isEmpty { body[0] %= 3 }
            if body.count > 1 { body[1] %= 16 }
            let counterFrame = ChecksummedFrame.wrap(
                magic: DistinctCounter.frameMagic, version: DistinctCounter.frameVersion, body: body)
            do {
                let decoded = try DistinctCounter(serialized: counterFrame)
                accepted += 1
                let again = try DistinctCounter(serialized: decoded.serialized())
                #expect(again.count == decoded.count)
                #expect(again.serialized() == decoded.serialized())
            } catch {
                // Decoding throws only SketchDecodingError (typed throws): a refusal.
                refused += 1
            }
            let summaryFrame = ChecksummedFrame.wrap(
                magic: HeavyHitters<[UInt8]>.frameMagic, version: HeavyHitters<[UInt8]>.frameVersion, body: body)
            do {
                let decoded = try HeavyHitters<[UInt8]>(serialized: summaryFrame)
                accepted += 1
                let again = try HeavyHitters<[UInt8]>(serialized: decoded.serialized())
                let order: ([UInt8], [UInt8]) -> Bool = { $0.lexicographicallyPrecedes($1) }
                #expect(again.top(10, by: order).map(\.key) == decoded.top(10, by: order).map(\.key))
            } catch {
                // Decoding throws only SketchDecodingError (typed throws): a refusal.
                refused += 1
            }
        }
        // Most garbage is refused; the biased first bytes let some through to the checks above.
        #expect(refused > 3_000)
        #expect(accepted > 0)
    }

    @Test func unsupportedVersionIsReported() {
        var bytes = Self.exactCounter.serialized()
        bytes[4] = 2
        // Re-seal the frame so only the version is wrong.
        let body = Array(bytes[13..<(bytes.count - 4)])
        let resealed = ChecksummedFrame.wrap(magic: DistinctCounter.frameMagic, version: 2, body: body)
        #expect(throws: SketchDecodingError(.unsupportedVersion(2), offset: 4)) {
            try DistinctCounter(serialized: resealed)
        }
    }
}
