/// Proleptic-Gregorian calendar arithmetic in UTC, on integers.
///
/// The hot path parses millions of timestamps a second; Foundation's calendars and formatters
/// allocate, so the conversions here follow Howard Hinnant's `days_from_civil` algorithms.
public enum CivilTime {
    /// Microseconds in one second.
    public static let microsPerSecond: Int64 = 1_000_000
    /// Microseconds in one day.
    public static let microsPerDay: Int64 = 86_400 * 1_000_000

    /// Days since 1970-01-01 of a valid calendar date.
    @inlinable
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Whether `day` exists in that month (leap years included).
    @inlinable
    public static func isValid(year: Int64, month: Int64, day: Int64) -> Bool {
        guard month >= 1, month <= 12, day >= 1 else { return false }
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return day <= (leap ? 29 : 28)
        case 4, 6, 9, 11: return day <= 30
        default: return day <= 31
        }
    }

    /// The calendar date of a day count since 1970-01-01.
    public static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// RFC 3339 UTC with exactly three fractional digits, sub-millisecond digits truncated
    /// (`2024-02-20T20:16:05.920Z`), as the report's `last_access_date` wants.
    public static func rfc3339Millis(micros: Int64) -> String {
        let (seconds, fraction) = secondsText(micros: micros)
        return seconds + "." + pad(fraction / 1000, 3) + "Z"
    }

    /// RFC 3339 UTC to the second when the instant is whole, else with microseconds.
    public static func rfc3339(micros: Int64) -> String {
        let (seconds, fraction) = secondsText(micros: micros)
        return seconds + (fraction == 0 ? "" : "." + pad(fraction, 6)) + "Z"
    }

    /// RFC 3339 of an instant as the wall clock of a zone `offsetSeconds` east of UTC shows it
    /// (`2026-03-08T03:00:00-04:00`; `+05:45`), to the second when whole, else with microseconds.
    public static func rfc3339(micros: Int64, offsetSeconds: Int64) -> String {
        let (seconds, fraction) = secondsText(micros: micros + offsetSeconds * microsPerSecond)
        let sign = offsetSeconds < 0 ? "-" : "+"
        let minutes = abs(offsetSeconds) / 60
        return seconds + (fraction == 0 ? "" : "." + pad(fraction, 6)) + sign + pad(minutes / 60, 2) + ":" + pad(minutes % 60, 2)
    }

    /// `YYYY-MM-DDTHH:MM:SS` of an instant, and its microseconds within the second.
    private static func secondsText(micros: Int64) -> (String, Int64) {
        var days = micros / microsPerDay
        var rest = micros % microsPerDay
        if rest < 0 {
            rest += microsPerDay
            days -= 1
        }
        let (y, mo, d) = civil(days: days)
        let secondOfDay = rest / microsPerSecond
        let text =
            pad(y, 4) + "-" + pad(mo, 2) + "-" + pad(d, 2) + "T" + pad(secondOfDay / 3600, 2) + ":"
            + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        return (text, rest % microsPerSecond)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
