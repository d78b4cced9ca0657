import TallySketches

/// The sparse index at the end of a partial: the key and body offset of every `stride`-th row, so a merge of one range of users (`Partial.rows(in:encoded:)`) starts
/// near its first user instead of decoding every user before it, and so the coordinator can
/// choose balanced ranges from the keys without decoding a partial.
struct PartialIndex: Sendable, Equatable {
    /// Users between entries.
    static let stride = 256

    struct Entry: Sendable, Equatable {
        var email: [UInt8]
        /// Where the user starts, from the start of the body.
        var offset: Int
    }

    var entries: [Entry] = []
    private var seen = 0

    /// Notes the user about to be written at `offset`; every `stride`-th is kept.
    mutating func note(email: some Collection<UInt8>, offset: Int) {
        if seen % Self.stride == 0 { entries.append(Entry(email: Array(email), offset: offset)) }
        seen += 1
    }

    /// Writes the index after the last user.
    func encode(into w: inout ByteWriter) {
        w.writeVarUInt(UInt64(entries.count))
        for entry in entries {
            w.writeLengthPrefixed(entry.email)
            w.writeVarUInt(UInt64(entry.offset))
        }
    }

    /// Reads an index written by `encode`, checked against the body: entries in strictly
    /// increasing email and offset order, offsets inside the users.
    static func decode(_ r: inout ByteReader, users: Range<Int>, userCount: Int) throws(SketchDecodingError) -> PartialIndex {
        let count = try r.readVarUInt()
        guard count <= UInt64(userCount / stride + 1) else { throw SketchDecodingError(.invalidValue("index of \(count) entries")) }
        var index = PartialIndex()
        for _ in 0..<count {
            let email = try r.readLengthPrefixed()
            let offset = try r.readVarUInt()
            guard offset >= UInt64(users.lowerBound), offset < UInt64(users.upperBound) else {
                throw SketchDecodingError(.invalidValue("index offset \(offset) outside the users"))
            }
            if let last = index.entries.last {
                guard ByteStringOrder.compare(last.email, email) < 0, last.offset < Int(offset) else {
                    throw SketchDecodingError(.invalidValue("index entries out of order"))
                }
            }
            index.entries.append(Entry(email: email, offset: Int(offset)))
        }
        return index
    }

    /// The offset to start reading `range` from: that of the last entry before its lower end
    /// (the users' start when there is none).
    func start(of range: UserKeyRange, usersStart: Int) -> Int {
        guard let lower = range.lower else { return usersStart }
        var start = usersStart
        for entry in entries {
            guard ByteStringOrder.compare(entry.email, lower) <= 0 else { break }
            start = entry.offset
        }
        return start
    }
}
