/// A task as the worker protocol carries it in a `LeaseGrant` (and as the coordinator stores it): the
/// objects a worker reads into one partial. Its JSON is fixed by the protocol version, whatever
/// the engine's own types become (see `EngineConversions`).
public struct WireTask: Codable, Sendable, Equatable {
    /// Position in the plan; partials merge in this order.
    public var index: Int
    /// The hours the objects were filed under, microseconds; absent for undated objects.
    public var shard: WireTimeRange?
    /// Objects to read, in order.
    public var objects: [WireObject]

    /// A task.
    public init(index: Int, shard: WireTimeRange?, objects: [WireObject]) {
        self.index = index
        self.shard = shard
        self.objects = objects
    }
}

/// One object of a task.
public struct WireObject: Codable, Sendable, Equatable {
    /// Path relative to the source's root.
    public var name: String
    /// Listed size in bytes; 0 when unknown.
    public var size: Int64
    /// The time range the name announces, microseconds; absent when it names none.
    public var nameTime: WireTimeRange?
    /// The listing's ETag or modification time; absent when it tells none.
    public var version: String?

    /// An object.
    public init(name: String, size: Int64, nameTime: WireTimeRange?, version: String? = nil) {
        self.name = name
        self.size = size
        self.nameTime = nameTime
        self.version = version
    }
}

/// A half-open range `[start, end)` in microseconds since the epoch.
public struct WireTimeRange: Codable, Sendable, Equatable {
    /// First microsecond.
    public var start: Int64
    /// End (exclusive).
    public var end: Int64

    /// A range.
    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }
}

/// The report window `[from, to)` in microseconds since the epoch.
public struct WireWindow: Codable, Sendable, Equatable {
    /// First instant included.
    public var from: Int64
    /// First instant excluded.
    public var to: Int64

    /// A window.
    public init(from: Int64, to: Int64) {
        self.from = from
        self.to = to
    }
}
