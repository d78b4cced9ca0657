import TallyFormats
import TallySketches

/// Why a partial cannot be what reading its task's objects gave: a number no reading of them
/// could produce. The coordinator refuses such a partial at upload (docs/security.md, "A
/// compromised worker"), so a faulty or hostile worker cannot carry absurd counts into totals,
/// reports, pages or the shard cache.
public struct ImplausiblePartial: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, naming the field (and the user, for a user's aggregates).
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { "implausible partial: \(reason)" }
}

extension Partial {
    /// The most bytes one compressed byte can stand for (deflate's limit is 1032:1), so the most
    /// lines a task's bytes can hold.
    public static let maximumExpansion: Int64 = 1032

    /// How far above its user's connection count a HyperLogLog estimate may lie: the true count
    /// is at most the connections, and the estimate's relative standard error is 0.81 %, so
    /// 1/16 (6.25 %, over 7 standard errors) is never exceeded by an honest sketch.
    static let estimateSlackDivisor: UInt64 = 16

    /// Checks the partial against what the coordinator knows of its task: the objects and their
    /// listed sizes, and the job's window. Every count must fit the others: objects and bytes
    /// those of the task, lines within what the bytes can hold, events within lines, in-window
    /// events within events, the rows' connections exactly the in-window events they count (those
    /// naming a user, or all of them by Resource), each row's sketches, top list and first and last
    /// access within what its connections allow, and its key and measures what its report keeps.
    ///
    /// - Throws: `ImplausiblePartial` naming the first field that does not fit.
    public func checkPlausible(for task: ReportTask, window: ReportWindow, rowKey expected: RowKey = .user) throws(ImplausiblePartial) {
        var check = try PlausibilityCheck(statistics, rowKey: rowKey, for: task, window: window, expected: expected)
        for row in rows { try check.add(row.summary) }
        try check.finish()
    }

    /// Checks `bytes` as `init(encoded:memoryCeiling:)` decodes them (building no sketch) and as
    /// `checkPlausible(for:window:)` does, one user at a time without holding the users; the
    /// statistics. Decoding problems throw `SketchDecodingError` (before any implausible
    /// number), implausible numbers `ImplausiblePartial`.
    public static func checkedStatistics(
        encoded bytes: [UInt8], memoryCeiling: Int = .max, for task: ReportTask, window: ReportWindow, rowKey expected: RowKey = .user
    ) throws -> ReadStatistics {
        // A partial that does not decode is refused as such: an implausible number found on the
        // way is kept and thrown only once the whole partial has decoded.
        var check: PlausibilityCheck?
        var problem: ImplausiblePartial?
        let statistics = try Self.check(bytes, memoryCeiling: memoryCeiling) { statistics, rowKey in
            do throws(ImplausiblePartial) {
                check = try PlausibilityCheck(statistics, rowKey: rowKey, for: task, window: window, expected: expected)
            } catch { problem = error }
        } user: { user in
            guard problem == nil, check != nil else { return }
            do throws(ImplausiblePartial) { try check!.add(user) } catch { problem = error }
        }
        if let problem { throw problem }
        try check!.finish()
        return statistics
    }
}

/// The plausibility rules of `Partial.checkPlausible(for:window:)`, fed the statistics first and
/// then the users one at a time.
struct PlausibilityCheck {
    private let statistics: ReadStatistics
    private let window: ReportWindow
    private let rowKey: RowKey
    private var connections: UInt64 = 0

    init(_ s: ReadStatistics, rowKey: RowKey, for task: ReportTask, window: ReportWindow, expected: RowKey) throws(ImplausiblePartial) {
        statistics = s
        self.window = window
        self.rowKey = rowKey
        // A partial of another report's rows would merge into nonsense (docs/design.md §1.10).
        guard rowKey == expected else {
            throw ImplausiblePartial("its rows are keyed by \(rowKey), the job's report by \(expected)")
        }
        let listedBytes = task.bytes
        // A worker reads each object whole or fails the task (its size must match the listing).
        guard s.objects == Int64(task.objects.count) else {
            throw ImplausiblePartial("objects is \(s.objects), the task has \(task.objects.count)")
        }
        let unsized = task.objects.contains { $0.size <= 0 }
        guard unsized ? s.bytes >= listedBytes : s.bytes == listedBytes else {
            throw ImplausiblePartial("bytes is \(s.bytes), the task's objects are listed at \(listedBytes)")
        }
        let lineCeiling = s.bytes.saturatingMultiply(Partial.maximumExpansion).saturatingAdd(s.objects)
        guard s.lines.lines <= lineCeiling else {
            throw ImplausiblePartial("lines is \(s.lines.lines), more than \(s.bytes) bytes can hold")
        }
        let classified = s.lines.events.saturatingAdd(s.lines.notEvents).saturatingAdd(s.lines.malformed)
        guard classified <= s.lines.lines else {
            throw ImplausiblePartial(
                "events, other lines and malformed lines add up to \(classified), more than the \(s.lines.lines) lines")
        }
        guard s.eventsInWindow <= s.lines.events else {
            throw ImplausiblePartial("events in the window (\(s.eventsInWindow)) exceed events (\(s.lines.events))")
        }
        guard s.serviceAccountEvents <= s.eventsInWindow else {
            throw ImplausiblePartial("service-account events (\(s.serviceAccountEvents)) exceed events in the window (\(s.eventsInWindow))")
        }
        let names = Set(task.objects.map(\.name))
        // A task over a single-file source names its one object "", and samples name the file.
        for sample in s.lines.samples {
            guard names.contains(sample.object) || names.contains("") else {
                throw ImplausiblePartial("a malformed-line sample names '\(sample.object)', not an object of the task")
            }
            guard sample.line >= 1, sample.line <= lineCeiling else {
                throw ImplausiblePartial("a malformed-line sample is at line \(sample.line) of '\(sample.object)'")
            }
        }
        if let span = s.eventSpan, s.lines.events == 0 {
            throw ImplausiblePartial("an event span (\(span.earliest)...\(span.latest)) without events")
        }
    }

    mutating func add(_ user: UserSummary) throws(ImplausiblePartial) {
        let total = try user.checkPlausible(window: window, span: statistics.eventSpan, rowKey: rowKey)
        connections = UserCounters.saturatingAdd(connections, total)
    }

    func finish() throws(ImplausiblePartial) {
        if ReportShape(key: rowKey).skipsServiceAccounts {
            let named = UInt64(statistics.eventsInWindow - statistics.serviceAccountEvents)
            guard connections == named else {
                throw ImplausiblePartial("the rows' connections add up to \(connections), the in-window events naming a user are \(named)")
            }
        } else {
            guard connections == UInt64(statistics.eventsInWindow) else {
                throw ImplausiblePartial(
                    "the rows' connections add up to \(connections), the in-window events are \(statistics.eventsInWindow)")
            }
        }
    }
}

extension UserSummary {
    /// Checks one user's aggregates; returns its connections.
    func checkPlausible(window: ReportWindow, span: EventSpan?, rowKey: RowKey) throws(ImplausiblePartial) -> UInt64 {
        // Named only in a refusal: building the text for every user would cost more than the checks.
        func who() -> String { String(decoding: email.prefix(64), as: UTF8.self).escapingControlCharacters }
        let c = counters
        let total = UserCounters.saturatingAdd(UserCounters.saturatingAdd(c.success, c.dnsFailures), c.otherFailures)
        guard total > 0 else { throw ImplausiblePartial("user '\(who())' has no connection") }
        guard !email.isEmpty || rowKey == .resource else { throw ImplausiblePartial("a row without a key") }
        let shape = ReportShape(key: rowKey)
        if rowKey == .userAndResource {
            // Only `RowKey.pair` writes the key: anything else would merge into rows out of order.
            let parts = RowKey.split(email)
            guard !parts.first.isEmpty, RowKey.pair(parts.first, parts.second).elementsEqual(email) else {
                throw ImplausiblePartial("user '\(who())': a key that is not a user and Resource pair")
            }
        }
        // Measures the report does not keep stay empty: nothing to merge, nothing to hold.
        guard shape.countsDevicesAndClientIPs || (devices.count == 0 && clientIPs.count == 0) else {
            throw ImplausiblePartial("user '\(who())' has devices or client IPs its report does not count")
        }
        guard shape.top != .none || topTotal == 0 else { throw ImplausiblePartial("user '\(who())' has a top 10 its report does not keep") }
        let largestLabelTotal = max(labelTotals.0, labelTotals.1, labelTotals.2)
        guard shape.namesResources || largestLabelTotal == 0 else {
            throw ImplausiblePartial("user '\(who())' has Resource names its report does not keep")
        }
        for (access, name) in [(c.lastAccess, "last"), (c.firstAccess, "first")] {
            guard access >= window.from, access < window.to else {
                throw ImplausiblePartial("user '\(who())' \(name) accessed at \(access), outside the window")
            }
            if let span, access < span.earliest || access > span.latest {
                throw ImplausiblePartial("user '\(who())' \(name) accessed at \(access), outside the events read")
            }
        }
        guard c.firstAccess <= c.lastAccess else {
            throw ImplausiblePartial("user '\(who())' first accessed at \(c.firstAccess), after the last access")
        }
        guard largestLabelTotal <= total else {
            throw ImplausiblePartial("user '\(who())' has \(largestLabelTotal) connections counted by a Resource name, more than \(total)")
        }
        func check(_ counter: (count: UInt64, isExact: Bool), _ name: String) throws(ImplausiblePartial) {
            if counter.isExact {
                guard counter.count <= total else {
                    throw ImplausiblePartial("user '\(who())' has \(counter.count) \(name) in \(total) connections")
                }
            } else {
                // A sketch turns approximate only past its exact range.
                guard total > UInt64(DistinctCounter.exactLimit) else {
                    throw ImplausiblePartial("user '\(who())' has an approximate count of \(name) in only \(total) connections")
                }
                let ceiling = UserCounters.saturatingAdd(total, total / Partial.estimateSlackDivisor)
                guard counter.count <= ceiling else {
                    throw ImplausiblePartial("user '\(who())' has an estimate of \(counter.count) \(name) in \(total) connections")
                }
            }
        }
        try check(devices, "devices")
        try check(clientIPs, "client IPs")
        guard topTotal <= total else {
            throw ImplausiblePartial("user '\(who())' has \(topTotal) connections counted by the top 10, more than \(total)")
        }
        return total
    }
}
