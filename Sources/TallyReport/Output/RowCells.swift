import TallyFormats
import TallySketches

/// The cells every report writes the same way from a row's aggregates (docs/design.md §1.1,
/// §1.8), so the three reports cannot differ in how they count, round or list.
enum RowCells {
    /// A comma, then `value`.
    static func append(_ value: UInt64, to out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: String(value).utf8)
    }

    /// A comma, then `text` as one field.
    static func append(text: some Collection<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        CSVField.append(text, to: &out)
    }

    /// Failed connections: DNS and other failures.
    static func failed(_ c: UserCounters) -> UInt64 { UserCounters.saturatingAdd(c.dnsFailures, c.otherFailures) }

    /// Every connection.
    static func total(_ c: UserCounters) -> UInt64 { UserCounters.saturatingAdd(c.success, failed(c)) }

    /// Bytes both ways.
    static func totalBytes(_ c: UserCounters) -> UInt64 { UserCounters.saturatingAdd(c.bytesTransferred, c.bytesReceived) }

    /// `,total,success,failed,dns,other,total_bytes,transferred,received`.
    static func appendCounts(_ c: UserCounters, to out: inout [UInt8]) {
        for value in [total(c), c.success, failed(c), c.dnsFailures, c.otherFailures, totalBytes(c), c.bytesTransferred, c.bytesReceived] {
            append(value, to: &out)
        }
    }

    /// `,percent_relay,percent_p2p`.
    static func appendPercents(_ c: UserCounters, to out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: ActiveUsersCSV.percent(c.relayedSuccesses, of: c.success).utf8)
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: ActiveUsersCSV.percent(c.success - min(c.relayedSuccesses, c.success), of: c.success).utf8)
    }

    /// The `n` values with the most connections, most first, ties by byte order.
    static func top(_ values: HeavyHitters<[UInt8]>, _ n: Int) -> [[UInt8]] {
        values.top(n) { $0.lexicographicallyPrecedes($1) }.map(\.key)
    }

    /// The value most connections name, ties by byte order; empty for none.
    static func mostNamed(_ values: HeavyHitters<[UInt8]>) -> [UInt8] {
        top(values, 1).first ?? []
    }

    /// The Remote Network most connections name, as (name, id); empty for none.
    static func network(_ row: RowAggregate) -> (name: [UInt8], id: [UInt8]) {
        let pair = RowKey.split(mostNamed(row.networks))
        return (pair.first, pair.second)
    }

    /// `values` joined by `;`, as one field after a comma.
    static func appendJoined(_ values: [[UInt8]], to out: inout [UInt8]) {
        var joined: [UInt8] = []
        for (i, value) in values.enumerated() {
            if i > 0 { joined.append(UInt8(ascii: ";")) }
            joined.append(contentsOf: value)
        }
        append(text: joined, to: &out)
    }
}
