import TallyReport

/// A committed partial's users, streamed from its file, whose read errors name the task:
/// a partial damaged on disk is computed again (`UnusablePartial`), like in a whole merge.
struct IndexedPartialStream: UserStream {
    let index: Int
    let path: String
    var stream: PartialUserStream<PartialFile>

    mutating func next() throws -> UserAggregate? {
        do {
            return try stream.next()
        } catch {
            throw UnusablePartial(index: index, reason: "its file \(path) does not decode: \(error)")
        }
    }
}
