/// The HyperLogLog register array behind an approximate `DistinctCounter`, with Otmar Ertl's
/// improved raw estimator.
///
/// A 64-bit hash picks register `hash >> (64 - p)` and offers it the rank `1 + leading zeros of
/// the remaining 64 - p bits` (capped at 64 - p + 1 when those bits are all zero); a register
/// keeps the maximum rank offered. Registers are maxima, so the state is a pure function of the
/// set of hashes seen, whatever the insertion or merge order.
struct HyperLogLogRegisters: Sendable, Equatable {
    /// log2 of the register count.
    static let precision = 14
    /// m, the number of registers.
    static let registerCount = 1 << precision
    /// q + 1 where q = 64 - p: the rank of a hash whose low q bits are all zero.
    static let maximumRank = UInt8(64 - precision + 1)

    /// One byte per register, each in 0...maximumRank.
    private(set) var values: [UInt8]

    /// All registers zero: the empty set.
    init() {
        values = [UInt8](repeating: 0, count: Self.registerCount)
    }

    /// Adopts decoded register values; the caller has checked the count and that each value is at
    /// most `maximumRank`.
    init(validatedValues: [UInt8]) {
        values = validatedValues
    }

    /// Offers one hash to its register.
    @inline(__always)
    mutating func insert(_ hash: UInt64) {
        let index = Int(truncatingIfNeeded: hash >> UInt64(64 - Self.precision))
        // Shifting the index bits out leaves the q remaining bits at the top; if they are all
        // zero, leadingZeroBitCount is 64 and the cap applies.
        let rank = UInt8(
            truncatingIfNeeded: min(
                (hash << UInt64(Self.precision)).leadingZeroBitCount + 1,
                Int(Self.maximumRank)))
        values.withUnsafeMutableBufferPointer { registers in
            if registers[index] < rank { registers[index] = rank }
        }
    }

    /// Register-wise maximum: the sketch of the union of both sets.
    mutating func formUnion(_ other: HyperLogLogRegisters) {
        values.withUnsafeMutableBufferPointer { mine in
            other.values.withUnsafeBufferPointer { theirs in
                for index in 0..<mine.count where mine[index] < theirs[index] {
                    mine[index] = theirs[index]
                }
            }
        }
    }

    /// Ertl's improved raw estimate of the number of distinct hashes
    /// ("New cardinality estimation algorithms for HyperLogLog sketches", arXiv:1702.01284,
    /// algorithm 6).
    ///
    /// Unlike the classic estimator it needs neither a linear-counting switch nor empirical bias
    /// tables: the σ term handles registers still at zero (small cardinalities) and the τ term
    /// registers at the cap (cardinalities near 2^64), and it is close to unbiased in between.
    func estimate() -> Double {
        let q = 64 - Self.precision
        var histogram = [Int](repeating: 0, count: q + 2)
        values.withUnsafeBufferPointer { registers in
            for value in registers { histogram[Int(value)] += 1 }
        }
        let m = Double(Self.registerCount)
        var z = m * Self.tau(1 - Double(histogram[q + 1]) / m)
        for k in stride(from: q, through: 1, by: -1) {
            z = 0.5 * (z + Double(histogram[k]))
        }
        z += m * Self.sigma(Double(histogram[0]) / m)
        // alpha_inf = 1 / (2 ln 2), the limit of the HyperLogLog bias-correction constant.
        let alphaInfinity = 0.5 / 0.693_147_180_559_945_3
        return alphaInfinity * m * m / z
    }

    /// σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k−1); infinite at x = 1 (every register empty ⇒ estimate 0).
    private static func sigma(_ input: Double) -> Double {
        if input == 1 { return .infinity }
        var x = input
        var y = 1.0
        var z = input
        while true {
            x *= x
            let previous = z
            z += x * y
            y += y
            if z == previous { return z }
        }
    }

    /// τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))² 2^−k) / 3; zero at both ends.
    private static func tau(_ input: Double) -> Double {
        if input == 0 || input == 1 { return 0 }
        var x = input
        var y = 1.0
        var z = 1 - input
        while true {
            x = Self.squareRoot(x)
            let previous = z
            y *= 0.5
            z -= (1 - x) * (1 - x) * y
            if z == previous { return z / 3 }
        }
    }

    /// √x for x in (0, 1] by Newton's method.
    ///
    /// `Double.squareRoot()` compiles to a call into libm on Linux, which this dependency-free
    /// module does not link; this is only reached when some register is at the cap, so speed is
    /// irrelevant. Starting at (1 + x) / 2 ≥ √x, the iterates decrease monotonically until they
    /// stop improving, which happens within one ulp of the true root.
    private static func squareRoot(_ x: Double) -> Double {
        var root = (1 + x) / 2
        while true {
            let next = 0.5 * (root + x / root)
            if next >= root { return root }
            root = next
        }
    }
}
