/// The CSV rows of one range of a merged report, written as the merge gives its rows: the one
/// row writer of the coordinator's streamed merge and of a worker's merge task, so the two
/// cannot differ by a byte.
public enum ReportRows {
    /// Writes the rows of `range` of `report` to `emit` in chunks of about 64 KiB; how many.
    /// `directory` lists the users of an inactive-users or resource-access report that names one.
    public static func write<Streams: UserStream>(
        _ merge: inout StreamingMerge<Streams>, report: ReportSpec, directory: UserDirectory?, range: UserKeyRange,
        emit: ([UInt8]) throws -> Void
    ) throws -> Int {
        func eachRow(_ append: (RowAggregate, inout [UInt8]) -> Void) throws -> Int {
            var out = RowChunks()
            while let row = try merge.next() {
                append(row, &out.bytes)
                try out.endRow(emit)
            }
            return try out.finish(emit)
        }
        switch report {
        case .activeUsers:
            return try eachRow { ActiveUsersCSV.appendRow($0, to: &$1) }
        case .networkSummary:
            return try eachRow { NetworkSummaryCSV.appendRow($0, to: &$1) }
        case .inactiveUsers(let spec):
            return try InactiveUsersCSV.streamRows(
                next: { () throws -> RowAggregate? in try merge.next() }, directory: directory ?? UserDirectory(emails: []),
                rule: spec.rule, range: range, emit: { (chunk: [UInt8]) throws in try emit(chunk) })
        case .resourceAccess(_, let name):
            return try ResourceAccessCSV.streamRows(
                next: { () throws -> RowAggregate? in try merge.next() },
                directory: name == nil ? nil : directory ?? UserDirectory(emails: []),
                range: range, emit: { (chunk: [UInt8]) throws in try emit(chunk) })
        }
    }

    /// The header line of `kind`'s CSV.
    public static func header(of kind: ReportKind) -> [UInt8] {
        switch kind {
        case .activeUsers: ActiveUsersCSV.header
        case .inactiveUsers: InactiveUsersCSV.header
        case .networkSummary: NetworkSummaryCSV.header
        case .resourceAccess: ResourceAccessCSV.header
        }
    }
}
