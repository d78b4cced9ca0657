/// CRC-32C (Castagnoli), the checksum that guards every persisted frame.
///
/// Castagnoli's polynomial detects more error patterns than the zlib CRC-32 at the same cost and
/// is the one storage formats (iSCSI, ext4, LevelDB) standardised on. The implementation is
/// table-driven, eight bytes per step ("slicing-by-8").
public enum CRC32C {
    /// Reflected form of the polynomial 0x1EDC6F41.
    private static let polynomial: UInt32 = 0x82F6_3B78

    /// Eight 256-entry tables, concatenated: table `k` advances the CRC over a byte followed by
    /// `k` zero bytes, which lets one step consume a whole 64-bit word.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1
            }
            tables[byte] = crc
        }
        for slice in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(slice - 1) * 256 + byte]
                tables[slice * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The CRC-32C of `bytes`, optionally continuing a checksum over preceding data.
    ///
    /// - Parameters:
    ///   - bytes: The data to checksum.
    ///   - previous: The checksum of the data before `bytes`, or 0 to start fresh; so
    ///     `checksum(b, continuing: checksum(a)) == checksum(a + b)`.
    /// - Returns: The checksum; `checksum("123456789".utf8) == 0xE3069283`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var crc = ~previous
            var position = 0
            let count = bytes.count
            while count - position >= 8 {
                let word =
                    UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                    ^ UInt64(crc)
                crc =
                    table[7 * 256 + Int(word & 0xFF)]
                    ^ table[6 * 256 + Int((word >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((word >> 16) & 0xFF)]
                    ^ table[4 * 256 + Int((word >> 24) & 0xFF)]
                    ^ table[3 * 256 + Int((word >> 32) & 0xFF)]
                    ^ table[2 * 256 + Int((word >> 40) & 0xFF)]
                    ^ table[1 * 256 + Int((word >> 48) & 0xFF)]
                    ^ table[Int(word >> 56)]
                position += 8
            }
            while position < count {
                crc = (crc >> 8) ^ table[Int((crc ^ UInt32(bytes[position])) & 0xFF)]
                position += 1
            }
            return ~crc
        }
    }

    /// The CRC-32C of a collection of bytes; equal to the buffer variant on the same bytes.
    @inlinable
    public static func checksum(_ bytes: some Collection<UInt8>, continuing previous: UInt32 = 0) -> UInt32 {
        if let value = bytes.withContiguousStorageIfAvailable({
            checksum(UnsafeRawBufferPointer($0), continuing: previous)
        }) {
            return value
        }
        return Array(bytes).withUnsafeBytes { checksum($0, continuing: previous) }
    }
}
