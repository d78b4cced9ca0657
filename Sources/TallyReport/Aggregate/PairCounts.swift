import TallySketches

/// Counts of (user, device) and (user, client IP) pairs of one task, in one open-addressing
/// table keyed by the packed pair.
///
/// One probe per pair replaces a per-user set or dictionary; per-user sketches are built from it
/// once, when the task's partial is made. A slot holds its key and count side by side, so a hit
/// touches one cache line (the table outgrows the caches with tens of thousands of users), and
/// one table serves both kinds of value, told apart by the top bit of the value's id.
///
/// Its state opts out of dynamic exclusivity checks, as `ByteInterner`'s does: one owner, one task.
final class PairCounts {
    /// What a pair's value is.
    enum Kind: UInt32 {
        case device = 0
        case clientIP = 0x8000_0000
    }

    private struct Slot {
        var key: UInt64
        var count: UInt64
    }

    private static let empty = UInt64.max

    @exclusivity(unchecked) private var slots: UnsafeMutablePointer<Slot>
    @exclusivity(unchecked) private var mask: Int
    /// Distinct pairs held.
    @exclusivity(unchecked) private(set) var count = 0

    init(expectedCount: Int = 8192) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(key: Self.empty, count: 0), count: capacity)
        mask = capacity - 1
    }

    deinit { slots.deallocate() }

    /// Adds one to the pair's count. `value` is an interner id, below 2^31 (a task would need
    /// billions of distinct values, and as many arena bytes, to reach it).
    @inline(__always)
    func increment(_ user: UInt32, _ value: UInt32, _ kind: Kind) {
        let key = UInt64(user) << 32 | UInt64(value | kind.rawValue)
        var slot = Int(truncatingIfNeeded: StableHash.mix(key)) & mask
        while true {
            let k = slots[slot].key
            if k == key {
                slots[slot].count &+= 1
                return
            }
            if k == Self.empty { break }
            slot = (slot + 1) & mask
        }
        slots[slot] = Slot(key: key, count: 1)
        count += 1
        if count * 2 > mask + 1 { grow() }
    }

    private func grow() {
        let old = slots
        let oldCapacity = mask + 1
        let capacity = oldCapacity * 2
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(key: Self.empty, count: 0), count: capacity)
        mask = capacity - 1
        for i in 0..<oldCapacity where old[i].key != Self.empty {
            var slot = Int(truncatingIfNeeded: StableHash.mix(old[i].key)) & mask
            while slots[slot].key != Self.empty { slot = (slot + 1) & mask }
            slots[slot] = old[i]
        }
        old.deallocate()
    }

    /// Every pair with its count, in table order.
    func forEach(_ body: (_ user: UInt32, _ value: UInt32, _ kind: Kind, _ count: UInt64) -> Void) {
        for i in 0...mask where slots[i].key != Self.empty {
            let key = slots[i].key
            let value = UInt32(truncatingIfNeeded: key)
            body(
                UInt32(truncatingIfNeeded: key >> 32), value & 0x7FFF_FFFF, value & 0x8000_0000 == 0 ? .device : .clientIP,
                slots[i].count)
        }
    }
}
