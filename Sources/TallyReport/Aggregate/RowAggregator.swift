import TallyFormats
import TallySketches

/// The hot-path sink: folds each event of a task into per-row state without allocating, the
/// rows keyed as the report's shape says (a user, a Resource, a user and Resource).
///
/// Keys and values are interned once per task; per event the aggregator touches one counter
/// struct and the pair table once per value the shape keeps. Sketches are built only at the
/// end, from the exact per-task pair counts.
public struct RowAggregator: ConnectionEventSink {
    /// The report window `[from, to)`, microseconds.
    public let window: ReportWindow
    /// What the rows are and keep.
    public let shape: ReportShape
    /// `shape.readsResources`, kept: the reader asks it for every line.
    public let readsResources: Bool
    private let rows = ByteInterner()
    private let devices = ByteInterner()
    private let ips = ByteInterner()
    private let reached = ByteInterner()
    private let resourceAddresses = ByteInterner()
    private let networks = ByteInterner()
    private let transports = ByteInterner()
    private var counters: [UserCounters] = []
    private let pairs = PairCounts()
    /// Where a key made of two parts is assembled before it is interned.
    private var scratch: [UInt8] = []
    /// Events in the window.
    public private(set) var eventsInWindow: Int64 = 0
    /// In-window events without a user email.
    public private(set) var serviceAccountEvents: Int64 = 0
    /// Earliest and latest time of every event received, in the window or not: a cached shard
    /// is reused only where the window filter made no difference (docs/design.md §3.6).
    private var earliestEvent = Int64.max
    private var latestEvent = Int64.min

    /// An empty aggregator for `window`, its rows as `shape` says.
    public init(window: ReportWindow, shape: ReportShape = .byUser) {
        self.window = window
        self.shape = shape
        readsResources = shape.readsResources
        scratch.reserveCapacity(512)
    }

    @inline(__always)
    public mutating func receive(_ event: ConnectionEvent) {
        earliestEvent = min(earliestEvent, event.time)
        latestEvent = max(latestEvent, event.time)
        guard event.time >= window.from, event.time < window.to else { return }
        eventsInWindow += 1
        // Rows by user take the short way: the active-users report's path, one test longer.
        guard shape.key == .user else { return receiveByResource(event) }
        guard !event.user.isEmpty else {
            serviceAccountEvents += 1
            return
        }
        let row = rows.intern(event.user)
        if Int(row) == counters.count { counters.append(UserCounters()) }
        counters[Int(row)].add(event)
        if !event.device.isEmpty { pairs.increment(row, devices.intern(event.device), .device) }
        if !event.clientIP.isEmpty { pairs.increment(row, ips.intern(event.clientIP), .clientIP) }
    }

    /// An in-window event of a report by Resource, or by user and Resource.
    private mutating func receiveByResource(_ event: ConnectionEvent) {
        if event.user.isEmpty {
            serviceAccountEvents += 1
            if shape.skipsServiceAccounts { return }
        }
        let row = shape.key == .resource ? rows.intern(event.resourceID) : internPair(event.user, event.resourceID, in: rows)
        if Int(row) == counters.count { counters.append(UserCounters()) }
        counters[Int(row)].add(event)
        if shape.countsDevicesAndClientIPs {
            if !event.device.isEmpty { pairs.increment(row, devices.intern(event.device), .device) }
            if !event.clientIP.isEmpty { pairs.increment(row, ips.intern(event.clientIP), .clientIP) }
        }
        if shape.top == .addressReached, !event.addressReached.isEmpty {
            pairs.increment(row, reached.intern(event.addressReached), .addressReached)
        }
        guard shape.namesResources else { return }
        let address = event.resourceRule.isEmpty ? event.addressReached : event.resourceRule
        if !address.isEmpty { pairs.increment(row, resourceAddresses.intern(address), .resourceAddress) }
        if !event.network.isEmpty || !event.networkID.isEmpty {
            pairs.increment(row, internPair(event.network, event.networkID, in: networks), .network)
        }
        if !event.transport.isEmpty { pairs.increment(row, transports.intern(event.transport), .transport) }
    }

    @inline(__always)
    private mutating func internPair(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, in interner: ByteInterner) -> UInt32
    {
        scratch.removeAll(keepingCapacity: true)
        RowKey.appendPair(first, second, to: &scratch)
        return scratch.withUnsafeBytes { interner.intern($0) }
    }

    /// The interner holding the values of pairs of `kind`.
    private func interner(of kind: PairCounts.Kind) -> ByteInterner {
        switch kind {
        case .device: devices
        case .clientIP: ips
        case .addressReached: reached
        case .resourceAddress: resourceAddresses
        case .network: networks
        case .transport: transports
        }
    }

    /// The kind of pair the top-10 list counts; nil when the shape keeps none.
    private var topKind: PairCounts.Kind? {
        switch shape.top {
        case .none: nil
        case .clientIP: .clientIP
        case .addressReached: .addressReached
        }
    }

    /// The task's partial: one `RowAggregate` per row seen, with `statistics` attached.
    public func makePartial(statistics: ReadStatistics) -> Partial {
        let groups = PairGroups(self)
        let result = counters.indices.map { rowAggregate($0, groups) }
        return Partial(rows: result, rowKey: shape.key, statistics: finalStatistics(statistics))
    }

    /// The task's partial already encoded: the bytes `makePartial(statistics:).encoded()` gives,
    /// written straight from the per-task tables.
    ///
    /// A worker only uploads its partial, and building a `RowAggregate` (a key array and six
    /// sketches per row) to encode and drop it at once was a quarter of a worker's time on hourly
    /// tasks with many users. A row past the sketches'
    /// exact range (more than 4,096 values of a kind in one task) still goes through them.
    public func encodedPartial(statistics: ReadStatistics) -> [UInt8] {
        let groups = PairGroups(self)
        let order = keyOrder()
        var w = Partial.beginBody(statistics: finalStatistics(statistics), rowKey: shape.key, rowCount: counters.count)
        var hashes: [UInt64] = []
        var entries: [Int] = []
        let exactLimit = min(DistinctCounter.exactLimit, 2 * HeavyHitters<[UInt8]>.defaultCapacity)
        var index = PartialIndex()
        let counted: [PairCounts.Kind] = [.device, .clientIP]
        let summarized: [PairCounts.Kind?] = [topKind, .resourceAddress, .network, .transport]
        for row in order {
            index.note(email: rows.rawBytes(of: UInt32(row)), offset: w.count)
            // Past the exact range the sketches decide the bytes.
            if PairCounts.Kind.allCases.contains(where: { groups.range(of: $0, row: row).count > exactLimit }) {
                Partial.encode(rowAggregate(row, groups), into: &w)
                continue
            }
            Partial.encodeRowHead(key: rows.rawBytes(of: UInt32(row)), counters: counters[row], into: &w)
            for kind in counted {
                hashes.removeAll(keepingCapacity: true)
                let values = interner(of: kind).hashes
                let ids = groups.ids(kind)
                for i in groups.range(of: kind, row: row) { hashes.append(values[Int(ids[i])]) }
                DistinctCounter.encodeExact(hashes: &hashes, into: &w)
            }
            for kind in summarized {
                guard let kind else {
                    HeavyHitters<[UInt8]>.encodeExact(
                        entryCount: 0, key: { _ in .init(start: nil, count: 0) }, count: { _ in 0 }, order: &entries, into: &w)
                    continue
                }
                let range = groups.range(of: kind, row: row)
                let values = interner(of: kind)
                let ids = groups.ids(kind)
                let counts = groups.counts(kind)
                HeavyHitters<[UInt8]>.encodeExact(
                    entryCount: range.count, key: { values.rawBytes(of: ids[range.lowerBound + $0]) },
                    count: { counts[range.lowerBound + $0] }, order: &entries, into: &w)
            }
        }
        return Partial.frame(w, index: index)
    }

    /// The rows' ids in key byte order (`ByteStringOrder`). Sorted by each key's first eight
    /// bytes as one big-endian integer (zero-padded: a shorter key sorts first, as in byte
    /// order), the bytes compared only on a tie: sorting tens of thousands of emails through
    /// a byte comparison was a tenth of a worker's time on many-users tasks.
    private func keyOrder() -> [Int] {
        var keyed = counters.indices.map { row -> (prefix: UInt64, row: Int) in
            let key = rows.rawBytes(of: UInt32(row))
            var prefix: UInt64 = 0
            for i in 0..<8 { prefix = prefix << 8 | (i < key.count ? UInt64(key[i]) : 0) }
            return (prefix, row)
        }
        keyed.sort { a, b in
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            return ByteStringOrder.compare(rows.rawBytes(of: UInt32(a.row)), rows.rawBytes(of: UInt32(b.row))) < 0
        }
        return keyed.map(\.row)
    }

    private func finalStatistics(_ statistics: ReadStatistics) -> ReadStatistics {
        var statistics = statistics
        statistics.eventsInWindow = eventsInWindow
        statistics.serviceAccountEvents = serviceAccountEvents
        statistics.eventSpan = earliestEvent <= latestEvent ? EventSpan(earliest: earliestEvent, latest: latestEvent) : nil
        statistics.engineRevision = Partial.engineRevision
        return statistics
    }

    /// One row's aggregates as sketches.
    private func rowAggregate(_ row: Int, _ groups: PairGroups) -> RowAggregate {
        func distinct(_ kind: PairCounts.Kind) -> DistinctCounter {
            var set = DistinctCounter()
            let hashes = interner(of: kind).hashes
            let ids = groups.ids(kind)
            for i in groups.range(of: kind, row: row) { set.insert(hash: hashes[Int(ids[i])]) }
            return set
        }
        func counted(_ kind: PairCounts.Kind?) -> HeavyHitters<[UInt8]> {
            var top = HeavyHitters<[UInt8]>()
            guard let kind else { return top }
            let values = interner(of: kind)
            let ids = groups.ids(kind)
            let counts = groups.counts(kind)
            var entries: [([UInt8], UInt64)] = []
            for i in groups.range(of: kind, row: row) { entries.append((values.bytes(of: ids[i]), counts[i])) }
            // Insert in value order so the sketch is the same whatever the table's layout.
            entries.sort { ByteStringOrder.precedes($0.0, $1.0) }
            for (value, count) in entries { top.add(value, count: count) }
            return top
        }
        var names = RowAggregate.ResourceNames()
        names.addresses = counted(.resourceAddress)
        names.networks = counted(.network)
        names.transports = counted(.transport)
        return RowAggregate(
            key: rows.bytes(of: UInt32(row)), counters: counters[row], devices: distinct(.device), clientIPs: distinct(.clientIP),
            topValues: counted(topKind), resourceNames: names)
    }

    /// The pair table regrouped by kind and row (a counting sort): row r's values of kind k are
    /// `ids(k)[range(of: k, row: r)]`, their counts likewise.
    private struct PairGroups {
        private var starts: [[Int]]
        private var idsByKind: [[UInt32]]
        private var countsByKind: [[UInt64]]

        init(_ aggregator: RowAggregator) {
            let rowCount = aggregator.counters.count
            var starts = Array(repeating: Array(repeating: 0, count: rowCount + 1), count: PairCounts.Kind.allCases.count)
            aggregator.pairs.forEach { row, _, kind, _ in starts[Int(kind.rawValue)][Int(row) + 1] += 1 }
            for k in starts.indices {
                for r in 0..<rowCount { starts[k][r + 1] += starts[k][r] }
            }
            var ids = starts.map { [UInt32](repeating: 0, count: $0[rowCount]) }
            var counts = starts.map { [UInt64](repeating: 0, count: $0[rowCount]) }
            var next = starts
            aggregator.pairs.forEach { row, value, kind, count in
                let k = Int(kind.rawValue)
                let at = next[k][Int(row)]
                ids[k][at] = value
                counts[k][at] = count
                next[k][Int(row)] += 1
            }
            self.starts = starts
            idsByKind = ids
            countsByKind = counts
        }

        /// Where row `row`'s values of `kind` are.
        func range(of kind: PairCounts.Kind, row: Int) -> Range<Int> {
            starts[Int(kind.rawValue)][row]..<starts[Int(kind.rawValue)][row + 1]
        }

        /// The interned ids of every row's values of `kind`.
        func ids(_ kind: PairCounts.Kind) -> [UInt32] { idsByKind[Int(kind.rawValue)] }

        /// The connection counts of every row's values of `kind`.
        func counts(_ kind: PairCounts.Kind) -> [UInt64] { countsByKind[Int(kind.rawValue)] }
    }
}
