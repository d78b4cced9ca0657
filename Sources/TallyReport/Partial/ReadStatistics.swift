import TallyFormats

/// What reading a task's (or a job's) objects found, beyond the per-user aggregates.
public struct ReadStatistics: Sendable, Equatable, Codable {
    /// Objects read.
    public var objects: Int64 = 0
    /// Raw bytes read (compressed size for gzip objects).
    public var bytes: Int64 = 0
    /// What the lines were.
    public var lines = LineStatistics()
    /// Events whose time lies in the window.
    public var eventsInWindow: Int64 = 0
    /// In-window events without a user email (service accounts), left out of the report.
    public var serviceAccountEvents: Int64 = 0
    /// The earliest and latest event time read, whether in the window or not; nil when no event
    /// was read (or the partial predates it).
    public var eventSpan: EventSpan?
    /// The engine revision (`Partial.engineRevision`) of the worker that read it; nil when
    /// unknown (an older worker) or when tasks of different revisions were summed.
    public var engineRevision: Int?

    /// Nothing read yet.
    public init() {}

    /// Adds another task's statistics.
    public mutating func add(_ other: ReadStatistics) {
        objects = objects.saturatingAdd(other.objects)
        bytes = bytes.saturatingAdd(other.bytes)
        lines.add(other.lines)
        eventsInWindow = eventsInWindow.saturatingAdd(other.eventsInWindow)
        serviceAccountEvents = serviceAccountEvents.saturatingAdd(other.serviceAccountEvents)
        eventSpan = EventSpan.union(eventSpan, other.eventSpan)
        if engineRevision != other.engineRevision { engineRevision = nil }
    }
}
