/// The reports tally can make; the wire names are the raw values.
public enum ReportKind: String, Codable, Sendable, CaseIterable {
    /// One row per user active in the window.
    case activeUsers = "active-users"
    /// One row per user of the directory or the look-back with no counted connection in the
    /// last `inactive_days` before `now`.
    case inactiveUsers = "inactive-users"

    /// The kinds, for messages: `active-users, inactive-users`.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
