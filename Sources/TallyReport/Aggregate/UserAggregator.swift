import TallyFormats
import TallySketches

/// The hot-path sink: folds each event of a task into per-user state without allocating.
///
/// Emails, device ids and IPs are interned once per task; per event the aggregator touches
/// one counter struct and the pair table twice. Sketches are built only at the end, in
/// `makePartial`, from the exact per-task pair counts.
public struct UserAggregator: ConnectionEventSink {
    /// The report window `[from, to)`, microseconds.
    public let window: ReportWindow
    private let users = ByteInterner()
    private let devices = ByteInterner()
    private let ips = ByteInterner()
    private var counters: [UserCounters] = []
    private let pairs = PairCounts()
    /// Events in the window.
    public private(set) var eventsInWindow: Int64 = 0
    /// In-window events without a user email.
    public private(set) var serviceAccountEvents: Int64 = 0
    /// Earliest and latest time of every event received, in the window or not: a cached shard
    /// is reused only where the window filter made no difference (docs/design.md §3.6).
    private var earliestEvent = Int64.max
    private var latestEvent = Int64.min

    /// An empty aggregator for `window`.
    public init(window: ReportWindow) {
        self.window = window
    }

    @inline(__always)
    public mutating func receive(_ event: ConnectionEvent) {
        earliestEvent = min(earliestEvent, event.time)
        latestEvent = max(latestEvent, event.time)
        guard event.time >= window.from, event.time < window.to else { return }
        eventsInWindow += 1
        guard !event.user.isEmpty else {
            serviceAccountEvents += 1
            return
        }
        let user = users.intern(event.user)
        if Int(user) == counters.count { counters.append(UserCounters()) }
        counters[Int(user)].add(event)
        if !event.device.isEmpty { pairs.increment(user, devices.intern(event.device), .device) }
        if !event.clientIP.isEmpty { pairs.increment(user, ips.intern(event.clientIP), .clientIP) }
    }

    /// The task's partial: one `UserAggregate` per user seen, with `statistics` attached.
    public func makePartial(statistics: ReadStatistics) -> Partial {
        let groups = PairGroups(self)
        let result = counters.indices.map { userAggregate($0, groups) }
        return Partial(users: result, statistics: finalStatistics(statistics))
    }

    /// The task's partial already encoded: the bytes `makePartial(statistics:).encoded()` gives,
    /// written straight from the per-task tables.
    ///
    /// A worker only uploads its partial, and building a `UserAggregate` (an email array, two
    /// hash sets and a dictionary of IP arrays per user) to encode and drop it at once was a
    /// quarter of a worker's time on hourly tasks with many users. A user past the sketches'
    /// exact range (more than 4,096 devices or IPs in one task) still goes through them.
    public func encodedPartial(statistics: ReadStatistics) -> [UInt8] {
        let groups = PairGroups(self)
        let order = emailOrder()
        var w = Partial.beginBody(statistics: finalStatistics(statistics), userCount: counters.count)
        var hashes: [UInt64] = []
        var entries: [Int] = []
        let exactLimit = min(DistinctCounter.exactLimit, 2 * HeavyHitters<[UInt8]>.defaultCapacity)
        var index = PartialIndex()
        for user in order {
            index.note(email: users.rawBytes(of: UInt32(user)), offset: w.count)
            let deviceRange = groups.deviceStart[user]..<groups.deviceStart[user + 1]
            let ipRange = groups.ipStart[user]..<groups.ipStart[user + 1]
            // Past the exact range the sketches decide the bytes.
            if deviceRange.count > exactLimit || ipRange.count > exactLimit {
                Partial.encode(userAggregate(user, groups), into: &w)
                continue
            }
            Partial.encodeUserHead(email: users.rawBytes(of: UInt32(user)), counters: counters[user], into: &w)
            hashes.removeAll(keepingCapacity: true)
            hashes.append(contentsOf: groups.deviceHashes[deviceRange])
            DistinctCounter.encodeExact(hashes: &hashes, into: &w)
            hashes.removeAll(keepingCapacity: true)
            for i in ipRange { hashes.append(ips.hashes[Int(groups.ipIds[i])]) }
            DistinctCounter.encodeExact(hashes: &hashes, into: &w)
            HeavyHitters<[UInt8]>.encodeExact(
                entryCount: ipRange.count,
                key: { ips.rawBytes(of: groups.ipIds[ipRange.lowerBound + $0]) },
                count: { groups.ipCounts[ipRange.lowerBound + $0] },
                order: &entries, into: &w)
        }
        return Partial.frame(w, index: index)
    }

    /// The users' ids in email byte order (`ByteStringOrder`). Sorted by each email's first
    /// eight bytes as one big-endian integer (zero-padded: a shorter email sorts first, as in
    /// byte order), the bytes compared only on a tie: sorting tens of thousands of emails through
    /// a byte comparison was a tenth of a worker's time on many-users tasks.
    private func emailOrder() -> [Int] {
        var keyed = counters.indices.map { user -> (prefix: UInt64, user: Int) in
            let email = users.rawBytes(of: UInt32(user))
            var prefix: UInt64 = 0
            for i in 0..<8 { prefix = prefix << 8 | (i < email.count ? UInt64(email[i]) : 0) }
            return (prefix, user)
        }
        keyed.sort { a, b in
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            return ByteStringOrder.compare(users.rawBytes(of: UInt32(a.user)), users.rawBytes(of: UInt32(b.user))) < 0
        }
        return keyed.map(\.user)
    }

    private func finalStatistics(_ statistics: ReadStatistics) -> ReadStatistics {
        var statistics = statistics
        statistics.eventsInWindow = eventsInWindow
        statistics.serviceAccountEvents = serviceAccountEvents
        statistics.eventSpan = earliestEvent <= latestEvent ? EventSpan(earliest: earliestEvent, latest: latestEvent) : nil
        statistics.engineRevision = Partial.engineRevision
        return statistics
    }

    /// One user's aggregates as sketches.
    private func userAggregate(_ user: Int, _ groups: PairGroups) -> UserAggregate {
        var deviceSet = DistinctCounter()
        for i in groups.deviceStart[user]..<groups.deviceStart[user + 1] { deviceSet.insert(hash: groups.deviceHashes[i]) }
        var ipSet = DistinctCounter()
        var entries: [([UInt8], UInt64)] = []
        for i in groups.ipStart[user]..<groups.ipStart[user + 1] {
            let ip = groups.ipIds[i]
            ipSet.insert(hash: ips.hashes[Int(ip)])
            entries.append((ips.bytes(of: ip), groups.ipCounts[i]))
        }
        // Insert in IP-text order so the sketch is the same whatever the table's layout.
        entries.sort { ByteStringOrder.precedes($0.0, $1.0) }
        var top = HeavyHitters<[UInt8]>()
        for (ip, count) in entries { top.add(ip, count: count) }
        return UserAggregate(
            email: users.bytes(of: UInt32(user)), counters: counters[user],
            devices: deviceSet, clientIPs: ipSet, topClientIPs: top)
    }

    /// The pair tables regrouped by user (a counting sort): user u's device hashes are
    /// `deviceHashes[deviceStart[u]..<deviceStart[u + 1]]`, its IPs and their counts likewise.
    private struct PairGroups {
        var deviceStart: [Int]
        var deviceHashes: [UInt64]
        var ipStart: [Int]
        var ipIds: [UInt32]
        var ipCounts: [UInt64]

        init(_ aggregator: UserAggregator) {
            let userCount = aggregator.counters.count
            // A counting sort over the one pair table: counts per user and kind, then places.
            var deviceStart = Array(repeating: 0, count: userCount + 1)
            var ipStart = Array(repeating: 0, count: userCount + 1)
            aggregator.pairs.forEach { user, _, kind, _ in
                if kind == .device { deviceStart[Int(user) + 1] += 1 } else { ipStart[Int(user) + 1] += 1 }
            }
            for u in 0..<userCount {
                deviceStart[u + 1] += deviceStart[u]
                ipStart[u + 1] += ipStart[u]
            }
            var deviceHashes = [UInt64](repeating: 0, count: deviceStart[userCount])
            var ipIds = [UInt32](repeating: 0, count: ipStart[userCount])
            var ipCounts = [UInt64](repeating: 0, count: ipStart[userCount])
            var nextDevice = deviceStart
            var nextIP = ipStart
            let hashOfDevice = aggregator.devices.hashes
            aggregator.pairs.forEach { user, value, kind, count in
                let u = Int(user)
                if kind == .device {
                    deviceHashes[nextDevice[u]] = hashOfDevice[Int(value)]
                    nextDevice[u] += 1
                } else {
                    ipIds[nextIP[u]] = value
                    ipCounts[nextIP[u]] = count
                    nextIP[u] += 1
                }
            }
            self.deviceStart = deviceStart
            self.deviceHashes = deviceHashes
            self.ipStart = ipStart
            self.ipIds = ipIds
            self.ipCounts = ipCounts
        }
    }
}
