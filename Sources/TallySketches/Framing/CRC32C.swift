import CIsal

/// CRC-32C (Castagnoli), the checksum that guards every persisted frame and every slice a merge
/// task reads.
///
/// Castagnoli's polynomial detects more error patterns than the zlib CRC-32 at the same cost and
/// is the one storage formats (iSCSI, ext4, LevelDB) standardised on. It is computed by Intel
/// ISA-L's `crc32_iscsi`, which uses the processor's CRC32 instruction and carry-less multiply:
/// a table-driven loop here cost a tenth of the coordinator's CPU on a job of 250,000 users
/// (docs/performance.md).
public enum CRC32C {
    /// The CRC-32C of `bytes`, optionally continuing a checksum over preceding data.
    ///
    /// - Parameters:
    ///   - bytes: The data to checksum.
    ///   - previous: The checksum of the data before `bytes`, or 0 to start fresh; so
    ///     `checksum(b, continuing: checksum(a)) == checksum(a + b)`.
    /// - Returns: The checksum; `checksum("123456789".utf8) == 0xE3069283`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        // ISA-L takes and gives the register without the inversions the standard CRC applies.
        var crc = ~previous
        var offset = 0
        while offset < bytes.count, let base = bytes.baseAddress {
            let count = min(bytes.count - offset, 1 << 30)
            crc = crc32_iscsi(UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: UInt8.self)), Int32(count), crc)
            offset += count
        }
        return ~crc
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
