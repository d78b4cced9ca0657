import PropertyBased
import TallySketches
import Testing

@Suite struct ByteCodingTests {
    @Test func fixedWidthIntegersAreLittleEndian() throws {
        var writer = ByteWriter()
        writer.writeUInt8(0xAB)
        writer.writeUInt32LE(0x0102_0304)
        writer.writeUInt64LE(0x0102_0304_0506_0708)
        #expect(writer.bytes == [0xAB, 4, 3, 2, 1, 8, 7, 6, 5, 4, 3, 2, 1])
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readUInt8() == 0xAB)
        #expect(try reader.readUInt32LE() == 0x0102_0304)
        #expect(try reader.readUInt64LE() == 0x0102_0304_0506_0708)
        #expect(reader.isAtEnd)
    }

    @Test func varintEncodings() {
        func bytes(_ value: UInt64) -> [UInt8] {
            var writer = ByteWriter()
            writer.writeVarUInt(value)
            return writer.bytes
        }
        #expect(bytes(0) == [0])
        #expect(bytes(127) == [0x7F])
        #expect(bytes(128) == [0x80, 0x01])
        #expect(bytes(300) == [0xAC, 0x02])
        #expect(bytes(.max) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        var writer = ByteWriter()
        for value: Int64 in [0, -1, 1, -2, 2] { writer.writeVarInt(value) }
        #expect(writer.bytes == [0, 1, 2, 3, 4])
    }

    @Test func valuesRoundTrip() async {
        await propertyCheck(
            input: Gen.uint64().array(of: 0...20), Gen.int64().array(of: 0...20), Gen.uint8().array(of: 0...40)
        ) { unsigned, signed, blob throws in
            var writer = ByteWriter(reservingCapacity: 64)
            for value in unsigned { writer.writeVarUInt(value) }
            for value in signed { writer.writeVarInt(value) }
            writer.writeLengthPrefixed(blob)
            writer.writeBytes(blob)
            blob.withUnsafeBytes { writer.writeBytes($0) }
            var reader = ByteReader(writer.bytes)
            for value in unsigned { #expect(try reader.readVarUInt() == value) }
            for value in signed { #expect(try reader.readVarInt() == value) }
            #expect(try reader.readLengthPrefixed() == blob)
            #expect(Array(try reader.readBytes(count: blob.count)) == blob)
            #expect(Array(try reader.readBytes(count: blob.count)) == blob)
            #expect(reader.isAtEnd)
            #expect(reader.offset == writer.count)
        }
    }

    @Test func malformedVarintsThrow() {
        // 11 continuation bytes: longer than any 64-bit varint.
        var tooLong = ByteReader([UInt8](repeating: 0x80, count: 11) + [0])
        #expect(throws: SketchDecodingError(.invalidValue("varint exceeds 64 bits"), offset: 0)) {
            try tooLong.readVarUInt()
        }
        // Ten bytes whose last group carries more than bit 63.
        var overflowing = ByteReader([UInt8](repeating: 0xFF, count: 9) + [0x02])
        #expect(throwsDecodingError { try overflowing.readVarUInt() })
        // A redundant zero group is rejected so every value has one encoding.
        var nonMinimal = ByteReader([0x80, 0x00])
        #expect(throwsDecodingError { try nonMinimal.readVarUInt() })
        var truncated = ByteReader([0x80, 0x80])
        #expect(throws: SketchDecodingError(.truncated, offset: 0)) { try truncated.readVarUInt() }
        #expect(truncated.offset == 0, "a failed read must not advance")
    }

    @Test func lengthsBeyondTheInputThrowWithoutAllocating() {
        // A length of 2^63 followed by two bytes: must report truncation, not try to allocate.
        var writer = ByteWriter()
        writer.writeVarUInt(1 << 63)
        writer.writeBytes([1, 2])
        var reader = ByteReader(writer.bytes)
        #expect(throws: SketchDecodingError(.truncated, offset: 0)) { try reader.readLengthPrefixed() }
        var short = ByteReader([1, 2, 3])
        #expect(throwsDecodingError { try short.readBytes(count: 4) })
        #expect(throwsDecodingError { try short.readBytes(count: -1) })
        #expect(throwsDecodingError { try short.readUInt32LE() })
        #expect(throwsDecodingError { try short.readUInt64LE() })
        #expect(Array(try! short.readBytes(count: 3)) == [1, 2, 3])
        #expect(throwsDecodingError { try short.readUInt8() })
    }

    @Test func errorsDescribeThemselves() {
        let error = SketchDecodingError(.unsupportedVersion(9), offset: 4)
        #expect(error.description == "sketch decoding failed at byte 4: unsupported format version 9")
        #expect(SketchDecodingError(.truncated).description == "sketch decoding failed: input is truncated")
    }
}
