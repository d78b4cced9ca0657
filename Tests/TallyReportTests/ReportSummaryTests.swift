import TallyFormats
import TallySketches
import Testing

@testable import TallyReport

/// The report's summary (its page's figures and charts) is summed from the CSV as it is written,
/// in chunks of whatever size the writer has: it must be what reading the whole file gives.
@Suite struct ReportSummaryTests {
    /// An active-users CSV of `users` users, one with an email that needs quoting.
    func activeUsersCSV(users: Int) throws -> [UInt8] {
        var aggregator = RowAggregator(window: try ReportWindow(from: 0, to: 100 * hour))
        var random = SplitMix(seed: 21)
        for u in 0..<users {
            let email = u == 3 ? "odd, \"quoted\"\nname@example.com" : "user\(u)@example.com"
            for _ in 0..<(1 + Int(random.next() % 40)) {
                EventBuilder(
                    time: Int64(random.next() % 90) * hour, user: email, outcome: random.next() % 5 == 0 ? .dnsFailure : .success,
                    transferred: random.next() % 1000, relayed: random.next() % 3 == 0, device: "d\(random.next() % 3)",
                    ip: "10.0.\(random.next() % 4).\(random.next() % UInt64(1 + u % 50))"
                ).send(to: &aggregator)
            }
        }
        var merger = ReportMerger()
        merger.merge(aggregator.makePartial(statistics: ReadStatistics()))
        return merger.csv()
    }

    @Test(arguments: [1, 2, 3, 7, 64, 4096])
    func aSummaryFedInChunksIsTheSummaryOfTheWholeFile(chunk: Int) throws {
        let csv = try activeUsersCSV(users: 300)
        var builder = ReportSummary.Builder()
        var at = 0
        while at < csv.count {
            let end = min(csv.count, at + chunk)
            csv[at..<end].withUnsafeBytes { builder.consume($0) }
            at = end
        }
        #expect(builder.finish() == ReportSummary(csv: csv))
    }

    /// The sums, top list and histogram against the rows read one by one.
    @Test func theSummaryHoldsTheRowsSumsTopUsersAndClientIPCounts() throws {
        let csv = try activeUsersCSV(users: 300)
        let summary = ReportSummary(csv: csv)
        var records = CSVRecords(csv)
        let header = try #require(try records.next(name: "r")).map { String(decoding: $0, as: UTF8.self) }
        var rows: [[String]] = []
        while let fields = try records.next(name: "r") { rows.append(fields.map { String(decoding: $0, as: UTF8.self) }) }
        func column(_ name: String) -> [Int64] { rows.map { Int64($0[header.firstIndex(of: name)!])! } }
        #expect(summary.header == header && summary.rows == 300)
        #expect(summary.connections == column("total_connections").reduce(0, +))
        #expect(summary.dnsFailures == column("failed_connections_dns").reduce(0, +))
        #expect(summary.bytes == column("total_bytes").reduce(0, +))
        #expect(summary.successes == column("success_connections").reduce(0, +))
        let top = zip(rows.map { $0[0] }, column("total_connections")).sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(10)
        #expect(summary.topUsers.map(\.email) == top.map(\.0) && summary.topUsers.map(\.connections) == top.map(\.1))
        #expect(rows.contains { $0[0] == "odd, \"quoted\"\nname@example.com" })
        let ips = column("num_of_client_ip")
        #expect(summary.clientIPBuckets.reduce(0, +) == 300)
        for (k, count) in summary.clientIPBuckets.enumerated() {
            #expect(count == Int64(ips.filter { ReportSummary.bucket($0) == k }.count), "bucket \(k)")
        }
        #expect(summary.clientIPBuckets.count > 4, "the data must fill several buckets")
    }

    /// Byte order mark, CRLF line ends, blank lines and a last row without a line end; numbers
    /// that are not numbers count 0, and a relay percentage that is not finite adds nothing.
    @Test func anyWellFormedCSVIsSummedAndNothingInItTraps() {
        let csv = Array(
            ("\u{FEFF}user_email,total_connections,success_connections,percent_relay,num_of_client_ip\r\n"
                + "a@x,10,8,50.00,1\r\n\r\n"
                + "b@x,x,2,nan,9223372036854775807\r\n"
                + "c@x,9223372036854775807,1,1e999,3\r\n"
                + "d@x,5,4,inf,0").utf8)
        let summary = ReportSummary(csv: csv)
        #expect(summary.header.first == "user_email" && summary.countsConnections)
        #expect(summary.rows == 4)
        #expect(summary.connections == .max, "sums saturate")
        #expect(summary.successes == 15 && summary.relayedHundredths == 40_000)
        #expect(summary.topUsers.map(\.email) == ["c@x", "a@x", "d@x", "b@x"])
        #expect(summary.clientIPBuckets.count == 65 && summary.clientIPBuckets.reduce(0, +) == 4)
        #expect(summary.clientIPBuckets[0] == 1 && summary.clientIPBuckets[1] == 1 && summary.clientIPBuckets[3] == 1)
        let inactive = ReportSummary(csv: Array("user_email,last_access_date,inactive_days\na@x,,\nb@x,2026-01-01T00:00:00.000Z,12\n".utf8))
        #expect(!inactive.countsConnections && inactive.rows == 2 && inactive.neverSeen == 1)
    }

    /// A result joined from ranges adds up the ranges' summaries (each range's rows under the
    /// header): the sum must be the summary of the whole file.
    @Test func rangesSummariesAddUpToTheWholeFilesSummary() throws {
        let csv = try activeUsersCSV(users: 300)
        let lines = csv.split(separator: 0x0A, omittingEmptySubsequences: false)
        // Rows may hold quoted line ends: cut only where a row starts with "user".
        let header = Array(lines[0]) + [0x0A]
        var ranges: [[UInt8]] = [[], [], []]
        var range = 0
        for (i, line) in lines.dropFirst().dropLast().enumerated() {
            if i == 100 || i == 220, line.starts(with: Array("user".utf8)) { range += 1 }
            ranges[range] += Array(line) + [0x0A]
        }
        #expect(ranges.allSatisfy { !$0.isEmpty })
        var sum = ReportSummary(csv: header + ranges[0])
        for part in ranges.dropFirst() { sum.merge(ReportSummary(csv: header + part)) }
        #expect(sum == ReportSummary(csv: csv))
    }
}
