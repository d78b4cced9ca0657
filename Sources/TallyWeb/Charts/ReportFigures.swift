import TallyFormats
import TallyReport

/// What a report's page shows of its CSV: the rows, the figures at a glance and the charts'
/// data, read back from the result file (the file is the report; the page never recomputes it).
package struct ReportFigures: Sendable {
    /// Column names, as in the file.
    package let header: [String]
    /// Rows, in file order.
    package let rows: [[String]]

    /// Reads a result file.
    package init(csv: [UInt8], name: String) throws {
        var records = CSVRecords(csv)
        var header: [String] = []
        var rows: [[String]] = []
        while let fields = try records.next(name: name) {
            let row = fields.map { String(decoding: $0, as: UTF8.self) }
            if header.isEmpty { header = row } else if row != [""] { rows.append(row) }
        }
        self.header = header
        self.rows = rows
    }

    /// Whether the file is an active-users report (the figures and charts are about its columns).
    package var isActiveUsers: Bool { header.first == "user_email" && header.contains("total_connections") }

    /// A column's values as integers (0 where empty or not a number).
    package func integers(_ column: String) -> [Int64] {
        guard let index = header.firstIndex(of: column) else { return [] }
        return rows.map { $0.indices.contains(index) ? Int64($0[index]) ?? 0 : 0 }
    }

    /// A column's values as decimals.
    package func decimals(_ column: String) -> [Double] {
        guard let index = header.firstIndex(of: column) else { return [] }
        return rows.map { $0.indices.contains(index) ? Double($0[index]) ?? 0 : 0 }
    }

    /// The figures at a glance, each a name, a value as shown, and an id the tests read.
    package var glance: [(id: String, name: String, value: String)] {
        var out = [(id: "users", name: "Users", value: Self.grouped(Int64(rows.count)))]
        guard isActiveUsers else {
            let never = integers("inactive_days").isEmpty ? 0 : rows.filter { ($0.last ?? "").isEmpty }.count
            out.append((id: "never-seen", name: "Never seen in the look-back", value: Self.grouped(Int64(never))))
            return out
        }
        let total = integers("total_connections").reduce(0, Self.add)
        let failed = integers("failed_connections").reduce(0, Self.add)
        let successes = integers("success_connections")
        let relayed = zip(decimals("percent_relay"), successes).reduce(0.0) { $0 + $1.0 * Double($1.1) }
        let successTotal = successes.reduce(0, Self.add)
        out += [
            (id: "connections", name: "Connections", value: Self.grouped(total)),
            (id: "failed-share", name: "Failed", value: Self.percent(Double(failed), of: Double(total))),
            (id: "dns-failures", name: "DNS failures", value: Self.grouped(integers("failed_connections_dns").reduce(0, Self.add))),
            (id: "bytes", name: "Bytes", value: Self.grouped(integers("total_bytes").reduce(0, Self.add))),
            (id: "relay-share", name: "Relayed (of successful)", value: Self.percent(relayed / 100, of: Double(successTotal))),
        ]
        return out
    }

    /// The ten users with the most connections (ties by email), for the bar chart.
    package var topUsers: [(label: String, value: Int64)] {
        guard let email = header.firstIndex(of: "user_email") else { return [] }
        return zip(rows, integers("total_connections")).map { (label: $0.0[email], value: $0.1) }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.label < $1.label }.prefix(10).map { $0 }
    }

    /// Users by number of client IPs in power-of-two buckets (1, 2, 3–4, 5–8, …), for the histogram.
    package var clientIPBuckets: [(label: String, value: Int64)] {
        let counts = integers("num_of_client_ip")
        guard let largest = counts.max(), largest > 0 else { return [] }
        // Bucket k ≥ 1 holds (2^(k-2), 2^(k-1)]: a count's bucket is one more than the bit length
        // of count − 1, so any Int64, the largest included, has one without overflow.
        func bucket(_ count: Int64) -> Int { count <= 0 ? 0 : 1 + (64 - (count - 1).leadingZeroBitCount) }
        var buckets: [(label: String, value: Int64)] = [(label: "0", value: 0)]
        for k in 1...bucket(largest) {
            let upper = UInt64(1) << (k - 1)
            let lower = k == 1 ? 1 : (UInt64(1) << (k - 2)) + 1
            buckets.append((label: lower == upper ? "\(upper)" : "\(lower)–\(upper)", value: 0))
        }
        for count in counts { buckets[bucket(count)].value += 1 }
        return buckets
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

    /// Sums that stop at Int64.max rather than trap (a log line can claim any byte count).
    package static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
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
