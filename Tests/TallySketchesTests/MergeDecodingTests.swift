import Testing

@testable import TallySketches

/// A merge folds the other sketch in from its bytes (`merge(decoding:)`), without building it:
/// the result must be what decoding it and merging gives, whatever the modes and capacities.
@Suite struct MergeDecodingTests {
    @Test(arguments: [
        (0..<100, 50..<200),  // both exact, overlapping
        (0..<3000, 2000..<4500),  // the union crosses the exact limit
        (0..<100, 0..<9000),  // the other approximate
        (0..<9000, 100..<200),  // this one approximate
        (0..<6000, 3000..<12000),  // both approximate
    ])
    func aCounterFoldedFromItsBytesIsTheCounterMerged(mine: Range<Int>, other: Range<Int>) throws {
        var merged = counter(over: mine, base: 7)
        var folded = merged
        let theirs = counter(over: other, base: 7)
        merged.merge(theirs)
        var reader = ByteReader(encoded(theirs))
        try folded.merge(decoding: &reader)
        #expect(reader.isAtEnd)
        #expect(folded == merged && encoded(folded) == encoded(merged))
    }

    func summary(keys: Range<Int>, capacity: Int = HeavyHitters<[UInt8]>.defaultCapacity, seed: UInt64) -> HeavyHitters<[UInt8]> {
        var random = SplitMix64(seed: seed)
        var summary = HeavyHitters<[UInt8]>(capacity: capacity)
        for key in keys { summary.add(Array("10.0.\(key / 250).\(key % 250)".utf8), count: 1 + random.next() % 50) }
        return summary
    }

    func bytes(_ summary: HeavyHitters<[UInt8]>) -> [UInt8] {
        var writer = ByteWriter()
        summary.encode(into: &writer) { key, w in w.writeLengthPrefixed(key) }
        return writer.bytes
    }

    @Test(arguments: [
        (0..<50, 25..<80, 2048),  // exact, overlapping keys
        (0..<3000, 1500..<4000, 2048),  // the fold passes 2 × capacity: it reduces
        (0..<300, 0..<300, 64),  // the other's smaller capacity is adopted, and reduces
    ])
    func aSummaryFoldedFromItsBytesIsTheSummaryMerged(mine: Range<Int>, other: Range<Int>, otherCapacity: Int) throws {
        var merged = summary(keys: mine, seed: 1)
        var folded = merged
        let theirs = summary(keys: other, capacity: otherCapacity, seed: 2)
        merged.merge(theirs)
        var reader = ByteReader(bytes(theirs))
        try folded.merge(decoding: &reader)
        #expect(reader.isAtEnd)
        #expect(folded == merged && bytes(folded) == bytes(merged))
        #expect(folded.capacity == min(2048, otherCapacity))
    }

    /// The fold (and the check) take entries only in the order the encoder writes them: one out
    /// of order or twice is refused.
    @Test func entriesOutOfOrderOrTwiceAreRefused() throws {
        func summaryBytes(_ entries: [(String, UInt64)]) -> [UInt8] {
            var writer = ByteWriter()
            HeavyHitters<[UInt8]>.encodeHeader(
                capacity: 2048, total: entries.reduce(0) { $0 + $1.1 }, entryCount: entries.count, into: &writer)
            for (key, count) in entries {
                writer.writeLengthPrefixed(Array(key.utf8))
                writer.writeVarUInt(count)
            }
            return writer.bytes
        }
        let inOrder = summaryBytes([("1.1.1.1", 2), ("2.2.2.2", 1)])
        let reversed = summaryBytes([("2.2.2.2", 1), ("1.1.1.1", 2)])
        let twice = summaryBytes([("1.1.1.1", 2), ("1.1.1.1", 1)])
        var reader = ByteReader(inOrder)
        #expect(try HeavyHitters<[UInt8]>.check(decoding: &reader).entryCount == 2)
        for bad in [reversed, twice] {
            var summary = HeavyHitters<[UInt8]>()
            var r = ByteReader(bad)
            #expect(throwsDecodingError { try summary.merge(decoding: &r) })
            var c = ByteReader(bad)
            #expect(throwsDecodingError { try HeavyHitters<[UInt8]>.check(decoding: &c) })
        }
    }
}
