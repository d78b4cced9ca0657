/// Progress of a job's tasks.
public struct JobProgress: Codable, Sendable, Equatable {
    /// Tasks whose partial is committed.
    public var tasksDone: Int
    /// Tasks in the plan.
    public var tasksTotal: Int
    /// Objects read by committed tasks.
    public var objects: Int64
    /// Objects in the plan.
    public var objectsTotal: Int64
    /// Bytes read by committed tasks.
    public var bytes: Int64
    /// Bytes in the plan (listed sizes).
    public var bytesTotal: Int64
    /// Well-formed events read by committed tasks.
    public var events: Int64
    /// Events per second since the job started.
    public var eventsPerSecond: Double
    /// Estimated seconds to completion, from the byte rate so far.
    public var etaSeconds: Double?

    /// Progress figures.
    public init(
        tasksDone: Int, tasksTotal: Int, objects: Int64, objectsTotal: Int64, bytes: Int64, bytesTotal: Int64,
        events: Int64, eventsPerSecond: Double, etaSeconds: Double?
    ) {
        self.tasksDone = tasksDone
        self.tasksTotal = tasksTotal
        self.objects = objects
        self.objectsTotal = objectsTotal
        self.bytes = bytes
        self.bytesTotal = bytesTotal
        self.events = events
        self.eventsPerSecond = eventsPerSecond
        self.etaSeconds = etaSeconds
    }
}
