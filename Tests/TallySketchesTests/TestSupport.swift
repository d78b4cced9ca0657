import TallySketches

/// A small deterministic generator for building large test inputs from one property-test seed,
/// far faster than drawing thousands of values through generators one by one.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return StableHash.mix(state)
    }
}

/// The stable hash of an integer's 8 little-endian bytes, how the accuracy tests make values.
func hashOfInteger(_ value: UInt64) -> UInt64 {
    withUnsafeBytes(of: value.littleEndian) { StableHash.hash($0) }
}

/// A counter over the hashes of `range`, each value derived from `base` so that overlapping
/// ranges share elements.
func counter(over range: Range<Int>, base: UInt64) -> DistinctCounter {
    var result = DistinctCounter()
    for index in range { result.insert(hash: StableHash.mix(base &+ UInt64(index))) }
    return result
}

/// The canonical bytes of a counter, for byte-level comparisons.
func encoded(_ counter: DistinctCounter) -> [UInt8] {
    var writer = ByteWriter()
    counter.encode(into: &writer)
    return writer.bytes
}

/// Whether `body` throws, and what it throws is a `SketchDecodingError` (the only error type
/// decoders may throw).
func throwsDecodingError<T>(_ body: () throws -> T) -> Bool {
    do {
        _ = try body()
        return false
    } catch {
        return error is SketchDecodingError
    }
}
