import TallyFormats

/// The span of event times an object's name announces (docs/design.md §2.2), in microseconds since the
/// epoch, `[start, end)`. A name with a full timestamp (`2025-07-25T18:20:00+00:00.json`) names
/// an instant: `start == end`. The planner widens every range by a slack, because events are
/// sometimes filed in a neighbouring object.
public struct ObjectTimeRange: Sendable, Hashable {
    /// First microsecond covered.
    public var start: Int64
    /// End of the range (exclusive); equal to `start` for an instant.
    public var end: Int64

    /// A range from its bounds.
    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// Reads the most specific time the object's path names, or `nil` when it names none.
    /// Recognised, most specific first: `YYYY-MM-DDTHH:MM[:SS][±HH:MM|Z]` (an instant),
    /// `YYYY/MM/DD/HH` and `YYYY-MM-DD[T_- ]HH` (an hour), `YYYY/MM/DD` and `YYYY-MM-DD` (a day).
    public init?(objectName: String) {
        let bytes = Array(objectName.utf8)
        var best: (range: ObjectTimeRange, specificity: Int)?
        var i = 0
        while i + 10 <= bytes.count {
            if let found = Self.match(bytes, at: i), found.specificity > (best?.specificity ?? -1) {
                best = found
            }
            i += 1
        }
        guard let best else { return nil }
        self = best.range
    }

    private static func number(_ b: [UInt8], _ at: Int, _ count: Int) -> Int64? {
        guard at + count <= b.count else { return nil }
        var v: Int64 = 0
        for k in at..<(at + count) {
            guard b[k] >= 48, b[k] <= 57 else { return nil }
            v = v * 10 + Int64(b[k] - 48)
        }
        return v
    }

    private static func match(_ b: [UInt8], at i: Int) -> (range: ObjectTimeRange, specificity: Int)? {
        // The date must not be glued to more digits on its left (`12026-…`).
        if i > 0, b[i - 1] >= 48, b[i - 1] <= 57 { return nil }
        guard let year = number(b, i, 4), year >= 1970, year < 2200,
            let month = number(b, i + 5, 2), let day = number(b, i + 8, 2)
        else { return nil }
        let sep = b[i + 4]
        guard sep == UInt8(ascii: "-") || sep == UInt8(ascii: "/"), b[i + 7] == sep,
            CivilTime.isValid(year: year, month: month, day: day)
        else { return nil }
        let dayStart = CivilTime.days(year: year, month: month, day: day) * CivilTime.microsPerDay
        let hourMicros: Int64 = 3600 * CivilTime.microsPerSecond
        let j = i + 10
        let dayRange = (ObjectTimeRange(start: dayStart, end: dayStart + CivilTime.microsPerDay), 1)
        guard j < b.count else { return dayRange }
        let hourSeparators: [UInt8] =
            sep == UInt8(ascii: "/") ? [UInt8(ascii: "/")] : [UInt8(ascii: "T"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: " ")]
        guard hourSeparators.contains(b[j]), let hour = number(b, j + 1, 2), hour < 24,
            j + 3 >= b.count || !(b[j + 3] >= 48 && b[j + 3] <= 57)
        else { return dayRange }
        let hourStart = dayStart + hour * hourMicros
        let hourRange = (ObjectTimeRange(start: hourStart, end: hourStart + hourMicros), 2)
        // `HH:MM[:SS]` with an optional offset makes an instant.
        guard sep == UInt8(ascii: "-"), j + 6 <= b.count, b[j + 3] == UInt8(ascii: ":"),
            let minute = number(b, j + 4, 2), minute < 60
        else { return hourRange }
        var k = j + 6
        var seconds: Int64 = 0
        if k + 3 <= b.count, b[k] == UInt8(ascii: ":"), let s = number(b, k + 1, 2), s < 60 {
            seconds = s
            k += 3
        }
        var offset: Int64 = 0
        if k + 6 <= b.count, b[k] == UInt8(ascii: "+") || b[k] == UInt8(ascii: "-"),
            let oh = number(b, k + 1, 2), b[k + 3] == UInt8(ascii: ":"), let om = number(b, k + 4, 2)
        {
            offset = (oh * 3600 + om * 60) * (b[k] == UInt8(ascii: "+") ? 1 : -1)
        }
        let instant = hourStart + (minute * 60 + seconds - offset) * CivilTime.microsPerSecond
        return (ObjectTimeRange(start: instant, end: instant), 3)
    }
}
