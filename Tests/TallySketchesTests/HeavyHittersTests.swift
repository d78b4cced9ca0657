import PropertyBased
import TallySketches
import Testing

@Suite struct HeavyHittersTests {
    /// (key, count) events over a small key space, so summaries stay exact.
    private static let smallStream = zip(Gen.uint16(in: 0...400), Gen.uint64(in: 1...5)).array(of: 0...300)

    /// Counts a stream the plain way, as the reference.
    private static func reference(_ streams: [(UInt16, UInt64)]...) -> [UInt16: UInt64] {
        var counts: [UInt16: UInt64] = [:]
        for stream in streams {
            for (key, count) in stream { counts[key, default: 0] += count }
        }
        return counts
    }

    /// A skewed stream with more than 4096 distinct keys: a few heavy keys, then a long tail.
    private static func skewedStream(seed: UInt64, events: Int) -> [UInt32] {
        var generator = SplitMix64(seed: seed)
        return (0..<events).map { _ in
            let u = Double(generator.next() >> 11) / Double(1 << 53)
            // u^4 concentrates mass on small keys while still touching ~12k keys overall.
            return UInt32(u * u * u * u * 20_000)
        }
    }

    @Test func exactMergeEqualsCountingTheConcatenatedStream() async {
        await propertyCheck(input: Self.smallStream, Self.smallStream) { first, second in
            var a = HeavyHitters<UInt16>()
            for (key, count) in first { a.add(key, count: count) }
            var b = HeavyHitters<UInt16>()
            for (key, count) in second { b.add(key, count: count) }
            var merged = a
            merged.merge(b)
            let expected = Self.reference(first, second)
            #expect(merged.counters == expected)
            #expect(merged.total == expected.values.reduce(0, +))
            #expect(merged.isExact)
            #expect(merged.errorBound == 0)
            var reversed = b
            reversed.merge(a)
            #expect(reversed == merged)
        }
    }

    @Test func encodingRoundTrips() async {
        await propertyCheck(input: Self.smallStream, Gen.int(in: 1...600)) { stream, capacity in
            var summary = HeavyHitters<UInt16>(capacity: capacity)
            for (key, count) in stream { summary.add(key, count: count) }
            var writer = ByteWriter()
            summary.encode(into: &writer) { key, writer in writer.writeVarUInt(UInt64(key)) }
            var reader = ByteReader(writer.bytes)
            let decoded = try HeavyHitters<UInt16>(decoding: &reader) { (reader: inout ByteReader) throws(SketchDecodingError) in
                let raw = try reader.readVarUInt()
                guard let key = UInt16(exactly: raw) else { throw SketchDecodingError(.invalidValue("key")) }
                return key
            }
            #expect(reader.isAtEnd)
            #expect(decoded == summary)
            #expect(decoded.errorBound == summary.errorBound)

            let bytesKeyed = summary.mapKeys { Array(String($0).utf8) }
            #expect(try HeavyHitters<[UInt8]>(serialized: bytesKeyed.serialized()) == bytesKeyed)
        }
    }

    @Test func equalSummariesEncodeToEqualBytes() async {
        await propertyCheck(input: Self.smallStream) { stream in
            // The same counts built in opposite orders: different dictionary histories.
            var forward = HeavyHitters<[UInt8]>()
            for (key, count) in stream { forward.add(Array(String(key).utf8), count: count) }
            var backward = HeavyHitters<[UInt8]>()
            for (key, count) in stream.reversed() { backward.add(Array(String(key).utf8), count: count) }
            #expect(forward == backward)
            #expect(forward.serialized() == backward.serialized())
        }
    }

    @Test func reducedCountsStayWithinTheErrorBound() async {
        await propertyCheck(count: 8, input: Gen.uint64(), Gen.int(in: 1...4)) { seed, parts in
            let stream = Self.skewedStream(seed: seed, events: 30_000)
            var truth: [UInt32: UInt64] = [:]
            for key in stream { truth[key, default: 0] += 1 }
            #expect(truth.count > 4096)

            // Built by adding, and by merging `parts` interleaved sub-streams.
            var added = HeavyHitters<UInt32>()
            for key in stream { added.add(key) }
            var pieces = [HeavyHitters<UInt32>](repeating: HeavyHitters(), count: parts)
            for (index, key) in stream.enumerated() { pieces[index % parts].add(key) }
            var merged = HeavyHitters<UInt32>()
            for piece in pieces { merged.merge(piece) }

            for summary in [added, merged] {
                #expect(!summary.isExact)
                #expect(summary.total == UInt64(stream.count))
                #expect(summary.counters.count <= 2 * summary.capacity)
                let bound = summary.errorBound
                for (key, count) in truth {
                    let estimate = summary.counters[key] ?? 0
                    #expect(estimate <= count)
                    #expect(count <= estimate + bound, "key \(key): true \(count), estimate \(estimate), bound \(bound)")
                }
            }
        }
    }

    @Test func reductionKeepsAtMostCapacityCounters() {
        var summary = HeavyHitters<Int>(capacity: 4)
        for key in 0..<8 { summary.add(key, count: UInt64(key + 1)) }
        #expect(summary.isExact)
        #expect(summary.counters.count == 8)
        summary.add(8, count: 9)
        // Counts 1...9: the 5th largest is 5, so 6...9 survive as 1...4.
        #expect(summary.counters == [5: 1, 6: 2, 7: 3, 8: 4])
        #expect(summary.total == 45)
        #expect(!summary.isExact)
        #expect(summary.errorBound == (45 - 10) / 5)
    }

    @Test func mergeAdoptsTheSmallerCapacity() {
        var small = HeavyHitters<Int>(capacity: 2)
        small.add(1)
        var large = HeavyHitters<Int>(capacity: 100)
        for key in 0..<5 { large.add(key) }
        large.merge(small)
        #expect(large.capacity == 2)
        #expect(large.counters.count <= 4)
    }

    @Test func topUsesCountThenKeyOrder() async {
        await propertyCheck(input: Self.smallStream, Gen.int(in: 0...30)) { stream, n in
            var summary = HeavyHitters<UInt16>()
            for (key, count) in stream { summary.add(key, count: count) }
            let expected = summary.counters
                .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .prefix(n)
                .map { "\($0.key):\($0.value)" }
            #expect(summary.top(n).map { "\($0.key):\($0.count)" } == Array(expected))
            let reversedKeys = summary.top(n, by: >)
            #expect(reversedKeys.map(\.count) == summary.top(n).map(\.count))
        }
    }

    @Test func topBreaksTiesByTheGivenKeyOrder() {
        var summary = HeavyHitters<[UInt8]>()
        for ip in ["10.0.0.9", "10.0.0.10", "10.0.0.2", "192.168.0.1"] { summary.add(Array(ip.utf8), count: 3) }
        summary.add(Array("8.8.8.8".utf8), count: 5)
        let top = summary.top(3) { $0.lexicographicallyPrecedes($1) }
        #expect(top.map { String(decoding: $0.key, as: UTF8.self) } == ["8.8.8.8", "10.0.0.10", "10.0.0.2"])
        #expect(top.map(\.count) == [5, 3, 3])
    }

    @Test func mapKeysAddsCountsOfCollidingKeys() {
        var summary = HeavyHitters<Int>()
        summary.add(1, count: 2)
        summary.add(2, count: 3)
        summary.add(3, count: 4)
        let parity = summary.mapKeys { $0 % 2 }
        #expect(parity.counters == [1: 6, 0: 3])
        #expect(parity.total == 9)
        #expect(parity.isExact)
    }

    @Test func decodingRejectsInvalidContent() {
        func decode(_ build: (inout ByteWriter) -> Void) -> SketchDecodingError.Reason? {
            var writer = ByteWriter()
            build(&writer)
            var reader = ByteReader(writer.bytes)
            do {
                _ = try HeavyHitters<[UInt8]>(decoding: &reader) { (reader: inout ByteReader) throws(SketchDecodingError) in
                    try reader.readLengthPrefixed()
                }
                return nil
            } catch {
                return error.reason
            }
        }
        func entry(_ writer: inout ByteWriter, _ key: String, _ count: UInt64) {
            writer.writeLengthPrefixed(Array(key.utf8))
            writer.writeVarUInt(count)
        }
        #expect(
            decode { w in
                w.writeVarUInt(2)
                w.writeVarUInt(3)
                w.writeVarUInt(1)
                entry(&w, "a", 3)
            } == nil)
        #expect(
            decode { w in
                w.writeVarUInt(0)
                w.writeVarUInt(0)
                w.writeVarUInt(0)
            }
                == .invalidValue("heavy hitters capacity 0 outside 1...1048576"))
        #expect(
            decode { w in
                w.writeVarUInt(1 << 21)
                w.writeVarUInt(0)
                w.writeVarUInt(0)
            }
                == .invalidValue("heavy hitters capacity 2097152 outside 1...1048576"))
        #expect(
            decode { w in
                w.writeVarUInt(2)
                w.writeVarUInt(9)
                w.writeVarUInt(1)
                entry(&w, "a", 0)
            }
                == .invalidValue("heavy hitters counter is zero"))
        #expect(
            decode { w in
                w.writeVarUInt(2)
                w.writeVarUInt(9)
                w.writeVarUInt(2)
                entry(&w, "a", 1)
                entry(&w, "a", 2)
            } == .invalidValue("duplicate heavy hitters key"))
        #expect(
            decode { w in
                w.writeVarUInt(2)
                w.writeVarUInt(2)
                w.writeVarUInt(1)
                entry(&w, "a", 3)
            }
                == .invalidValue("heavy hitters counters sum to 3, above the total 2"))
        #expect(
            decode { w in
                w.writeVarUInt(1)
                w.writeVarUInt(9)
                w.writeVarUInt(3)
                entry(&w, "a", 1)
                entry(&w, "b", 1)
                entry(&w, "c", 1)
            } == .invalidValue("heavy hitters entry count 3 exceeds the limit 2"))
        #expect(
            decode { w in
                w.writeVarUInt(4)
                w.writeVarUInt(.max)
                w.writeVarUInt(2)
                entry(&w, "a", .max)
                entry(&w, "b", 1)
            } == .invalidValue("heavy hitters counters overflow"))
        // A huge entry count with little input is bounded by the input, not allocated.
        #expect(
            decode { w in
                w.writeVarUInt(1 << 20)
                w.writeVarUInt(9)
                w.writeVarUInt(1 << 21)
            }
                == .invalidValue("heavy hitters entry count 2097152 exceeds the limit 0"))
    }

    @Test func saturatesInsteadOfTrapping() {
        var summary = HeavyHitters<Int>()
        summary.add(1, count: .max)
        summary.add(1, count: .max)
        var other = summary
        other.merge(summary)
        #expect(other.counters[1] == .max)
        #expect(other.total == .max)
        #expect(HeavyHitters<Int>.defaultCapacity == 2048)
    }
}
