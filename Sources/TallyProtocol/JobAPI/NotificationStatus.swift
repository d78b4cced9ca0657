/// One notification of a job's end to one target, as the job status shows it.
public struct NotificationStatus: Codable, Sendable, Equatable {
    /// The configured target's name.
    public var target: String
    /// `pending` (waiting for its next attempt), `delivered`, `failed` (its retries are spent)
    /// or `stopped` (the target answered 410 Gone).
    public var state: String
    /// Attempts made so far.
    public var attempts: Int
    /// The HTTP status of the last attempt, when one answered.
    public var lastStatus: Int?
    /// Why the last attempt failed, when it did.
    public var lastError: String?
    /// When the next attempt is due (RFC 3339), while pending.
    public var nextAttemptAt: String?

    public init(target: String, state: String, attempts: Int, lastStatus: Int?, lastError: String?, nextAttemptAt: String?) {
        self.target = target
        self.state = state
        self.attempts = attempts
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
    }
}
