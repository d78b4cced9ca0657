import TallySketches

/// Merges the partials of a plan into the report.
///
/// Partials must be merged in plan order (task index), not arrival order: counters and
/// distinct counts do not care, but heavy-hitter summaries past their exact range do, and the
/// report must be byte-identical however tasks were scheduled. Memory is bounded by the merged
/// report, because each partial is folded in and dropped.
///
/// Users are kept in email order, the order partials carry them in, so folding a partial in is
/// one pass over both lists (no hashing of emails), and the CSV comes out without a sort.
public struct ReportMerger: Sendable {
    /// The report so far, in email byte order.
    private var users: [RowAggregate] = []
    /// Statistics of every partial merged so far.
    public private(set) var statistics = ReadStatistics()
    /// Partials merged so far.
    public private(set) var partialsMerged = 0

    /// An empty report.
    public init() {}

    /// Folds in the next partial of the plan.
    public mutating func merge(_ partial: Partial) {
        statistics.add(partial.statistics)
        partialsMerged += 1
        guard !users.isEmpty else {
            users = partial.rows
            return
        }
        // First pass: fold users already in the report in place, count the new ones. Hour after
        // hour mostly the same users are active, so the second pass is usually not needed.
        var newUsers = 0
        var i = 0
        users.withUnsafeMutableBufferPointer { report in
            for user in partial.rows {
                if Self.advance(&i, in: UnsafeBufferPointer(report), to: user.key) {
                    report[i].merge(user)
                    i += 1
                } else {
                    newUsers += 1
                }
            }
        }
        guard newUsers > 0 else { return }
        // Second pass: interleave the new users.
        var merged: [RowAggregate] = []
        merged.reserveCapacity(users.count + newUsers)
        i = 0
        users.withUnsafeBufferPointer { report in
            for user in partial.rows {
                let start = i
                let found = Self.advance(&i, in: report, to: user.key)
                merged.append(contentsOf: report[start..<i])
                if found {
                    merged.append(report[i])  // folded in by the first pass
                    i += 1
                } else {
                    merged.append(user)
                }
            }
            merged.append(contentsOf: report[i...])
        }
        users = merged
    }

    /// Moves `i` past the users before `email` (one comparison per user); whether `report[i]`
    /// is then that email's user.
    private static func advance(_ i: inout Int, in report: UnsafeBufferPointer<RowAggregate>, to email: [UInt8]) -> Bool {
        while i < report.count {
            let order = ByteStringOrder.compare(report[i].key, email)
            if order >= 0 { return order == 0 }
            i += 1
        }
        return false
    }

    /// Number of users in the report.
    public var userCount: Int { users.count }

    /// Roughly the memory the merged users take (one pass over them).
    public var estimatedBytes: Int { users.reduce(0) { $0 + $1.estimatedBytes } }

    /// The inactive-users report of the merged look-back and a directory, and its row count.
    public func inactiveUsersCSV(directory: UserDirectory, rule: InactiveUsersCSV.Rule) -> (csv: [UInt8], rows: Int) {
        InactiveUsersCSV.render(users: users, directory: directory, rule: rule)
    }

    /// `report`'s CSV of the merged rows (and of `directory`'s users, for a report that lists
    /// them), and its row count: the rows `ReportRows` writes for a streamed merge.
    public func csv(of report: ReportSpec, directory: UserDirectory?) throws -> (csv: [UInt8], rows: Int) {
        var out = ReportRows.header(of: report.kind)
        var merge = try StreamingMerge(streams: [UserList(users)])
        let rows = try ReportRows.write(&merge, report: report, directory: directory, range: .all) { out += $0 }
        return (out, rows)
    }

    /// The active-users CSV of the merged users, header first (a job writes any kind through
    /// `csv(of:directory:)`; this is the active-users shortcut tests and benchmarks use).
    public func csv() -> [UInt8] {
        var out = ActiveUsersCSV.header
        appendRows(to: &out)
        return out
    }

    /// The active-users rows without the header: a range merger's share of the report.
    public func rows() -> [UInt8] {
        var out: [UInt8] = []
        appendRows(to: &out)
        return out
    }

    private func appendRows(to out: inout [UInt8]) {
        for user in users {
            ActiveUsersCSV.appendRow(user, to: &out)
        }
    }

    /// The inactive-users rows (no header) of the merged users and the directory's emails in
    /// `range`, and how many there are.
    public func inactiveUsersRows(directory: UserDirectory, rule: InactiveUsersCSV.Rule, range: UserKeyRange) -> (
        bytes: [UInt8], rows: Int
    ) {
        InactiveUsersCSV.rows(users: users, directory: directory, rule: rule, range: range)
    }
}
