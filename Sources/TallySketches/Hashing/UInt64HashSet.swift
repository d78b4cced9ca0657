/// A minimal open-addressing hash set of `UInt64`, the exact-mode storage of `DistinctCounter`.
///
/// `Set<UInt64>` would hash every element again with per-process-seeded SipHash; the elements
/// here are already hashes, so one multiply picks the slot. Linear probing over a flat array keeps
/// an insert to a cache line or two and allocates only when the table doubles. The value 0 marks
/// an empty slot, so an inserted 0 is tracked by a separate flag.
struct UInt64HashSet: Sendable {
    /// Power-of-two sized, or empty before the first non-zero insert (no allocation for an unused set).
    private var slots: [UInt64] = []
    private var containsZero = false
    private var nonZeroCount = 0

    /// Number of distinct values held.
    var count: Int { nonZeroCount + (containsZero ? 1 : 0) }

    /// Bytes its table takes.
    var storageBytes: Int { slots.count * MemoryLayout<UInt64>.stride }

    /// Creates an empty set sized to hold `capacity` values without regrowth.
    init(minimumCapacity capacity: Int = 0) {
        if capacity > 0 {
            slots = [UInt64](repeating: 0, count: Self.tableSize(for: capacity))
        }
    }

    /// Inserts `value`; returns whether it was new.
    @discardableResult
    mutating func insert(_ value: UInt64) -> Bool {
        if value == 0 {
            defer { containsZero = true }
            return !containsZero
        }
        // Grows at 3/4 load: short probe sequences at a modest memory cost.
        if (nonZeroCount + 1) * 4 > slots.count * 3 {
            rehash(toSize: max(8, slots.count * 2))
        }
        let inserted = slots.withUnsafeMutableBufferPointer { table in
            Self.place(value, in: table)
        }
        if inserted { nonZeroCount += 1 }
        return inserted
    }

    /// Whether `value` is in the set.
    func contains(_ value: UInt64) -> Bool {
        if value == 0 { return containsZero }
        if slots.isEmpty { return false }
        return slots.withUnsafeBufferPointer { table in
            let mask = table.count - 1
            var index = Self.home(of: value, mask: mask)
            while true {
                let slot = table[index]
                if slot == value { return true }
                if slot == 0 { return false }
                index = (index + 1) & mask
            }
        }
    }

    /// Calls `body` once per element, in unspecified order.
    func forEach(_ body: (UInt64) throws -> Void) rethrows {
        if containsZero { try body(0) }
        for slot in slots where slot != 0 { try body(slot) }
    }

    /// The elements in ascending order, the canonical form used for encoding.
    func sorted() -> [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(count)
        forEach { result.append($0) }
        result.sort()
        return result
    }

    /// Set equality, independent of the insertion order that shaped either table.
    func isEqualSet(to other: UInt64HashSet) -> Bool {
        guard count == other.count, containsZero == other.containsZero else { return false }
        for slot in slots where slot != 0 && !other.contains(slot) { return false }
        return true
    }

    /// Fibonacci hashing: the multiply spreads low-entropy inputs (small integers from tests or
    /// careless callers) over the middle bits, which become the slot index.
    @inline(__always)
    private static func home(of value: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: (value &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Stores a non-zero `value` unless present; returns whether it was stored. `table` must have
    /// a free slot.
    @inline(__always)
    private static func place(_ value: UInt64, in table: UnsafeMutableBufferPointer<UInt64>) -> Bool {
        let mask = table.count - 1
        var index = home(of: value, mask: mask)
        while true {
            let slot = table[index]
            if slot == value { return false }
            if slot == 0 {
                table[index] = value
                return true
            }
            index = (index + 1) & mask
        }
    }

    static func tableSize(for capacity: Int) -> Int {
        var size = 8
        while size * 3 < capacity * 4 { size *= 2 }
        return size
    }

    private mutating func rehash(toSize size: Int) {
        var table = [UInt64](repeating: 0, count: size)
        table.withUnsafeMutableBufferPointer { newTable in
            for slot in slots where slot != 0 {
                _ = Self.place(slot, in: newTable)
            }
        }
        slots = table
    }
}
