import Foundation
import TallyFormats
import TallyReport
import TallySources

/// Before `tally run`: a source with no object of the format asked for, or none in the window,
/// gives an empty report that reads like a quiet month. The check lists the source once (and,
/// when it holds nothing of the format, once per other format), retried like the planner's
/// listings, and says what it found instead.
enum EmptySourceCheck {
    /// Why the report would be empty, in one sentence; nil when some object is in the window.
    static func problem(
        of source: ConfiguredSource, window: ReportWindow, location: String, client: SourceHTTPClient
    ) async throws -> String? {
        let opened = try source.open(client: client)
        let retry = SourceRetryPolicy(attempts: 3, budgetSeconds: 30)
        let objects = try await retry.run { try await opened.list(format: source.format) }
        guard !objects.isEmpty else {
            var others: [String] = []
            for format in LogFormat.allCases where format != .auto && format != source.format {
                let count = try await retry.run { try await opened.list(format: format) }.count
                if count > 0 { others.append("\(count) \(format.rawValue) object\(count == 1 ? "" : "s")") }
            }
            let reads = source.format.extensions.map { "*\($0)[.gz]" }.joined(separator: ", ")
            let found = others.isEmpty ? "no log object at all" : others.joined(separator: " and ") + " (try --format auto)"
            return "\(location) holds no \(source.format.rawValue) object (\(reads)): found \(found)"
        }
        let plan = ReportPlan(objects: objects, window: window)
        guard plan.objectsSelected == 0 else { return nil }
        // Every object was dated by its name, all outside the window: say where they are.
        let spans = objects.compactMap(\.nameTime)
        let span =
            spans.isEmpty
            ? ""
            : "; its objects span \(CivilTime.rfc3339(micros: spans.map(\.start).min()!)) to \(CivilTime.rfc3339(micros: spans.map(\.end).max()!))"
        return "none of the \(objects.count) objects in \(location) falls in the window "
            + "\(CivilTime.rfc3339(micros: window.from)) to \(CivilTime.rfc3339(micros: window.to))\(span) (by their names)"
    }
}
