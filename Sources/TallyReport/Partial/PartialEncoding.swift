import TallyFormats
import TallySketches

/// The versioned, checksummed binary form of a `Partial`, as workers upload it.
///
/// Layout: the sketch module's `ChecksummedFrame` (magic `TLYP`, version, length, CRC32C)
/// around a body of statistics, the row key (`RowKey`) and the rows in key order. Integers are
/// LEB128 varints. The body ends with a sparse index of the rows (`PartialIndex`) and the
/// index's offset (8 bytes, little-endian), so one range of rows can be read without the others.
/// Format 4 added the row key, first access and the Resource measures; older formats are
/// refused (their engine revision is not reused either).
extension Partial {
    static let magic: [UInt8] = Array("TLYP".utf8)
    static let formatVersion: UInt8 = 4
    static let supportedVersions: ClosedRange<UInt8> = 4...4

    /// The partial's bytes.
    public func encoded() -> [UInt8] {
        var w = Self.beginBody(statistics: statistics, rowKey: rowKey, rowCount: rows.count)
        var index = PartialIndex()
        for row in rows {
            index.note(email: row.key, offset: w.count)
            Self.encode(row, into: &w)
        }
        return Self.frame(w, index: index)
    }

    // The pieces of the encoding, shared with `RowAggregator.encodedPartial`, which writes a
    // task's partial straight from its tables without building `RowAggregate`s.

    /// A body writer holding the statistics, the row key and the row count; rows follow in key order.
    static func beginBody(statistics: ReadStatistics, rowKey: RowKey, rowCount: Int) -> ByteWriter {
        var w = ByteWriter(reservingCapacity: 64 + rowCount * 96)
        encodeStatistics(statistics, into: &w)
        w.writeUInt8(rowKey.rawValue)
        w.writeVarUInt(UInt64(rowCount))
        return w
    }

    /// One row's key and counters; its six sketches follow.
    static func encodeRowHead(key: some Collection<UInt8>, counters c: UserCounters, into w: inout ByteWriter) {
        w.writeLengthPrefixed(key)
        w.writeVarUInt(c.success)
        w.writeVarUInt(c.dnsFailures)
        w.writeVarUInt(c.otherFailures)
        w.writeVarUInt(c.relayedSuccesses)
        w.writeVarUInt(c.bytesTransferred)
        w.writeVarUInt(c.bytesReceived)
        w.writeVarInt(c.lastAccess)
        w.writeVarInt(c.firstAccess)
    }

    /// One whole row.
    static func encode(_ row: RowAggregate, into w: inout ByteWriter) {
        encodeRowHead(key: row.key, counters: row.counters, into: &w)
        row.devices.encode(into: &w)
        row.clientIPs.encode(into: &w)
        let names = row.resourceNames ?? RowAggregate.ResourceNames()
        for top in [row.topValues, names.addresses, names.networks, names.transports] {
            top.encode(into: &w) { key, writer in writer.writeLengthPrefixed(key) }
        }
    }

    /// The framed partial: the users' index and its offset close the body.
    static func frame(_ body: ByteWriter, index: PartialIndex) -> [UInt8] {
        var w = body
        let indexOffset = w.count
        index.encode(into: &w)
        w.writeUInt64LE(UInt64(indexOffset))
        return ChecksummedFrame.wrap(magic: magic, version: formatVersion, body: w.bytes)
    }

    /// Decodes bytes made by `encoded()`; corrupt, truncated or foreign bytes throw, and so do
    /// users whose decoded size (`RowAggregate.estimatedBytes`) adds up past `memoryCeiling`,
    /// so bytes from a remote process cannot make the decoder hold more than that.
    public init(encoded bytes: [UInt8], memoryCeiling: Int = .max) throws {
        var rows: [RowAggregate] = []
        var rowKey = RowKey.user
        statistics = try Self.walk(bytes, memoryCeiling: memoryCeiling) { _, key in
            rowKey = key
        } user: { email, r in
            let row = try Self.decodeUser(email: Array(r.bytes[email]), &r)
            rows.append(row)
            return row.estimatedBytes
        }
        self.rows = rows
        self.rowKey = rowKey
    }

    /// Checks bytes made by `encoded()` as `init(encoded:memoryCeiling:)` decodes them, handing
    /// the statistics, then each user's summary, to the callers' closures (which may throw to
    /// stop); the statistics. Nothing is built but the summaries: no sketch, set or dictionary
    /// (the coordinator checks every upload this way, and decoding was most of its CPU).
    static func check(
        _ bytes: [UInt8], memoryCeiling: Int, statistics onStatistics: (ReadStatistics, RowKey) throws -> Void,
        user onUser: (UserSummary) throws -> Void
    ) throws -> ReadStatistics {
        try walk(bytes, memoryCeiling: memoryCeiling, statistics: onStatistics) { email, r in
            let (user, sketchBytes) = try checkUser(email: r.bytes[email], &r)
            try onUser(user)
            return RowAggregate.estimatedBytes(emailCount: email.count, sketchBytes: sketchBytes)
        }
    }

    /// One user's aggregates after its email, checked but not built: its summary and the heap
    /// bytes its sketches would take decoded.
    private static func checkUser(email: ArraySlice<UInt8>, _ r: inout ByteReader) throws -> (UserSummary, sketchBytes: Int) {
        let counters = try decodeCounters(&r)
        let devices = try DistinctCounter.check(decoding: &r)
        let clientIPs = try DistinctCounter.check(decoding: &r)
        let top = try HeavyHitters<[UInt8]>.check(decoding: &r)
        let addresses = try HeavyHitters<[UInt8]>.check(decoding: &r)
        let networks = try HeavyHitters<[UInt8]>.check(decoding: &r)
        let transports = try HeavyHitters<[UInt8]>.check(decoding: &r)
        let summary = UserSummary(
            email: email, counters: counters, devices: (devices.count, devices.isExact),
            clientIPs: (clientIPs.count, clientIPs.isExact), topTotal: top.total,
            labelTotals: (addresses.total, networks.total, transports.total))
        let sketches = devices.storageBytes + clientIPs.storageBytes + top.storageBytes
        return (summary, sketches + addresses.storageBytes + networks.storageBytes + transports.storageBytes)
    }

    /// Walks and checks the frame, statistics, user order, memory ceiling and index of bytes
    /// made by `encoded()`: `readUser` reads each user after its email (given as a range of the
    /// reader's bytes) and returns the bytes it takes once decoded. Corrupt, truncated or
    /// foreign bytes throw, and so do users whose decoded size adds up past `memoryCeiling`.
    private static func walk(
        _ bytes: [UInt8], memoryCeiling: Int, statistics onStatistics: (ReadStatistics, RowKey) throws -> Void,
        user readUser: (_ email: Range<Int>, _ reader: inout ByteReader) throws -> Int
    ) throws -> ReadStatistics {
        let (version, body) = try ChecksummedFrame.unwrap(bytes, magic: Self.magic, supportedVersions: supportedVersions)
        var r = ByteReader(body)
        let statistics = try Self.decodeStatistics(&r, version: version)
        let rowKey = try decodeRowKey(&r)
        try onStatistics(statistics, rowKey)
        let count = try r.readVarUInt()
        guard count <= UInt64(body.count) else { throw SketchDecodingError(.invalidValue("user count \(count)")) }
        let usersStart = r.offset
        var decodedBytes = 0
        var previousEmail: Range<Int>? = nil
        // The index the users call for: a range read trusts the stored one, so it must be this.
        var expectedIndex = PartialIndex()
        for _ in 0..<count {
            let userOffset = r.offset
            let email = try r.skipLengthPrefixed()
            expectedIndex.note(email: r.bytes[email], offset: userOffset)
            // Mergers walk partials in email order; a partial out of order (or with a user twice)
            // would silently split or drop users, so it is refused here.
            if let previousEmail {
                guard ByteStringOrder.compare(in: r.bytes, previousEmail, email) < 0 else {
                    throw SketchDecodingError(.invalidValue("users not in strictly increasing email order"))
                }
            }
            previousEmail = email
            decodedBytes += try readUser(email, &r)
            guard decodedBytes <= memoryCeiling else {
                throw SketchDecodingError(.invalidValue("decoded users take more than the ceiling of \(memoryCeiling) bytes"))
            }
        }
        do {
            let indexOffset = r.offset
            let index = try PartialIndex.decode(&r, users: usersStart..<max(usersStart + 1, indexOffset), userCount: Int(count))
            guard index.entries == expectedIndex.entries else {
                throw SketchDecodingError(.invalidValue("the users' index does not match the users"))
            }
            guard try r.readUInt64LE() == UInt64(indexOffset) else { throw SketchDecodingError(.invalidValue("index offset mismatch")) }
        }
        guard r.isAtEnd else { throw SketchDecodingError(.invalidValue("trailing bytes after the last user")) }
        return statistics
    }

    /// One user's counters, after its email (`encodeUserHead`).
    private static func decodeCounters(_ r: inout ByteReader) throws -> UserCounters {
        var c = UserCounters()
        c.success = try r.readVarUInt()
        c.dnsFailures = try r.readVarUInt()
        c.otherFailures = try r.readVarUInt()
        c.relayedSuccesses = try r.readVarUInt()
        c.bytesTransferred = try r.readVarUInt()
        c.bytesReceived = try r.readVarUInt()
        c.lastAccess = try r.readVarInt()
        c.firstAccess = try r.readVarInt()
        guard c.relayedSuccesses <= c.success else {
            throw SketchDecodingError(.invalidValue("more relayed than successful connections"))
        }
        return c
    }

    /// One user's counters and sketches after its email (`encodeUserHead`, then the sketches).
    static func decodeUser(email: [UInt8], _ r: inout ByteReader) throws -> RowAggregate {
        let c = try decodeCounters(&r)
        let devices = try DistinctCounter(decoding: &r)
        let clientIPs = try DistinctCounter(decoding: &r)
        func names() throws -> RowAggregate.ResourceNames? {
            var names: RowAggregate.ResourceNames? = nil
            for path in [\RowAggregate.ResourceNames.addresses, \.networks, \.transports] {
                if HeavyHitters<[UInt8]>.skipUntouched(&r) { continue }
                if names == nil { names = RowAggregate.ResourceNames() }
                names![keyPath: path] = try top()
            }
            return names
        }
        func top() throws -> HeavyHitters<[UInt8]> {
            try HeavyHitters<[UInt8]>(decoding: &r) { (reader: inout ByteReader) throws(SketchDecodingError) in
                try reader.readLengthPrefixed()
            }
        }
        return RowAggregate(
            key: email, counters: c, devices: devices, clientIPs: clientIPs, topValues: try top(), resourceNames: try names())
    }

    /// The row key that follows the statistics.
    private static func decodeRowKey(_ r: inout ByteReader) throws -> RowKey {
        let raw = try r.readUInt8()
        guard let key = RowKey(rawValue: raw) else { throw SketchDecodingError(.invalidValue("row key \(raw)")) }
        return key
    }

    /// The emails of a partial's index (every `PartialIndex.stride`-th user; none before format
    /// 3): samples of its key space, from which balanced ranges are chosen.
    public static func indexKeys(encoded bytes: [UInt8]) throws -> [[UInt8]] {
        try PartialUserStream(PartialInMemory(bytes)).indexKeys
    }

    /// The rows of `range` in a partial's bytes, in key order, read from the index entry
    /// before the range to the first row past it
    /// (`PartialUserStream`). The frame's checksum is verified; the index was checked against
    /// the users when the partial was accepted (`check`).
    public static func rows(in range: UserKeyRange, encoded bytes: [UInt8]) throws -> [RowAggregate] {
        var stream = try PartialUserStream(PartialInMemory(bytes), range: range)
        var users: [RowAggregate] = []
        while let user = try stream.next() {
            if let previous = users.last, ByteStringOrder.compare(previous.key, user.key) >= 0 {
                throw SketchDecodingError(.invalidValue("users not in strictly increasing email order"))
            }
            users.append(user)
        }
        return users
    }

    /// The statistics, row key, row count and rows' start of a body whose first bytes are
    /// `prefix`; a prefix too short to hold them throws `truncated`.
    static func head(of prefix: [UInt8], version: UInt8) throws -> (
        statistics: ReadStatistics, rowKey: RowKey, userCount: Int, usersStart: Int
    ) {
        var r = ByteReader(prefix)
        let statistics = try decodeStatistics(&r, version: version)
        let rowKey = try decodeRowKey(&r)
        let count = try r.readVarUInt()
        guard count <= UInt64(Int32.max) else { throw SketchDecodingError(.invalidValue("user count \(count)")) }
        return (statistics, rowKey, Int(count), r.offset)
    }

    /// One user's aggregates after its email, checked but not built: how a reader passes a
    /// user outside its range.
    static func skipUser(_ r: inout ByteReader) throws {
        _ = try checkUser(email: [], &r)
    }

    /// One user's aggregates after its email, folded into `user` (the same user from earlier
    /// partials): what `user.merge(decodeUser(...))` does, without building the other user.
    static func mergeUser(_ r: inout ByteReader, into user: inout RowAggregate) throws {
        user.counters.merge(try decodeCounters(&r))
        try user.devices.merge(decoding: &r)
        try user.clientIPs.merge(decoding: &r)
        try user.topValues.merge(decoding: &r)
        for path in [\RowAggregate.ResourceNames.addresses, \.networks, \.transports] {
            // Merging an untouched summary changes nothing.
            if HeavyHitters<[UInt8]>.skipUntouched(&r) { continue }
            if user.resourceNames == nil { user.resourceNames = RowAggregate.ResourceNames() }
            try user.resourceNames![keyPath: path].merge(decoding: &r)
        }
    }

    private static func encodeStatistics(_ s: ReadStatistics, into w: inout ByteWriter) {
        for value in [s.objects, s.bytes, s.eventsInWindow, s.serviceAccountEvents, s.lines.lines, s.lines.events, s.lines.notEvents] {
            w.writeVarInt(value)
        }
        w.writeVarUInt(UInt64(s.lines.malformedByReason.count))
        for value in s.lines.malformedByReason { w.writeVarInt(value) }
        w.writeVarUInt(UInt64(s.lines.samples.count))
        for sample in s.lines.samples {
            w.writeLengthPrefixed(Array(sample.object.utf8))
            w.writeVarInt(sample.line)
            w.writeLengthPrefixed(Array(sample.reason.rawValue.utf8))
        }
        // Version 2: the event span, a presence flag then its two ends; the engine revision (0: unknown).
        if let span = s.eventSpan {
            w.writeUInt8(1)
            w.writeVarInt(span.earliest)
            w.writeVarInt(span.latest)
        } else {
            w.writeUInt8(0)
        }
        w.writeVarInt(Int64(s.engineRevision ?? 0))
    }

    /// A count that must not be negative (a partial from a faulty or hostile worker could say so).
    private static func readCount(_ r: inout ByteReader, _ name: String) throws -> Int64 {
        let value = try r.readVarInt()
        guard value >= 0 else { throw SketchDecodingError(.invalidValue("negative \(name) count \(value)")) }
        return value
    }

    private static func decodeStatistics(_ r: inout ByteReader, version: UInt8) throws -> ReadStatistics {
        var s = ReadStatistics()
        s.objects = try readCount(&r, "object")
        s.bytes = try readCount(&r, "byte")
        s.eventsInWindow = try readCount(&r, "in-window event")
        s.serviceAccountEvents = try readCount(&r, "service-account event")
        s.lines.lines = try readCount(&r, "line")
        s.lines.events = try readCount(&r, "event")
        s.lines.notEvents = try readCount(&r, "other line")
        let reasons = try r.readVarUInt()
        guard reasons <= 64 else { throw SketchDecodingError(.invalidValue("\(reasons) malformed reasons")) }
        var byReason = Array(repeating: Int64(0), count: MalformedReason.allCases.count)
        for i in 0..<Int(reasons) {
            let value = try readCount(&r, "malformed line")
            // A newer writer's extra reasons are folded into the last known one rather than lost.
            byReason[min(i, byReason.count - 1)] = byReason[min(i, byReason.count - 1)].saturatingAdd(value)
        }
        s.lines.malformedByReason = byReason
        let samples = try r.readVarUInt()
        guard samples <= UInt64(LineStatistics.sampleLimit) else { throw SketchDecodingError(.invalidValue("\(samples) samples")) }
        for _ in 0..<samples {
            let object = String(decoding: try r.readLengthPrefixed(), as: UTF8.self)
            let line = try readCount(&r, "line number")
            let reasonName = String(decoding: try r.readLengthPrefixed(), as: UTF8.self)
            guard let reason = MalformedReason(rawValue: reasonName) else {
                throw SketchDecodingError(.invalidValue("unknown malformed reason \(reasonName)"))
            }
            s.lines.samples.append(.init(object: object, line: line, reason: reason))
        }
        if version >= 2 {
            switch try r.readUInt8() {
            case 0: break
            case 1:
                let span = EventSpan(earliest: try r.readVarInt(), latest: try r.readVarInt())
                guard span.earliest <= span.latest else { throw SketchDecodingError(.invalidValue("event span ends before it starts")) }
                s.eventSpan = span
            case let flag: throw SketchDecodingError(.invalidValue("event span flag \(flag)"))
            }
            let revision = try r.readVarInt()
            guard revision >= 0, revision <= Int64(Int32.max) else {
                throw SketchDecodingError(.invalidValue("engine revision \(revision)"))
            }
            s.engineRevision = revision == 0 ? nil : Int(revision)
        }
        return s
    }
}
