/// The span of hours a task's objects were filed under, `[start, end)` in microseconds.
public struct TimeShard: Sendable, Hashable {
    /// First hour covered.
    public var start: Int64
    /// End of the last hour covered.
    public var end: Int64

    /// A shard from its bounds.
    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }
}
