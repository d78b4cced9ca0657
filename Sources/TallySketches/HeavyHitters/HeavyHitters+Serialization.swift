/// Binary form of `HeavyHitters`, embedded in larger structures or standalone in a frame.
///
/// Layout: varint capacity | varint total | varint entry count | entries, each the key as the
/// caller's key encoder writes it followed by a varint count. Entries are sorted by their encoded
/// key bytes, so equal summaries encode to equal bytes whatever their dictionary order.
extension HeavyHitters {
    /// Appends the summary's canonical encoding.
    ///
    /// - Parameters:
    ///   - writer: The destination.
    ///   - encodeKey: Writes one key; its output must be self-delimiting (e.g. length-prefixed)
    ///     and distinct for distinct keys, so the decoder can read it back.
    public func encode(into writer: inout ByteWriter, key encodeKey: (Key, inout ByteWriter) -> Void) {
        var keyBytes = ByteWriter(reservingCapacity: counters.count * 8)
        var entries: [(start: Int, end: Int, count: UInt64)] = []
        entries.reserveCapacity(counters.count)
        for (key, count) in counters {
            let start = keyBytes.count
            encodeKey(key, &keyBytes)
            entries.append((start, keyBytes.count, count))
        }
        let encodedKeys = keyBytes.bytes
        encodedKeys.withUnsafeBufferPointer { keys in
            entries.sort { a, b in
                let left = keys[a.start..<a.end]
                let right = keys[b.start..<b.end]
                if left.elementsEqual(right) { return a.count < b.count }
                return left.lexicographicallyPrecedes(right)
            }
        }
        Self.encodeHeader(capacity: capacity, total: total, entryCount: entries.count, into: &writer)
        for entry in entries {
            writer.writeBytes(encodedKeys[entry.start..<entry.end])
            writer.writeVarUInt(entry.count)
        }
    }

    /// Appends what precedes the entries in `encode(into:key:)`, for a caller that writes a
    /// summary's entries itself: each as its encoded key then a varint count, sorted by the
    /// encoded key bytes, as `encode` orders them.
    public static func encodeHeader(capacity: Int, total: UInt64, entryCount: Int, into writer: inout ByteWriter) {
        writer.writeVarUInt(UInt64(capacity))
        writer.writeVarUInt(total)
        writer.writeVarUInt(UInt64(entryCount))
    }

    /// Reads a summary written by `encode(into:key:)`, validating everything.
    ///
    /// - Parameters:
    ///   - reader: The source, advanced past the summary.
    ///   - decodeKey: Reads one key as `encode`'s key encoder wrote it.
    /// - Throws: `invalidValue` for a capacity outside `1...maximumCapacity`, more than
    ///   2 × capacity entries, a zero count, a duplicate key, or counts summing above `total`;
    ///   `truncated` if the input ends early; and whatever `decodeKey` throws.
    @inlinable
    public init(
        decoding reader: inout ByteReader,
        key decodeKey: (inout ByteReader) throws(SketchDecodingError) -> Key
    ) throws(SketchDecodingError) {
        let header = try Self.readHeader(&reader)
        var counters = [Key: UInt64](minimumCapacity: header.entryCount)
        var retained: UInt64 = 0
        for _ in 0..<header.entryCount {
            let entryOffset = reader.offset
            let key = try decodeKey(&reader)
            let count = try Self.readCount(&reader, adding: &retained)
            guard counters.updateValue(count, forKey: key) == nil else {
                throw SketchDecodingError(.invalidValue("duplicate heavy hitters key"), offset: entryOffset)
            }
        }
        try Self.checkRetained(retained, header)
        self.init(capacity: header.capacity, counters: counters, total: header.total, retained: retained)
    }

    /// What precedes the entries, checked: the capacity, the total and the entry count.
    @usableFromInline
    struct Header {
        @usableFromInline var capacity: Int
        @usableFromInline var total: UInt64
        @usableFromInline var totalOffset: Int
        @usableFromInline var entryCount: Int

        @inlinable init(capacity: Int, total: UInt64, totalOffset: Int, entryCount: Int) {
            self.capacity = capacity
            self.total = total
            self.totalOffset = totalOffset
            self.entryCount = entryCount
        }
    }

    @inlinable
    static func readHeader(_ reader: inout ByteReader) throws(SketchDecodingError) -> Header {
        let capacityOffset = reader.offset
        let capacity = try reader.readVarUInt()
        guard capacity >= 1 && capacity <= UInt64(Self.maximumCapacity) else {
            throw SketchDecodingError(
                .invalidValue("heavy hitters capacity \(capacity) outside 1...\(Self.maximumCapacity)"),
                offset: capacityOffset)
        }
        let totalOffset = reader.offset
        let total = try reader.readVarUInt()
        let entryCountOffset = reader.offset
        let rawEntryCount = try reader.readVarUInt()
        // A summary never holds more than 2 × capacity counters, and every entry takes at least
        // one byte (its count), which bounds the reservation below by the input actually present.
        let entryLimit = min(2 * Int(capacity), reader.remainingCount)
        guard rawEntryCount <= UInt64(entryLimit) else {
            throw SketchDecodingError(
                .invalidValue("heavy hitters entry count \(rawEntryCount) exceeds the limit \(entryLimit)"),
                offset: entryCountOffset)
        }
        return Header(capacity: Int(capacity), total: total, totalOffset: totalOffset, entryCount: Int(rawEntryCount))
    }

    /// An entry's count, above 0, added to the counters' running sum.
    @inlinable
    static func readCount(_ reader: inout ByteReader, adding retained: inout UInt64) throws(SketchDecodingError) -> UInt64 {
        let countOffset = reader.offset
        let count = try reader.readVarUInt()
        guard count > 0 else {
            throw SketchDecodingError(.invalidValue("heavy hitters counter is zero"), offset: countOffset)
        }
        let (sum, overflow) = retained.addingReportingOverflow(count)
        guard !overflow else {
            throw SketchDecodingError(.invalidValue("heavy hitters counters overflow"), offset: countOffset)
        }
        retained = sum
        return count
    }

    @inlinable
    static func checkRetained(_ retained: UInt64, _ header: Header) throws(SketchDecodingError) {
        guard retained <= header.total else {
            throw SketchDecodingError(
                .invalidValue("heavy hitters counters sum to \(retained), above the total \(header.total)"),
                offset: header.totalOffset)
        }
    }
}

extension HeavyHitters where Key == [UInt8] {
    /// Magic of a standalone serialized byte-keyed summary ("THH1": tally heavy hitters).
    public static var frameMagic: [UInt8] { Array("THH1".utf8) }

    /// Body layout version written by `serialized()`.
    public static var frameVersion: UInt8 { 1 }

    /// The summary as a standalone checksummed frame, keys length-prefixed.
    public func serialized() -> [UInt8] {
        var body = ByteWriter(reservingCapacity: 16 + counters.count * 24)
        encode(into: &body) { key, writer in writer.writeLengthPrefixed(key) }
        return ChecksummedFrame.wrap(magic: Self.frameMagic, version: Self.frameVersion, body: body.bytes)
    }

    /// What a summary written by `encode(into:key:)` with length-prefixed keys counts, checked
    /// as `init(decoding:key:)` checks it but without building it (no key copied, no
    /// dictionary): for a reader that only validates. The entries must be in the order `encode`
    /// writes them, strictly ascending by encoded key, which also rules out a key twice.
    ///
    /// - Returns: The total, the number of entries, and roughly the heap bytes the decoded
    ///   summary would hold (`storageBytes`).
    public static func check(decoding reader: inout ByteReader) throws(SketchDecodingError) -> (
        total: UInt64, entryCount: Int, storageBytes: Int
    ) {
        let header = try readHeader(&reader)
        _ = try readOrderedEntries(&reader, header) { _, _ in }
        // What `[Key: UInt64](minimumCapacity:)` allocates: a power-of-two table at most 3/4 full.
        var buckets = 1
        while buckets * 3 < header.entryCount * 4 { buckets <<= 1 }
        let capacity = header.entryCount == 0 ? 0 : buckets * 3 / 4
        return (header.total, header.entryCount, capacity * (MemoryLayout<Key>.stride + MemoryLayout<UInt64>.stride) * 2)
    }

    /// Folds in a summary written by `encode(into:key:)` with length-prefixed keys, checked as
    /// `check(decoding:)` checks it: what `merge(HeavyHitters(decoding:key:))` does, without
    /// building the other summary (its entries go straight into this one's counters). On a
    /// throw, `self` may hold part of the other's counts.
    public mutating func merge(decoding reader: inout ByteReader) throws(SketchDecodingError) {
        let header = try Self.readHeader(&reader)
        let otherRetained = try Self.readOrderedEntries(&reader, header) { key, count in
            storedCounters[Array(key), default: 0].addSaturating(count)
        }
        absorb(capacity: header.capacity, retained: otherRetained, total: header.total)
    }

    /// Reads and checks the entries after `header`, handing each key's bytes (in the reader's, not
    /// copied) and its count to `entry`; their counts' sum. The entries must be strictly ascending
    /// by encoded key, as `encode` writes them, which also rules out a key twice.
    private static func readOrderedEntries(
        _ reader: inout ByteReader, _ header: Header, entry: (_ key: ArraySlice<UInt8>, _ count: UInt64) -> Void
    ) throws(SketchDecodingError) -> UInt64 {
        var retained: UInt64 = 0
        var previous = 0..<0
        for index in 0..<header.entryCount {
            let entryOffset = reader.offset
            let key = try reader.skipLengthPrefixed()
            let encodedKey = entryOffset..<reader.offset
            if index > 0 {
                let order = ByteStringOrder.compare(in: reader.bytes, previous, encodedKey)
                guard order < 0 else {
                    throw SketchDecodingError(
                        .invalidValue(order == 0 ? "duplicate heavy hitters key" : "heavy hitters keys not in ascending order"),
                        offset: entryOffset)
                }
            }
            previous = encodedKey
            entry(reader.bytes[key], try readCount(&reader, adding: &retained))
        }
        try checkRetained(retained, header)
        return retained
    }

    /// Appends what `encode(into:key:)` writes, keys length-prefixed, for the exact summary at
    /// the default capacity of `entryCount` distinct keys, without building it (no key copied
    /// into an array, no dictionary): for callers whose keys already sit in their own storage.
    ///
    /// - Parameters:
    ///   - entryCount: At most 2 × `defaultCapacity`; with more, a summary reduces, so build one.
    ///   - key: Entry i's key bytes; distinct for distinct i.
    ///   - count: Entry i's count, above 0.
    ///   - order: Scratch space for the entry order, reused across calls.
    ///   - writer: The destination.
    public static func encodeExact(
        entryCount: Int, key: (Int) -> UnsafeRawBufferPointer, count: (Int) -> UInt64,
        order: inout [Int], into writer: inout ByteWriter
    ) {
        precondition(entryCount <= 2 * defaultCapacity, "an exact summary holds at most 2 × capacity keys")
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: 0..<entryCount)
        // `encode` sorts entries by their encoded keys: the length prefix, then the key bytes.
        order.sort { a, b in
            let x = key(a), y = key(b)
            let byPrefix = compareLengthPrefixes(x.count, y.count)
            return byPrefix != 0 ? byPrefix < 0 : ByteStringOrder.compare(x, y) < 0
        }
        var total: UInt64 = 0
        for i in 0..<entryCount { total.addSaturating(count(i)) }
        encodeHeader(capacity: defaultCapacity, total: total, entryCount: entryCount, into: &writer)
        for i in order {
            writer.writeLengthPrefixed(key(i))
            writer.writeVarUInt(count(i))
        }
    }

    /// Compares the varint length prefixes `writeLengthPrefixed` writes for lengths `a` and `b`,
    /// byte by byte: negative, zero or positive.
    static func compareLengthPrefixes(_ a: Int, _ b: Int) -> Int {
        var a = UInt64(a)
        var b = UInt64(b)
        while true {
            let x = a & 0x7F | (a >= 0x80 ? 0x80 : 0)
            let y = b & 0x7F | (b >= 0x80 ? 0x80 : 0)
            if x != y { return x < y ? -1 : 1 }
            if a < 0x80 { return 0 }  // equal last bytes
            a >>= 7
            b >>= 7
        }
    }

    /// Decodes bytes produced by `serialized()`.
    ///
    /// - Throws: Frame errors (`badMagic`, `truncated`, `checksumMismatch`, `unsupportedVersion`)
    ///   or any error of `init(decoding:key:)`, including trailing bytes after the summary.
    public init(serialized bytes: [UInt8]) throws(SketchDecodingError) {
        let frame = try ChecksummedFrame.unwrap(
            bytes, magic: Self.frameMagic, supportedVersions: Self.frameVersion...Self.frameVersion)
        var reader = ByteReader(frame.body)
        try self.init(decoding: &reader) { (reader: inout ByteReader) throws(SketchDecodingError) in
            try reader.readLengthPrefixed()
        }
        try reader.expectEnd()
    }
}

extension HeavyHitters where Key == [UInt8] {
    /// What `encode` writes for a summary as `init()` makes it: the default capacity, a total of
    /// 0, no entry.
    static var untouchedEncoding: [UInt8] {
        var w = ByteWriter()
        HeavyHitters().encode(into: &w) { key, writer in writer.writeLengthPrefixed(key) }
        return w.bytes
    }

    /// Passes over an untouched summary at the reader's position and says so; leaves the reader
    /// where it was otherwise. A partial's rows carry three empty summaries in a report by user,
    /// and decoding them (a dictionary each) was a sixth of an in-memory merge.
    public static func skipUntouched(_ reader: inout ByteReader) -> Bool {
        let encoding = untouchedEncodingBytes
        let end = reader.offset + encoding.count
        guard end <= reader.bytes.count, reader.bytes[reader.offset..<end].elementsEqual(encoding) else { return false }
        _ = try? reader.readBytes(count: encoding.count)
        return true
    }
}

/// `HeavyHitters.untouchedEncoding`, computed once.
private let untouchedEncodingBytes = HeavyHitters<[UInt8]>.untouchedEncoding
