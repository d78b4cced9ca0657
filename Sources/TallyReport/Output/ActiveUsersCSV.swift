import TallyFormats
import TallySketches

/// Renders the active-users report (docs/design.md §1): the exact header, one row per user in email
/// byte order, RFC 4180 quoting, `\n` line ends.
public enum ActiveUsersCSV {
    /// The header line's columns, in order.
    public static let columns = [
        "user_email", "last_access_date", "total_connections", "success_connections", "failed_connections",
        "failed_connections_dns", "failed_connections_other", "total_bytes", "bytes_transferred", "bytes_received",
        "percent_relay", "percent_p2p", "active_devices", "num_of_client_ip", "top_10_client_ips",
    ]

    /// How many client IPs the top list holds.
    public static let topCount = 10

    /// The header line, with its line end.
    public static var header: [UInt8] { Array((columns.joined(separator: ",") + "\n").utf8) }

    /// Appends one user's row. `users` must be rendered in email byte order.
    public static func appendRow(_ user: RowAggregate, to out: inout [UInt8]) {
        let c = user.counters
        CSVField.append(user.key, to: &out)
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: CivilTime.rfc3339Millis(micros: c.lastAccess).utf8)
        RowCells.appendCounts(c, to: &out)
        RowCells.appendPercents(c, to: &out)
        RowCells.append(user.devices.count, to: &out)
        RowCells.append(user.clientIPs.count, to: &out)
        RowCells.appendJoined(RowCells.top(user.topValues, topCount), to: &out)
        out.append(UInt8(ascii: "\n"))
    }

    /// `part / whole` as a percentage with exactly two decimals, rounded half up from the exact
    /// ratio (integer arithmetic, no binary floating point); `0.00` when `whole` is 0.
    public static func percent(_ part: UInt64, of whole: UInt64) -> String {
        guard whole > 0 else { return "0.00" }
        let hundredths = (UInt128(part) * 20_000 + UInt128(whole)) / (UInt128(whole) * 2)
        let fraction = hundredths % 100
        return String(hundredths / 100) + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }
}
