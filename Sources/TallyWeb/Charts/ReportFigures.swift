import TallyFormats
import TallyReport

/// What a report's page shows of its CSV: the figures at a glance and the charts' data, from the
/// summary summed as the rows were written (`ReportSummary`), and a preview of the rows read back
/// from the result file (the file is the report; the page never recomputes it).
package struct ReportFigures: Sendable {
    /// The report's sums, top users and histogram.
    package let summary: ReportSummary
    /// Column names, as in the file.
    package var header: [String] { summary.header }
    /// The preview's rows, in file order: all of them, or the first ones of a large file.
    package let rows: [[String]]
    /// Whether `rows` are all of the report's rows (so the preview can be sorted by any column).
    package let rowsAreWhole: Bool

    /// Reads a whole result file, its summary made from it.
    package init(csv: [UInt8], name: String) throws {
        try self.init(summary: ReportSummary(csv: csv), csv: csv, name: name)
    }

    /// A whole result file and its summary: the preview may be sorted by any column.
    package init(summary: ReportSummary, csv: [UInt8], name: String) throws {
        self.summary = summary
        rows = try Self.rows(of: csv, name: name, limit: .max)
        rowsAreWhole = true
    }

    /// A summary and the first bytes of its result file (at least `limit` whole rows, or all of
    /// them): the preview shows those rows, unsorted.
    package init(summary: ReportSummary, head: [UInt8], name: String, limit: Int) throws {
        self.summary = summary
        // The head may end inside a row (a quoted field may hold line ends): the rows read before
        // the cut are kept, the cut one left out.
        rows = try Self.rows(of: head, name: name, limit: limit, cut: true)
        rowsAreWhole = Int64(rows.count) >= summary.rows
    }

    /// The rows after the header, blank lines left out, at most `limit` of them; of a `cut` file,
    /// those before the last line end, and none past a record that does not read.
    private static func rows(of csv: [UInt8], name: String, limit: Int, cut: Bool = false) throws -> [[String]] {
        let end = cut ? (csv.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) : csv.count
        var records = CSVRecords(Array(csv[..<end]))
        var rows: [[String]] = []
        var sawHeader = false
        do {
            while rows.count < limit, let fields = try records.next(name: name) {
                let row = fields.map { String(decoding: $0, as: UTF8.self) }
                if !sawHeader { sawHeader = true } else if row != [""] { rows.append(row) }
            }
        } catch {
            guard cut else { throw error }
        }
        return rows
    }

    /// Whether the report counts connections per row (the figures and charts are about them).
    package var countsConnections: Bool { summary.countsConnections }

    /// What a row is keyed by, from the header: a Resource, a user and Resource, or a user.
    package var rowKey: RowKey {
        if header.first == "resource_id" { return .resource }
        return header.contains("resource_id") ? .userAndResource : .user
    }

    /// The rows' name as the page shows it, plural.
    private var rowsName: String {
        switch rowKey {
        case .user: "Users"
        case .resource: "Resources"
        case .userAndResource: "User × Resource rows"
        }
    }

    /// The figures at a glance, each a name, a value as shown, and an id the tests read.
    package var glance: [(id: String, name: String, value: String)] {
        var out = [(id: "users", name: rowsName, value: Self.grouped(summary.rows))]
        guard countsConnections else {
            out.append((id: "never-seen", name: "Never seen in the look-back", value: Self.grouped(summary.neverSeen)))
            return out
        }
        out += [
            (id: "connections", name: "Connections", value: Self.grouped(summary.connections)),
            (id: "failed-share", name: "Failed", value: Self.percent(Double(summary.failed), of: Double(summary.connections))),
        ]
        if header.contains("failed_connections_dns") {
            out.append((id: "dns-failures", name: "DNS failures", value: Self.grouped(summary.dnsFailures)))
        }
        out.append((id: "bytes", name: "Bytes", value: Self.grouped(summary.bytes)))
        if header.contains("percent_relay") {
            out.append(
                (
                    id: "relay-share", name: "Relayed (of successful)",
                    value: Self.percent(Double(summary.relayedHundredths) / 10_000, of: Double(summary.successes))
                ))
        }
        return out
    }

    /// The ten rows with the most connections (ties by label), for the bar chart; a Resource
    /// without an id is named so.
    package var topUsers: [(label: String, value: Int64)] {
        summary.topUsers.map { (label: $0.email.isEmpty ? "(no Resource)" : $0.email, value: $0.connections) }
    }

    /// The relayed share of the ten most used rows' successful connections, in whole percent,
    /// for the relay chart (a high share means peer-to-peer is failing there).
    package var topRelayShares: [(label: String, value: Int64)] {
        zip(topUsers, summary.topUsers).map { (label: $0.0.label, value: (($0.1.relayHundredths ?? 0) + 50) / 100) }
    }

    /// Users by number of client IPs in power-of-two buckets (1, 2, 3–4, 5–8, …), for the histogram.
    package var clientIPBuckets: [(label: String, value: Int64)] {
        let counts = summary.clientIPBuckets
        guard counts.count > 1 else { return [] }
        return counts.indices.map { k in
            guard k > 0 else { return (label: "0", value: counts[0]) }
            let upper = UInt64(1) << (k - 1)
            let lower = k == 1 ? 1 : (UInt64(1) << (k - 2)) + 1
            return (label: lower == upper ? "\(upper)" : "\(lower)–\(upper)", value: counts[k])
        }
    }

    /// The rows sorted by a column (numbers as numbers), for the preview.
    package func sorted(by column: String?, descending: Bool) -> [[String]] {
        guard let column, let index = header.firstIndex(of: column) else { return rows }
        func key(_ row: [String]) -> String { row.indices.contains(index) ? row[index] : "" }
        let numeric = rows.allSatisfy { Double(key($0)) != nil || key($0).isEmpty }
        let ordered = rows.enumerated().sorted { a, b in
            let (x, y) = (key(a.element), key(b.element))
            if x == y { return a.offset < b.offset }
            let less = numeric ? (Double(x) ?? -1) < (Double(y) ?? -1) : x < y
            return descending ? !less : less
        }
        return ordered.map(\.element)
    }

    /// `1,234,567`.
    package static func grouped(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `12.34 %`, two decimals; `0.00 %` of nothing.
    package static func percent(_ part: Double, of whole: Double) -> String {
        let value = whole > 0 ? (part / whole * 10_000).rounded() / 100 : 0
        let cents = Int64(saturating: value * 100)
        return "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100) %"
    }
}
