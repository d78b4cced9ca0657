import Testing

@testable import TallyReport

/// The interner behind every per-event lookup: one id per distinct byte string, whatever the
/// table's growth and however many values share hash bits.
@Suite struct ByteInternerTests {
    @Test func everyDistinctValueGetsOneIdAndItsBytesBack() {
        let interner = ByteInterner(expectedCount: 4)  // small, so the table grows many times
        var values: [[UInt8]] = [[]]  // the empty value too
        for n in 0..<50_000 {
            values.append(Array("user\(n)@example.com".utf8))
        }
        // Same length and same prefix, differing in one byte: only the bytes tell them apart.
        for b in UInt8(0)...UInt8(255) { values.append([0x61, 0x62, b]) }
        var ids: [UInt32] = []
        for value in values {
            ids.append(value.withUnsafeBytes { interner.intern($0) })
        }
        #expect(ids == (0..<UInt32(values.count)).map { $0 })
        #expect(interner.count == values.count)
        // Interning again finds the same ids, in any order.
        for (i, value) in values.enumerated().reversed() {
            #expect(value.withUnsafeBytes { interner.intern($0) } == ids[i])
        }
        for (i, value) in values.enumerated() where i % 997 == 0 || i >= values.count - 256 {
            #expect(interner.bytes(of: ids[i]) == value)
        }
        #expect(interner.count == values.count)
    }
}
