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
    /// A read without progress for this long is cut and retried.
    public var stallSeconds: Double
    /// A read slower than this (after 30 s of grace) is cut and retried.
    public var minimumBytesPerSecond: Double

    /// A policy.
    public init(
        attempts: Int, initialBackoffSeconds: Double, maximumBackoffSeconds: Double, budgetSeconds: Double,
        stallSeconds: Double, minimumBytesPerSecond: Double
    ) {
        self.attempts = attempts
        self.initialBackoffSeconds = initialBackoffSeconds
        self.maximumBackoffSeconds = maximumBackoffSeconds
        self.budgetSeconds = budgetSeconds
        self.stallSeconds = stallSeconds
        self.minimumBytesPerSecond = minimumBytesPerSecond
    }
}
