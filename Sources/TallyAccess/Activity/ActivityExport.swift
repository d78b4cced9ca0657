import TallyFormats
import TallyProtocol
import TallyStore

/// An activity export: the rows of one query, written page by page (memory stays bounded for
/// any number of rows) as CSV (RFC 4180, a header line first) or NDJSON. One piece serves the
/// API (`GET /v1/activity`) and `tally activity --data-dir`.
public struct ActivityExport: Sendable {
    /// The text forms an export can take.
    public enum Format: String, Sendable, CaseIterable {
        case csv, ndjson

        /// The media type of the answer.
        public var contentType: String { self == .csv ? "text/csv; charset=utf-8" : "application/x-ndjson" }
    }

    package let query: ActivityQuery
    package let format: Format

    /// Rows read per page.
    package static let pageSize = 1000

    /// An export of `log` (default `default`), optionally one `user` and one `operation`, rows
    /// written at or after `from` and before `to` (RFC 3339); an invalid argument names itself.
    public init(log: String?, user: String?, from: String?, to: String?, operation: String? = nil, format: Format)
        throws(ActivityError)
    {
        let log = log ?? "default"
        guard ActivitySetting.isValidLogName(log) else {
            throw ActivityError(field: "log", reason: "log name must be 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        func instant(_ text: String?, _ field: String) throws(ActivityError) -> Int64? {
            guard let text else { return nil }
            guard let micros = Array(text.utf8).withUnsafeBytes({ EventTimestamp.parseRFC3339($0) }) else {
                throw ActivityError(field: field, reason: "\(field) must be an RFC 3339 time such as 2026-12-01T00:00:00Z")
            }
            return micros
        }
        let from = try instant(from, "from"), to = try instant(to, "to")
        if let from, let to, from >= to { throw ActivityError(field: "to", reason: "to must be after from") }
        query = ActivityQuery(log: log, user: user, from: from, to: to, operation: operation)
        self.format = format
    }

    /// Writes the export to `write`, one page of rows at a time.
    package func write(from store: any ActivityLogStore, to write: (String) async throws -> Void) async throws {
        if format == .csv { try await write(ActivityRecord.csvHeader) }
        var position: Int64 = 0
        while true {
            let page = try await store.records(query, after: position, limit: Self.pageSize)
            guard let last = page.last else { return }
            var text = ""
            for (_, record) in page { text += format == .csv ? record.csvLine : record.ndjsonLine }
            try await write(text)
            position = last.position
        }
    }
}

/// An export argument that cannot be used, and which one.
public struct ActivityError: Error, Sendable, CustomStringConvertible {
    public let field: String
    public let reason: String

    package init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { reason }
}
