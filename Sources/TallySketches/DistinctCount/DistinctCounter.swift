/// A mergeable count of distinct values, exact up to 4096 and HyperLogLog beyond.
///
/// Callers insert a 64-bit hash of each value (`StableHash.hash` of its bytes), never the value.
/// While at most `exactLimit` distinct hashes have been seen the counter keeps them all and
/// `count` is exact; the insert or merge that brings in the 4097th distinct hash converts it to a
/// HyperLogLog sketch with 2^14 one-byte registers (relative standard error ≈ 0.81 %).
///
/// The state depends only on the *set* of hashes inserted, never on insertion or merge order:
/// exact mode is a set, registers are maxima, and the conversion happens at a set-size threshold
/// (whoever crosses it, the result is the HyperLogLog sketch of the same set). So partial results
/// can be merged in any grouping, and `==` compares the represented sets (exact mode) or
/// registers (approximate mode).
public struct DistinctCounter: Sendable, Equatable {
    /// The largest number of distinct hashes held exactly.
    public static let exactLimit = 4096

    /// log2 of the HyperLogLog register count used once the counter is approximate.
    public static let precision = HyperLogLogRegisters.precision

    /// The relative standard error of an approximate count, 1.04 / √m ≈ 0.0081.
    public static var relativeStandardError: Double {
        // √m = √(2^14) = 2^7, spelled out because `squareRoot()` would need libm at runtime.
        1.04 / Double(1 << (HyperLogLogRegisters.precision / 2))
    }

    /// The hashes, while exact; emptied on conversion.
    private(set) var exactHashes: UInt64HashSet

    /// The registers once approximate; nil while exact.
    private(set) var registers: HyperLogLogRegisters?

    /// An empty, exact counter. Allocates nothing until the first insert.
    public init() {
        exactHashes = UInt64HashSet()
        registers = nil
    }

    /// Builds a counter directly from decoded parts.
    init(exactHashes: UInt64HashSet, registers: HyperLogLogRegisters?) {
        self.exactHashes = exactHashes
        self.registers = registers
    }

    /// Roughly the heap bytes it holds: the exact hashes' table or the registers.
    public var storageBytes: Int {
        exactHashes.storageBytes + (registers == nil ? 0 : 1 << HyperLogLogRegisters.precision)
    }

    /// Whether `count` is exact (at most `exactLimit` distinct hashes have been seen).
    public var isExact: Bool { registers == nil }

    /// The number of distinct hashes: exact in exact mode, otherwise the rounded estimate.
    public var count: UInt64 {
        guard let registers else { return UInt64(exactHashes.count) }
        let estimate = registers.estimate()
        // Saturate rather than trap: decoded registers can describe any state, including an
        // all-saturated one whose estimate is infinite.
        guard estimate.isFinite else { return estimate > 0 ? .max : 0 }
        // `+ 0.5` then truncation rounds half up; `rounded()` would be a libm call on Linux.
        return estimate >= Double(UInt64.max) ? .max : UInt64(estimate + 0.5)
    }

    /// Records one value by its 64-bit hash.
    @inline(__always)
    public mutating func insert(hash: UInt64) {
        if registers != nil {
            registers!.insert(hash)
        } else if exactHashes.insert(hash), exactHashes.count > Self.exactLimit {
            convertToApproximate()
        }
    }

    /// Adds every hash `other` has seen: afterwards `self` counts the union of both sets.
    ///
    /// Two exact counters stay exact if the union holds at most `exactLimit` hashes.
    public mutating func merge(_ other: DistinctCounter) {
        switch (registers != nil, other.registers != nil) {
        case (true, true):
            registers!.formUnion(other.registers!)
        case (true, false):
            other.exactHashes.forEach { registers!.insert($0) }
        case (false, true):
            var union = other.registers!
            exactHashes.forEach { union.insert($0) }
            registers = union
            exactHashes = UInt64HashSet()
        case (false, false):
            // Insert the smaller set into a copy of the larger one: fewer probes and at most
            // one table growth.
            if other.exactHashes.count > exactHashes.count {
                var union = other
                exactHashes.forEach { union.insert(hash: $0) }
                self = union
            } else {
                other.exactHashes.forEach { insert(hash: $0) }
            }
        }
    }

    /// Equal when both are exact over the same set, or both approximate with equal registers.
    public static func == (lhs: DistinctCounter, rhs: DistinctCounter) -> Bool {
        switch (lhs.registers, rhs.registers) {
        case (nil, nil):
            return lhs.exactHashes.isEqualSet(to: rhs.exactHashes)
        case let (left?, right?):
            return left == right
        default:
            return false
        }
    }

    private mutating func convertToApproximate() {
        var approximate = HyperLogLogRegisters()
        exactHashes.forEach { approximate.insert($0) }
        registers = approximate
        exactHashes = UInt64HashSet()
    }
}
