import TallySketches

/// What one user's aggregates count, without the sketches: what the plausibility checks read,
/// from a decoded `RowAggregate` or straight from a partial's bytes (`Partial.check`).
struct UserSummary {
    /// The email's bytes.
    var email: ArraySlice<UInt8>
    var counters: UserCounters
    /// Distinct devices counted, and whether exactly.
    var devices: (count: UInt64, isExact: Bool)
    /// Distinct client IPs counted, and whether exactly.
    var clientIPs: (count: UInt64, isExact: Bool)
    /// Connections counted by the top-10 summary.
    var topTotal: UInt64
    /// Connections counted by the Resource's address, network and protocol summaries.
    var labelTotals: (UInt64, UInt64, UInt64)
}

extension RowAggregate {
    /// The user's summary.
    var summary: UserSummary {
        UserSummary(
            email: key[...], counters: counters, devices: (devices.count, devices.isExact),
            clientIPs: (clientIPs.count, clientIPs.isExact), topTotal: topValues.total,
            labelTotals: (resourceAddresses.total, networks.total, transports.total))
    }

    /// Roughly the memory a decoded user takes, from its email's length and its sketches' heap
    /// bytes: what a decoding ceiling counts, whether the user is decoded or only checked.
    static func estimatedBytes(emailCount: Int, sketchBytes: Int) -> Int {
        MemoryLayout<Self>.stride + emailCount + 32 + sketchBytes
    }
}
