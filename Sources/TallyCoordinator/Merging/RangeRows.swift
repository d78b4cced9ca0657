import TallyReport

/// The check of a merge task's rows before they are committed: whole CSV rows of the report's
/// columns, as many as the worker announced. Which users they hold and what they count cannot
/// be checked without merging again; that is why merge tasks go only to trusted workers
/// (docs/security.md).
enum RangeRows {
    /// Throws `RangeRowsError` unless `bytes` are `rows` rows of `columns` fields each, every one
    /// ended by a line feed, quotes balanced.
    static func check(_ bytes: [UInt8], columns: Int, rows: Int) throws {
        var counted = 0
        var fields = 1
        var quoted = false
        var atFieldStart = true
        for (offset, byte) in bytes.enumerated() {
            if quoted {
                if byte == UInt8(ascii: "\"") { quoted = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                // A quote opens a field, or (right after a closing one) is an escaped quote.
                guard atFieldStart || (offset > 0 && bytes[offset - 1] == UInt8(ascii: "\"")) else {
                    throw RangeRowsError(row: counted + 1, reason: "a quote inside an unquoted field")
                }
                quoted = true
            case UInt8(ascii: ","):
                fields += 1
                atFieldStart = true
                continue
            case 0x0A:
                guard fields == columns else { throw RangeRowsError(row: counted + 1, reason: "\(fields) fields, not \(columns)") }
                counted += 1
                guard counted <= rows else { throw RangeRowsError(row: counted, reason: "more rows than the \(rows) announced") }
                fields = 1
                atFieldStart = true
                continue
            default:
                break
            }
            atFieldStart = false
        }
        guard !quoted, bytes.last == nil || bytes.last == 0x0A else {
            throw RangeRowsError(row: counted + 1, reason: "the last row is cut short")
        }
        guard counted == rows else { throw RangeRowsError(row: counted, reason: "\(counted) rows, not the \(rows) announced") }
    }

    /// The columns of `kind`'s rows.
    static func columns(of kind: ReportKind) -> Int {
        ReportRows.header(of: kind).count { $0 == UInt8(ascii: ",") } + 1
    }
}

/// Rows a merge task uploaded that are not what it announced.
struct RangeRowsError: Error, CustomStringConvertible {
    /// The row, from 1.
    var row: Int
    var reason: String

    var description: String { "rows: row \(row): \(reason)" }
}
