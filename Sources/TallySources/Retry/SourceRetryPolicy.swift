/// How reads and listings of a source are retried when they fail in a way that may pass
/// (`SourceError.isTransient`): exponential backoff with full jitter, at least what the server
/// asked for (`Retry-After`), bounded in attempts and in total time. Permanent failures are
/// never retried. The one policy serves the coordinator's listings and the workers' reads.
public struct SourceRetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included.
    public var attempts: Int
    /// The first backoff's ceiling, in seconds; each retry doubles it.
    public var initialBackoffSeconds: Double
    /// The longest backoff, in seconds.
    public var maximumBackoffSeconds: Double
    /// No retry starts once this many seconds have passed since the first attempt.
    public var budgetSeconds: Double
    /// A read that delivers no byte for this long is cut and retried.
    public var stallSeconds: Double
    /// A read is cut and retried once it runs longer than `readGraceSeconds` plus its listed size
    /// at this rate (a body that trickles, a byte at a time, never stalls).
    public var minimumBytesPerSecond: Double
    /// The values a policy may take: a configuration outside them is refused, and a policy
    /// received from elsewhere (a lease grant) is clamped into them.
    public enum Bounds {
        public static let attempts = 1...100
        public static let backoffSeconds = 0.0...3600
        public static let budgetSeconds = 0.0...86_400
        public static let stallSeconds = 0.1...3600
        public static let minimumBytesPerSecond = 1.0...1e12
    }

    /// The same policy with every value clamped into `Bounds`.
    public var clamped: SourceRetryPolicy {
        var policy = self
        policy.attempts = attempts.clamped(to: Bounds.attempts)
        policy.initialBackoffSeconds = initialBackoffSeconds.clamped(to: Bounds.backoffSeconds)
        policy.maximumBackoffSeconds = maximumBackoffSeconds.clamped(to: Bounds.backoffSeconds)
        policy.budgetSeconds = budgetSeconds.clamped(to: Bounds.budgetSeconds)
        policy.stallSeconds = stallSeconds.clamped(to: Bounds.stallSeconds)
        policy.minimumBytesPerSecond = minimumBytesPerSecond.clamped(to: Bounds.minimumBytesPerSecond)
        return policy
    }

    /// The part of a read's budget that does not depend on its size.
    public var readGraceSeconds: Double = 30

    /// A policy; the defaults ride out a short outage or a throttling burst of a minute or two.
    public init(
        attempts: Int = 6, initialBackoffSeconds: Double = 0.5, maximumBackoffSeconds: Double = 30, budgetSeconds: Double = 300,
        stallSeconds: Double = 15, minimumBytesPerSecond: Double = 65_536
    ) {
        self.attempts = attempts
        self.initialBackoffSeconds = initialBackoffSeconds
        self.maximumBackoffSeconds = maximumBackoffSeconds
        self.budgetSeconds = budgetSeconds
        self.stallSeconds = stallSeconds
        self.minimumBytesPerSecond = minimumBytesPerSecond
    }

    /// The longest a read of an object of `size` bytes may take.
    public func readBudgetSeconds(size: Int64) -> Double {
        readGraceSeconds + Double(max(size, 0)) / max(minimumBytesPerSecond, 1)
    }

    /// The pause before retry number `retry` (1 for the first retry): a random point in
    /// `[0, min(maximum, initial × 2^(retry−1))]`, and never less than `retryAfter`.
    public func backoff(beforeRetry retry: Int, retryAfter: Double?, using generator: inout some RandomNumberGenerator) -> Double {
        let ceiling = min(maximumBackoffSeconds, initialBackoffSeconds * Double(1 << min(max(retry - 1, 0), 30)))
        let jittered = ceiling > 0 ? Double.random(in: 0...ceiling, using: &generator) : 0
        return max(jittered, min(retryAfter ?? 0, maximumBackoffSeconds))
    }

    /// Runs `operation`, retrying it as the policy says; `onRetry` hears each retry (its number,
    /// the error and the pause) before the pause. The last error is thrown when no retry is left.
    public func run<T>(
        _ operation: () async throws -> T,
        onRetry: (_ retry: Int, _ error: SourceError, _ pauseSeconds: Double) -> Void = { _, _, _ in }
    ) async throws -> T {
        let started = ContinuousClock.now
        var generator = SystemRandomNumberGenerator()
        var attempt = 1
        while true {
            do {
                return try await operation()
            } catch let error as SourceError where error.isTransient {
                let elapsed = ContinuousClock.now - started
                guard attempt < attempts, elapsed < .milliseconds(Int64(budgetSeconds * 1000)) else { throw error }
                let pause = backoff(beforeRetry: attempt, retryAfter: error.retryAfterSeconds, using: &generator)
                onRetry(attempt, error, pause)
                try await Task.sleep(for: .milliseconds(Int64(pause * 1000)))
                attempt += 1
            }
        }
    }
}

extension Comparable {
    /// The value, or the nearest bound of `range` when it lies outside.
    func clamped(to range: ClosedRange<Self>) -> Self {
        min(max(self, range.lowerBound), range.upperBound)
    }
}
