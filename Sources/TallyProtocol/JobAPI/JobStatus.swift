/// `GET /v1/jobs/{id}`: a job's state, progress, statistics and timestamps.
public struct JobStatus: Codable, Sendable, Equatable {
    /// Job id.
    public var id: String
    /// Report kind.
    public var report: String
    /// Configured source name.
    public var source: String
    /// Window start as requested (active-users).
    public var from: String?
    /// Window end as requested (active-users).
    public var to: String?
    /// inactive-users: the rule, with the `now` used (RFC 3339 UTC), and the user directory.
    public var inactiveDays: Int?
    public var lookbackDays: Int?
    public var now: String?
    public var userDirectory: String?
    /// Time zone as requested.
    public var timezone: String?
    /// Window start, RFC 3339 UTC.
    public var windowFrom: String
    /// Window end, RFC 3339 UTC.
    public var windowTo: String
    /// The window as the requester's zone (`timezone`) shows it, with the offsets in force.
    public var windowFromLocal: String?
    public var windowToLocal: String?
    /// Bounds given as local times the zone skips or shows twice, and the instant used for each.
    public var windowNotes: [String]?
    /// Current state.
    public var state: JobState
    /// How far along it is.
    public var progress: JobProgress
    /// What reading found so far.
    public var statistics: JobStatistics
    /// Why it failed, when it did.
    public var error: String?
    /// Rows in the result, once merged (users, Resources, or user and Resource pairs).
    public var users: Int?
    /// Size of the CSV result, once merged.
    public var resultBytes: Int64?
    /// When a succeeded job's result is (or was) removed (RFC 3339), and whether it is gone.
    public var resultExpiresAt: String?
    public var resultExpired: Bool?
    /// Each notification of the job's end: where, how it went.
    public var notifications: [NotificationStatus]?
    /// When the job was submitted (RFC 3339).
    public var createdAt: String
    /// When planning finished and tasks became available.
    public var startedAt: String?
    /// When the last task's partial was committed: the merge phase runs from here to
    /// `finishedAt` (it is short because partials are merged as they arrive).
    public var lastPartialAt: String?
    /// When it reached a terminal state.
    public var finishedAt: String?

    /// A status.
    public init(
        id: String, report: String, source: String, from: String?, to: String?,
        inactiveDays: Int? = nil, lookbackDays: Int? = nil, now: String? = nil, userDirectory: String? = nil, timezone: String?,
        windowFrom: String, windowTo: String, state: JobState, progress: JobProgress, statistics: JobStatistics,
        error: String?, users: Int?, resultBytes: Int64?, createdAt: String, startedAt: String?,
        lastPartialAt: String? = nil, finishedAt: String?, resultExpiresAt: String? = nil, resultExpired: Bool? = nil
    ) {
        self.id = id
        self.report = report
        self.source = source
        self.from = from
        self.to = to
        self.inactiveDays = inactiveDays
        self.lookbackDays = lookbackDays
        self.now = now
        self.userDirectory = userDirectory
        self.timezone = timezone
        self.windowFrom = windowFrom
        self.windowTo = windowTo
        self.state = state
        self.progress = progress
        self.statistics = statistics
        self.error = error
        self.users = users
        self.resultBytes = resultBytes
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.lastPartialAt = lastPartialAt
        self.finishedAt = finishedAt
        self.resultExpiresAt = resultExpiresAt
        self.resultExpired = resultExpired
    }
}
