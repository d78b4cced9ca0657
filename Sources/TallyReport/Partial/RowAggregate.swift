import TallySketches

/// One row's aggregates within a partial — a user's, a Resource's, or a user and Resource's
/// (`RowKey`): exact counters plus the mergeable sketches the report's shape keeps
/// (`ReportShape`). Measures a shape does not keep stay empty.
public struct RowAggregate: Sendable {
    /// The row's key (an email, a Resource id, or a pair's key as `RowKey.pair` writes it);
    /// compared and sorted as bytes.
    public var key: [UInt8]
    /// Exact counts, bytes, first and last access.
    public var counters: UserCounters
    /// Distinct non-empty device ids.
    public var devices: DistinctCounter
    /// Distinct non-empty client IPs (compared as text).
    public var clientIPs: DistinctCounter
    /// Connection counts per value of the top-10 list: client IPs by user, addresses reached
    /// by Resource.
    public var topValues: HeavyHitters<[UInt8]>
    /// Connection counts per address or rule the log names for the Resource.
    public var resourceAddresses: HeavyHitters<[UInt8]>
    /// Connection counts per Remote Network, keyed by `RowKey.pair(name, id)`.
    public var networks: HeavyHitters<[UInt8]>
    /// Connection counts per protocol.
    public var transports: HeavyHitters<[UInt8]>

    /// Roughly the memory the row takes once decoded: what a decoding ceiling counts.
    public var estimatedBytes: Int {
        Self.estimatedBytes(
            emailCount: key.count,
            sketchBytes: devices.storageBytes + clientIPs.storageBytes + topValues.storageBytes + resourceAddresses.storageBytes
                + networks.storageBytes + transports.storageBytes)
    }

    /// A row's aggregates.
    public init(
        key: [UInt8], counters: UserCounters, devices: DistinctCounter = DistinctCounter(), clientIPs: DistinctCounter = DistinctCounter(),
        topValues: HeavyHitters<[UInt8]> = HeavyHitters(), resourceAddresses: HeavyHitters<[UInt8]> = HeavyHitters(),
        networks: HeavyHitters<[UInt8]> = HeavyHitters(), transports: HeavyHitters<[UInt8]> = HeavyHitters()
    ) {
        self.key = key
        self.counters = counters
        self.devices = devices
        self.clientIPs = clientIPs
        self.topValues = topValues
        self.resourceAddresses = resourceAddresses
        self.networks = networks
        self.transports = transports
    }

    /// Folds in the same row's aggregates from another partial.
    public mutating func merge(_ other: RowAggregate) {
        counters.merge(other.counters)
        devices.merge(other.devices)
        clientIPs.merge(other.clientIPs)
        topValues.merge(other.topValues)
        resourceAddresses.merge(other.resourceAddresses)
        networks.merge(other.networks)
        transports.merge(other.transports)
    }
}
