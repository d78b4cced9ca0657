/// A bounds-checked little-endian decoder over a byte array, the inverse of `ByteWriter`.
///
/// Every read validates against the remaining input and throws `SketchDecodingError` rather than
/// trapping; a failed read leaves `offset` unchanged. Lengths read from the input are checked
/// against the bytes actually present before anything is allocated, so a corrupt length cannot
/// request a huge buffer.
public struct ByteReader: Sendable {
    /// The whole input being decoded.
    public let bytes: [UInt8]

    /// Position of the next byte to read.
    public private(set) var offset: Int

    /// Creates a reader positioned at the first byte of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    /// Whether every byte has been consumed.
    public var isAtEnd: Bool { offset == bytes.count }

    /// Number of bytes not yet consumed.
    public var remainingCount: Int { bytes.count - offset }

    /// Reads one byte.
    public mutating func readUInt8() throws(SketchDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw SketchDecodingError(.truncated, offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads a 32-bit little-endian integer.
    public mutating func readUInt32LE() throws(SketchDecodingError) -> UInt32 {
        try requireRemaining(4)
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        offset += 4
        return UInt32(littleEndian: value)
    }

    /// Reads a 64-bit little-endian integer.
    public mutating func readUInt64LE() throws(SketchDecodingError) -> UInt64 {
        try requireRemaining(8)
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        offset += 8
        return UInt64(littleEndian: value)
    }

    /// Reads an LEB128 varint written by `ByteWriter.writeVarUInt(_:)`.
    ///
    /// Throws `invalidValue` for encodings longer than 10 bytes, values above `UInt64.max`, and
    /// non-minimal encodings (a redundant trailing zero group): `ByteWriter` never produces those,
    /// and rejecting them keeps every value's encoding unique, so decode-then-encode reproduces
    /// the input exactly.
    public mutating func readVarUInt() throws(SketchDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var cursor = offset
        for group in 0..<10 {
            guard cursor < bytes.count else { throw SketchDecodingError(.truncated, offset: offset) }
            let byte = bytes[cursor]
            cursor += 1
            if group == 9 && byte > 1 {
                // The tenth group holds only bit 63; anything more overflows or runs past 10 bytes.
                throw SketchDecodingError(.invalidValue("varint exceeds 64 bits"), offset: offset)
            }
            result |= UInt64(byte & 0x7F) << UInt64(7 * group)
            if byte & 0x80 == 0 {
                if byte == 0 && group > 0 {
                    throw SketchDecodingError(.invalidValue("non-minimal varint encoding"), offset: offset)
                }
                offset = cursor
                return result
            }
        }
        // Unreachable: the tenth byte either ends the varint or is rejected above.
        throw SketchDecodingError(.invalidValue("varint exceeds 64 bits"), offset: offset)
    }

    /// Reads a zigzag varint written by `ByteWriter.writeVarInt(_:)`.
    public mutating func readVarInt() throws(SketchDecodingError) -> Int64 {
        let raw = try readVarUInt()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Reads exactly `count` raw bytes, as a slice of the input (no copy).
    ///
    /// - Throws: `invalidValue` if `count` is negative, `truncated` if fewer bytes remain.
    public mutating func readBytes(count: Int) throws(SketchDecodingError) -> ArraySlice<UInt8> {
        guard count >= 0 else {
            throw SketchDecodingError(.invalidValue("negative byte count \(count)"), offset: offset)
        }
        try requireRemaining(count)
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    /// Reads a varint length and that many bytes, as written by
    /// `ByteWriter.writeLengthPrefixed(_:)`.
    ///
    /// - Throws: `truncated` if the length exceeds the remaining input (checked before copying).
    public mutating func readLengthPrefixed() throws(SketchDecodingError) -> [UInt8] {
        Array(bytes[try skipLengthPrefixed()])
    }

    /// Skips what `readLengthPrefixed()` reads, copying nothing: the range of `bytes` it held.
    public mutating func skipLengthPrefixed() throws(SketchDecodingError) -> Range<Int> {
        let start = offset
        let length = try readVarUInt()
        guard length <= UInt64(remainingCount) else {
            offset = start
            throw SketchDecodingError(.truncated, offset: start)
        }
        let content = offset..<(offset + Int(length))
        offset = content.upperBound
        return content
    }

    /// Reads a varint that counts items and checks it against `limit`.
    ///
    /// - Parameters:
    ///   - limit: The largest count that is meaningful here.
    ///   - what: Names the count in the error message.
    public mutating func readCount(limit: Int, _ what: String) throws(SketchDecodingError) -> Int {
        let start = offset
        let value = try readVarUInt()
        guard value <= UInt64(max(limit, 0)) else {
            offset = start
            throw SketchDecodingError(.invalidValue("\(what) \(value) exceeds the limit \(limit)"), offset: start)
        }
        return Int(value)
    }

    /// Throws unless every byte has been consumed, so trailing garbage is not silently ignored.
    public func expectEnd() throws(SketchDecodingError) {
        guard isAtEnd else {
            throw SketchDecodingError(.invalidValue("\(remainingCount) unexpected trailing bytes"), offset: offset)
        }
    }

    /// Throws `truncated` unless at least `count` bytes remain.
    public func requireRemaining(_ count: Int) throws(SketchDecodingError) {
        guard count <= remainingCount else { throw SketchDecodingError(.truncated, offset: offset) }
    }
}
