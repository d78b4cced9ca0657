import CZlib

/// One gzip member made of raw DEFLATE segments compressed apart (each ended by a sync flush,
/// as `GzipDeflater(wrapper: .raw)` ends one), the way pigz joins its blocks: the header, the
/// segments in order, an empty final block, then the CRC-32 and length of the whole, combined
/// from the segments' own. A merge's ranges are compressed on the workers and joined here
/// without compressing again (docs/design.md §3.9).
public enum GzipJoin {
    /// The member's header: no name, no time, OS unknown.
    public static let header: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF]
    /// An empty static block with BFINAL set: ends the DEFLATE stream after the last segment.
    public static let finalBlock: [UInt8] = [0x03, 0x00]

    /// The member's trailer for uncompressed bytes of CRC-32 `crc` and length `length`.
    public static func trailer(crc: UInt32, length: Int64) -> [UInt8] {
        let size = UInt32(truncatingIfNeeded: length)
        return (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) } + (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) }
    }

    /// The CRC-32 (gzip's) of `bytes`, continuing `previous`.
    public static func crc32(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return previous }
        var crc = UInt(previous)
        var offset = 0
        while offset < bytes.count {
            let count = min(bytes.count - offset, Int(UInt32.max))
            crc = CZlib.crc32(crc, base.assumingMemoryBound(to: UInt8.self) + offset, UInt32(count))
            offset += count
        }
        return UInt32(truncatingIfNeeded: crc)
    }

    /// The CRC-32 of two byte runs one after the other, from each one's CRC-32 and the second's length.
    public static func combine(_ first: UInt32, _ second: UInt32, secondLength: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(UInt(first), UInt(second), Int(secondLength)))
    }
}
