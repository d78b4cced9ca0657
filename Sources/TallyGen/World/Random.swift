/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fast, fully specified PRNG. The generator derives
/// one independent stream per logical event from `(seed, hour index, event index)`, so any event
/// can be re-created on demand in the same way by every format's renderer, on any thread.
struct SplitMix64 {
    var state: UInt64

    init(state: UInt64) { self.state = state }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// A value in `0..<bound` (Lemire's multiply-shift; the tiny bias is irrelevant here).
    @inline(__always)
    mutating func below(_ bound: UInt64) -> UInt64 {
        next().multipliedFullWidth(by: bound).high
    }

    /// The SplitMix64 output function, also used as a general 64-bit hash.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Hash of two values, order-sensitive.
    @inline(__always)
    static func hash(_ a: UInt64, _ b: UInt64) -> UInt64 {
        mix(mix(a &+ 0x632B_E59B_D9B4_E019) ^ (b &* 0x9E37_79B9_7F4A_7C15))
    }

    /// Hash of three values, order-sensitive.
    @inline(__always)
    static func hash(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        hash(hash(a, b), c)
    }
}
