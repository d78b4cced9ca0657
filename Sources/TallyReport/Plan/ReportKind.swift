/// The reports tally can make; the wire names are the raw values.
public enum ReportKind: String, Codable, Sendable, CaseIterable {
    /// One row per user active in the window.
    case activeUsers = "active-users"
    /// One row per user of the directory or the look-back with no counted connection in the
    /// last `inactive_days` before `now`.
    case inactiveUsers = "inactive-users"
    /// One row per Resource, as Twingate's Network Summary export.
    case networkSummary = "network-summary"
    /// One row per user and Resource reached: who reached what, for access reviews.
    case resourceAccess = "resource-access"

    /// What the engine aggregates for it.
    public var shape: ReportShape {
        switch self {
        case .activeUsers, .inactiveUsers: .byUser
        case .networkSummary: .byResource
        case .resourceAccess: .byUserAndResource
        }
    }

    /// Whether it can list the users of a directory export, not only those the logs name.
    public var takesDirectory: Bool { self == .inactiveUsers || self == .resourceAccess }

    /// The kinds, for messages: `active-users, inactive-users, …`.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
