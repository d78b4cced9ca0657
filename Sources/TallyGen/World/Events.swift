/// How a logical connection ended.
enum Outcome: UInt8 {
    case success, dnsFailure, otherFailure
}

/// One logical connection-ending event, identical in all formats. Every field derives from
/// `(seed, hour index, event index)` only, so any renderer can re-create it on demand.
struct LogicalEvent {
    /// Event time, epoch milliseconds.
    var time: Int64 = 0
    /// Milliseconds after the start of the generating hour that decides the order in the file
    /// and the 5-minute S3 file: the time plus a little jitter (may be < 0 or ≥ 1 h for events
    /// filed in the neighbouring file).
    var writeKey: Int64 = 0
    /// User index, or -1 for a service account.
    var user: Int = -1
    /// Service account index when `user < 0`.
    var service: Int = 0
    /// Device index into `World.devices`, -1 when none.
    var device: Int = -1
    /// Client IP index into `World.ips`.
    var ip: Int = 0
    var outcome: Outcome = .success
    /// Relayed (else peer-to-peer); only meaningful for successes.
    var relayed: Bool = false
    var bytesTransferred: UInt64 = 0
    var bytesReceived: UInt64 = 0
    var durationMs: Int64 = 0
    var resource: Int = 0
    var connector: Int = 0
    var relay: Int = 0
    /// Random bits for format-specific cosmetic choices (key order, escapes, extra lines…).
    var look: UInt64 = 0
    var look2: UInt64 = 0
    /// Connection identity (analytics `connection.id`).
    var connectionID: UInt64 = 0

    var isSuccess: Bool { outcome == .success }
}

/// One hour of the run: its events, their file order and its malformed-line plan.
struct Hour {
    let world: World
    let index: Int
    /// Start of the hour, epoch milliseconds.
    let startMs: Int64
    let key: UInt64
    let hasPrevious: Bool
    let hasNext: Bool
    let count: Int

    /// Largest distance (ms) of an event filed in a neighbouring hour's file from that file's
    /// hour (less than 10 minutes).
    static let maxSpill: UInt64 = 599_000
    static let hourMs: Int64 = 3_600_000
    /// Bias that makes write keys non-negative for packing.
    static let keyBias: Int64 = 1_000_000

    init(world: World, index: Int) {
        self.world = world
        self.index = index
        startMs = (world.options.start + Int64(index) * 3600) * 1000
        key = SplitMix64.hash(world.seedKey, 0x686F_7572, UInt64(index))  // "hour"
        hasPrevious = index > 0
        hasNext = index < world.options.hours - 1
        count = world.options.eventsPerHour
    }

    @inline(__always)
    func stream(_ i: Int) -> SplitMix64 {
        SplitMix64(state: SplitMix64.hash(key, UInt64(i)))
    }

    /// Time offset within the hour and write key of event `i`: uniform over the hour; 0.5 % are
    /// filed in the neighbouring hour's file (up to ~10 min across the boundary, mostly < 5 s);
    /// 20 % get up to 1 s of write jitter.
    @inline(__always)
    func timing(_ r: inout SplitMix64) -> (offset: Int64, writeKey: Int64) {
        let r0 = r.next(), r1 = r.next()
        let offset = Int64(r0.multipliedFullWidth(by: UInt64(Hour.hourMs)).high)
        if r1 % 1000 < 5 {
            let range: UInt64 = (r1 >> 24) & 7 == 0 ? Hour.maxSpill : 5_000
            let distance = Int64(1 + (r1 >> 32) % range)
            if (r1 >> 16) & 1 == 0 {
                if hasPrevious { return (-distance, -distance) }
            } else if hasNext {
                let t = Hour.hourMs - 1 + distance
                return (t, t)
            }
        }
        if (r1 >> 10) % 5 == 0 {
            return (offset, offset + Int64((r1 >> 40) % 1000))
        }
        return (offset, offset)
    }

    /// Event `i` of this hour.
    func event(_ i: Int) -> LogicalEvent {
        var r = stream(i)
        var e = LogicalEvent()
        let (offset, writeKey) = timing(&r)
        e.time = startMs + offset
        e.writeKey = writeKey
        let actor = r.next()
        if actor % 1000 < World.servicePerMille {
            e.service = Int((actor >> 32) % UInt64(world.serviceCount))
            e.ip = Int(world.serviceIPStart[e.service]) + Int((actor >> 16) & 1)
        } else {
            let u = world.zipfUser(r.next())
            e.user = u
            let d = r.next()
            e.device = Int(world.userDeviceStart[u]) + Int(d % UInt64(world.userDeviceCount[u]))
            let n = UInt64(world.userIPCount[u])
            let pick: UInt64
            if world.userTravelling[u] {
                pick = r.below(n)
            } else {
                // Mostly the first (home) address.
                let s = (d >> 8) % 16
                pick = s < 10 ? 0 : s % n
            }
            e.ip = Int(world.userIPStart[u]) + Int(pick)
        }
        let o = r.next()
        let p = o % 1000
        e.outcome = p < 850 ? .success : (p < 900 ? .dnsFailure : .otherFailure)
        if e.outcome == .success {
            e.relayed = (o >> 16) % 100 < 60
            e.bytesTransferred = Hour.byteCount(r.next(), minBits: 6, maxBits: 28)
            e.bytesReceived = Hour.byteCount(r.next(), minBits: 8, maxBits: 31)
        }
        let c = r.next()
        e.durationMs = Int64(1 + ((c >> 8) & ((1 << (5 + c % 15)) - 1)))
        e.resource = Int((c >> 32) % UInt64(world.resourceCount))
        e.connector = world.resourceNetwork[e.resource] * 2 + Int((c >> 40) & 1)
        e.relay = Int((c >> 48) % UInt64(world.relayCount))
        e.look = r.next()
        e.look2 = r.next()
        e.connectionID = r.next()
        return e
    }

    /// A byte count spread over orders of magnitude; about 1 in 1024 exceeds 2^32.
    @inline(__always)
    static func byteCount(_ r: UInt64, minBits: UInt64, maxBits: UInt64) -> UInt64 {
        if r & 1023 == 0 {
            return (1 << 32) + (r >> 12) % (1 << 36)
        }
        let bits = minBits + (r >> 10) % (maxBits - minBits + 1)
        return (r >> 16) & ((1 << bits) - 1)
    }

    /// Event indices packed with their write keys, in file order.
    func order() -> [UInt64] {
        var keys = [UInt64](repeating: 0, count: count)
        keys.withUnsafeMutableBufferPointer { out in
            for i in 0..<count {
                var r = stream(i)
                let wk = timing(&r).writeKey + Hour.keyBias
                out[i] = UInt64(wk) << 32 | UInt64(i)
            }
        }
        keys.sort()
        return keys
    }

    /// Malformed lines of this hour: `(position in file order, global malformed index)`, sorted;
    /// each is written after the event at that position. The run's `malformedTotal` lines are
    /// spread evenly over the hours.
    func malformedPlan() -> [(position: Int, ordinal: Int)] {
        let total = world.malformedTotal, hours = world.options.hours
        guard total > 0, count > 0 else { return [] }
        let lo = index * total / hours, hi = (index + 1) * total / hours
        var plan: [(position: Int, ordinal: Int)] = []
        for ordinal in lo..<hi {
            let position = Int(SplitMix64.hash(key, 0xBAD, UInt64(ordinal)) % UInt64(count))
            plan.append((position, ordinal))
        }
        plan.sort { $0.position != $1.position ? $0.position < $1.position : $0.ordinal < $1.ordinal }
        return plan
    }
}
