import TallyFormats
import TallySketches

/// Renders the network-summary report (docs/design.md §1.8): Twingate's Network Summary columns,
/// one row per Resource id in byte order, RFC 4180 quoting, `\n` line ends.
public enum NetworkSummaryCSV {
    /// The header line's columns, in order.
    public static let columns = [
        "resource_id", "resource_address", "remote_network", "remote_network_id", "total_connections", "success_connections",
        "failed_connections", "failed_connections_dns", "failed_connections_other", "total_bytes", "bytes_transferred",
        "bytes_received", "protocol", "percent_relay", "percent_p2p", "top_10_address_accessed",
    ]

    /// The header line, with its line end.
    public static var header: [UInt8] { Array((columns.joined(separator: ",") + "\n").utf8) }

    /// Appends one Resource's row; rows must come in Resource id byte order.
    public static func appendRow(_ resource: RowAggregate, to out: inout [UInt8]) {
        let c = resource.counters
        CSVField.append(resource.key, to: &out)
        RowCells.append(text: RowCells.mostNamed(resource.resourceAddresses), to: &out)
        let network = RowCells.network(resource)
        RowCells.append(text: network.name, to: &out)
        RowCells.append(text: network.id, to: &out)
        RowCells.appendCounts(c, to: &out)
        let protocols = resource.transports.top(2 * HeavyHitters<[UInt8]>.defaultCapacity) { $0.lexicographicallyPrecedes($1) }
        RowCells.appendJoined(protocols.map(\.key).sorted { $0.lexicographicallyPrecedes($1) }, to: &out)
        RowCells.appendPercents(c, to: &out)
        RowCells.appendJoined(RowCells.top(resource.topValues, ActiveUsersCSV.topCount), to: &out)
        out.append(UInt8(ascii: "\n"))
    }
}
