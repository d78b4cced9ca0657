/// One unit of work: the objects a worker reads and aggregates into one partial.
///
/// A task is self-contained — with the job's source, format and window it is everything a
/// worker needs, and a partial is everything it returns.
public struct ReportTask: Sendable, Hashable {
    /// Position in the plan; partials merge in this order.
    public var index: Int
    /// The hours the objects were filed under; `nil` for objects whose names carry no time.
    public var shard: TimeShard?
    /// Objects to read, in order.
    public var objects: [LogObject]

    /// A task.
    public init(index: Int, shard: TimeShard?, objects: [LogObject]) {
        self.index = index
        self.shard = shard
        self.objects = objects
    }

    /// Total listed size of the task's objects.
    public var bytes: Int64 { objects.reduce(0) { $0.saturatingAdd($1.size) } }
}
