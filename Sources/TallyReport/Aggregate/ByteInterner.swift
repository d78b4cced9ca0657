import TallySketches

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Gives each distinct byte string (an email, a device id, an IP) a small integer id, storing
/// its bytes once in an arena.
///
/// This is what lets the hot path keep no `String` per event: a lookup hashes the bytes
/// in place and compares them against the arena; only a value never seen before is copied.
///
/// A slot holds the upper half of the value's hash beside its id, so a probe rejects other
/// values without touching their records, and a hit reads one record (offset and length) and
/// the arena: with tens of thousands of users per task these tables do not fit in the caches,
/// and each array read is a likely miss.
///
/// Its state opts out of dynamic exclusivity checks: the interner is owned by one aggregator
/// and used from one task, and a check on every property read of three interns per event was
/// several percent of a worker's time.
final class ByteInterner {
    /// Where a value's bytes are in the arena.
    private struct Record {
        var offset: Int
        var length: Int
    }

    @exclusivity(unchecked) private var arena: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var arenaCapacity: Int
    @exclusivity(unchecked) private var arenaUsed = 0
    @exclusivity(unchecked) private var records: [Record] = []
    /// Each value's full 64-bit hash, by id (sketches are built from these).
    @exclusivity(unchecked) private(set) var hashes: [UInt64] = []
    /// Open-addressing slots: upper 32 bits of the hash, then `id + 1` in the lower 32 bits;
    /// 0 marks an empty slot.
    @exclusivity(unchecked) private var slots: UnsafeMutablePointer<UInt64>
    @exclusivity(unchecked) private var slotMask: Int

    init(expectedCount: Int = 1024) {
        var slotCount = 16
        while slotCount < expectedCount * 2 { slotCount <<= 1 }
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
        arenaCapacity = 64 * 1024
        arena = .allocate(byteCount: arenaCapacity, alignment: 8)
    }

    deinit {
        slots.deallocate()
        arena.deallocate()
    }

    /// Number of distinct values.
    var count: Int { records.count }

    /// The id of `bytes`, adding it when new.
    @inline(__always)
    func intern(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let hash = StableHash.hash(bytes)
        let tag = hash & 0xFFFF_FFFF_0000_0000
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if entry & 0xFFFF_FFFF_0000_0000 == tag {
                let id = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                let record = records[id]
                if record.length == bytes.count,
                    bytes.isEmpty || memcmp(arena + record.offset, bytes.baseAddress!, bytes.count) == 0
                {
                    return UInt32(id)
                }
            }
            slot = (slot + 1) & slotMask
        }
        return insert(bytes, hash: hash, slot: slot)
    }

    private func insert(_ bytes: UnsafeRawBufferPointer, hash: UInt64, slot: Int) -> UInt32 {
        let id = records.count
        if arenaUsed + bytes.count > arenaCapacity {
            var capacity = arenaCapacity * 2
            while capacity < arenaUsed + bytes.count { capacity *= 2 }
            let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
            grown.copyMemory(from: arena, byteCount: arenaUsed)
            arena.deallocate()
            arena = grown
            arenaCapacity = capacity
        }
        if !bytes.isEmpty { (arena + arenaUsed).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        records.append(Record(offset: arenaUsed, length: bytes.count))
        hashes.append(hash)
        arenaUsed += bytes.count
        slots[slot] = Self.slotEntry(hash: hash, id: id)
        if records.count * 2 > slotMask + 1 { grow() }
        return UInt32(id)
    }

    private static func slotEntry(hash: UInt64, id: Int) -> UInt64 {
        (hash & 0xFFFF_FFFF_0000_0000) | UInt64(id + 1)
    }

    private func grow() {
        let slotCount = (slotMask + 1) * 2
        slots.deallocate()
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
        for id in 0..<records.count {
            var slot = Int(truncatingIfNeeded: hashes[id]) & slotMask
            while slots[slot] != 0 { slot = (slot + 1) & slotMask }
            slots[slot] = Self.slotEntry(hash: hashes[id], id: id)
        }
    }

    /// The bytes of an id, copied out (used when building partials, not per event).
    func bytes(of id: UInt32) -> [UInt8] {
        Array(rawBytes(of: id))
    }

    /// The bytes of an id in place: valid until the next value is interned (the arena may move).
    func rawBytes(of id: UInt32) -> UnsafeRawBufferPointer {
        let record = records[Int(id)]
        return UnsafeRawBufferPointer(start: arena + record.offset, count: record.length)
    }
}
