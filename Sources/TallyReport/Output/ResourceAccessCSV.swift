import TallyFormats
import TallySketches

/// Renders the resource-access report (docs/design.md §1.9): who reached what, one row per user
/// and Resource id, by user then Resource in byte order. With a user directory only its users
/// are listed, and each one who reached nothing gets a row with the Resource and dates empty.
public enum ResourceAccessCSV {
    /// The header line's columns, in order.
    public static let columns = [
        "user_email", "resource_id", "resource_address", "remote_network", "first_access_date", "last_access_date",
        "total_connections", "success_connections", "failed_connections", "total_bytes", "active_devices", "num_of_client_ip",
    ]

    /// The header line, with its line end.
    public static var header: [UInt8] { Array((columns.joined(separator: ",") + "\n").utf8) }

    /// Appends the row of a (user, Resource) pair, whose parts are `parts` (`RowKey.split`).
    static func appendRow(_ row: RowAggregate, parts: (first: [UInt8], second: [UInt8]), to out: inout [UInt8]) {
        let c = row.counters
        CSVField.append(parts.first, to: &out)
        RowCells.append(text: parts.second, to: &out)
        RowCells.append(text: RowCells.mostNamed(row.resourceAddresses), to: &out)
        RowCells.append(text: RowCells.network(row).name, to: &out)
        for time in [c.firstAccess, c.lastAccess] {
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: CivilTime.rfc3339Millis(micros: time).utf8)
        }
        for value in [RowCells.total(c), c.success, RowCells.failed(c), RowCells.totalBytes(c), row.devices.count, row.clientIPs.count] {
            RowCells.append(value, to: &out)
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// The row of a directory user who reached nothing.
    static func appendUnusedRow(email: [UInt8], to out: inout [UInt8]) {
        CSVField.append(email, to: &out)
        out.append(contentsOf: Array(",,,,,,0,0,0,0,0,0\n".utf8))
    }

    /// The rows of pairs that arrive one at a time in key order (`StreamingMerge`) and, with a
    /// directory, of its users in `range` who reached nothing, handed to `emit` in chunks of
    /// about 64 KiB; the number of rows. A user's unused row sorts where the key of (user, "")
    /// does, so the ranges' rows in order are the whole report's.
    public static func streamRows<E: Error>(
        next: () throws(E) -> RowAggregate?, directory: UserDirectory?, range: UserKeyRange = .all,
        emit: ([UInt8]) throws(E) -> Void
    ) throws(E) -> Int {
        var out = RowChunks()
        let listed = (directory?.emails ?? []).filter { range.contains(RowKey.pair($0, [])) }
        var d = 0
        // The directory user whose rows are being written.
        var current: [UInt8]? = nil
        while let row = try next() {
            let parts = RowKey.split(row.key)
            while d < listed.count, ByteStringOrder.compare(listed[d], parts.first) < 0 {
                appendUnusedRow(email: listed[d], to: &out.bytes)
                try out.endRow(emit)
                d += 1
            }
            if directory != nil, parts.first != current {
                guard d < listed.count, listed[d] == parts.first else { continue }
                current = parts.first
                d += 1
            }
            appendRow(row, parts: parts, to: &out.bytes)
            try out.endRow(emit)
        }
        for email in listed[d...] {
            appendUnusedRow(email: email, to: &out.bytes)
            try out.endRow(emit)
        }
        return try out.finish(emit)
    }
}
