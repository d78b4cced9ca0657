/// An append-only little-endian encoder into a growable byte array.
///
/// All multi-byte integers are little-endian and varints are LEB128, so files written on any
/// platform read back identically everywhere.
public struct ByteWriter: Sendable {
    /// Everything written so far.
    public private(set) var bytes: [UInt8]

    /// Creates an empty writer.
    ///
    /// - Parameter capacity: How many bytes to reserve up front, to avoid regrowth when the
    ///   final size is roughly known.
    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Number of bytes written so far.
    public var count: Int { bytes.count }

    /// Appends one byte.
    public mutating func writeUInt8(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends a 32-bit integer as 4 little-endian bytes.
    public mutating func writeUInt32LE(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends a 64-bit integer as 8 little-endian bytes.
    public mutating func writeUInt64LE(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends an unsigned integer as an LEB128 varint: 7 bits per byte, low group first, high bit
    /// set on every byte but the last; 1 byte below 128, at most 10 bytes.
    public mutating func writeVarUInt(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: remaining))
    }

    /// Appends a signed integer as a zigzag-encoded varint, so small negative numbers stay short
    /// (0 → 0, −1 → 1, 1 → 2, −2 → 3, …).
    public mutating func writeVarInt(_ value: Int64) {
        writeVarUInt(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Appends raw bytes with no length.
    public mutating func writeBytes(_ source: some Collection<UInt8>) {
        bytes.append(contentsOf: source)
    }

    /// Appends raw bytes with no length.
    public mutating func writeBytes(_ source: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: source)
    }

    /// Appends the byte count as a varint followed by the bytes; read back with
    /// `ByteReader.readLengthPrefixed()`.
    public mutating func writeLengthPrefixed(_ source: some Collection<UInt8>) {
        writeVarUInt(UInt64(source.count))
        bytes.append(contentsOf: source)
    }
}
