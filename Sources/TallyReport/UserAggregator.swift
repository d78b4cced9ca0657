import TallyFormats
import TallySketches

/// The hot-path sink: folds each event of a task into per-user state without allocating.
///
/// Emails, device ids and IPs are interned once per task; per event the aggregator touches
/// one counter struct and two pair tables. Sketches are built only at the end, in
/// `makePartial`, from the exact per-task pair counts.
public struct UserAggregator: ConnectionEventSink {
    /// The report window `[from, to)`, microseconds.
    public let window: ReportWindow
    private let users = ByteInterner()
    private let devices = ByteInterner()
    private let ips = ByteInterner()
    private var counters: [UserCounters] = []
    private var devicePairs = PairCounts()
    private var ipPairs = PairCounts()
    /// Events in the window.
    public private(set) var eventsInWindow: Int64 = 0
    /// In-window events without a user email.
    public private(set) var serviceAccountEvents: Int64 = 0

    /// An empty aggregator for `window`.
    public init(window: ReportWindow) {
        self.window = window
    }

    @inline(__always)
    public mutating func receive(_ event: ConnectionEvent) {
        guard event.time >= window.from, event.time < window.to else { return }
        eventsInWindow += 1
        guard !event.user.isEmpty else {
            serviceAccountEvents += 1
            return
        }
        let user = users.intern(event.user)
        if Int(user) == counters.count { counters.append(UserCounters()) }
        counters[Int(user)].add(event)
        if !event.device.isEmpty { devicePairs.increment(user, devices.intern(event.device)) }
        if !event.clientIP.isEmpty { ipPairs.increment(user, ips.intern(event.clientIP)) }
    }

    /// The task's partial: one `UserPartial` per user seen, with `statistics` attached.
    public func makePartial(statistics: ReadStatistics) -> Partial {
        var deviceSets = Array(repeating: DistinctCounter(), count: counters.count)
        devicePairs.forEach { user, device, _ in
            deviceSets[Int(user)].insert(hash: devices.hashes[Int(device)])
        }
        var ipSets = Array(repeating: DistinctCounter(), count: counters.count)
        var ipCounts = Array(repeating: [(UInt32, UInt64)](), count: counters.count)
        ipPairs.forEach { user, ip, count in
            ipSets[Int(user)].insert(hash: ips.hashes[Int(ip)])
            ipCounts[Int(user)].append((ip, count))
        }
        var result: [UserPartial] = []
        result.reserveCapacity(counters.count)
        for id in counters.indices {
            var top = HeavyHitters<[UInt8]>()
            // Insert in IP-text order so the sketch is the same whatever the table's layout.
            let entries = ipCounts[id].map { (ips.bytes(of: $0.0), $0.1) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
            for (ip, count) in entries { top.add(ip, count: count) }
            result.append(UserPartial(
                email: users.bytes(of: UInt32(id)), counters: counters[id],
                devices: deviceSets[id], clientIPs: ipSets[id], topClientIPs: top))
        }
        var statistics = statistics
        statistics.eventsInWindow = eventsInWindow
        statistics.serviceAccountEvents = serviceAccountEvents
        return Partial(users: result, statistics: statistics)
    }
}
