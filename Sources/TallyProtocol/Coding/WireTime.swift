import TallyFormats

/// Instants as the API writes them: RFC 3339 UTC with milliseconds.
public enum WireTime {
    /// `2026-10-01T08:00:00.000Z` for seconds since the epoch.
    public static func timestamp(_ seconds: Double) -> String {
        CivilTime.rfc3339Millis(micros: Int64((seconds * 1_000_000).rounded()))
    }
}
