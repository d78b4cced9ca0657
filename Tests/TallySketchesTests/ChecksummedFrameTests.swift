import PropertyBased
import TallySketches
import Testing

@Suite struct ChecksummedFrameTests {
    private let magic = Array("TST1".utf8)

    @Test func layoutIsAsDocumented() {
        let framed = ChecksummedFrame.wrap(magic: magic, version: 3, body: [0xAA, 0xBB])
        #expect(framed.count == ChecksummedFrame.headerSize + 2 + ChecksummedFrame.trailerSize)
        #expect(Array(framed[0..<4]) == magic)
        #expect(framed[4] == 3)
        #expect(Array(framed[5..<13]) == [2, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(framed[13..<15]) == [0xAA, 0xBB])
        let crc = CRC32C.checksum(framed[0..<15])
        #expect(Array(framed[15...]) == [UInt8(crc & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8((crc >> 16) & 0xFF), UInt8(crc >> 24)])
    }

    @Test func roundTrips() async {
        await propertyCheck(input: Gen.uint8().array(of: 0...300), Gen.uint8(in: 1...5)) { body, version in
            let framed = ChecksummedFrame.wrap(magic: magic, version: version, body: body)
            let frame = try ChecksummedFrame.unwrap(framed, magic: magic, supportedVersions: 1...5)
            #expect(frame.version == version)
            #expect(frame.body == body)
        }
    }

    @Test func everyTruncationAndByteFlipThrows() {
        let framed = ChecksummedFrame.wrap(magic: magic, version: 1, body: Array(0..<40))
        for length in 0..<framed.count {
            #expect(
                throwsDecodingError {
                    try ChecksummedFrame.unwrap(Array(framed.prefix(length)), magic: magic, supportedVersions: 1...1)
                }, "truncated to \(length)")
        }
        for position in framed.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var corrupted = framed
                corrupted[position] ^= mask
                #expect(
                    throwsDecodingError {
                        try ChecksummedFrame.unwrap(corrupted, magic: magic, supportedVersions: 1...1)
                    }, "byte \(position) ^ \(mask)")
            }
        }
    }

    @Test func reportsTheSpecificFailure() {
        let framed = ChecksummedFrame.wrap(magic: magic, version: 2, body: [1, 2, 3])
        func failure(_ bytes: [UInt8], versions: ClosedRange<UInt8> = 1...2) -> SketchDecodingError.Reason? {
            do {
                _ = try ChecksummedFrame.unwrap(bytes, magic: magic, supportedVersions: versions)
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(failure(framed) == nil)
        #expect(failure(framed, versions: 1...1) == .unsupportedVersion(2))
        #expect(failure(Array("XXXX".utf8) + framed.dropFirst(4)) == .badMagic)
        #expect(failure(Array("TS".utf8)) == .truncated)
        #expect(failure(Array("TX".utf8)) == .badMagic)
        #expect(failure(Array(framed.dropLast())) == .truncated)
        var flipped = framed
        flipped[14] ^= 1
        #expect(failure(flipped) == .checksumMismatch)
        #expect(failure(framed + [0]) == .invalidValue("1 unexpected trailing bytes"))
        var hugeLength = framed
        hugeLength[12] = 0xFF
        #expect(failure(hugeLength) == .truncated)
    }

    @Test func framesConcatenate() throws {
        var writer = ByteWriter()
        ChecksummedFrame.write(into: &writer, magic: magic, version: 1, body: [1])
        ChecksummedFrame.write(into: &writer, magic: magic, version: 1, body: [2, 3])
        var reader = ByteReader(writer.bytes)
        #expect(try ChecksummedFrame.read(from: &reader, magic: magic, supportedVersions: 1...1).body == [1])
        #expect(try ChecksummedFrame.read(from: &reader, magic: magic, supportedVersions: 1...1).body == [2, 3])
        #expect(reader.isAtEnd)
    }
}
