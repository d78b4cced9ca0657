/// `POST /v1/jobs`: what report to make, from which configured source, over which window.
public struct JobRequest: Codable, Sendable, Equatable {
    /// The report kind; `active-users` for now.
    public var report: String
    /// The name of a source in the coordinator's configuration (never a URL).
    public var source: String
    /// Window start: RFC 3339 instant, or a local date/time when `timezone` is given.
    public var from: String
    /// Window end (exclusive), same forms as `from`.
    public var to: String
    /// IANA time zone for local dates and times.
    public var timezone: String?
    /// The largest share (0 to 1) of the lines read that may be malformed; past it the job fails
    /// with the share and the first samples, instead of giving a report built on broken input.
    public var maxMalformedShare: Double?

    /// A request.
    public init(report: String, source: String, from: String, to: String, timezone: String? = nil, maxMalformedShare: Double? = nil) {
        self.report = report
        self.source = source
        self.from = from
        self.to = to
        self.timezone = timezone
        self.maxMalformedShare = maxMalformedShare
    }
}
