/// The source retry policy as a `LeaseGrant` carries it (see `SourceRetryPolicy`).
public struct WireRetryPolicy: Codable, Sendable, Equatable {
    /// Attempts in all, the first included.
    public var attempts: Int
    /// The first backoff's ceiling, seconds.
    public var initialBackoffSeconds: Double
    /// The longest backoff, seconds.
    public var maximumBackoffSeconds: Double
    /// No retry starts after this many seconds.
    public var budgetSeconds: Double

    /// A policy.
    public init(attempts: Int, initialBackoffSeconds: Double, maximumBackoffSeconds: Double, budgetSeconds: Double) {
        self.attempts = attempts
        self.initialBackoffSeconds = initialBackoffSeconds
        self.maximumBackoffSeconds = maximumBackoffSeconds
        self.budgetSeconds = budgetSeconds
    }
}
