/// The earliest and latest event time a task read, microseconds since the epoch, both included.
///
/// A partial whose span lies inside two windows is the same partial for both: the window
/// filter dropped nothing in either. That is what lets a cached shard serve a later job
/// (docs/design.md §3.6).
public struct EventSpan: Sendable, Hashable, Codable {
    /// Time of the earliest event.
    public var earliest: Int64
    /// Time of the latest event.
    public var latest: Int64

    /// A span from its ends.
    public init(earliest: Int64, latest: Int64) {
        self.earliest = earliest
        self.latest = latest
    }

    /// Whether every event of the span lies in `window`.
    public func lies(in window: ReportWindow) -> Bool {
        earliest >= window.from && latest < window.to
    }

    /// The span covering both; either may be absent.
    public static func union(_ a: EventSpan?, _ b: EventSpan?) -> EventSpan? {
        guard let a else { return b }
        guard let b else { return a }
        return EventSpan(earliest: min(a.earliest, b.earliest), latest: max(a.latest, b.latest))
    }
}
