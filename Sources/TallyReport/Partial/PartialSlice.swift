import TallySketches

/// The users of one range in the bytes of a partial that hold them (docs/design.md §3.9): the
/// blocks from the index entry before the range's first user to the entry after its last, as
/// `PartialUserStream.rangeSpan` names them. A merge task on a worker reads these bytes of each
/// partial, not the partials, and merges them like whole ones.
public struct PartialSlice: UserStream, Sendable {
    /// The users this slice gives.
    public let range: UserKeyRange
    private var users: EncodedUsers

    /// A slice of whole users written back to back, starting at a user; users outside `range`
    /// (the first block's users before it) are skipped.
    public init(_ bytes: [UInt8], range: UserKeyRange) {
        self.range = range
        users = EncodedUsers(bytes, range: range)
    }

    /// A slice that crossed a network: refused unless its CRC-32C is `checksum`, the one its
    /// sender computed from the partial (whose own checksum it verified).
    public init(_ bytes: [UInt8], checksum: UInt32, range: UserKeyRange) throws(SketchDecodingError) {
        guard Self.checksum(bytes) == checksum else { throw SketchDecodingError(.checksumMismatch) }
        self.init(bytes, range: range)
    }

    /// The CRC-32C a slice travels with (continuing `previous`, the checksum of the bytes before).
    public static func checksum(_ bytes: [UInt8], continuing previous: UInt32 = 0) -> UInt32 {
        CRC32C.checksum(bytes, continuing: previous)
    }

    public mutating func nextEmail() throws -> [UInt8]? { try users.nextEmail() }

    public mutating func takeUser(email: [UInt8]) throws -> RowAggregate { try users.take(email: email) }

    public mutating func mergeUser(into user: inout RowAggregate) throws { try users.merge(into: &user) }
}
