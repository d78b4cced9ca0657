import TallyFormats

/// What reading a job's objects found, in the API's JSON form.
public struct JobStatistics: Codable, Sendable, Equatable {
    /// Lines read.
    public var lines: Int64
    /// Well-formed connection-ending events.
    public var events: Int64
    /// Events inside the window.
    public var eventsInWindow: Int64
    /// In-window events without a user email: left out of reports by user, counted by Resource.
    public var serviceAccountRows: Int64
    /// Lines that were not events (headers, service log lines, other event types).
    public var otherLines: Int64
    /// Malformed lines by reason name (only reasons that occurred).
    public var malformed: [String: Int64]
    /// The first malformed lines, with object and line number.
    public var malformedSamples: [MalformedSample]
    /// Source reads (objects, listings excluded) that failed in a way that may pass and were tried again.
    public var sourceRetries: Int64 = 0
    /// Straggling tasks given a second lease on another worker.
    public var taskCopiesStarted: Int64 = 0
    /// Of those, the copies that committed before the first lease did.
    public var taskCopiesWon: Int64 = 0
    /// Tasks computed by this job's workers, and tasks whose partial came from the shard cache.
    public var shardsComputed: Int64?
    public var shardsReused: Int64?
    /// Objects and bytes this job's workers read from the source (the cached shards' excluded).
    public var objectsRead: Int64?
    public var bytesRead: Int64?

    /// One malformed line kept as an example.
    public struct MalformedSample: Codable, Sendable, Equatable {
        /// Object name.
        public var object: String
        /// 1-based line number.
        public var line: Int64
        /// Reason name.
        public var reason: String

        /// A sample.
        public init(object: String, line: Int64, reason: String) {
            self.object = object
            self.line = line
            self.reason = reason
        }
    }

    /// Statistics from their parts.
    public init(
        lines: Int64, events: Int64, eventsInWindow: Int64, serviceAccountRows: Int64, otherLines: Int64,
        malformed: [String: Int64], malformedSamples: [MalformedSample]
    ) {
        self.lines = lines
        self.events = events
        self.eventsInWindow = eventsInWindow
        self.serviceAccountRows = serviceAccountRows
        self.otherLines = otherLines
        self.malformed = malformed
        self.malformedSamples = malformedSamples
    }

    /// Total malformed lines (saturating: the counts come from workers).
    public var malformedTotal: Int64 { malformed.values.reduce(0) { $0.saturatingAdd($1) } }
}
