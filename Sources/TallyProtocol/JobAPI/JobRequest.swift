/// `POST /v1/jobs`: what report to make, from which configured source, over which window.
public struct JobRequest: Codable, Sendable, Equatable {
    /// The report kind: `active-users` or `inactive-users`.
    public var report: String
    /// The name of a source in the coordinator's configuration (never a URL).
    public var source: String
    /// Window start: RFC 3339 instant, or a local date/time when `timezone` is given (active-users).
    public var from: String?
    /// Window end (exclusive), same forms as `from` (active-users).
    public var to: String?
    /// IANA time zone for local dates and times.
    public var timezone: String?
    /// The largest share (0 to 1) of the lines read that may be malformed; past it the job fails
    /// with the share and the first samples, instead of giving a report built on broken input.
    public var maxMalformedShare: Double?
    /// inactive-users: days without a counted connection that make a user inactive (default 90).
    public var inactiveDays: Int?
    /// inactive-users: the days before `now` scanned for last connections (default 365, at
    /// least `inactive_days`).
    public var lookbackDays: Int?
    /// inactive-users: the end of the look-back, same forms as `from` (default: when submitted;
    /// the stored job holds the instant used).
    public var now: String?
    /// inactive-users: the name of a user directory in the coordinator's configuration (never a URL).
    public var users: String?
    /// Notification targets configured on the coordinator (by name, never a URL) told when the
    /// job ends.
    public var notify: [String]?
    /// E-mail addresses told when the job ends (in the coordinator's allowed domains).
    public var notifyEmails: [String]?

    /// A request.
    public init(
        report: String, source: String, from: String? = nil, to: String? = nil, timezone: String? = nil,
        maxMalformedShare: Double? = nil, inactiveDays: Int? = nil, lookbackDays: Int? = nil, now: String? = nil,
        users: String? = nil, notify: [String]? = nil
    ) {
        self.report = report
        self.source = source
        self.from = from
        self.to = to
        self.timezone = timezone
        self.maxMalformedShare = maxMalformedShare
        self.inactiveDays = inactiveDays
        self.lookbackDays = lookbackDays
        self.now = now
        self.users = users
        self.notify = notify
    }
}
