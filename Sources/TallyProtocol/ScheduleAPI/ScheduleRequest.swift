/// `POST /v1/schedules` (and `schedules` in `tally.yaml`): a report that runs by itself.
///
/// `window` is `previous-day`, `previous-week` (Monday to Monday), `previous-month` or
/// `last-N-days`, in `timezone` (default UTC) as of the scheduled time; `every` is `daily`,
/// `weekly` (on `weekday`) or `monthly` (on `day`, 1 to 28), at the local time `at` (`HH:MM`).
public struct ScheduleRequest: Codable, Sendable, Equatable {
    public var name: String
    public var report: String
    public var source: String
    public var window: String
    public var timezone: String?
    public var every: String
    public var weekday: String?
    public var day: Int?
    public var at: String
    public var notify: [String]?
    /// inactive-users reports: as in a job request (`window` then sets the look-back's end).
    public var inactiveDays: Int?
    public var lookbackDays: Int?
    public var users: String?

    public init(
        name: String, report: String, source: String, window: String, timezone: String? = nil, every: String, weekday: String? = nil,
        day: Int? = nil, at: String, notify: [String]? = nil, inactiveDays: Int? = nil, lookbackDays: Int? = nil, users: String? = nil
    ) {
        self.name = name
        self.report = report
        self.source = source
        self.window = window
        self.timezone = timezone
        self.every = every
        self.weekday = weekday
        self.day = day
        self.at = at
        self.notify = notify
        self.inactiveDays = inactiveDays
        self.lookbackDays = lookbackDays
        self.users = users
    }
}

extension ScheduleRequest: WireBody {
    public static let wireKeys: Set<String> = [
        "name", "report", "source", "window", "timezone", "every", "weekday", "day", "at", "notify",
        "inactive_days", "lookback_days", "users",
    ]
}

/// A stored schedule, as the API shows it.
public struct ScheduleInfo: Codable, Sendable, Equatable {
    public var id: String
    public var request: ScheduleRequest
    /// When it runs next (RFC 3339 UTC).
    public var nextRun: String
    /// When it last ran, and the job it made.
    public var lastRun: String?
    public var lastJob: String?

    public init(id: String, request: ScheduleRequest, nextRun: String, lastRun: String?, lastJob: String?) {
        self.id = id
        self.request = request
        self.nextRun = nextRun
        self.lastRun = lastRun
        self.lastJob = lastJob
    }
}

/// `GET /v1/schedules`.
public struct ScheduleList: Codable, Sendable, Equatable {
    public var schedules: [ScheduleInfo]

    public init(schedules: [ScheduleInfo]) {
        self.schedules = schedules
    }
}
