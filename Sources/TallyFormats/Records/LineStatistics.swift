/// Counts of what the lines of one or more objects turned out to be.
public struct LineStatistics: Sendable, Equatable, Codable {
    /// One malformed line kept as an example, so an operator can find and fix the source.
    public struct Sample: Sendable, Equatable, Codable {
        /// Object the line came from.
        public var object: String
        /// 1-based line number within the (decompressed) object.
        public var line: Int64
        /// Why it was skipped.
        public var reason: MalformedReason

        /// A sample of a malformed line.
        public init(object: String, line: Int64, reason: MalformedReason) {
            self.object = object
            self.line = line
            self.reason = reason
        }
    }

    /// How many malformed-line samples are kept.
    public static let sampleLimit = 10

    /// Records read (physical lines for JSON formats; CSV records may span lines).
    public var lines: Int64 = 0
    /// Well-formed connection-ending records.
    public var events: Int64 = 0
    /// Lines that are not events (headers, service log lines, other event types, established connections).
    public var notEvents: Int64 = 0
    /// Malformed lines by reason, indexed by `MalformedReason.index`.
    public var malformedByReason: [Int64] = Array(repeating: 0, count: MalformedReason.allCases.count)
    /// The first malformed lines seen, up to `sampleLimit`.
    public var samples: [Sample] = []

    /// Empty statistics.
    public init() {}

    /// All malformed lines.
    public var malformed: Int64 { malformedByReason.reduce(0) { $0.saturatingAdd($1) } }

    /// Malformed count for one reason.
    public subscript(reason: MalformedReason) -> Int64 { malformedByReason[reason.index] }

    /// Counts one malformed line, keeping it as a sample while there is room.
    public mutating func recordMalformed(_ reason: MalformedReason, object: String, line: Int64) {
        malformedByReason[reason.index] += 1
        if samples.count < Self.sampleLimit {
            samples.append(Sample(object: object, line: line, reason: reason))
        }
    }

    /// Adds another set of counts; samples are kept in the order given, up to the limit.
    public mutating func add(_ other: LineStatistics) {
        lines = lines.saturatingAdd(other.lines)
        events = events.saturatingAdd(other.events)
        notEvents = notEvents.saturatingAdd(other.notEvents)
        for i in malformedByReason.indices { malformedByReason[i] = malformedByReason[i].saturatingAdd(other.malformedByReason[i]) }
        samples.append(contentsOf: other.samples.prefix(Self.sampleLimit - samples.count))
    }
}
