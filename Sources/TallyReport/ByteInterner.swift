#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TallySketches

/// Gives each distinct byte string (an email, a device id, an IP) a small integer id, storing
/// its bytes once in an arena.
///
/// This is what lets the hot path keep no `String` per event: a lookup hashes the bytes
/// in place and compares them against the arena; only a value never seen before is copied.
///
/// Its state opts out of dynamic exclusivity checks: the interner is owned by one aggregator
/// and used from one task, and a check on every property read of three interns per event was
/// several percent of a worker's time.
final class ByteInterner {
    @exclusivity(unchecked) private var arena: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var arenaCapacity: Int
    @exclusivity(unchecked) private var arenaUsed = 0
    @exclusivity(unchecked) private var offsets: [Int] = []
    @exclusivity(unchecked) private var lengths: [Int] = []
    @exclusivity(unchecked) private(set) var hashes: [UInt64] = []
    /// Open-addressing slots holding `id + 1`; 0 marks an empty slot.
    @exclusivity(unchecked) private var slots: UnsafeMutablePointer<UInt32>
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
    var count: Int { offsets.count }

    /// The id of `bytes`, adding it when new.
    @inline(__always)
    func intern(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let hash = StableHash.hash(bytes)
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            let id = Int(entry - 1)
            if hashes[id] == hash, lengths[id] == bytes.count,
               bytes.isEmpty || memcmp(arena + offsets[id], bytes.baseAddress!, bytes.count) == 0 {
                return UInt32(id)
            }
            slot = (slot + 1) & slotMask
        }
        return insert(bytes, hash: hash, slot: slot)
    }

    private func insert(_ bytes: UnsafeRawBufferPointer, hash: UInt64, slot: Int) -> UInt32 {
        let id = offsets.count
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
        offsets.append(arenaUsed)
        lengths.append(bytes.count)
        hashes.append(hash)
        arenaUsed += bytes.count
        slots[slot] = UInt32(id + 1)
        if offsets.count * 2 > slotMask + 1 { grow() }
        return UInt32(id)
    }

    private func grow() {
        let slotCount = (slotMask + 1) * 2
        slots.deallocate()
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
        for id in 0..<offsets.count {
            var slot = Int(truncatingIfNeeded: hashes[id]) & slotMask
            while slots[slot] != 0 { slot = (slot + 1) & slotMask }
            slots[slot] = UInt32(id + 1)
        }
    }

    /// The bytes of an id, copied out (used when building partials, not per event).
    func bytes(of id: UInt32) -> [UInt8] {
        Array(rawBytes(of: id))
    }

    /// The bytes of an id in place: valid until the next value is interned (the arena may move).
    func rawBytes(of id: UInt32) -> UnsafeRawBufferPointer {
        let i = Int(id)
        return UnsafeRawBufferPointer(start: arena + offsets[i], count: lengths[i])
    }
}
