/// Why a line was skipped as malformed (docs/design.md §1.3). The raw values are the stable names used in
/// statistics, the HTTP API and the CLI summary.
public enum MalformedReason: String, CaseIterable, Sendable, Codable, Comparable {
    /// The line is not valid UTF-8.
    case invalidUTF8 = "invalid_utf8"
    /// A CSV row's field count differs from its header's.
    case fieldCount = "field_count"
    /// A CSV row came before any header line.
    case missingHeader = "missing_header"
    /// A timestamp does not parse.
    case badTimestamp = "bad_timestamp"
    /// A byte count is not a non-negative 64-bit integer.
    case badByteCount = "bad_byte_count"
    /// A JSON line does not parse.
    case badJSON = "bad_json"
    /// A field the report needs (time, status, user or service account) is absent or empty.
    case missingField = "missing_field"

    /// Orders reasons by their declaration, so statistics print in a fixed order.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.index < rhs.index }

    /// Position in `allCases`, for array-indexed counters.
    public var index: Int { Self.allCases.firstIndex(of: self)! }
}

/// What a parser made of one line.
public enum LineVerdict: Sendable, Equatable {
    /// A connection-ending record; the event was filled in.
    case event
    /// Not an event at all (a header, a service log line, another event type, an established
    /// connection); not counted anywhere but the line total.
    case notAnEvent
    /// Skipped and counted under this reason.
    case malformed(MalformedReason)
}
