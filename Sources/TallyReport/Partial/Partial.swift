import TallySketches

/// One task's result: per-row aggregates (by user, by Resource, … as `rowKey` says) over the
/// events of the task's objects that fall in the job's window, plus what reading found.
/// Partials of a plan merge into the report.
public struct Partial: Sendable {
    /// Changes whenever the same bytes would give a different partial (a parser, a counter or a
    /// sketch changed), so that partials cached by an older engine are not reused (§3.6).
    public static let engineRevision = 3

    /// Rows, sorted by key bytes, so equal inputs give byte-identical encodings.
    public internal(set) var rows: [RowAggregate]
    /// What the rows are keyed by: which report's aggregation this is.
    public let rowKey: RowKey
    /// What reading the task's objects found.
    public var statistics: ReadStatistics

    /// A partial from its rows (sorted here; two entries for one key are merged into one,
    /// since mergers rely on each key appearing once) and statistics.
    public init(rows: [RowAggregate], rowKey: RowKey = .user, statistics: ReadStatistics) {
        var unique: [RowAggregate] = []
        unique.reserveCapacity(rows.count)
        for row in rows.sorted(by: { ByteStringOrder.precedes($0.key, $1.key) }) {
            if let last = unique.indices.last, unique[last].key == row.key {
                unique[last].merge(row)
            } else {
                unique.append(row)
            }
        }
        self.rows = unique
        self.rowKey = rowKey
        self.statistics = statistics
    }
}
