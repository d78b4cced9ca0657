/// Binary form of `DistinctCounter`, embedded in larger structures or standalone in a frame.
///
/// Body layout: a mode byte, then
/// - mode 0 (exact): varint count (≤ `exactLimit`), then the hashes as UInt64 LE in strictly
///   ascending order, so equal sets encode to equal bytes;
/// - mode 1 (approximate): precision byte (14), then the registers (see `HyperLogLogRegisters`).
extension DistinctCounter {
    private static let exactMode: UInt8 = 0
    private static let approximateMode: UInt8 = 1

    /// Magic of a standalone serialized counter ("TDC1": tally distinct counter).
    public static let frameMagic: [UInt8] = Array("TDC1".utf8)

    /// Body layout version written by `serialized()`.
    public static let frameVersion: UInt8 = 1

    /// Appends the counter's canonical encoding: equal counters produce equal bytes.
    public func encode(into writer: inout ByteWriter) {
        if let registers {
            writer.writeUInt8(Self.approximateMode)
            writer.writeUInt8(UInt8(Self.precision))
            registers.encode(into: &writer)
        } else {
            var hashes = exactHashes.sorted()
            Self.encodeExact(hashes: &hashes, into: &writer)
        }
    }

    /// Appends the encoding of an exact counter of `hashes`, without building the counter: the
    /// bytes `encode(into:)` writes for that set.
    ///
    /// - Parameter hashes: In any order, repeats allowed (two values with one 64-bit hash count
    ///   once, as in a counter); left sorted and without repeats. At most `exactLimit` distinct
    ///   values: a caller with more must build a counter, which turns approximate.
    public static func encodeExact(hashes: inout [UInt64], into writer: inout ByteWriter) {
        hashes.sort()
        var kept = 0
        for i in hashes.indices where kept == 0 || hashes[i] != hashes[kept - 1] {
            hashes[kept] = hashes[i]
            kept += 1
        }
        hashes.removeLast(hashes.count - kept)
        precondition(hashes.count <= exactLimit, "an exact counter holds at most exactLimit hashes")
        writer.writeUInt8(exactMode)
        writer.writeVarUInt(UInt64(hashes.count))
        for hash in hashes { writer.writeUInt64LE(hash) }
    }

    /// Reads a counter written by `encode(into:)`, validating everything.
    ///
    /// - Throws: `invalidValue` for an unknown mode, a precision other than 14, an exact count
    ///   above `exactLimit`, exact hashes not strictly ascending (duplicates included), or a
    ///   register above the maximum rank; `truncated` if the input ends early.
    public init(decoding reader: inout ByteReader) throws(SketchDecodingError) {
        var hashes = UInt64HashSet()
        let registers = try Self.read(&reader, exactCount: { hashes = UInt64HashSet(minimumCapacity: $0) }, hash: { hashes.insert($0) })
        self.init(exactHashes: hashes, registers: registers)
    }

    /// What a counter written by `encode(into:)` counts, checked as `init(decoding:)` checks it
    /// but without building it (no set of hashes): for a reader that only validates.
    ///
    /// - Returns: The count, whether it is exact, and the heap bytes the decoded counter would
    ///   hold (`storageBytes`).
    public static func check(decoding reader: inout ByteReader) throws(SketchDecodingError) -> (
        count: UInt64, isExact: Bool, storageBytes: Int
    ) {
        var count = 0
        if let registers = try read(&reader, exactCount: { count = $0 }, hash: { _ in }) {
            let counter = DistinctCounter(exactHashes: UInt64HashSet(), registers: registers)
            return (counter.count, false, counter.storageBytes)
        }
        return (UInt64(count), true, count == 0 ? 0 : UInt64HashSet.tableSize(for: count) * MemoryLayout<UInt64>.stride)
    }

    /// Folds in a counter written by `encode(into:)`, checked as `init(decoding:)` checks it:
    /// what `merge(DistinctCounter(decoding:))` does, without building the other counter (an
    /// exact one's hashes go straight in). On a throw, `self` may hold part of the other's hashes.
    public mutating func merge(decoding reader: inout ByteReader) throws(SketchDecodingError) {
        if let registers = try Self.read(&reader, exactCount: { _ in }, hash: { insert(hash: $0) }) {
            merge(DistinctCounter(exactHashes: UInt64HashSet(), registers: registers))
        }
    }

    /// Reads and checks an encoded counter: an exact one's count, then each hash, go to the
    /// closures; an approximate one's registers are returned.
    private static func read(
        _ reader: inout ByteReader, exactCount: (Int) -> Void, hash onHash: (UInt64) -> Void
    ) throws(SketchDecodingError) -> HyperLogLogRegisters? {
        let modeOffset = reader.offset
        switch try reader.readUInt8() {
        case Self.exactMode:
            let count = try reader.readCount(limit: Self.exactLimit, "exact hash count")
            try reader.requireRemaining(count * 8)
            exactCount(count)
            var previous: UInt64 = 0
            for index in 0..<count {
                let hashOffset = reader.offset
                let hash = try reader.readUInt64LE()
                guard index == 0 || hash > previous else {
                    throw SketchDecodingError(
                        .invalidValue(hash == previous ? "duplicate exact hash" : "exact hashes not in ascending order"),
                        offset: hashOffset)
                }
                onHash(hash)
                previous = hash
            }
            return nil
        case Self.approximateMode:
            let precisionOffset = reader.offset
            let precision = try reader.readUInt8()
            guard Int(precision) == Self.precision else {
                throw SketchDecodingError(
                    .invalidValue("HyperLogLog precision \(precision), expected \(Self.precision)"),
                    offset: precisionOffset)
            }
            return try HyperLogLogRegisters(decoding: &reader)
        case let mode:
            throw SketchDecodingError(.invalidValue("unknown distinct counter mode \(mode)"), offset: modeOffset)
        }
    }

    /// The counter as a standalone checksummed frame (magic "TDC1", version 1).
    public func serialized() -> [UInt8] {
        var body = ByteWriter(reservingCapacity: isExact ? 3 + exactHashes.count * 8 : 12_300)
        encode(into: &body)
        return ChecksummedFrame.wrap(magic: Self.frameMagic, version: Self.frameVersion, body: body.bytes)
    }

    /// Decodes bytes produced by `serialized()`.
    ///
    /// - Throws: Frame errors (`badMagic`, `truncated`, `checksumMismatch`, `unsupportedVersion`)
    ///   or any error of `init(decoding:)`, including trailing bytes after the counter.
    public init(serialized bytes: [UInt8]) throws(SketchDecodingError) {
        let frame = try ChecksummedFrame.unwrap(
            bytes, magic: Self.frameMagic, supportedVersions: Self.frameVersion...Self.frameVersion)
        var reader = ByteReader(frame.body)
        try self.init(decoding: &reader)
        try reader.expectEnd()
    }
}
