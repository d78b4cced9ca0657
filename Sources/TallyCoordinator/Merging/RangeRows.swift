import TallyDeflate
import TallyReport

/// The check of a merge task's rows before they are committed: a raw DEFLATE segment (ended by
/// a sync flush) that inflates, under a bound, to whole CSV rows of the report's columns, as
/// many as the worker announced. Which users they hold and what they count cannot be checked
/// without merging again; that is why merge tasks go only to trusted workers (docs/security.md).
struct RangeRows {
    /// The inflated rows' length and CRC-32, kept with the commit for the join.
    var length: Int64 = 0
    var crc: UInt32 = 0

    private let columns: Int
    private var counted = 0
    private var fields = 1
    private var quoted = false
    private var atFieldStart = true
    private var previous: UInt8 = 0

    /// A check of rows of `columns` fields.
    init(columns: Int) {
        self.columns = columns
    }

    /// Checks a whole segment of `rows` rows inflating to at most `limit` bytes, handing the
    /// inflated bytes to `write` once checked.
    static func check(
        segment: [UInt8], columns: Int, rows: Int, limit: Int64, into write: (UnsafeRawBufferPointer) throws -> Void = { _ in }
    ) throws -> RangeRows {
        // A sync flush ends with an empty stored block: the segment stops on a byte
        // boundary with no final block, so the next one can follow it.
        guard segment.isEmpty || segment.suffix(4).elementsEqual([0, 0, 0xFF, 0xFF]) else {
            throw RangeRowsError(row: 0, reason: "the rows are not a DEFLATE segment ended by a sync flush")
        }
        var check = RangeRows(columns: columns)
        let inflater = try RawInflater(limit: limit)
        do {
            try segment.withUnsafeBytes { input in
                try inflater.inflate(input) {
                    try check.consume($0)
                    try write($0)
                }
            }
            try inflater.endSegment()
        } catch let error as DeflateError {
            throw RangeRowsError(row: check.counted + 1, reason: "\(error)")
        }
        try check.finish(rows: rows)
        return check
    }

    /// Reads the next inflated bytes.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws {
        crc = GzipJoin.crc32(bytes, continuing: crc)
        length += Int64(bytes.count)
        for byte in bytes {
            defer { previous = byte }
            if quoted {
                if byte == UInt8(ascii: "\"") { quoted = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                // A quote opens a field, or (right after a closing one) is an escaped quote.
                guard atFieldStart || previous == UInt8(ascii: "\"") else {
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
                fields = 1
                atFieldStart = true
                continue
            default:
                break
            }
            atFieldStart = false
        }
    }

    /// Checks that the rows ended whole and were `rows` of them.
    func finish(rows: Int) throws {
        guard !quoted, length == 0 || previous == 0x0A else { throw RangeRowsError(row: counted + 1, reason: "the last row is cut short") }
        guard counted == rows else { throw RangeRowsError(row: counted, reason: "\(counted) rows, not the \(rows) announced") }
    }

    /// The columns of `kind`'s rows.
    static func columns(of kind: ReportKind) -> Int {
        ReportRows.header(of: kind).count { $0 == UInt8(ascii: ",") } + 1
    }
}

/// Rows a merge task uploaded that are not what it announced.
struct RangeRowsError: Error, CustomStringConvertible {
    /// The row, from 1 (0: the upload as a whole).
    var row: Int
    var reason: String

    var description: String { "rows: row \(row): \(reason)" }
}
