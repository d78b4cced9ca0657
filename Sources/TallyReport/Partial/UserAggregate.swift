import TallySketches

/// One user's aggregates within a partial: exact counters plus the mergeable sketches for
/// distinct devices, distinct client IPs and the heaviest client IPs.
public struct UserAggregate: Sendable {
    /// The email as written in the logs (UTF-8 bytes; compared and sorted as bytes).
    public var email: [UInt8]
    /// Exact counts, bytes and last access.
    public var counters: UserCounters
    /// Distinct non-empty device ids.
    public var devices: DistinctCounter
    /// Distinct non-empty client IPs (compared as text).
    public var clientIPs: DistinctCounter
    /// Connection counts per client IP, for the top-10 list.
    public var topClientIPs: HeavyHitters<[UInt8]>

    /// Roughly the memory the user takes once decoded: what a decoding ceiling counts.
    public var estimatedBytes: Int {
        Self.estimatedBytes(
            emailCount: email.count, sketchBytes: devices.storageBytes + clientIPs.storageBytes + topClientIPs.storageBytes)
    }

    /// A user's aggregates.
    public init(
        email: [UInt8], counters: UserCounters, devices: DistinctCounter, clientIPs: DistinctCounter, topClientIPs: HeavyHitters<[UInt8]>
    ) {
        self.email = email
        self.counters = counters
        self.devices = devices
        self.clientIPs = clientIPs
        self.topClientIPs = topClientIPs
    }

    /// Folds in the same user's aggregates from another partial.
    public mutating func merge(_ other: UserAggregate) {
        counters.merge(other.counters)
        devices.merge(other.devices)
        clientIPs.merge(other.clientIPs)
        topClientIPs.merge(other.topClientIPs)
    }
}
