import TallyFormats

/// An instant's UTC calendar fields, for writing the formats' timestamp spellings straight into
/// a `LineWriter` (no `DateFormatter`); the calendar arithmetic is `CivilTime`'s.
struct CalendarFields {
    var year: Int64, month: Int64, day: Int64
    var hour: Int64, minute: Int64, second: Int64, millisecond: Int64

    /// The UTC calendar fields of epoch milliseconds.
    init(epochMilliseconds ms: Int64) {
        let (days, msOfDay) = CalendarFields.floorDivMod(ms, 86_400_000)
        let sod = msOfDay / 1000
        millisecond = msOfDay % 1000
        hour = sod / 3600
        minute = (sod / 60) % 60
        second = sod % 60
        (year, month, day) = CivilTime.civil(days: days)
    }

    static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 {
            q -= 1
            r += b
        }
        return (q, r)
    }

    static let monthNames: [StaticString] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun",
        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
}

extension LineWriter {
    /// `YYYY-MM-DD` followed by `separator` and `HH:MM:SS`.
    @inline(__always)
    mutating func dateTime(_ t: CalendarFields, separator: UInt8) {
        padded(t.year, width: 4)
        byte(0x2D)
        padded(t.month, width: 2)
        byte(0x2D)
        padded(t.day, width: 2)
        byte(separator)
        padded(t.hour, width: 2)
        byte(0x3A)
        padded(t.minute, width: 2)
        byte(0x3A)
        padded(t.second, width: 2)
    }

    /// CSV export time: `2024-02-20 20:16:05.92 UTC`; the fraction's trailing zeros are trimmed
    /// and a zero fraction is omitted with its dot.
    mutating func csvTime(_ ms: Int64) {
        let t = CalendarFields(epochMilliseconds: ms)
        dateTime(t, separator: 0x20)
        var frac = t.millisecond
        if frac != 0 {
            var width = 3
            while frac % 10 == 0 {
                frac /= 10
                width -= 1
            }
            byte(0x2E)
            padded(frac, width: width)
        }
        lit(" UTC")
    }

    /// S3 time: `2025-07-25T18:19:41.236000+00:00` (microseconds, last three digits zero).
    mutating func isoMicros(_ ms: Int64) {
        let t = CalendarFields(epochMilliseconds: ms)
        dateTime(t, separator: 0x54)
        byte(0x2E)
        padded(t.millisecond, width: 3)
        lit("000+00:00")
    }

    /// Service log time: `2025-07-25 18:19:41`.
    mutating func serviceTime(_ ms: Int64) {
        dateTime(CalendarFields(epochMilliseconds: ms), separator: 0x20)
    }

    /// journald short format: `Oct 26 21:35:50`.
    mutating func journalTime(_ ms: Int64) {
        let t = CalendarFields(epochMilliseconds: ms)
        lit(CalendarFields.monthNames[Int(t.month - 1)])
        byte(0x20)
        padded(t.day, width: 2)
        byte(0x20)
        padded(t.hour, width: 2)
        byte(0x3A)
        padded(t.minute, width: 2)
        byte(0x3A)
        padded(t.second, width: 2)
    }

    /// `docker logs --timestamps`: `2023-10-26T21:35:50.045123456Z` (nanoseconds).
    mutating func dockerTime(_ ms: Int64, nanos: UInt64) {
        let t = CalendarFields(epochMilliseconds: ms)
        dateTime(t, separator: 0x54)
        byte(0x2E)
        padded(t.millisecond, width: 3)
        padded(Int64(nanos % 1_000_000), width: 6)
        byte(0x5A)
    }
}

/// Path components for file names, from epoch seconds.
struct FileTime {
    let year: String, month: String, day: String, hour: String, minute: String

    init(epochSeconds s: Int64) {
        let t = CalendarFields(epochMilliseconds: s * 1000)
        func pad(_ v: Int64, _ w: Int) -> String {
            let digits = String(v)
            return String(repeating: "0", count: max(0, w - digits.count)) + digits
        }
        year = pad(t.year, 4)
        month = pad(t.month, 2)
        day = pad(t.day, 2)
        hour = pad(t.hour, 2)
        minute = pad(t.minute, 2)
    }
}
