import PropertyBased
import TallySketches
import Testing

@Suite struct DistinctCounterTests {
    /// Interval starts and lengths: three overlapping ranges of one hashed universe, sized so
    /// counters land in either mode and unions cross the exact limit in both directions.
    private static let ranges = zip(Gen.int(in: 0...3000), Gen.int(in: 0...3000)).array(of: 3)
    private static let base = Gen.uint64()

    @Test func emptyCounter() {
        let empty = DistinctCounter()
        #expect(empty.isExact)
        #expect(empty.count == 0)
        #expect(empty == DistinctCounter())
    }

    @Test func exactModeCountsDistinctHashesIncludingZero() {
        var counter = DistinctCounter()
        for hash: UInt64 in [0, 1, 0, .max, 1, 42, 0] { counter.insert(hash: hash) }
        #expect(counter.isExact)
        #expect(counter.count == 4)
    }

    @Test func transitionHappensAfterTheExactLimit() {
        var counter = DistinctCounter()
        for value in 0..<UInt64(DistinctCounter.exactLimit) {
            counter.insert(hash: hashOfInteger(value))
            counter.insert(hash: hashOfInteger(value))
        }
        #expect(counter.isExact)
        #expect(counter.count == 4096)
        counter.insert(hash: hashOfInteger(4096))
        #expect(!counter.isExact)
        let tolerance = 3 * DistinctCounter.relativeStandardError * 4097
        #expect(abs(Double(counter.count) - 4097) <= tolerance)
    }

    @Test func mergeTransitionDependsOnlyOnTheUnionSize() {
        let base: UInt64 = 7
        // |A ∪ B| = 4096: stays exact.
        let a = counter(over: 0..<3000, base: base)
        let b = counter(over: 1096..<4096, base: base)
        var union = a
        union.merge(b)
        #expect(union.isExact)
        #expect(union.count == 4096)
        // |A ∪ C| = 4097: converts, and equals the counter built directly.
        let c = counter(over: 1097..<4097, base: base)
        var bigger = a
        bigger.merge(c)
        #expect(!bigger.isExact)
        #expect(bigger == counter(over: 0..<4097, base: base))
    }

    @Test func mergeIsCommutativeAndAssociative() async {
        await propertyCheck(count: 12, input: Self.ranges, Self.base) { ranges, base in
            let sketches = ranges.map { counter(over: $0.0..<($0.0 + $0.1), base: base) }
            let (a, b, c) = (sketches[0], sketches[1], sketches[2])
            var ab = a
            ab.merge(b)
            var ba = b
            ba.merge(a)
            #expect(ab == ba)
            #expect(ab.count == ba.count)
            #expect(encoded(ab) == encoded(ba))

            var abThenC = ab
            abThenC.merge(c)
            var bc = b
            bc.merge(c)
            var aThenBC = a
            aThenBC.merge(bc)
            #expect(abThenC == aThenBC)
            #expect(abThenC.count == aThenBC.count)
            #expect(encoded(abThenC) == encoded(aThenBC))
        }
    }

    @Test func mergeEqualsSketchOfUnion() async {
        await propertyCheck(count: 12, input: Self.ranges, Self.base) { ranges, base in
            var merged = DistinctCounter()
            var direct = DistinctCounter()
            for range in ranges {
                let span = range.0..<(range.0 + range.1)
                merged.merge(counter(over: span, base: base))
                for index in span { direct.insert(hash: StableHash.mix(base &+ UInt64(index))) }
            }
            #expect(merged == direct)
            #expect(encoded(merged) == encoded(direct))
            if direct.isExact {
                let union = Set(ranges.flatMap { $0.0..<($0.0 + $0.1) })
                #expect(direct.count == UInt64(union.count))
            }
        }
    }

    @Test func smallExactUnionsAreExact() async {
        await propertyCheck(input: Gen.uint64(in: 0...500).array(of: 0...200), Gen.uint64(in: 0...500).array(of: 0...200)) {
            a, b in
            var left = DistinctCounter()
            a.forEach { left.insert(hash: $0) }
            var right = DistinctCounter()
            b.forEach { right.insert(hash: $0) }
            left.merge(right)
            #expect(left.isExact)
            #expect(left.count == UInt64(Set(a + b).count))
        }
    }

    @Test func insertionOrderDoesNotMatter() async {
        await propertyCheck(count: 12, input: Gen.int(in: 0...6000), Self.base) { size, base in
            var hashes = (0..<size).map { StableHash.mix(base &+ UInt64($0)) }
            var inOrder = DistinctCounter()
            hashes.forEach { inOrder.insert(hash: $0) }
            var generator = SplitMix64(seed: base)
            hashes.shuffle(using: &generator)
            var shuffled = DistinctCounter()
            hashes.forEach { shuffled.insert(hash: $0) }
            #expect(inOrder == shuffled)
            #expect(inOrder.count == shuffled.count)
            #expect(encoded(inOrder) == encoded(shuffled))
        }
    }

    @Test func encodingRoundTripsInBothModes() async {
        await propertyCheck(count: 25, input: Gen.int(in: 0...12000), Self.base) { size, base in
            let original = counter(over: 0..<size, base: base)
            let bytes = encoded(original)
            var reader = ByteReader(bytes)
            let decoded = try DistinctCounter(decoding: &reader)
            #expect(reader.isAtEnd)
            #expect(decoded == original)
            #expect(decoded.count == original.count)
            #expect(decoded.isExact == original.isExact)
            #expect(encoded(decoded) == bytes)
            #expect(try DistinctCounter(serialized: original.serialized()) == original)
        }
    }

    @Test func approximateEncodingPicksTheSmallerForm() {
        // Just past conversion most registers are zero, so the sparse form is smaller than the
        // 12 KB packed form; with a million values every register is set and packing wins.
        let sparse = counter(over: 0..<4097, base: 1)
        #expect(encoded(sparse).count < 10_000)
        let dense = counter(over: 0..<1_000_000, base: 1)
        #expect(encoded(dense).count == 2 + 1 + 12_288)
        #expect(encoded(sparse) != encoded(dense))
    }

    /// Guards format stability: the serialized bytes of fixed sets must never change, because
    /// partials written by one version are merged by the next. The expected bytes and checksums
    /// were computed once and cross-checked against an independent model of the format.
    @Test func serializedFormIsStable() {
        var exact = DistinctCounter()
        for value in 1...3 as ClosedRange<UInt64> { exact.insert(hash: value) }
        #expect(
            exact.serialized() == [
                0x54, 0x44, 0x43, 0x31, 0x01, 0x1A, 0, 0, 0, 0, 0, 0, 0,
                0x00, 0x03,
                1, 0, 0, 0, 0, 0, 0, 0,
                2, 0, 0, 0, 0, 0, 0, 0,
                3, 0, 0, 0, 0, 0, 0, 0,
                0xA9, 0xFB, 0xC0, 0x6F,
            ])
        // The hashes of 0..<20,000: packed form (mode 1, precision 14, form 1, 12,288 bytes).
        var approximate = DistinctCounter()
        for value in 0..<UInt64(20_000) { approximate.insert(hash: hashOfInteger(value)) }
        let bytes = approximate.serialized()
        #expect(bytes.count == 13 + 3 + 12_288 + 4)
        #expect(Array(bytes[13..<16]) == [1, 14, 1])
        #expect(Array(bytes.suffix(4)) == [0xD1, 0x03, 0xBB, 0x3D])
    }

    @Test func decodingRejectsInvalidContent() {
        func decode(_ body: [UInt8]) -> SketchDecodingError.Reason? {
            var reader = ByteReader(body)
            do {
                _ = try DistinctCounter(decoding: &reader)
                return nil
            } catch {
                return error.reason
            }
        }
        var duplicate = ByteWriter()
        duplicate.writeUInt8(0)
        duplicate.writeVarUInt(2)
        duplicate.writeUInt64LE(5)
        duplicate.writeUInt64LE(5)
        #expect(decode(duplicate.bytes) == .invalidValue("duplicate exact hash"))

        var descending = ByteWriter()
        descending.writeUInt8(0)
        descending.writeVarUInt(2)
        descending.writeUInt64LE(6)
        descending.writeUInt64LE(5)
        #expect(decode(descending.bytes) == .invalidValue("exact hashes not in ascending order"))

        var tooMany = ByteWriter()
        tooMany.writeUInt8(0)
        tooMany.writeVarUInt(4097)
        #expect(decode(tooMany.bytes) == .invalidValue("exact hash count 4097 exceeds the limit 4096"))

        #expect(decode([1, 12, 2, 0]) == .invalidValue("HyperLogLog precision 12, expected 14"))
        // Sparse forms list at least 1,024 registers (0x80 0x08 is varint 1024), here padded with
        // bytes the bad entry stops the reading before.
        let padding = [UInt8](repeating: 1, count: 2048)
        #expect(decode([1, 14, 2, 0x80, 0x08, 0, 52] + padding) == .invalidValue("sparse register 0 holds 52, outside 1...51"))
        #expect(decode([1, 14, 2, 0x80, 0x08, 0, 0] + padding) == .invalidValue("sparse register 0 holds 0, outside 1...51"))
        #expect(decode([1, 14, 2, 0x80, 0x08, 0, 1, 0xFF, 0x7F, 1] + padding) == .invalidValue("sparse register index out of range"))
        // Few registers claimed, or more than the bytes could hold: refused before allocating.
        #expect(decode([1, 14, 2, 1, 0, 1]) == .invalidValue("sparse form lists 1 registers; an approximate counter has at least 1024"))
        #expect(decode([1, 14, 2, 0x80, 0x08, 0, 1]) == .truncated)
        #expect(
            decode([1, 14, 1] + [UInt8](repeating: 0xFF, count: 12_288))
                == .invalidValue("register 0 holds 63, above the maximum 51"))
        #expect(decode([1, 14, 3]) == .invalidValue("unknown register form 3"))
        #expect(decode([7]) == .invalidValue("unknown distinct counter mode 7"))
        #expect(decode([]) == .truncated)
    }

    @Test func extremeRegistersDoNotTrap() throws {
        // Every register at the cap describes an absurd cardinality; count must saturate, not trap.
        var saturated = ByteWriter()
        saturated.writeBytes([1, 14, 1])
        let packed: UInt32 = 51 | 51 << 6 | 51 << 12 | 51 << 18
        for _ in 0..<4096 {
            saturated.writeBytes([UInt8(packed & 0xFF), UInt8((packed >> 8) & 0xFF), UInt8(packed >> 16)])
        }
        var reader = ByteReader(saturated.bytes)
        let counter = try DistinctCounter(decoding: &reader)
        #expect(counter.count == .max)
        // An approximate counter with every register zero estimates zero (dense form: a sparse
        // one that lists so few registers is refused as forged).
        var empty = ByteReader([1, 14, 1] + [UInt8](repeating: 0, count: 12_288))
        #expect(try DistinctCounter(decoding: &empty).count == 0)
    }
}
