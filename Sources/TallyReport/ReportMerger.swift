/// Merges the partials of a plan into the report.
///
/// Partials must be merged in plan order (task index), not arrival order: counters and
/// distinct counts do not care, but heavy-hitter summaries past their exact range do, and the
/// report must be byte-identical however tasks were scheduled. Memory is bounded by the merged
/// report, because each partial is folded in and dropped.
public struct ReportMerger: Sendable {
    private var users: [[UInt8]: UserPartial] = [:]
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
        for user in partial.users {
            if var existing = users.removeValue(forKey: user.email) {
                existing.merge(user)
                users[user.email] = existing
            } else {
                users[user.email] = user
            }
        }
    }

    /// Number of users in the report.
    public var userCount: Int { users.count }

    /// The report as CSV bytes: header, then users in email byte order.
    public func csv() -> [UInt8] {
        var out = ActiveUsersCSV.header
        for email in users.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            ActiveUsersCSV.appendRow(users[email]!, to: &out)
        }
        return out
    }
}
