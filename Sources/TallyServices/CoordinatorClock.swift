import Foundation

/// Where the coordinator's time comes from: wall-clock seconds since the epoch, because lease
/// deadlines and timestamps are stored and must mean the same after a restart. Injected, and
/// the background services wait on it too, so tests move time forward by hand and watch leases
/// expire, jobs merge and schedules fire without sleeping.
public protocol CoordinatorClock: Sendable {
    /// Seconds since 1970-01-01 UTC.
    func now() -> Double
    /// Returns once `seconds` have passed on this clock; throws `CancellationError` when the
    /// task is cancelled first.
    func sleep(seconds: Double) async throws
}

/// The system's wall clock.
public struct SystemClock: CoordinatorClock {
    /// The system clock.
    public init() {}

    public func now() -> Double { Date().timeIntervalSince1970 }

    public func sleep(seconds: Double) async throws {
        try await Task.sleep(for: .nanoseconds(Int64(max(0, seconds) * 1e9)))
    }
}
