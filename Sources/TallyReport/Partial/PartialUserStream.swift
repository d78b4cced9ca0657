import TallySketches

/// Where a partial's bytes are read from, by whoever owns them (the engine does no I/O): a
/// partial file read at offsets, or bytes in memory.
public protocol PartialBytes {
    /// The partial's size in bytes.
    var count: Int { get }
    /// `count` bytes from `offset`; fewer only past the end.
    func read(offset: Int, count: Int) throws -> [UInt8]
}

/// A partial's rows read a block at a time (the rows between two index entries), so a merge over thousands of partials holds one block of each
/// (`StreamingMerge`) and the user being merged. A user is decoded as `Partial(encoded:)` decodes
/// it, or folded from its bytes into the same user of earlier partials (`EncodedUsers`); the
/// frame's checksum is verified first, in one pass over the bytes, so a file damaged since it
/// was accepted is refused rather than merged.
public struct PartialUserStream<Source: PartialBytes>: UserStream {
    /// The partial's statistics.
    public let statistics: ReadStatistics
    /// What the partial's rows are keyed by.
    public let rowKey: RowKey
    /// The keys of the partial's index (every 256th row): samples for choosing ranges. A pair's
    /// key is cut to the first key of its user (`RowKey.pair(user, [])`), so no range bound falls
    /// between a user's rows: a resource-access range then holds all of a user's rows, or none,
    /// and knows whether a directory user reached nothing.
    public let indexKeys: [[UInt8]]
    /// The users this stream gives: all of them, or one range.
    public let range: UserKeyRange
    /// The source's bytes that hold the users of `range`: whole blocks, from the one with its
    /// first user to the one with its last (`PartialSlice` reads them).
    public let rangeSpan: Range<Int>?
    private let source: Source
    /// Body offsets where blocks start, then where the users end.
    private let bounds: [Int]
    private var block = 0
    /// The current block's users.
    private var users: EncodedUsers

    /// Reads the partial's header, statistics and index; the stream gives the users of `range`,
    /// from the block that holds its first one. With `verify`, the frame's checksum is checked
    /// first (a merge of several ranges checks it once, in the stream that reads the statistics).
    public init(_ source: Source, range: UserKeyRange = .all, verify: Bool = true) throws {
        self.source = source
        self.range = range
        users = EncodedUsers([], range: range)
        let header = try source.read(offset: 0, count: ChecksummedFrame.headerSize)
        var h = ByteReader(header)
        guard header.count == ChecksummedFrame.headerSize, Array(try h.readBytes(count: 4)) == Partial.magic else {
            throw SketchDecodingError(.badMagic)
        }
        let version = try h.readUInt8()
        guard Partial.supportedVersions.contains(version) else { throw SketchDecodingError(.unsupportedVersion(version)) }
        let length = try h.readUInt64LE()
        guard length <= UInt64(source.count - ChecksummedFrame.headerSize - ChecksummedFrame.trailerSize) else {
            throw SketchDecodingError(.truncated, offset: source.count)
        }
        let bodyStart = ChecksummedFrame.headerSize
        let bodyCount = Int(length)
        if verify { try Self.verifyChecksum(source, frameCount: bodyStart + bodyCount) }
        // The statistics and user count: a prefix grown until it holds them.
        var prefixCount = min(bodyCount, 1 << 16)
        var head: (statistics: ReadStatistics, rowKey: RowKey, userCount: Int, usersStart: Int)
        while true {
            do {
                head = try Partial.head(of: try source.read(offset: bodyStart, count: prefixCount), version: version)
                break
            } catch is SketchDecodingError where prefixCount < bodyCount {
                prefixCount = min(bodyCount, prefixCount * 4)
            }
        }
        statistics = head.statistics
        rowKey = head.rowKey
        let tail = try source.read(offset: bodyStart + bodyCount - 8, count: 8)
        var t = ByteReader(tail)
        let indexOffset = Int(clamping: try t.readUInt64LE())
        guard indexOffset >= head.usersStart, indexOffset <= bodyCount - 8 else {
            throw SketchDecodingError(.invalidValue("index offset \(indexOffset)"))
        }
        var indexReader = ByteReader(try source.read(offset: bodyStart + indexOffset, count: bodyCount - 8 - indexOffset))
        let index = try PartialIndex.decode(
            &indexReader, users: head.usersStart..<max(head.usersStart + 1, indexOffset), userCount: head.userCount)
        let pairs = head.rowKey == .userAndResource
        indexKeys = index.entries.map { pairs ? RowKey.pair(RowKey.split($0.email).first, []) : $0.email }
        let start = index.start(of: range, usersStart: head.usersStart)
        var bounds = [start] + index.entries.map(\.offset).filter { $0 > start }
        bounds.append(indexOffset)
        self.bounds = bounds.map { $0 + bodyStart }
        // A block whose first user is past the range holds none of it.
        let end =
            range.upper.flatMap { upper in
                index.entries.first { $0.offset > start && ByteStringOrder.compare($0.email, upper) >= 0 }?.offset
            } ?? indexOffset
        rangeSpan = (bodyStart + start)..<(bodyStart + end)
    }

    /// Reads the frame in chunks and compares its CRC-32C with the one that closes it.
    private static func verifyChecksum(_ source: Source, frameCount: Int) throws {
        let chunk = 1 << 20
        var crc: UInt32 = 0
        var offset = 0
        while offset < frameCount {
            let bytes = try source.read(offset: offset, count: min(chunk, frameCount - offset))
            guard !bytes.isEmpty else { throw SketchDecodingError(.truncated, offset: offset) }
            crc = CRC32C.checksum(bytes, continuing: crc)
            offset += bytes.count
        }
        var trailer = ByteReader(try source.read(offset: frameCount, count: ChecksummedFrame.trailerSize))
        guard try trailer.readUInt32LE() == crc else { throw SketchDecodingError(.checksumMismatch) }
    }

    public mutating func nextEmail() throws -> [UInt8]? {
        while true {
            if let email = try users.nextEmail() { return email }
            guard !users.isPastRange, block + 1 < bounds.count else { return nil }
            let start = bounds[block], end = bounds[block + 1]
            block += 1
            users = EncodedUsers(try source.read(offset: start, count: end - start), range: range)
        }
    }

    public mutating func takeUser(email: [UInt8]) throws -> RowAggregate {
        return try users.take(email: email)
    }

    public mutating func mergeUser(into user: inout RowAggregate) throws {
        try users.merge(into: &user)
    }
}

/// Bytes in memory as a partial source.
public struct PartialInMemory: PartialBytes {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var count: Int { bytes.count }

    public func read(offset: Int, count: Int) -> [UInt8] {
        let start = min(max(0, offset), bytes.count)
        return Array(bytes[start..<min(bytes.count, start + max(0, count))])
    }
}
