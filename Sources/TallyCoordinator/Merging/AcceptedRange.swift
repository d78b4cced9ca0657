import Foundation
import TallyDeflate
import TallyReport

/// What the coordinator keeps beside a merge task's rows when it accepts them (docs/design.md
/// §3.9): the rows inflated, as they were checked, and this record of their summary and of the
/// compressed segment's CRC-32, so the join copies the two files, checked, instead of inflating
/// every range again on one thread at the end of the job.
struct AcceptedRange: Codable, Sendable {
    /// The figures and charts of the range's rows, added up at the join.
    var summary: ReportSummary
    /// The CRC-32 of the compressed segment as it was uploaded.
    var segmentCRC: UInt32

    /// Checks an uploaded segment as `RangeRows.check` does, writing its inflated rows to
    /// `rowsPath` and this record to `recordPath` (both temporary names, installed with the
    /// commit); the check's length and CRC-32 of the rows.
    static func accept(
        segment: [UInt8], kind: ReportKind, rows: Int, limit: Int64, rowsPath: String, recordPath: String, files: DataDirectory
    ) throws -> RangeRows {
        let fd = try DataDirectory.create(rowsPath)
        defer { close(fd) }
        var summary = ReportSummary.Builder()
        ReportRows.header(of: kind).withUnsafeBytes { summary.consume($0) }
        let checked = try RangeRows.check(segment: segment, columns: RangeRows.columns(of: kind), rows: rows, limit: limit) { bytes in
            try DataDirectory.writeAll(bytes, to: fd, path: rowsPath)
            summary.consume(bytes)
        }
        try DataDirectory.sync(fd, path: rowsPath)
        let record = AcceptedRange(summary: summary.finish(), segmentCRC: segment.withUnsafeBytes { GzipJoin.crc32($0) })
        try files.write(Array(try JSONEncoder().encode(record)), to: recordPath)
        return checked
    }

    /// The record kept for a range, if it was accepted with one (a range committed by an
    /// earlier release has only its segment).
    static func read(_ path: String) -> AcceptedRange? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(AcceptedRange.self, from: data)
    }
}
