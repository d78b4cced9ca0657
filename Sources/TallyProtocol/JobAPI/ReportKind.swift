/// The reports tally can make.
public enum ReportKind: String, Codable, Sendable, CaseIterable {
    /// One row per user active in the window.
    case activeUsers = "active-users"
}
