import TallySketches

/// One task's result: per-user aggregates over the events of the task's objects that fall in
/// the job's window, plus what reading found. Partials of a plan merge into the report.
public struct Partial: Sendable {
    /// Changes whenever the same bytes would give a different partial (a parser, a counter or a
    /// sketch changed), so that partials cached by an older engine are not reused (§3.6).
    public static let engineRevision = 2

    /// Users, sorted by email bytes, so equal inputs give byte-identical encodings.
    public internal(set) var users: [UserAggregate]
    /// What reading the task's objects found.
    public var statistics: ReadStatistics

    /// A partial from its users (sorted here; two entries for one email are merged into one,
    /// since mergers rely on each email appearing once) and statistics.
    public init(users: [UserAggregate], statistics: ReadStatistics) {
        var unique: [UserAggregate] = []
        unique.reserveCapacity(users.count)
        for user in users.sorted(by: { ByteStringOrder.precedes($0.email, $1.email) }) {
            if let last = unique.indices.last, unique[last].email == user.email {
                unique[last].merge(user)
            } else {
                unique.append(user)
            }
        }
        self.users = unique
        self.statistics = statistics
    }
}
