import Foundation
import TallyFormats
import TallyReport
import TallySources

// The one place where wire types meet engine and source types. The wire side is fixed by the
// protocol version; the engine may rename and reshape its types freely as long as these
// conversions keep the wire's JSON (pinned by the protocol tests).

extension WireTask {
    /// The wire form of a planned task.
    public init(_ task: ReportTask) {
        self.init(
            index: task.index, shard: task.shard.map { WireTimeRange(start: $0.start, end: $0.end) },
            objects: task.objects.map(WireObject.init))
    }

    /// The engine's task.
    public var engineTask: ReportTask {
        ReportTask(index: index, shard: shard.map { TimeShard(start: $0.start, end: $0.end) }, objects: objects.map(\.engineObject))
    }
}

extension WireObject {
    /// The wire form of a listed object.
    public init(_ object: LogObject) {
        self.init(
            name: object.name, size: object.size, nameTime: object.nameTime.map { WireTimeRange(start: $0.start, end: $0.end) },
            version: object.version)
    }

    /// The engine's object.
    public var engineObject: LogObject {
        LogObject(name: name, size: size, nameTime: nameTime.map { ObjectTimeRange(start: $0.start, end: $0.end) }, version: version)
    }
}

extension WireWindow {
    /// The wire form of a report window.
    public init(_ window: ReportWindow) {
        self.init(from: window.from, to: window.to)
    }

    /// The engine's window; a window that is empty or too long is refused with the reason.
    public func engineWindow() throws(ReportWindowError) -> ReportWindow {
        try ReportWindow(from: from, to: to)
    }
}

extension SourceSpec {
    /// The wire form of a configured source.
    public init(_ source: ConfiguredSource) {
        self.init(
            kind: source.address.kind.rawValue, url: source.address.url, format: source.format.rawValue,
            endpoint: source.address.endpoint, region: source.address.region)
    }

    /// The source it names, or an error naming the field a worker cannot use.
    public func configuredSource() throws -> ConfiguredSource {
        guard let kind = SourceKind(rawValue: kind) else {
            throw SourceError(.invalidLocation, location: url, detail: "unknown source kind '\(kind)'")
        }
        guard let format = LogFormat(rawValue: format) else {
            throw SourceError(.invalidLocation, location: url, detail: "unknown log format '\(format)'")
        }
        return ConfiguredSource(address: SourceAddress(kind: kind, url: url, endpoint: endpoint, region: region), format: format)
    }
}

extension JobStatistics {
    /// The API form of engine statistics.
    public init(_ s: ReadStatistics) {
        var malformed: [String: Int64] = [:]
        for reason in MalformedReason.allCases where s.lines[reason] > 0 { malformed[reason.rawValue] = s.lines[reason] }
        self.init(
            lines: s.lines.lines, events: s.lines.events, eventsInWindow: s.eventsInWindow,
            serviceAccountRows: s.serviceAccountEvents, otherLines: s.lines.notEvents, malformed: malformed,
            malformedSamples: s.lines.samples.map { MalformedSample(object: $0.object, line: $0.line, reason: $0.reason.rawValue) })
    }
}

extension WireRetryPolicy {
    /// The wire form of a retry policy.
    public init(_ policy: SourceRetryPolicy) {
        self.init(
            attempts: policy.attempts, initialBackoffSeconds: policy.initialBackoffSeconds,
            maximumBackoffSeconds: policy.maximumBackoffSeconds, budgetSeconds: policy.budgetSeconds,
            stallSeconds: policy.stallSeconds, minimumBytesPerSecond: policy.minimumBytesPerSecond)
    }

    /// The policy, with each value kept within `SourceRetryPolicy.Bounds` whatever a coordinator sent.
    public var policy: SourceRetryPolicy {
        SourceRetryPolicy(
            attempts: attempts, initialBackoffSeconds: initialBackoffSeconds, maximumBackoffSeconds: maximumBackoffSeconds,
            budgetSeconds: budgetSeconds, stallSeconds: stallSeconds, minimumBytesPerSecond: minimumBytesPerSecond
        ).clamped
    }
}

extension WireMergeTask {
    /// The wire form of a merge task over `partials` partials of a job making `report`.
    public init(partials: Int, range: UserKeyRange, report: ReportSpec, hasDirectory: Bool) {
        let base64 = { (key: [UInt8]) in Data(key).base64EncodedString() }
        switch report {
        case .activeUsers, .networkSummary:
            self.init(partials: partials, lower: range.lower.map(base64), upper: range.upper.map(base64), report: report.kind.rawValue)
        case .resourceAccess:
            self.init(
                partials: partials, lower: range.lower.map(base64), upper: range.upper.map(base64), report: report.kind.rawValue,
                directory: hasDirectory)
        case .inactiveUsers(let spec):
            self.init(
                partials: partials, lower: range.lower.map(base64), upper: range.upper.map(base64), report: report.kind.rawValue,
                now: spec.now, inactiveDays: spec.inactiveDays, lookbackDays: spec.lookbackDays, directory: hasDirectory)
        }
    }

    /// The range to merge; a key that is not base64 is an error naming it.
    public func userRange() throws(WireFormatError) -> UserKeyRange {
        func key(_ text: String?, _ field: String) throws(WireFormatError) -> [UInt8]? {
            guard let text else { return nil }
            guard let bytes = Data(base64Encoded: text).map(Array.init) else { throw WireFormatError(field: field, reason: "not base64") }
            return bytes
        }
        return UserKeyRange(lower: try key(lower, "merge.lower"), upper: try key(upper, "merge.upper"))
    }

    /// The report whose rows the task writes; an unknown kind or bad inactive-users figures
    /// are an error naming the field.
    public func reportSpec(window: WireWindow) throws(WireFormatError) -> ReportSpec {
        func engineWindow() throws(WireFormatError) -> ReportWindow {
            do { return try window.engineWindow() } catch { throw WireFormatError(field: "window", reason: "\(error)") }
        }
        switch ReportKind(rawValue: report) {
        case .activeUsers:
            return .activeUsers(window: try engineWindow())
        case .networkSummary:
            return .networkSummary(window: try engineWindow())
        case .resourceAccess:
            return .resourceAccess(window: try engineWindow(), directory: directory == true ? "" : nil)
        case .inactiveUsers:
            guard let now else { throw WireFormatError(field: "merge.now", reason: "missing") }
            do {
                return .inactiveUsers(
                    try InactiveUsersSpec(
                        now: now, inactiveDays: inactiveDays, lookbackDays: lookbackDays, directory: directory == true ? "" : nil))
            } catch {
                throw WireFormatError(field: "merge", reason: "\(error)")
            }
        case nil:
            throw WireFormatError(field: "merge.report", reason: "unknown report '\(report)'")
        }
    }
}

extension LeaseGrant {
    /// What the task's partial aggregates: by user when the coordinator names no report (an
    /// older one); a kind this worker does not know is an error naming the field.
    public func shape() throws(WireFormatError) -> ReportShape {
        guard let report else { return .byUser }
        guard let kind = ReportKind(rawValue: report) else {
            throw WireFormatError(field: "report", reason: "unknown report '\(report)' (this worker knows \(ReportKind.names))")
        }
        return kind.shape
    }
}
