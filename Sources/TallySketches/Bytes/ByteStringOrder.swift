#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one order the report uses for byte strings (emails, IP text): unsigned bytewise, a
/// shorter prefix first, the order `memcmp` gives and `sort -b` with `LC_ALL=C` prints.
///
/// The generic `lexicographicallyPrecedes` is several times slower on `[UInt8]`, and merging
/// partials compares every email of every partial.
public enum ByteStringOrder {
    /// Negative, zero or positive as `a` sorts before, equal to or after `b`.
    @inlinable
    public static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in compare(x, y) }
        }
    }

    /// Negative, zero or positive as `a` sorts before, equal to or after `b`.
    @inlinable
    public static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        if common > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, common)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    /// Negative, zero or positive as the bytes of `a` sort before, equal to or after those of
    /// `b`, both ranges of `bytes` (two values read in place from one buffer).
    @inlinable
    public static func compare(in bytes: [UInt8], _ a: Range<Int>, _ b: Range<Int>) -> Int {
        bytes.withUnsafeBytes { buffer in
            compare(UnsafeRawBufferPointer(rebasing: buffer[a]), UnsafeRawBufferPointer(rebasing: buffer[b]))
        }
    }

    /// Whether `a` sorts strictly before `b`.
    @inlinable
    public static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        compare(a, b) < 0
    }
}
