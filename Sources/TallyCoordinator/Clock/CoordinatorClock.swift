import Foundation

/// Where the coordinator's idea of "now" comes from: wall-clock seconds since the epoch, because
/// lease deadlines and timestamps are stored and must mean the same after a restart. Injected,
/// so tests move time forward instead of sleeping.
public protocol CoordinatorClock: Sendable {
    /// Seconds since 1970-01-01 UTC.
    func now() -> Double
}

/// The system's wall clock.
public struct SystemClock: CoordinatorClock {
    /// The system clock.
    public init() {}

    public func now() -> Double { Date().timeIntervalSince1970 }
}
