/// Arithmetic that stays at the bound instead of trapping. Counts and sizes arrive from the
/// network (partials, listings, log lines) and are summed, multiplied and shown by processes that
/// must never crash on them: every sum over such numbers saturates (docs/security.md).
extension Int64 {
    /// `self + other`, staying at `Int64.max` instead of trapping: statistics are summed over
    /// partials that arrive from the network and must never crash the process that merges them.
    public func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self − other`, staying at the bound instead of trapping.
    public func saturatingSubtract(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    /// `self × other`, staying at the bound instead of trapping.
    public func saturatingMultiply(_ other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }
}

extension Int64 {
    /// A floating-point value rounded toward zero and held within `Int64`'s range; NaN is 0.
    public init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9_223_372_036_854_775_807.0 {
            self = .max
        } else if value <= -9_223_372_036_854_775_808.0 {
            self = .min
        } else {
            self = Int64(value)
        }
    }
}

extension Int {
    /// A floating-point value rounded toward zero and held within `Int`'s range; NaN is 0.
    public init(saturating value: Double) {
        self = Int(truncatingIfNeeded: Int64(saturating: value))
    }
}
