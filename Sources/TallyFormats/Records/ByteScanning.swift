/// Small byte-level helpers shared by the parsers (and `memcmpEqual` by the report's interner);
/// none of them allocates.
public enum ByteScanning {
    /// Whether `bytes` equals the ASCII literal.
    @inlinable
    static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard bytes.count == n else { return false }
        if n == 0 { return true }
        return memcmpEqual(bytes.baseAddress!, UnsafeRawPointer(literal.utf8Start), n)
    }

    /// Whether the `n` bytes at `a` and at `b` are equal: inline word compares, which beat a call
    /// to `memcmp` on the short values of logs (emails, IPs, device ids).
    @inlinable
    public static func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        var i = 0
        while i + 8 <= n {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i += 8
        }
        if n >= 8, i < n {
            // The last word again, overlapping the one before: no byte loop.
            return a.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        while i < n {
            if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }

    /// Eight bytes loaded as one little-endian word (first byte lowest), for the SWAR scans.
    @inlinable
    static func word(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The high bit of each byte of `word` below `limit` (at most 128): the has-less-than trick.
    /// A borrow can mark bytes above the first such byte too, but the lowest mark is always
    /// exact, so `trailingZeroBitCount >> 3` is the offset of the first one.
    @inlinable
    static func bytes(below limit: UInt8, in word: UInt64) -> UInt64 {
        (word &- 0x0101_0101_0101_0101 &* UInt64(limit)) & ~word & 0x8080_8080_8080_8080
    }

    /// The high bit of each byte of `word` equal to `byte`; the lowest mark is exact, as above.
    @inlinable
    static func bytes(equalTo byte: UInt8, in word: UInt64) -> UInt64 {
        bytes(below: 1, in: word ^ (0x0101_0101_0101_0101 &* UInt64(byte)))
    }

    /// The offset of the first `byte` in `p[from..<to]`, or `to`: eight bytes per step, for
    /// the short cells and keys of log lines, where a `memchr` call costs more than the scan.
    @inlinable
    static func firstIndex(of byte: UInt8, in p: UnsafeRawPointer, from: Int, to: Int) -> Int {
        var i = from
        while i + 8 <= to {
            let marks = bytes(equalTo: byte, in: word(p, i))
            if marks != 0 { return i + marks.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < to {
            if p.load(fromByteOffset: i, as: UInt8.self) == byte { return i }
            i += 1
        }
        return to
    }

    /// Parses a non-negative decimal integer that fits in 64 bits; `nil` for anything else
    /// (empty, sign, fraction, exponent, overflow).
    @inlinable
    static func parseUInt64(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(digit))
            guard !o1, !o2 else { return nil }
            value = s
        }
        return value
    }

    /// `count` ASCII digits at `offset`, or -1 when any is not a digit.
    @inlinable
    static func digits(_ p: UnsafeRawPointer, _ offset: Int, _ count: Int) -> Int64 {
        var value: Int64 = 0
        for i in offset..<(offset + count) {
            let digit = Int64(p.load(fromByteOffset: i, as: UInt8.self)) - 48
            guard digit >= 0, digit < 10 else { return -1 }
            value = value * 10 + digit
        }
        return value
    }

    /// Removes surrounding ASCII spaces and tabs.
    @inlinable
    static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var lo = 0
        var hi = bytes.count
        while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
        while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[lo..<hi])
    }
}
