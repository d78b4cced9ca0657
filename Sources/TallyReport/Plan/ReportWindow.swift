import Foundation
import TallyFormats

/// The half-open time window `[from, to)` of a report, in microseconds since the epoch (UTC).
public struct ReportWindow: Sendable, Hashable {
    /// First instant included.
    public var from: Int64
    /// First instant excluded.
    public var to: Int64

    /// The longest window accepted: longer requests are almost always a typo, and would make
    /// jobs that list years of objects.
    public static let maximumDays: Int64 = 400

    /// A window from validated bounds.
    public init(from: Int64, to: Int64) throws(ReportWindowError) {
        guard to > from else { throw ReportWindowError(field: "to", reason: "must be later than from") }
        guard to - from <= Self.maximumDays * CivilTime.microsPerDay else {
            throw ReportWindowError(field: "to", reason: "the window is longer than \(Self.maximumDays) days")
        }
        self.from = from
        self.to = to
    }

    /// A window from user text: RFC 3339 instants, or — with an IANA `timeZone` — local dates
    /// (`2026-10-01`) and local times (`2026-10-01T08:00`, with optional seconds), chosen in
    /// that zone. An instant with an explicit offset means that instant whatever the zone.
    public init(from: String, to: String, timeZone: String?) throws(ReportWindowError) {
        self = try Self.resolve(from: from, to: to, timeZone: timeZone).window
    }

    /// The window, and a sentence for each bound that is a local time the zone skips or repeats,
    /// saying which instant was used (`LocalTimeRule`).
    public static func resolve(from: String, to: String, timeZone: String?) throws(ReportWindowError) -> (
        window: ReportWindow, notes: [String]
    ) {
        let zone = try Self.zone(timeZone)
        let (start, fromNote) = try resolveInstant(from, field: "from", zone: zone)
        let (end, toNote) = try resolveInstant(to, field: "to", zone: zone)
        return (try ReportWindow(from: start, to: end), [fromNote, toNote].compactMap { $0 })
    }

    /// The `days` days before `now` (an inactive-users report's look-back).
    public init(days: Int, endingAt now: Int64) throws(ReportWindowError) {
        guard days >= 1 else { throw ReportWindowError(field: "lookback_days", reason: "must be at least 1") }
        guard Int64(days) <= Self.maximumDays else {
            throw ReportWindowError(field: "lookback_days", reason: "must be at most \(Self.maximumDays)")
        }
        try self.init(from: now - Int64(days) * CivilTime.microsPerDay, to: now)
    }

    /// One instant from user text, in the forms `init(from:to:timeZone:)` takes; `field` names it
    /// in errors.
    public static func instant(_ text: String, field: String, timeZone: String?) throws(ReportWindowError) -> Int64 {
        try resolveInstant(text, field: field, zone: try zone(timeZone)).instant
    }

    /// Whether `text` is an RFC 3339 instant (with its offset), needing no time zone.
    public static func isInstant(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { EventTimestamp.parseRFC3339($0) } != nil
    }

    /// An instant as the zone's wall clock shows it, with its offset (`2026-03-08T03:00:00-04:00`).
    public static func local(_ micros: Int64, timeZone: String) -> String? {
        guard let zone = TimeZone(identifier: timeZone) else { return nil }
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(micros / CivilTime.microsPerSecond)))
        return CivilTime.rfc3339(micros: micros, offsetSeconds: Int64(offset))
    }

    private static func zone(_ name: String?) throws(ReportWindowError) -> TimeZone? {
        guard let name else { return nil }
        guard let zone = TimeZone(identifier: name) else {
            throw ReportWindowError(field: "timezone", reason: "unknown time zone '\(name)' (use an IANA name such as Europe/Paris)")
        }
        return zone
    }

    /// Parses one bound: the instant, and a note when a local time fell in a gap or an overlap.
    static func resolveInstant(_ text: String, field: String, zone: TimeZone?) throws(ReportWindowError) -> (instant: Int64, note: String?)
    {
        let bytes = Array(text.utf8)
        if let micros = bytes.withUnsafeBytes({ EventTimestamp.parseRFC3339($0) }) {
            return (micros, nil)
        }
        guard let local = LocalDateTime(text) else {
            throw ReportWindowError(
                field: field,
                reason: "'\(text)' is not an RFC 3339 instant (2026-10-01T00:00:00Z) or a local date/time (2026-10-01, 2026-10-01T08:00)")
        }
        guard let zone else {
            throw ReportWindowError(
                field: field, reason: "'\(text)' has no UTC offset: give an RFC 3339 instant (2026-10-01T00:00:00Z) or a time zone (--tz)")
        }
        let wall =
            CivilTime.days(year: Int64(local.year), month: Int64(local.month), day: Int64(local.day)) * 86_400
            + Int64(local.hour * 3600 + local.minute * 60 + local.second)
        let resolved = LocalTimeRule.resolve(wallSeconds: wall, in: zone)
        let note = resolved.kind.map { kind in
            let used = CivilTime.rfc3339(micros: resolved.seconds * CivilTime.microsPerSecond)
            switch kind {
            case .skipped(let gapSeconds):
                return "\(field) \(text) does not exist in \(zone.identifier) (the clocks skip \(gapSeconds / 60) minutes there); "
                    + "used \(used), the same time on the offset before the change"
            case .repeated:
                return "\(field) \(text) happens twice in \(zone.identifier) (the clocks go back there); used the first, \(used)"
            }
        }
        return (resolved.seconds * CivilTime.microsPerSecond, note)
    }

    /// A local calendar date with an optional time of day, as typed by a user.
    private struct LocalDateTime {
        var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0

        init?(_ text: String) {
            // Digits only: `Int` alone would take `+1` for a month.
            guard text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x3A || $0 == 0x54 }) else { return nil }
            let parts = text.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
            let date = parts[0].split(separator: "-", omittingEmptySubsequences: false)
            guard date.count == 3, date[0].count == 4, date[1].count == 2, date[2].count == 2,
                let y = Int(date[0]), let m = Int(date[1]), let d = Int(date[2]),
                CivilTime.isValid(year: Int64(y), month: Int64(m), day: Int64(d))
            else { return nil }
            (year, month, day) = (y, m, d)
            if parts.count == 2 {
                let time = parts[1].split(separator: ":", omittingEmptySubsequences: false)
                guard time.count == 2 || time.count == 3, time.allSatisfy({ $0.count == 2 }),
                    let h = Int(time[0]), let mi = Int(time[1]), h < 24, mi < 60
                else { return nil }
                (hour, minute) = (h, mi)
                if time.count == 3 {
                    guard let s = Int(time[2]), s < 60 else { return nil }
                    second = s
                }
            }
        }
    }
}

/// An invalid report window, naming the field at fault.
public struct ReportWindowError: Error, CustomStringConvertible, Sendable, Equatable {
    /// `from`, `to` or `timezone`.
    public var field: String
    /// What is wrong with it.
    public var reason: String

    public var description: String { "\(field): \(reason)" }

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}
