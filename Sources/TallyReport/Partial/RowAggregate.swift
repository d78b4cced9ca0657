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
    /// The Resource's names, kept by reports by Resource; nil in a report by user, whose rows so
    /// carry no empty summaries to copy, retain and merge (the in-memory merge was 15 % slower
    /// with them inline).
    public var resourceNames: ResourceNames?

    /// Connection counts per address or rule the log names for the Resource, per Remote Network
    /// (keyed by `RowKey.pair(name, id)`) and per protocol.
    public struct ResourceNames: Sendable {
        public var addresses = HeavyHitters<[UInt8]>()
        public var networks = HeavyHitters<[UInt8]>()
        public var transports = HeavyHitters<[UInt8]>()

        public init() {}

        /// Whether nothing was counted (the three summaries as `init()` makes them).
        public var isUntouched: Bool { addresses.isUntouched && networks.isUntouched && transports.isUntouched }

        /// Folds in another row's names; an untouched summary is passed over, as the streamed merge
        /// passes over its bytes (`Partial.mergeUser`), so both merges give the same bytes.
        public mutating func merge(_ other: ResourceNames) {
            for path in [\ResourceNames.addresses, \.networks, \.transports] where !other[keyPath: path].isUntouched {
                self[keyPath: path].merge(other[keyPath: path])
            }
        }
    }

    /// Connection counts per address or rule the log names for the Resource.
    public var resourceAddresses: HeavyHitters<[UInt8]> { resourceNames?.addresses ?? HeavyHitters() }
    /// Connection counts per Remote Network, keyed by `RowKey.pair(name, id)`.
    public var networks: HeavyHitters<[UInt8]> { resourceNames?.networks ?? HeavyHitters() }
    /// Connection counts per protocol.
    public var transports: HeavyHitters<[UInt8]> { resourceNames?.transports ?? HeavyHitters() }

    /// Roughly the memory the row takes once decoded: what a decoding ceiling counts.
    public var estimatedBytes: Int {
        let names = resourceNames.map { $0.addresses.storageBytes + $0.networks.storageBytes + $0.transports.storageBytes } ?? 0
        return Self.estimatedBytes(
            emailCount: key.count, sketchBytes: devices.storageBytes + clientIPs.storageBytes + topValues.storageBytes + names)
    }

    /// A row's aggregates.
    public init(
        key: [UInt8], counters: UserCounters, devices: DistinctCounter = DistinctCounter(), clientIPs: DistinctCounter = DistinctCounter(),
        topValues: HeavyHitters<[UInt8]> = HeavyHitters(), resourceNames: ResourceNames? = nil
    ) {
        self.key = key
        self.counters = counters
        self.devices = devices
        self.clientIPs = clientIPs
        self.topValues = topValues
        self.resourceNames = resourceNames.flatMap { $0.isUntouched ? nil : $0 }
    }

    /// Folds in the same row's aggregates from another partial.
    public mutating func merge(_ other: RowAggregate) {
        counters.merge(other.counters)
        devices.merge(other.devices)
        clientIPs.merge(other.clientIPs)
        topValues.merge(other.topValues)
        if let theirs = other.resourceNames {
            // As merging into three untouched summaries: the same bytes whichever side had none.
            var names = resourceNames ?? ResourceNames()
            names.merge(theirs)
            resourceNames = names
        }
    }
}
