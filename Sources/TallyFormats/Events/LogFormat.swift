/// The log formats tally reads (docs/design.md §2.1), plus `auto`, which decides per object.
public enum LogFormat: String, CaseIterable, Sendable, Codable {
    /// Detect the format from the first line of each object.
    case auto
    /// Network Events CSV export.
    case twingateCSV = "twingate-csv"
    /// S3 sync JSON lines.
    case twingateS3 = "twingate-s3"
    /// Connector `ANALYTICS` real-time log lines.
    case twingateAnalytics = "twingate-analytics"

    /// File extensions this format reads, each optionally followed by `.gz`.
    public var extensions: [String] {
        switch self {
        case .auto: return [".csv", ".json", ".ndjson", ".log"]
        case .twingateCSV: return [".csv"]
        case .twingateS3: return [".json", ".ndjson"]
        case .twingateAnalytics: return [".log"]
        }
    }

    /// Whether an object with this name is one this format reads. Names whose last path
    /// component starts with `_` or `.` are never read (the Hadoop/Spark convention for
    /// `_SUCCESS` and the like); callers check folders the same way while walking.
    public func reads(objectNamed name: some StringProtocol) -> Bool {
        let last = String(name).split(separator: "/").last.map(String.init) ?? String(name)
        if Self.isHidden(last) { return false }
        let base = last.hasSuffix(".gz") ? String(last.dropLast(3)) : last
        return extensions.contains { base.hasSuffix($0) && base.count > $0.count }
    }

    /// Whether a file or folder name is skipped by convention (`_SUCCESS`, `.hidden`).
    public static func isHidden(_ component: some StringProtocol) -> Bool {
        component.hasPrefix("_") || component.hasPrefix(".")
    }
}
