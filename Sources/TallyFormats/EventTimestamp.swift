/// Parsers for the three timestamp shapes of FORMATS.md, to microseconds since the epoch.
public enum EventTimestamp {
    /// `YYYY-MM-DD HH:MM:SS[.f{0,6}] UTC` (Network Events CSV), or the ISO 8601 shape with
    /// `T` and an offset (S3 JSON, `2025-07-25T18:19:41.236597+00:00`); `Z`, `UTC`, `±HH:MM`
    /// and `±HHMM` suffixes are accepted, fractions beyond microseconds are truncated.
    @inlinable
    public static func parseText(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let n = bytes.count
        guard n >= 19, let p = bytes.baseAddress else { return nil }
        let year = ByteScanning.digits(p, 0, 4)
        let month = ByteScanning.digits(p, 5, 2)
        let day = ByteScanning.digits(p, 8, 2)
        let hour = ByteScanning.digits(p, 11, 2)
        let minute = ByteScanning.digits(p, 14, 2)
        let second = ByteScanning.digits(p, 17, 2)
        guard year >= 0, month >= 0, day >= 0, hour >= 0, minute >= 0, second >= 0,
              bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              hour < 24, minute < 60, second < 61,
              CivilTime.isValid(year: year, month: month, day: day)
        else { return nil }
        var i = 19
        var fraction: Int64 = 0
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var digitsSeen = 0
            while i < n, bytes[i] >= 48, bytes[i] <= 57 {
                if digitsSeen < 6 { fraction = fraction * 10 + Int64(bytes[i] - 48) }
                digitsSeen += 1
                i += 1
            }
            guard digitsSeen > 0 else { return nil }
            var scale = digitsSeen
            while scale < 6 { fraction *= 10; scale += 1 }
        }
        var offsetSeconds: Int64 = 0
        let rest = UnsafeRawBufferPointer(rebasing: bytes[i..<n])
        if rest.isEmpty || ByteScanning.equals(rest, "Z") || ByteScanning.equals(rest, " UTC")
            || ByteScanning.equals(rest, "UTC") || ByteScanning.equals(rest, " Z") {
            offsetSeconds = 0
        } else if rest.count == 6 || rest.count == 5, rest[0] == UInt8(ascii: "+") || rest[0] == UInt8(ascii: "-"),
                  let rp = rest.baseAddress {
            let oh = ByteScanning.digits(rp, 1, 2)
            let om = rest.count == 6 ? ByteScanning.digits(rp, 4, 2) : ByteScanning.digits(rp, 3, 2)
            guard oh >= 0, om >= 0, oh < 24, om < 60, rest.count == 5 || rest[3] == UInt8(ascii: ":") else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (rest[0] == UInt8(ascii: "+") ? 1 : -1)
        } else {
            return nil
        }
        let days = CivilTime.days(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
        return seconds * CivilTime.microsPerSecond + fraction
    }

    /// Unix epoch milliseconds as a JSON integer (Connector analytics `timestamp`).
    @inlinable
    public static func parseEpochMillis(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let millis = ByteScanning.parseUInt64(bytes), millis < UInt64(Int64.max / 1000) else { return nil }
        return Int64(millis) * 1000
    }
}
