/// The CSV rows of one range of a merged report, written as the merge gives its users: the one
/// row writer of the coordinator's streamed merge and of a worker's merge task, so the two
/// cannot differ by a byte.
public enum ReportRows {
    /// Writes the rows of `range` of `report` to `emit` in chunks of about 64 KiB; how many.
    /// `directory` lists every user of an inactive-users report (empty: only the users seen).
    public static func write<Streams: UserStream>(
        _ merge: inout StreamingMerge<Streams>, report: ReportSpec, directory: UserDirectory?, range: UserKeyRange,
        emit: ([UInt8]) throws -> Void
    ) throws -> Int {
        switch report {
        case .activeUsers:
            var count = 0
            var chunk: [UInt8] = []
            while let user = try merge.next() {
                ActiveUsersCSV.appendRow(user, to: &chunk)
                count += 1
                if chunk.count >= 1 << 16 {
                    try emit(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if !chunk.isEmpty { try emit(chunk) }
            return count
        case .inactiveUsers(let spec):
            return try InactiveUsersCSV.streamRows(
                next: { () throws -> UserAggregate? in try merge.next() }, directory: directory ?? UserDirectory(emails: []),
                rule: spec.rule, range: range, emit: { (chunk: [UInt8]) throws in try emit(chunk) })
        }
    }

    /// The header line of `kind`'s CSV.
    public static func header(of kind: ReportKind) -> [UInt8] {
        switch kind {
        case .activeUsers: ActiveUsersCSV.header
        case .inactiveUsers: InactiveUsersCSV.header
        }
    }
}
