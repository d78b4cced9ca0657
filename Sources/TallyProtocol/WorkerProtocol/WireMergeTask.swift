/// A merge task as a `LeaseGrant` carries it (worker protocol, merge extension; docs/design.md
/// §3.9): merge one range of users across all of a merging job's partials, in plan order, into
/// that range's CSV rows. Only workers that announce `WorkerProtocol.mergeCapability` get one.
public struct WireMergeTask: Codable, Sendable, Equatable {
    /// The job's partials, read by index `0..<partials` through the lease.
    public var partials: Int
    /// The range's first email (base64 of its bytes); absent: from the first user.
    public var lower: String?
    /// The first email after the range (base64); absent: to the last user.
    public var upper: String?
    /// The report kind: `active-users` or `inactive-users`.
    public var report: String
    /// inactive-users: the end of the look-back, microseconds since the epoch.
    public var now: Int64?
    /// inactive-users: days without a counted connection that make a user inactive.
    public var inactiveDays: Int?
    /// inactive-users: days scanned before `now`.
    public var lookbackDays: Int?
    /// inactive-users: whether the job lists a user directory (read through the lease).
    public var directory: Bool?

    /// A merge task.
    public init(
        partials: Int, lower: String?, upper: String?, report: String, now: Int64? = nil, inactiveDays: Int? = nil,
        lookbackDays: Int? = nil, directory: Bool? = nil
    ) {
        self.partials = partials
        self.lower = lower
        self.upper = upper
        self.report = report
        self.now = now
        self.inactiveDays = inactiveDays
        self.lookbackDays = lookbackDays
        self.directory = directory
    }
}
