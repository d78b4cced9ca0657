/// Binary form of the register array: 6-bit packed when most registers are set, a sparse
/// (gap, value) list when few are.
///
/// Right after conversion only about 4100 of the 16384 registers are non-zero, and the sparse
/// form takes about 8 KB instead of 12 KB; the encoder picks whichever is smaller, which is a pure
/// function of the registers, so equal sketches still encode to equal bytes.
extension HyperLogLogRegisters {
    /// Form tag of the 6-bit packed layout.
    static let denseForm: UInt8 = 1
    /// Form tag of the sparse layout.
    static let sparseForm: UInt8 = 2

    /// Fewest non-zero registers a sparse form may list. A counter turns approximate past
    /// `DistinctCounter.exactLimit` (4096) distinct values, which sets about 3,600 registers, and
    /// merging only sets more; so fewer can only be forged, and refusing them keeps decoding in
    /// proportion to the bytes received (at least 2 bytes an entry for 16 KiB of registers).
    static let minimumSparseEntries = 1024

    /// Packed size: 4 registers of 6 bits in each 3 bytes.
    private static let denseByteCount = registerCount / 4 * 3

    /// Writes the form tag, then the registers in that form.
    func encode(into writer: inout ByteWriter) {
        values.withUnsafeBufferPointer { registers in
            var sparseByteCount = 0
            var nonZeroCount = 0
            var previous = -1
            for index in 0..<registers.count where registers[index] != 0 {
                sparseByteCount += Self.varUIntSize(UInt64(index - previous - 1)) + 1
                nonZeroCount += 1
                previous = index
            }
            sparseByteCount += Self.varUIntSize(UInt64(nonZeroCount))

            if sparseByteCount < Self.denseByteCount {
                writer.writeUInt8(Self.sparseForm)
                writer.writeVarUInt(UInt64(nonZeroCount))
                previous = -1
                for index in 0..<registers.count where registers[index] != 0 {
                    writer.writeVarUInt(UInt64(index - previous - 1))
                    writer.writeUInt8(registers[index])
                    previous = index
                }
            } else {
                writer.writeUInt8(Self.denseForm)
                for group in stride(from: 0, to: registers.count, by: 4) {
                    let packed =
                        UInt32(registers[group])
                        | UInt32(registers[group + 1]) << 6
                        | UInt32(registers[group + 2]) << 12
                        | UInt32(registers[group + 3]) << 18
                    writer.writeUInt8(UInt8(truncatingIfNeeded: packed))
                    writer.writeUInt8(UInt8(truncatingIfNeeded: packed >> 8))
                    writer.writeUInt8(UInt8(truncatingIfNeeded: packed >> 16))
                }
            }
        }
    }

    /// Reads registers written by `encode(into:)`, checking every value against `maximumRank`.
    init(decoding reader: inout ByteReader) throws(SketchDecodingError) {
        let formOffset = reader.offset
        let form = try reader.readUInt8()
        var decoded: [UInt8]
        switch form {
        case Self.denseForm:
            let packed = try reader.readBytes(count: Self.denseByteCount)
            decoded = [UInt8](repeating: 0, count: Self.registerCount)
            var position = packed.startIndex
            for group in stride(from: 0, to: Self.registerCount, by: 4) {
                let word =
                    UInt32(packed[position])
                    | UInt32(packed[position + 1]) << 8
                    | UInt32(packed[position + 2]) << 16
                position += 3
                for lane in 0..<4 {
                    let value = UInt8(truncatingIfNeeded: (word >> UInt32(6 * lane)) & 0x3F)
                    guard value <= Self.maximumRank else {
                        throw SketchDecodingError(
                            .invalidValue("register \(group + lane) holds \(value), above the maximum \(Self.maximumRank)"),
                            offset: packed.startIndex + (group / 4) * 3)
                    }
                    decoded[group + lane] = value
                }
            }
        case Self.sparseForm:
            let nonZeroCount = try reader.readCount(limit: Self.registerCount, "non-zero register count")
            guard nonZeroCount >= Self.minimumSparseEntries else {
                throw SketchDecodingError(
                    .invalidValue(
                        "sparse form lists \(nonZeroCount) registers; an approximate counter has at least \(Self.minimumSparseEntries)"),
                    offset: formOffset)
            }
            // Refused before the registers are allocated: each entry takes at least 2 bytes.
            try reader.requireRemaining(nonZeroCount * 2)
            decoded = [UInt8](repeating: 0, count: Self.registerCount)
            var previous = -1
            for _ in 0..<nonZeroCount {
                let entryOffset = reader.offset
                let gap = try reader.readVarUInt()
                guard gap < UInt64(Self.registerCount - previous - 1) else {
                    throw SketchDecodingError(.invalidValue("sparse register index out of range"), offset: entryOffset)
                }
                let index = previous + 1 + Int(gap)
                let value = try reader.readUInt8()
                guard value != 0, value <= Self.maximumRank else {
                    throw SketchDecodingError(
                        .invalidValue("sparse register \(index) holds \(value), outside 1...\(Self.maximumRank)"),
                        offset: entryOffset)
                }
                decoded[index] = value
                previous = index
            }
        default:
            throw SketchDecodingError(.invalidValue("unknown register form \(form)"), offset: formOffset)
        }
        self.init(validatedValues: decoded)
    }

    private static func varUIntSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }
}
