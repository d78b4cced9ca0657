/// The self-checking envelope around every persisted blob (sketches, report partials).
///
/// Layout, all integers little-endian:
///
///     magic (4) | version (1) | body length (UInt64, 8) | body | CRC-32C of all preceding bytes (4)
///
/// The magic says what kind of file it is, the version says which body layout follows, the
/// explicit length makes truncation detectable before the checksum is even computed, and the CRC
/// covers the header too so a flipped version or length byte is caught as corruption.
public enum ChecksummedFrame {
    /// Bytes before the body: magic, version and body length.
    public static let headerSize = 13

    /// Bytes after the body: the checksum.
    public static let trailerSize = 4

    /// Encodes `body` as one frame.
    ///
    /// - Parameters:
    ///   - magic: Exactly 4 bytes identifying the kind of content (a programming constant; any
    ///     other length is a bug and traps).
    ///   - version: The body layout version.
    ///   - body: The payload.
    /// - Returns: The framed bytes.
    public static func wrap(magic: [UInt8], version: UInt8, body: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(reservingCapacity: headerSize + body.count + trailerSize)
        write(into: &writer, magic: magic, version: version, body: body)
        return writer.bytes
    }

    /// Appends one frame to `writer`, for files that hold several frames back to back.
    ///
    /// The checksum covers only this frame's bytes, so frames stay independently verifiable.
    public static func write(into writer: inout ByteWriter, magic: [UInt8], version: UInt8, body: [UInt8]) {
        precondition(magic.count == 4, "frame magic must be exactly 4 bytes")
        let start = writer.count
        writer.writeBytes(magic)
        writer.writeUInt8(version)
        writer.writeUInt64LE(UInt64(body.count))
        writer.writeBytes(body)
        let crc = writer.bytes.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start...]))
        }
        writer.writeUInt32LE(crc)
    }

    /// Decodes a buffer holding exactly one frame.
    ///
    /// - Parameters:
    ///   - bytes: The framed bytes.
    ///   - magic: The 4 magic bytes expected.
    ///   - supportedVersions: The body versions this caller can decode.
    /// - Returns: The frame's version and body.
    /// - Throws: `badMagic` for foreign content, `truncated` if the input is shorter than the
    ///   frame claims, `checksumMismatch` on corruption, `unsupportedVersion` for a version outside
    ///   `supportedVersions`, and `invalidValue` if bytes follow the frame.
    public static func unwrap(
        _ bytes: [UInt8], magic: [UInt8], supportedVersions: ClosedRange<UInt8>
    ) throws(SketchDecodingError) -> (version: UInt8, body: [UInt8]) {
        var reader = ByteReader(bytes)
        let frame = try read(from: &reader, magic: magic, supportedVersions: supportedVersions)
        try reader.expectEnd()
        return frame
    }

    /// Decodes the frame starting at `reader`'s position and advances past it.
    ///
    /// Throws the same errors as `unwrap(_:magic:supportedVersions:)`, except that bytes after
    /// the frame are left for the caller; on error the reader is not advanced.
    public static func read(
        from reader: inout ByteReader, magic: [UInt8], supportedVersions: ClosedRange<UInt8>
    ) throws(SketchDecodingError) -> (version: UInt8, body: [UInt8]) {
        precondition(magic.count == 4, "frame magic must be exactly 4 bytes")
        let input = reader.bytes
        let start = reader.offset
        let available = reader.remainingCount

        // Compare whatever prefix of the magic is present, so a short foreign file reports
        // `badMagic` and only a short prefix of the right kind of file reports `truncated`.
        let magicBytesPresent = min(4, available)
        guard input[start..<(start + magicBytesPresent)].elementsEqual(magic.prefix(magicBytesPresent)) else {
            throw SketchDecodingError(.badMagic, offset: start)
        }
        guard available >= headerSize + trailerSize else {
            throw SketchDecodingError(.truncated, offset: start)
        }
        let declaredLength = input.withUnsafeBytes {
            UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: start + 5, as: UInt64.self))
        }
        guard declaredLength <= UInt64(available - headerSize - trailerSize) else {
            throw SketchDecodingError(.truncated, offset: start)
        }
        let version = input[start + 4]
        let bodyStart = start + headerSize
        let bodyEnd = bodyStart + Int(declaredLength)
        let storedChecksum = input.withUnsafeBytes {
            UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: bodyEnd, as: UInt32.self))
        }
        let actualChecksum = input.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<bodyEnd]))
        }
        guard actualChecksum == storedChecksum else {
            throw SketchDecodingError(.checksumMismatch, offset: bodyEnd)
        }
        // Checked after the checksum so that a corrupted version byte reports corruption, not a
        // misleading "unsupported version".
        guard supportedVersions.contains(version) else {
            throw SketchDecodingError(.unsupportedVersion(version), offset: start + 4)
        }
        _ = try reader.readBytes(count: bodyEnd + trailerSize - start)
        return (version, Array(input[bodyStart..<bodyEnd]))
    }
}
