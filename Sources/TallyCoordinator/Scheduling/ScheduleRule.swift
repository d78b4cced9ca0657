import TallyFormats
import TallyProtocol
import TallyReport

/// What a schedule means: when it runs (local times in its zone, DST included) and the job
/// each run submits, whose window is computed from the scheduled time — not from when the run
/// actually happened — so a run made late after an outage reports the same days.
struct ScheduleRule: Sendable {
    enum Window: Sendable, Equatable {
        case previousDay, previousWeek, previousMonth
        case lastDays(Int)
    }
    enum Every: Sendable, Equatable {
        case daily
        case weekly(weekday: Int)
        case monthly(day: Int)
    }

    let request: ScheduleRequest
    let kind: ReportKind
    let window: Window
    let every: Every
    let at: String
    let zone: String

    static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// The rule of a request; a problem names the field.
    init(_ request: ScheduleRequest) throws(ReportWindowError) {
        self.request = request
        guard !request.name.isEmpty, request.name.utf8.count <= 64 else {
            throw ReportWindowError(field: "name", reason: "1 to 64 characters")
        }
        guard let kind = ReportKind(rawValue: request.report) else {
            throw ReportWindowError(field: "report", reason: "unknown report '\(request.report)' (known: \(ReportKind.names))")
        }
        self.kind = kind
        switch request.window {
        case "previous-day": window = .previousDay
        case "previous-week": window = .previousWeek
        case "previous-month": window = .previousMonth
        default:
            let parts = request.window.split(separator: "-")
            guard parts.count == 3, parts[0] == "last", parts[2] == "days", let n = Int(parts[1]), (1...400).contains(n) else {
                throw ReportWindowError(
                    field: "window", reason: "previous-day, previous-week, previous-month or last-N-days (N from 1 to 400)")
            }
            window = .lastDays(n)
        }
        switch request.every {
        case "daily": every = .daily
        case "weekly":
            guard let name = request.weekday?.lowercased(), let index = Self.weekdays.firstIndex(of: name) else {
                throw ReportWindowError(field: "weekday", reason: "a weekly schedule names a weekday (monday … sunday)")
            }
            every = .weekly(weekday: index)
        case "monthly":
            guard let day = request.day, (1...28).contains(day) else {
                throw ReportWindowError(field: "day", reason: "a monthly schedule names a day from 1 to 28")
            }
            every = .monthly(day: day)
        default: throw ReportWindowError(field: "every", reason: "daily, weekly or monthly")
        }
        let time = request.at.split(separator: ":")
        guard time.count == 2, time.allSatisfy({ $0.count == 2 }), let h = Int(time[0]), let m = Int(time[1]), h < 24, m < 60 else {
            throw ReportWindowError(field: "at", reason: "a local time HH:MM")
        }
        at = request.at
        zone = request.timezone ?? "UTC"
        _ = try ReportWindow.instant("2026-01-01T00:00", field: "timezone", timeZone: zone)
        _ = try job(for: 0)  // the job it would submit is valid
    }

    /// The first scheduled time strictly after `seconds` (seconds since the epoch).
    func nextRun(after seconds: Double) -> Double {
        let micros = Int64(seconds * 1_000_000)
        var day = localDay(of: micros)
        for _ in 0..<400 {
            if matches(day), let instant = try? ReportWindow.instant(Self.date(day) + "T" + at, field: "at", timeZone: zone),
                instant > micros
            {
                return Double(instant) / 1_000_000
            }
            day += 1
        }
        return seconds + 86_400 * 400  // unreachable: every rule matches within a month
    }

    private func matches(_ day: Int64) -> Bool {
        switch every {
        case .daily: return true
        case .weekly(let weekday): return Self.weekdayIndex(day) == weekday
        case .monthly(let d): return CivilTime.civil(days: day).day == Int64(d)
        }
    }

    /// The job a run scheduled at `seconds` submits.
    func job(for seconds: Double) throws(ReportWindowError) -> JobRequest {
        let today = localDay(of: Int64(seconds * 1_000_000))
        let (from, to): (Int64, Int64)
        switch window {
        case .previousDay: (from, to) = (today - 1, today)
        case .lastDays(let n): (from, to) = (today - Int64(n), today)
        case .previousWeek:
            let monday = today - Int64(Self.weekdayIndex(today))
            (from, to) = (monday - 7, monday)
        case .previousMonth:
            let (y, m, _) = CivilTime.civil(days: today)
            let first = CivilTime.days(year: y, month: m, day: 1)
            let previous = m == 1 ? CivilTime.days(year: y - 1, month: 12, day: 1) : CivilTime.days(year: y, month: m - 1, day: 1)
            (from, to) = (previous, first)
        }
        // `users` goes to the job whatever the kind: inactive-users and resource-access take a
        // directory, and another kind refuses it (`ReportSpec`).
        var job = JobRequest(
            report: request.report, source: request.source, timezone: zone, users: request.users, notify: request.notify)
        if kind == .inactiveUsers {
            job.now = Self.date(to)
            job.inactiveDays = request.inactiveDays
            job.lookbackDays = request.lookbackDays
        } else {
            job.from = Self.date(from)
            job.to = Self.date(to)
        }
        _ = try ReportSpec(job, submittedAt: seconds)
        return job
    }

    /// The zone's calendar day (days since 1970-01-01) of an instant.
    private func localDay(of micros: Int64) -> Int64 {
        let text = ReportWindow.local(micros, timeZone: zone) ?? CivilTime.rfc3339(micros: micros)
        let parts = text.prefix(10).split(separator: "-").compactMap { Int64($0) }
        return CivilTime.days(year: parts[0], month: parts[1], day: parts[2])
    }

    /// Monday 0 … Sunday 6 (1970-01-01 was a Thursday).
    static func weekdayIndex(_ day: Int64) -> Int {
        Int(((day % 7) + 7 + 3) % 7)
    }

    /// `YYYY-MM-DD` of a day count.
    static func date(_ day: Int64) -> String {
        String(CivilTime.rfc3339(micros: day * CivilTime.microsPerDay).prefix(10))
    }
}
