import TallyFormats

/// The exact, additive part of one row's activity (a user's, a Resource's, …): connection
/// counts, bytes, first and last access.
public struct UserCounters: Sendable, Equatable {
    /// Successful connections.
    public var success: UInt64 = 0
    /// Failures with `DNS_ERROR`.
    public var dnsFailures: UInt64 = 0
    /// Every other failure.
    public var otherFailures: UInt64 = 0
    /// Successful connections that went through a relay.
    public var relayedSuccesses: UInt64 = 0
    /// Sum of `bytes_transferred`.
    public var bytesTransferred: UInt64 = 0
    /// Sum of `bytes_received`.
    public var bytesReceived: UInt64 = 0
    /// Latest event time, microseconds since the epoch; `Int64.min` before any event.
    public var lastAccess: Int64 = .min
    /// Earliest event time, microseconds since the epoch; `Int64.max` before any event.
    public var firstAccess: Int64 = .max

    /// No activity yet.
    public init() {}

    /// Counts one connection.
    @inline(__always)
    public mutating func add(_ event: ConnectionEvent) {
        switch event.outcome {
        case .success:
            success &+= 1
            if event.relayed { relayedSuccesses &+= 1 }
        case .dnsFailure: dnsFailures &+= 1
        case .otherFailure: otherFailures &+= 1
        }
        bytesTransferred = Self.saturatingAdd(bytesTransferred, event.bytesTransferred)
        bytesReceived = Self.saturatingAdd(bytesReceived, event.bytesReceived)
        if event.time > lastAccess { lastAccess = event.time }
        if event.time < firstAccess { firstAccess = event.time }
    }

    /// Adds another set of counters (merge of two partials).
    public mutating func merge(_ other: UserCounters) {
        success = Self.saturatingAdd(success, other.success)
        dnsFailures = Self.saturatingAdd(dnsFailures, other.dnsFailures)
        otherFailures = Self.saturatingAdd(otherFailures, other.otherFailures)
        relayedSuccesses = Self.saturatingAdd(relayedSuccesses, other.relayedSuccesses)
        bytesTransferred = Self.saturatingAdd(bytesTransferred, other.bytesTransferred)
        bytesReceived = Self.saturatingAdd(bytesReceived, other.bytesReceived)
        lastAccess = max(lastAccess, other.lastAccess)
        firstAccess = min(firstAccess, other.firstAccess)
    }

    /// Sums are exact up to 2^64 − 1; past that they stay at the maximum rather than wrap to a
    /// small, wrong number (or trap on counts a faulty partial claims).
    @inline(__always)
    static func saturatingAdd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}
