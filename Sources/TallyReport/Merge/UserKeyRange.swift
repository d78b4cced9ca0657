import TallySketches

/// A half-open range of rows by key byte order (emails, Resource ids, pair keys), `[lower,
/// upper)`; nil ends are open. A report is merged range by range (docs/design.md §3.8): the
/// ranges of a split cover every key once, so their rows, concatenated in order, are the whole
/// report's rows.
public struct UserKeyRange: Sendable, Hashable {
    /// The first email in the range; nil: from the first.
    public var lower: [UInt8]?
    /// The first email after the range; nil: to the last.
    public var upper: [UInt8]?

    /// The whole key space.
    public static let all = UserKeyRange(lower: nil, upper: nil)

    public init(lower: [UInt8]?, upper: [UInt8]?) {
        self.lower = lower
        self.upper = upper
    }

    /// Whether `email` is in the range.
    public func contains(_ email: [UInt8]) -> Bool {
        if let lower, ByteStringOrder.compare(email, lower) < 0 { return false }
        if let upper, ByteStringOrder.compare(email, upper) >= 0 { return false }
        return true
    }

    /// Whether `email` comes after every email of the range.
    public func isPast(_ email: [UInt8]) -> Bool {
        guard let upper else { return false }
        return ByteStringOrder.compare(email, upper) >= 0
    }

    /// At most `count` ranges covering every email, bounded at quantiles of `samples` (emails
    /// seen in the partials, e.g. their index keys), so each range holds about as many users.
    /// Fewer ranges come back when the samples have fewer distinct emails.
    public static func split(samples: [[UInt8]], into count: Int) -> [UserKeyRange] {
        let sorted = samples.sorted { ByteStringOrder.compare($0, $1) < 0 }
        var distinct: [[UInt8]] = []
        for key in sorted where distinct.last != key { distinct.append(key) }
        let wanted = max(1, count)
        guard wanted > 1, !distinct.isEmpty else { return [.all] }
        var bounds: [[UInt8]] = []
        for i in 1..<wanted {
            // Non-decreasing, since `distinct` is sorted; the smallest sample never bounds a range.
            let key = distinct[i * distinct.count / wanted]
            if key != distinct[0], bounds.last != key { bounds.append(key) }
        }
        var ranges: [UserKeyRange] = []
        var lower: [UInt8]? = nil
        for bound in bounds {
            ranges.append(UserKeyRange(lower: lower, upper: bound))
            lower = bound
        }
        ranges.append(UserKeyRange(lower: lower, upper: nil))
        return ranges
    }
}
