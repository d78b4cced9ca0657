import TallyFormats
import TallySketches

/// Gives each distinct byte string (an email, a device id, an IP) a small integer id, storing
/// its bytes once in an arena.
///
/// This is what lets the hot path keep no `String` per event: a lookup hashes the bytes
/// in place and compares them against the arena; only a value never seen before is copied.
///
/// A slot holds the top 24 bits of the value's hash beside where its entry starts in the arena,
/// and the entry holds the value's length and id before its bytes. So a probe rejects other
/// values by hash without a memory read, and a hit checks the length, then the bytes, in one
/// place: with tens of thousands of users per task these tables do not fit in the caches, and
/// every separate array read (an id's record, then its bytes) was a likely miss.
///
/// Bounds: entries start below 2^40 arena bytes, and ids stay below 2^29 (`PairCounts` marks a
/// pair's kind in the top three bits). A task reaching either would first hold a terabyte, or
/// 2^29 values of at least 8 bytes each (4 GiB of arena): more than a worker has.
///
/// Its state opts out of dynamic exclusivity checks: the interner is owned by one aggregator
/// and used from one task, and a check on every property read of three interns per event was
/// several percent of a worker's time.
final class ByteInterner {
    /// An entry's header in the arena: the length in the low 32 bits, the id in the high.
    private static let headerSize = 8
    private static let offsetBits: UInt64 = 40
    private static let offsetMask: UInt64 = (1 << 40) - 1

    @exclusivity(unchecked) private var arena: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var arenaCapacity: Int
    @exclusivity(unchecked) private var arenaUsed = 0
    /// Where each id's entry starts in the arena.
    @exclusivity(unchecked) private var entryOffsets: [Int] = []
    /// Each value's full 64-bit hash, by id (sketches are built from these).
    @exclusivity(unchecked) private(set) var hashes: [UInt64] = []
    /// Open-addressing slots: the hash's top 24 bits, then the entry's offset + 1 in the low 40
    /// bits (entries start at multiples of 8 below 2^40); 0 marks an empty slot.
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
    var count: Int { entryOffsets.count }

    /// The id of `bytes`, adding it when new.
    @inline(__always)
    func intern(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let hash = StableHash.hash(bytes)
        let tag = hash >> Self.offsetBits
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if entry >> Self.offsetBits == tag {
                let at = arena + Int(truncatingIfNeeded: entry & Self.offsetMask) - 1
                let header = at.load(as: UInt64.self)
                if Int(truncatingIfNeeded: header & 0xFFFF_FFFF) == bytes.count,
                    bytes.isEmpty || ByteScanning.memcmpEqual(at + Self.headerSize, bytes.baseAddress!, bytes.count)
                {
                    return UInt32(truncatingIfNeeded: header >> 32)
                }
            }
            slot = (slot + 1) & slotMask
        }
        return insert(bytes, hash: hash, slot: slot)
    }

    private func insert(_ bytes: UnsafeRawBufferPointer, hash: UInt64, slot: Int) -> UInt32 {
        let id = entryOffsets.count
        // Entries start at multiples of 8, so headers load aligned.
        let size = (Self.headerSize + bytes.count + 7) & ~7
        if arenaUsed + size > arenaCapacity {
            var capacity = arenaCapacity * 2
            while capacity < arenaUsed + size { capacity *= 2 }
            let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
            grown.copyMemory(from: arena, byteCount: arenaUsed)
            arena.deallocate()
            arena = grown
            arenaCapacity = capacity
        }
        let at = arena + arenaUsed
        at.storeBytes(of: UInt64(id) << 32 | UInt64(bytes.count), as: UInt64.self)
        if !bytes.isEmpty { (at + Self.headerSize).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        entryOffsets.append(arenaUsed)
        hashes.append(hash)
        slots[slot] = Self.slotEntry(hash: hash, offset: arenaUsed)
        arenaUsed += size
        if entryOffsets.count * 2 > slotMask + 1 { grow() }
        return UInt32(id)
    }

    private static func slotEntry(hash: UInt64, offset: Int) -> UInt64 {
        (hash >> offsetBits) << offsetBits | UInt64(offset + 1)
    }

    private func grow() {
        let slotCount = (slotMask + 1) * 2
        slots.deallocate()
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        slotMask = slotCount - 1
        for id in 0..<entryOffsets.count {
            var slot = Int(truncatingIfNeeded: hashes[id]) & slotMask
            while slots[slot] != 0 { slot = (slot + 1) & slotMask }
            slots[slot] = Self.slotEntry(hash: hashes[id], offset: entryOffsets[id])
        }
    }

    /// The bytes of an id, copied out (used when building partials, not per event).
    func bytes(of id: UInt32) -> [UInt8] {
        Array(rawBytes(of: id))
    }

    /// The bytes of an id in place: valid until the next value is interned (the arena may move).
    func rawBytes(of id: UInt32) -> UnsafeRawBufferPointer {
        let at = arena + entryOffsets[Int(id)]
        let length = Int(truncatingIfNeeded: at.load(as: UInt64.self) & 0xFFFF_FFFF)
        return UnsafeRawBufferPointer(start: at + Self.headerSize, count: length)
    }
}
