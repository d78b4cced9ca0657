import TallyReport

/// A committed partial's users, streamed from its file, whose read errors name the task:
/// a partial damaged on disk is computed again (`UnusablePartial`), like in a whole merge.
struct IndexedPartialStream: UserStream {
    let index: Int
    let path: String
    var stream: PartialUserStream<PartialFile>

    mutating func nextEmail() throws -> [UInt8]? {
        try Self.naming(index, path) { try stream.nextEmail() }
    }

    mutating func takeUser(email: [UInt8]) throws -> RowAggregate {
        try Self.naming(index, path) { try stream.takeUser(email: email) }
    }

    mutating func mergeUser(into user: inout RowAggregate) throws {
        try Self.naming(index, path) { try stream.mergeUser(into: &user) }
    }

    /// A read error as this partial's: unusable, to be computed again.
    private static func naming<T>(_ index: Int, _ path: String, _ read: () throws -> T) throws -> T {
        do {
            return try read()
        } catch {
            throw UnusablePartial(index: index, reason: "its file \(path) does not decode: \(error)")
        }
    }
}
