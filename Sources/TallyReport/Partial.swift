import TallySketches

/// One task's result: per-user aggregates over the events of the task's objects that fall in
/// the job's window, plus what reading found. Partials of a plan merge into the report.
public struct Partial: Sendable {
    /// Users, sorted by email bytes, so equal inputs give byte-identical encodings.
    public internal(set) var users: [UserPartial]
    /// What reading the task's objects found.
    public var statistics: ReadStatistics

    /// A partial from its users (sorted here) and statistics.
    public init(users: [UserPartial], statistics: ReadStatistics) {
        self.users = users.sorted { ByteStringOrder.precedes($0.email, $1.email) }
        self.statistics = statistics
    }
}
