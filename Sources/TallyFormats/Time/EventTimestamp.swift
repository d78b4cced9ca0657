/// Parsers for the timestamp shapes of docs/design.md §2.1, to microseconds since the epoch. Each format
/// accepts exactly its own shape — a CSV export's time in RFC 3339 form is malformed, as the
/// brief counts it — so a report never silently depends on a lenient reading.
public enum EventTimestamp {
    /// Network Events CSV: `YYYY-MM-DD HH:MM:SS[.f{0,6}] UTC` (a dot with no digits is allowed).
    @inlinable
    public static func parseCSV(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let (seconds, end) = dateTime(bytes, separators: (0x20, 0x20)) else { return nil }
        var i = end
        var fraction: Int64 = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            guard let (value, next, digits) = Self.fraction(bytes, from: i + 1), digits <= 6 else { return nil }
            fraction = value
            i = next
        }
        guard ByteScanning.equals(UnsafeRawBufferPointer(rebasing: bytes[i...]), " UTC") else { return nil }
        return seconds * CivilTime.microsPerSecond + fraction
    }

    /// RFC 3339 (S3 sync JSON `time`, report windows): `YYYY-MM-DDTHH:MM:SS[.f+](Z|±HH:MM)`;
    /// fractions beyond microseconds are truncated.
    @inlinable
    public static func parseRFC3339(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let (seconds, end) = dateTime(bytes, separators: (UInt8(ascii: "T"), UInt8(ascii: "t"))) else { return nil }
        var i = end
        var fraction: Int64 = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            guard let (value, next, digits) = Self.fraction(bytes, from: i + 1), digits > 0 else { return nil }
            fraction = value
            i = next
        }
        let n = bytes.count
        guard i < n else { return nil }
        var offset: Int64 = 0
        if bytes[i] == UInt8(ascii: "Z") || bytes[i] == UInt8(ascii: "z") {
            guard i + 1 == n else { return nil }
        } else {
            guard i + 6 == n, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-"), bytes[i + 3] == UInt8(ascii: ":"),
                let p = bytes.baseAddress
            else { return nil }
            let oh = ByteScanning.digits(p, i + 1, 2)
            let om = ByteScanning.digits(p, i + 4, 2)
            guard oh >= 0, om >= 0, oh < 24, om < 60 else { return nil }
            offset = (oh * 3600 + om * 60) * (bytes[i] == UInt8(ascii: "+") ? 1 : -1)
        }
        return (seconds - offset) * CivilTime.microsPerSecond + fraction
    }

    /// Unix epoch milliseconds as a JSON integer (Connector analytics `timestamp`).
    @inlinable
    public static func parseEpochMillis(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard !bytes.isEmpty else { return nil }
        let negative = bytes[0] == UInt8(ascii: "-")
        guard let magnitude = ByteScanning.parseUInt64(negative ? UnsafeRawBufferPointer(rebasing: bytes[1...]) : bytes),
            magnitude <= UInt64(Int64.max / 1000)
        else { return nil }
        return (negative ? -Int64(magnitude) : Int64(magnitude)) * 1000
    }

    /// `YYYY-MM-DD?HH:MM:SS` at the start of `bytes`, `?` being one of `separators`: seconds
    /// since the epoch (no offset applied) and the index after the seconds.
    @inlinable
    static func dateTime(_ bytes: UnsafeRawBufferPointer, separators: (UInt8, UInt8)) -> (Int64, Int)? {
        guard bytes.count >= 19, let p = bytes.baseAddress else { return nil }
        let year = ByteScanning.digits(p, 0, 4)
        let month = ByteScanning.digits(p, 5, 2)
        let day = ByteScanning.digits(p, 8, 2)
        let hour = ByteScanning.digits(p, 11, 2)
        let minute = ByteScanning.digits(p, 14, 2)
        let second = ByteScanning.digits(p, 17, 2)
        guard year >= 0, month >= 0, day >= 0, hour >= 0, minute >= 0, second >= 0,
            bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == separators.0 || bytes[10] == separators.1,
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            hour < 24, minute < 60, second < 60,
            CivilTime.isValid(year: year, month: month, day: day)
        else { return nil }
        return (CivilTime.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second, 19)
    }

    /// Fraction digits from `start`: microseconds (truncated), the index after them, and how
    /// many digits there were.
    @inlinable
    static func fraction(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (Int64, Int, Int)? {
        var i = start
        var value: Int64 = 0
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
            if i - start < 6 { value = value * 10 + Int64(bytes[i] - 48) }
            i += 1
        }
        let digits = i - start
        var scale = min(digits, 6)
        while scale < 6 {
            value *= 10
            scale += 1
        }
        return (value, i, digits)
    }
}
