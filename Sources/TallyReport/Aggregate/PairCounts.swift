import TallySketches

/// Counts of (row, value) pairs of one task — a row's devices, client IPs, addresses and the
/// like — in one open-addressing table keyed by the packed pair.
///
/// One probe per pair replaces a per-user set or dictionary; per-user sketches are built from it
/// once, when the task's partial is made. A slot holds its key and count side by side, so a hit
/// touches one cache line (the table outgrows the caches with tens of thousands of users), and
/// one table serves every kind of value, told apart by the top three bits of the value's id.
///
/// Its state opts out of dynamic exclusivity checks, as `ByteInterner`'s does: one owner, one task.
final class PairCounts {
    /// What a pair's value is.
    enum Kind: UInt32, CaseIterable {
        case device = 0
        case clientIP = 1
        case addressReached = 2
        case resourceAddress = 3
        case network = 4
        case transport = 5
    }

    /// Where a value's kind sits in its packed id.
    private static let kindShift: UInt32 = 29
    private static let valueMask: UInt32 = (1 << 29) - 1

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

    /// Adds one to the pair's count. `value` is an interner id, below 2^29 (a task would need
    /// half a billion distinct values, and as many arena bytes, to reach it).
    @inline(__always)
    func increment(_ row: UInt32, _ value: UInt32, _ kind: Kind) {
        let key = UInt64(row) << 32 | UInt64(value | kind.rawValue << Self.kindShift)
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
    func forEach(_ body: (_ row: UInt32, _ value: UInt32, _ kind: Kind, _ count: UInt64) -> Void) {
        for i in 0...mask where slots[i].key != Self.empty {
            let key = slots[i].key
            let value = UInt32(truncatingIfNeeded: key)
            // Ids stay below 2^29 (see `ByteInterner`), so the kind bits are always a kind.
            let kind = Kind(rawValue: value >> Self.kindShift) ?? .device
            body(UInt32(truncatingIfNeeded: key >> 32), value & Self.valueMask, kind, slots[i].count)
        }
    }
}
