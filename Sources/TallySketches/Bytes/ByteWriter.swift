/// An append-only little-endian encoder into a growable byte array.
///
/// All multi-byte integers are little-endian and varints are LEB128, so files written on any
/// platform read back identically everywhere.
///
/// The methods are inlinable: a partial is written a varint at a time, and an opaque call per
/// varint from the report module cost more than the writing.
public struct ByteWriter: Sendable {
    /// The bytes written; `bytes` is its public, read-only view.
    @usableFromInline var storage: [UInt8]

    /// Everything written so far.
    public var bytes: [UInt8] { storage }

    /// Creates an empty writer.
    ///
    /// - Parameter capacity: How many bytes to reserve up front, to avoid regrowth when the
    ///   final size is roughly known.
    public init(reservingCapacity capacity: Int = 0) {
        storage = []
        storage.reserveCapacity(capacity)
    }

    /// Number of bytes written so far.
    @inlinable
    public var count: Int { storage.count }

    /// Appends one byte.
    @inlinable
    public mutating func writeUInt8(_ value: UInt8) {
        storage.append(value)
    }

    /// Appends a 32-bit integer as 4 little-endian bytes.
    @inlinable
    public mutating func writeUInt32LE(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { storage.append(contentsOf: $0) }
    }

    /// Appends a 64-bit integer as 8 little-endian bytes.
    @inlinable
    public mutating func writeUInt64LE(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { storage.append(contentsOf: $0) }
    }

    /// Appends an unsigned integer as an LEB128 varint: 7 bits per byte, low group first, high bit
    /// set on every byte but the last; 1 byte below 128, at most 10 bytes.
    @inlinable
    public mutating func writeVarUInt(_ value: UInt64) {
        if value < 0x80 {
            storage.append(UInt8(truncatingIfNeeded: value))
            return
        }
        // Up to 10 bytes gathered in two words, then appended at once.
        var low: UInt64 = 0
        var high: UInt64 = 0
        var count = 0
        var remaining = value
        while true {
            let byte = UInt64(remaining & 0x7F) | (remaining >= 0x80 ? 0x80 : 0)
            if count < 8 { low |= byte << (8 * UInt64(count)) } else { high |= byte << (8 * UInt64(count - 8)) }
            count += 1
            remaining >>= 7
            if remaining == 0 { break }
        }
        withUnsafeBytes(of: (low.littleEndian, high.littleEndian)) { storage.append(contentsOf: $0.prefix(count)) }
    }

    /// Appends a signed integer as a zigzag-encoded varint, so small negative numbers stay short
    /// (0 → 0, −1 → 1, 1 → 2, −2 → 3, …).
    @inlinable
    public mutating func writeVarInt(_ value: Int64) {
        writeVarUInt(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Appends raw bytes with no length.
    @inlinable
    public mutating func writeBytes(_ source: some Collection<UInt8>) {
        storage.append(contentsOf: source)
    }

    /// Appends raw bytes with no length.
    @inlinable
    public mutating func writeBytes(_ source: UnsafeRawBufferPointer) {
        storage.append(contentsOf: source)
    }

    /// Appends the byte count as a varint followed by the bytes; read back with
    /// `ByteReader.readLengthPrefixed()`.
    @inlinable
    public mutating func writeLengthPrefixed(_ source: some Collection<UInt8>) {
        writeVarUInt(UInt64(source.count))
        storage.append(contentsOf: source)
    }
}
