import TallySketches

/// Users written back to back (a block of a partial, or a slice of one), read an email at a
/// time: the reader stops at each user's aggregates, which the caller then builds (`take`) or
/// folds into the same user from other partials (`merge`) without building them. Users before
/// `range` are passed over unbuilt; the first past it ends the reading.
struct EncodedUsers {
    private(set) var reader: ByteReader
    let range: UserKeyRange
    /// Whether a user past the range was met: nothing after it is in the range.
    private(set) var isPastRange = false

    init(_ bytes: [UInt8], range: UserKeyRange) {
        reader = ByteReader(bytes)
        self.range = range
    }

    /// The next user's email in the range, the reader at its aggregates; nil at the bytes' end
    /// or past the range.
    mutating func nextEmail() throws -> [UInt8]? {
        while !isPastRange, !reader.isAtEnd {
            let email = try reader.readLengthPrefixed()
            if range.isPast(email) {
                isPastRange = true
                return nil
            }
            if range.contains(email) { return email }
            try Partial.skipUser(&reader)
        }
        return nil
    }

    /// The aggregates of the user `nextEmail` gave.
    mutating func take(email: [UInt8]) throws -> RowAggregate {
        try Partial.decodeUser(email: email, &reader)
    }

    /// Folds the aggregates of the user `nextEmail` gave into `user`.
    mutating func merge(into user: inout RowAggregate) throws {
        try Partial.mergeUser(&reader, into: &user)
    }
}
