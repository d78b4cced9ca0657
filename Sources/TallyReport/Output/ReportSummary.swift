#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The figures and charts of a report, summed from its rows as they are written (docs/design.md
/// §3.9): what the report page shows at a glance, its top-10 chart and its client-IP histogram,
/// without reading the CSV again. A few hundred bytes whatever the number of users.
public struct ReportSummary: Codable, Sendable, Equatable {
    /// One row of the top-10 chart: a user, a Resource, or a user and Resource.
    public struct TopUser: Codable, Sendable, Equatable {
        /// The row as the chart names it: its email, its Resource id and address, or all three
        /// (`email · id · address`).
        public var email: String
        public var connections: Int64
        /// The row's `percent_relay` in hundredths, when the report has the column.
        public var relayHundredths: Int64?
    }

    /// The report's columns, as in its header.
    public var header: [String] = []
    /// Rows after the header (blank lines not counted).
    public var rows: Int64 = 0
    /// Sums of the active-users columns; sums stop at `Int64.max` (a log line can claim any count).
    public var connections: Int64 = 0
    public var failed: Int64 = 0
    public var dnsFailures: Int64 = 0
    public var bytes: Int64 = 0
    public var successes: Int64 = 0
    /// Σ percent_relay × 100 × success_connections: the relayed share of successes as the rows
    /// state it, in hundredths of a percent (the rows' two decimals), so that sums are exact in
    /// any order.
    public var relayedHundredths: Int64 = 0
    /// Inactive-users rows without a last access in the look-back.
    public var neverSeen: Int64 = 0
    /// The ten rows with the most connections (ties by their label), most first.
    public var topUsers: [TopUser] = []
    /// Users by number of client IPs: bucket 0 holds 0, bucket k ≥ 1 holds (2^(k-2), 2^(k-1)],
    /// up to the largest bucket used.
    public var clientIPBuckets: [Int64] = []

    /// Whether the report counts connections per row (active-users, network-summary,
    /// resource-access): the figures and charts are about those columns.
    public var countsConnections: Bool { header.contains("total_connections") }

    public init() {}

    /// The summary of a whole CSV.
    public init(csv: [UInt8]) {
        var builder = Builder()
        csv.withUnsafeBytes { builder.consume($0) }
        self = builder.finish()
    }

    /// Adds the summary of other rows of the same report (another range of users): what the
    /// summary of both ranges' rows together is.
    public mutating func merge(_ other: ReportSummary) {
        if header.isEmpty { header = other.header }
        rows = Self.add(rows, other.rows)
        connections = Self.add(connections, other.connections)
        failed = Self.add(failed, other.failed)
        dnsFailures = Self.add(dnsFailures, other.dnsFailures)
        bytes = Self.add(bytes, other.bytes)
        successes = Self.add(successes, other.successes)
        relayedHundredths = Self.add(relayedHundredths, other.relayedHundredths)
        neverSeen = Self.add(neverSeen, other.neverSeen)
        // The ranges' users are distinct: the top ten of both lists is the top ten of all.
        topUsers = (topUsers + other.topUsers).sorted(by: Self.ahead).prefix(10).map { $0 }
        if clientIPBuckets.count < other.clientIPBuckets.count {
            clientIPBuckets += Array(repeating: 0, count: other.clientIPBuckets.count - clientIPBuckets.count)
        }
        for (k, count) in other.clientIPBuckets.enumerated() { clientIPBuckets[k] = Self.add(clientIPBuckets[k], count) }
    }

    /// The top-10 order: more connections first, then the email.
    static func ahead(_ a: TopUser, _ b: TopUser) -> Bool {
        a.connections != b.connections ? a.connections > b.connections : a.email < b.email
    }

    /// The bucket of a client-IP count: one more than the bit length of count − 1, so any
    /// Int64, the largest included, has one without overflow.
    public static func bucket(_ count: Int64) -> Int { count <= 0 ? 0 : 1 + (64 - (count - 1).leadingZeroBitCount) }

    /// Sums that stop at Int64.max rather than trap.
    public static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    /// Builds a summary from a report's CSV bytes fed in chunks of any size (RFC 4180 fields,
    /// quoted ones included), keeping only the bytes of the columns it sums, one row at a time,
    /// in buffers reused from row to row.
    public struct Builder {
        private var summary = ReportSummary()
        private var columns: Columns?
        /// The current row's fields, by column; only kept columns hold bytes.
        private var fields: [[UInt8]] = [[]]
        /// Which columns' bytes are kept (all of the header's).
        private var kept: [Bool] = []
        private var column = 0
        private var quoted = false
        private var quoteSeen = false

        /// Where the summed columns are; -1 when absent.
        private struct Columns {
            var email = -1, resource = -1, address = -1, connections = -1, success = -1, failed = -1, dns = -1, bytes = -1, relay = -1
            var clientIPs = -1
            var inactiveDays = -1
            var last = -1
        }

        public init() {}

        /// Reads the next bytes of the CSV.
        public mutating func consume(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress else { return }
            var at = 0
            while at < bytes.count {
                // A whole row without quotes (nearly every row) is cut at its commas in place;
                // anything else goes through the byte-by-byte reading below.
                if columns != nil, column == 0, fields[0].isEmpty, !quoted,
                    let end = memchr(base + at, 0x0A, bytes.count - at).map({ UnsafeRawPointer($0) - base }),
                    memchr(base + at, Int32(UInt8(ascii: "\"")), end - at) == nil
                {
                    keepFields(UnsafeRawBufferPointer(rebasing: bytes[at..<end]))
                    endRow()
                    at = end + 1
                    continue
                }
                consume(byte: bytes[at])
                at += 1
            }
        }

        /// The kept fields of a row without quotes, copied whole.
        private mutating func keepFields(_ row: UnsafeRawBufferPointer) {
            var start = 0
            while true {
                let comma = row[start...].firstIndex(of: UInt8(ascii: ",")) ?? row.count
                var end = comma
                if comma == row.count, end > start, row[end - 1] == 0x0D { end -= 1 }
                if column < kept.count, kept[column] { fields[column].append(contentsOf: row[start..<end]) }
                guard comma < row.count else { return }
                column += 1
                if column == fields.count { fields.append([]) }
                start = comma + 1
            }
        }

        /// One byte of a row read byte by byte (RFC 4180).
        private mutating func consume(byte: UInt8) {
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    quoted = false
                    quoteSeen = true
                } else {
                    keep(byte)
                }
                return
            }
            switch byte {
            case UInt8(ascii: "\""):
                // Opening a field, or a doubled quote inside one.
                if quoteSeen { keep(byte) }
                quoted = true
                return
            case UInt8(ascii: ","):
                column += 1
                if column == fields.count { fields.append([]) }
            case 0x0A:
                endRow()
            case 0x0D:
                break
            default:
                keep(byte)
            }
            quoteSeen = false
        }

        @inline(__always)
        private mutating func keep(_ byte: UInt8) {
            if columns == nil || (column < kept.count && kept[column]) { fields[column].append(byte) }
        }

        /// The summary of the rows read; a last row without a line end counts.
        public mutating func finish() -> ReportSummary {
            if column > 0 || !fields[0].isEmpty { endRow() }
            return summary
        }

        private mutating func endRow() {
            let count = column + 1
            defer {
                for i in 0..<count { fields[i].removeAll(keepingCapacity: true) }
                column = 0
                quoteSeen = false
            }
            guard let columns else {
                if fields[0].starts(with: [0xEF, 0xBB, 0xBF]) { fields[0].removeFirst(3) }
                let header = fields[0..<count].map { String(decoding: $0, as: UTF8.self) }
                var c = Columns()
                for (i, name) in header.enumerated() {
                    switch name {
                    case "user_email": c.email = i
                    case "resource_id": c.resource = i
                    case "resource_address": c.address = i
                    case "total_connections": c.connections = i
                    case "success_connections": c.success = i
                    case "failed_connections": c.failed = i
                    case "failed_connections_dns": c.dns = i
                    case "total_bytes": c.bytes = i
                    case "percent_relay": c.relay = i
                    case "num_of_client_ip": c.clientIPs = i
                    case "inactive_days": c.inactiveDays = i
                    default: break
                    }
                }
                // An inactive-users row is never seen when its last field is empty.
                c.last = c.inactiveDays >= 0 ? header.count - 1 : -1
                kept = Array(repeating: false, count: header.count)
                for i in [c.email, c.resource, c.address, c.connections, c.success, c.failed, c.dns, c.bytes, c.relay, c.clientIPs, c.last]
                where i >= 0 {
                    kept[i] = true
                }
                summary.header = header
                self.columns = c
                return
            }
            guard count > 1 || !fields[0].isEmpty else { return }  // a blank line
            summary.rows += 1
            if summary.countsConnections {
                let connections = integer(columns.connections, of: count)
                let success = integer(columns.success, of: count)
                summary.connections = ReportSummary.add(summary.connections, connections)
                summary.failed = ReportSummary.add(summary.failed, integer(columns.failed, of: count))
                summary.dnsFailures = ReportSummary.add(summary.dnsFailures, integer(columns.dns, of: count))
                summary.bytes = ReportSummary.add(summary.bytes, integer(columns.bytes, of: count))
                summary.successes = ReportSummary.add(summary.successes, success)
                var relay: Int64? = nil
                if columns.relay >= 0, columns.relay < count {
                    // Rows from a merge worker are checked for shape only: a "nan" or "1e999" adds nothing.
                    let percent = (Double(String(decoding: fields[columns.relay], as: UTF8.self)) ?? 0) * 100
                    let hundredths = percent.isFinite && abs(percent) < 1e18 ? Int64(percent.rounded()) : 0
                    let (relayed, overflow) = hundredths.multipliedReportingOverflow(by: success)
                    summary.relayedHundredths = ReportSummary.add(summary.relayedHundredths, overflow ? .max : relayed)
                    relay = hundredths
                }
                if columns.email >= 0 || columns.resource >= 0 {
                    let fields = self.fields  // shared, not copied: the closure must not read self
                    noteTop(connections, relay: relay) {
                        // Built only for a row that enters the top ten, each part cut to 256 bytes.
                        let parts = [columns.email, columns.resource, columns.address].filter { $0 >= 0 && $0 < count }
                        return parts.map { fields[$0].prefix(256) }.filter { !$0.isEmpty }.joined(separator: Array(" · ".utf8))
                    }
                }
            } else if columns.inactiveDays >= 0, fields[count - 1].isEmpty {
                summary.neverSeen += 1
            }
            if columns.clientIPs >= 0 {
                let bucket = ReportSummary.bucket(integer(columns.clientIPs, of: count))
                if summary.clientIPBuckets.count <= bucket {
                    summary.clientIPBuckets += Array(repeating: 0, count: bucket + 1 - summary.clientIPBuckets.count)
                }
                summary.clientIPBuckets[bucket] += 1
            }
        }

        /// A column's value as an integer: 0 where absent, empty or not a number. (A number's text
        /// fits a small string: no allocation.)
        private func integer(_ column: Int, of count: Int) -> Int64 {
            guard column >= 0, column < count else { return 0 }
            return Int64(String(decoding: fields[column], as: UTF8.self)) ?? 0
        }

        /// Keeps the ten rows with the most connections, ties by label.
        private mutating func noteTop(_ connections: Int64, relay: Int64?, label: () -> some Sequence<UInt8>) {
            if summary.topUsers.count == 10, let last = summary.topUsers.last, last.connections > connections { return }
            let user = TopUser(email: String(decoding: Array(label()), as: UTF8.self), connections: connections, relayHundredths: relay)
            let at = summary.topUsers.firstIndex { ReportSummary.ahead(user, $0) } ?? summary.topUsers.count
            guard at < 10 else { return }
            summary.topUsers.insert(user, at: at)
            if summary.topUsers.count > 10 { summary.topUsers.removeLast() }
        }
    }
}
