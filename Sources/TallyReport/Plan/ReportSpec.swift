/// What one job's report is, parsed once where a request enters (docs/design.md §3.7): the kind
/// and everything that kind needs. Nothing past the edge reads a report kind from text.
public enum ReportSpec: Sendable, Hashable {
    /// One row per user active in the window.
    case activeUsers(window: ReportWindow)
    /// One row per user with no counted connection in the last days before a moment.
    case inactiveUsers(InactiveUsersSpec)
    /// One row per Resource used in the window.
    case networkSummary(window: ReportWindow)
    /// One row per user and Resource reached in the window, optionally for a directory's users.
    case resourceAccess(window: ReportWindow, directory: String?)

    /// Its kind.
    public var kind: ReportKind {
        switch self {
        case .activeUsers: .activeUsers
        case .inactiveUsers: .inactiveUsers
        case .networkSummary: .networkSummary
        case .resourceAccess: .resourceAccess
        }
    }

    /// What the engine aggregates for it.
    public var shape: ReportShape { kind.shape }

    /// The window of logs the report reads.
    public var window: ReportWindow {
        switch self {
        case .activeUsers(let window), .networkSummary(let window), .resourceAccess(let window, _): window
        case .inactiveUsers(let spec): spec.window
        }
    }

    /// The name of the user directory the report lists, when it takes one.
    public var directory: String? {
        switch self {
        case .activeUsers, .networkSummary: nil
        case .inactiveUsers(let spec): spec.directory
        case .resourceAccess(_, let directory): directory
        }
    }
}

/// An inactive-users report (docs/design.md §1.7): users without a counted connection in the
/// `inactiveDays` before `now`, judged on the `lookbackDays` before it, optionally against a
/// configured user directory listing every user.
public struct InactiveUsersSpec: Sendable, Hashable {
    /// Days without a counted connection that make a user inactive, when a request names none.
    public static let defaultInactiveDays = 90
    /// Days scanned for last connections, when a request names none (at least the inactive days).
    public static let defaultLookbackDays = 365

    /// The end of the look-back (exclusive), microseconds since the epoch.
    public let now: Int64
    public let inactiveDays: Int
    public let lookbackDays: Int
    /// The name of a user directory configured on the coordinator.
    public let directory: String?
    /// The logs read: the `lookbackDays` before `now`.
    public let window: ReportWindow

    /// A checked spec; `inactiveDays` and `lookbackDays` default as documented. A problem names
    /// the request field.
    public init(now: Int64, inactiveDays: Int? = nil, lookbackDays: Int? = nil, directory: String? = nil) throws(ReportWindowError) {
        let inactive = inactiveDays ?? Self.defaultInactiveDays
        guard (1...Int(ReportWindow.maximumDays)).contains(inactive) else {
            throw ReportWindowError(field: "inactive_days", reason: "must be between 1 and \(ReportWindow.maximumDays)")
        }
        let lookback = lookbackDays ?? Self.defaultLookback(inactiveDays: inactive)
        guard lookback >= inactive else {
            throw ReportWindowError(field: "lookback_days", reason: "must be at least inactive_days (\(inactive))")
        }
        self.window = try ReportWindow(days: lookback, endingAt: now)
        self.now = now
        self.inactiveDays = inactive
        self.lookbackDays = lookback
        self.directory = directory
    }

    /// The look-back used when a request names only the inactive days.
    public static func defaultLookback(inactiveDays: Int) -> Int {
        max(defaultLookbackDays, inactiveDays)
    }

    /// The rule the report applies to merged users.
    public var rule: InactiveUsersCSV.Rule {
        InactiveUsersCSV.Rule(now: now, inactiveDays: inactiveDays)
    }
}
