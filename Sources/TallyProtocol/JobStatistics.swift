import TallyFormats
import TallyReport

/// What reading a job's objects found, in the API's JSON form.
public struct JobStatistics: Codable, Sendable, Equatable {
    /// Lines read.
    public var lines: Int64
    /// Well-formed connection-ending events.
    public var events: Int64
    /// Events inside the window.
    public var eventsInWindow: Int64
    /// In-window events without a user email, left out of the report.
    public var serviceAccountRows: Int64
    /// Lines that were not events (headers, service log lines, other event types).
    public var otherLines: Int64
    /// Malformed lines by reason name (only reasons that occurred).
    public var malformed: [String: Int64]
    /// The first malformed lines, with object and line number.
    public var malformedSamples: [MalformedSample]

    /// One malformed line kept as an example.
    public struct MalformedSample: Codable, Sendable, Equatable {
        /// Object name.
        public var object: String
        /// 1-based line number.
        public var line: Int64
        /// Reason name.
        public var reason: String
    }

    /// The API form of engine statistics.
    public init(_ s: ReadStatistics) {
        lines = s.lines.lines
        events = s.lines.events
        eventsInWindow = s.eventsInWindow
        serviceAccountRows = s.serviceAccountEvents
        otherLines = s.lines.notEvents
        var malformed: [String: Int64] = [:]
        for reason in MalformedReason.allCases where s.lines[reason] > 0 { malformed[reason.rawValue] = s.lines[reason] }
        self.malformed = malformed
        malformedSamples = s.lines.samples.map { MalformedSample(object: $0.object, line: $0.line, reason: $0.reason.rawValue) }
    }

    /// Total malformed lines.
    public var malformedTotal: Int64 { malformed.values.reduce(0, +) }
}
