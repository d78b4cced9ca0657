import TallySketches

/// Counts of (user id, value id) pairs in one open-addressing table keyed by the packed pair.
///
/// One probe per event replaces a per-user set or dictionary; per-user sketches are built from
/// it once, when the task's partial is made.
struct PairCounts {
    private var keys: [UInt64]
    private var counts: [UInt64]
    private var mask: Int
    private(set) var count = 0

    private static let empty = UInt64.max

    init(expectedCount: Int = 4096) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        keys = Array(repeating: Self.empty, count: capacity)
        counts = Array(repeating: 0, count: capacity)
        mask = capacity - 1
    }

    /// Adds one to the pair's count.
    @inline(__always)
    mutating func increment(_ user: UInt32, _ value: UInt32) {
        let key = UInt64(user) << 32 | UInt64(value)
        var slot = Int(truncatingIfNeeded: StableHash.mix(key)) & mask
        while true {
            let k = keys[slot]
            if k == key {
                counts[slot] &+= 1
                return
            }
            if k == Self.empty { break }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        counts[slot] = 1
        count += 1
        if count * 2 > mask + 1 { grow() }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldCounts = counts
        let capacity = (mask + 1) * 2
        keys = Array(repeating: Self.empty, count: capacity)
        counts = Array(repeating: 0, count: capacity)
        mask = capacity - 1
        for i in oldKeys.indices where oldKeys[i] != Self.empty {
            var slot = Int(truncatingIfNeeded: StableHash.mix(oldKeys[i])) & mask
            while keys[slot] != Self.empty { slot = (slot + 1) & mask }
            keys[slot] = oldKeys[i]
            counts[slot] = oldCounts[i]
        }
    }

    /// Every pair with its count, in table order.
    func forEach(_ body: (_ user: UInt32, _ value: UInt32, _ count: UInt64) -> Void) {
        for i in keys.indices where keys[i] != Self.empty {
            body(UInt32(truncatingIfNeeded: keys[i] >> 32), UInt32(truncatingIfNeeded: keys[i]), counts[i])
        }
    }
}
