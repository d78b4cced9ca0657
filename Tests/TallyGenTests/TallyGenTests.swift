import Foundation
import TallyGen
import Testing

/// 2024-07-25T10:00:00Z.
let start: Int64 = 1_721_901_600

func options(
    _ format: SampleFormat, users: Int = 30, hours: Int = 3, eventsPerHour: Int = 1_500,
    seed: UInt64 = 7, gzip: Bool = false
) -> SampleLogOptions {
    SampleLogOptions(
        format: format, users: users, start: start, hours: hours,
        eventsPerHour: eventsPerHour, seed: seed, gzip: gzip)
}

@Suite struct DeterminismTests {
    @Test(arguments: SampleFormat.allCases)
    func sameSeedSameBytes(format: SampleFormat) throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let a = try SampleLogGenerator.write(options(format), to: dir.sub("a"))
        let b = try SampleLogGenerator.write(options(format), to: dir.sub("b"))
        #expect(a == b)
        let filesA = try snapshot(dir.sub("a")), filesB = try snapshot(dir.sub("b"))
        #expect(!filesA.isEmpty)
        #expect(filesA == filesB)
    }

    @Test(arguments: SampleFormat.allCases)
    func differentSeedDifferentBytes(format: SampleFormat) throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        _ = try SampleLogGenerator.write(options(format, seed: 7), to: dir.sub("a"))
        _ = try SampleLogGenerator.write(options(format, seed: 8), to: dir.sub("b"))
        let filesA = try snapshot(dir.sub("a"), includeHidden: false)
        let filesB = try snapshot(dir.sub("b"), includeHidden: false)
        #expect(Set(filesA.keys) == Set(filesB.keys))
        #expect(filesA != filesB)
    }
}

@Suite struct CrossFormatTests {
    @Test func threeFormatsDescribeTheSameEvents() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        var runs: [SampleFormat: ParsedRun] = [:]
        for format in SampleFormat.allCases {
            let summary = try SampleLogGenerator.write(options(format), to: dir.sub(format.rawValue))
            let run = try parseRun(dir.sub(format.rawValue), format: format)
            #expect(summary.events == 4_500)
            #expect(run.events.count == summary.events, "\(format)")
            #expect(summary.malformedLines >= 1)
            #expect(run.malformed == summary.malformedLines, "\(format)")
            runs[format] = run
        }
        let csv = try #require(runs[.twingateCSV]).multiset
        #expect(csv == runs[.twingateS3]?.multiset)
        #expect(csv == runs[.twingateAnalytics]?.multiset)
    }

    @Test func realisticMix() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        _ = try SampleLogGenerator.write(options(.twingateCSV, hours: 4, eventsPerHour: 5_000), to: dir.path)
        let events = try parseRun(dir.path, format: .twingateCSV).events
        let n = Double(events.count)
        let success = events.filter { $0.outcome == 0 }
        func share(_ count: Int, _ of: Double) -> Double { Double(count) / of }
        #expect(abs(share(success.count, n) - 0.85) < 0.02)
        #expect(abs(share(events.filter { $0.outcome == 1 }.count, n) - 0.05) < 0.01)
        #expect(abs(share(events.filter { $0.outcome == 2 }.count, n) - 0.10) < 0.015)
        #expect(abs(share(success.filter(\.relayed).count, Double(success.count)) - 0.60) < 0.02)
        #expect(abs(share(events.filter { $0.user.isEmpty }.count, n) - 0.03) < 0.01)
        #expect(success.contains { $0.rx > UInt64(UInt32.max) || $0.tx > UInt64(UInt32.max) })
        #expect(events.filter { $0.outcome != 0 }.allSatisfy { $0.tx == 0 && $0.rx == 0 })
        let users = Set(events.map(\.user))
        #expect(users.contains("\"doe, jane\"@example.com"))
        #expect(users.contains("josé.garcía@exämple.com"))
        #expect(users.contains("Anna.Lee8@Example.com"))
        #expect(users.contains { $0.unicodeScalars.contains { $0.properties.isEmojiPresentation } })
        #expect(events.contains { $0.ip.contains(":") })
        // Zipf-ish: the most active user has several times the median user's events.
        var perUser: [String: Int] = [:]
        for e in events where !e.user.isEmpty { perUser[e.user, default: 0] += 1 }
        let counts = perUser.values.sorted()
        #expect(counts.last! > 5 * counts[counts.count / 2])
        // Devices: 1–3 per user.
        var devices: [String: Set<String>] = [:]
        for e in events where !e.user.isEmpty { devices[e.user, default: []].insert(e.device) }
        #expect(devices.values.allSatisfy { (1...3).contains($0.count) })
    }
}

/// `--activity uniform`: every user alike, so a few events per user reach most users, where
/// Zipf activity leaves most of them out.
@Suite struct ActivityTests {
    func distinctUsers(_ activity: SampleActivity) throws -> (users: Int, largestShare: Double) {
        let dir = TempDir()
        defer { dir.cleanup() }
        var o = options(.twingateCSV, users: 5_000, hours: 1, eventsPerHour: 15_000)
        o.activity = activity
        _ = try SampleLogGenerator.write(o, to: dir.path)
        var perUser: [String: Int] = [:]
        for e in try parseRun(dir.path, format: .twingateCSV).events where !e.user.isEmpty { perUser[e.user, default: 0] += 1 }
        let total = Double(perUser.values.reduce(0, +))
        return (perUser.count, Double(perUser.values.max() ?? 0) / total)
    }

    @Test func uniformActivityReachesMostUsers() throws {
        let uniform = try distinctUsers(.uniform)
        let zipf = try distinctUsers(.zipf)
        // Three events per user: 1 - e^-3 of them, about 95 %, against not much more than half.
        #expect(uniform.users > 4_600, "\(uniform)")
        #expect(zipf.users < 3_000, "\(zipf)")
        #expect(uniform.largestShare < 0.01 && zipf.largestShare > 0.05, "\(uniform) \(zipf)")
    }
}

@Suite struct LayoutTests {
    @Test func csvLayout() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let summary = try SampleLogGenerator.write(options(.twingateCSV, hours: 15), to: dir.path)
        let names = Set(try snapshot(dir.path).keys)
        var expected: Set<String> = ["_SUCCESS", ".hidden"]
        for h in 10..<24 { expected.insert("2024/07/25/\(h).csv") }
        expected.insert("2024/07/26/00.csv")
        #expect(names == expected)
        #expect(summary.files == 15)
        let first = try String(contentsOfFile: dir.sub("2024/07/25/10.csv"), encoding: .utf8)
        #expect(
            first.hasPrefix(
                "start_time,end_time,user,user_id,device_id,client_ip,connector,connector_id,resource_ip,resource_port,resource_domain,resource_id,protocol,status,bytes_transferred,bytes_received,remote_network,remote_network_id,applied_rule,relays,relay_ips,relay_ports,service_account,service_account_id,service_account_key,service_account_key_id\n"
            ))
        #expect(first.contains("\"\"\"doe, jane\"\"@example.com\""))
        #expect(first.contains("\"Lab, Building 2\""))
        // Fractions trimmed: never a trailing zero, never an empty fraction.
        let stamp = try Regex(#"\d{2}:\d{2}:\d{2}(\.\d*)? UTC"#)
        var sawShort = false
        for match in first.matches(of: stamp) {
            let text = String(first[match.range])
            #expect(!text.contains("0 UTC") || !text.contains("."), "\(text)")
            #expect(!text.contains(". UTC"))
            if !text.contains(".") || text.count < "00:00:00.000 UTC".count { sawShort = true }
        }
        #expect(sawShort)
        let success = try String(contentsOfFile: dir.sub("_SUCCESS"), encoding: .utf8)
        #expect(success.isEmpty)
    }

    @Test func s3Layout() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let summary = try SampleLogGenerator.write(options(.twingateS3, hours: 2, gzip: true), to: dir.path)
        let names = Set(try snapshot(dir.path).keys)
        var expected: Set<String> = ["_SUCCESS", ".hidden"]
        for h in 10...11 {
            for m in stride(from: 0, to: 60, by: 5) {
                expected.insert("2024-07-25T\(h):\(m < 10 ? "0" : "")\(m):00+00:00.json.gz")
            }
        }
        #expect(names == expected)
        #expect(summary.files == 24)
        let text = try snapshot(dir.path, gunzip: true, includeHidden: false).values
            .map { String(decoding: $0, as: UTF8.self) }.joined()
        #expect(text.contains("\\u00e9"))
        #expect(text.contains("josé"))
        #expect(text.contains("\\\"doe, jane\\\"@example.com"))
        #expect(text.contains("\"event_type\":\"network\","))
        #expect(text.contains("{\"event\":{"))
        #expect(text.contains("\"event_type\": \"network_access\""))
        #expect(text.contains("\"status\":\"established_connection\""))
        #expect(text.contains("\"status\":\"denied_access\""))
        #expect(text.contains("\"event_type\":\"dns_filtering\""))
        #expect(try Regex(#"\"time\":\"2024-07-25T\d\d:\d\d:\d\d\.\d{3}000\+00:00\""#).firstMatch(in: text) != nil)
    }

    @Test func analyticsLayout() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let summary = try SampleLogGenerator.write(options(.twingateAnalytics, hours: 2), to: dir.path)
        let names = Set(try snapshot(dir.path).keys)
        #expect(names == ["_SUCCESS", ".hidden", "connector-2024-07-25T10.log", "connector-2024-07-25T11.log"])
        #expect(summary.files == 2)
        let text = try String(contentsOfFile: dir.sub("connector-2024-07-25T10.log"), encoding: .utf8)
        #expect(text.contains(" INFO [connector] heartbeat ok\n") || text.contains("[connector] state: Online"))
        #expect(text.contains("twingate-connector[812]: ANALYTICS {"))
        #expect(try Regex(#"\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z ANALYTICS \{"#).firstMatch(in: text) != nil)
        #expect(text.contains("\"tunnel_path\":\"direct\""))
        #expect(text.contains("\"event_type\":\"established_connection\""))
        #expect(text.contains("\"service_account\":{"))
        #expect(text.contains("ANALYTICS {bad json") || summary.malformedLines > 0)
        // Some closed connections without tunnel_path.
        let closed = text.split(separator: "\n").filter { $0.contains("\"event_type\":\"closed_connection\"") }
        #expect(closed.contains { !$0.contains("tunnel_path") })
    }

    @Test(arguments: SampleFormat.allCases)
    func gzipMatchesPlain(format: SampleFormat) throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let plain = try SampleLogGenerator.write(options(format, hours: 2), to: dir.sub("plain"))
        let packed = try SampleLogGenerator.write(options(format, hours: 2, gzip: true), to: dir.sub("gz"))
        #expect(plain.events == packed.events && plain.files == packed.files)
        #expect(packed.bytes < plain.bytes)
        let raw = try snapshot(dir.sub("gz"), includeHidden: false)
        #expect(raw.keys.allSatisfy { $0.hasSuffix(".gz") })
        #expect(raw.values.allSatisfy { $0.prefix(2) == Data([0x1F, 0x8B]) })
        #expect(try snapshot(dir.sub("gz"), gunzip: true) == snapshot(dir.sub("plain")))
    }
}

@Suite struct TimeAndIPTests {
    /// 24 h, 50 users, 5,000 events/h: travelling users, spill across files, IP caps.
    @Test func travellersAndFileBoundaries() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let opts = SampleLogOptions(
            format: .twingateCSV, users: 50, start: 1_721_865_600, hours: 24,
            eventsPerHour: 5_000, seed: 3, gzip: true)
        let summary = try SampleLogGenerator.write(opts, to: dir.path)
        #expect(summary.events == 120_000)
        #expect(summary.malformedLines == 6)
        let run = try parseRun(dir.path, format: .twingateCSV)
        #expect(run.events.count == 120_000)
        #expect(run.malformed == 6)

        var ips: [String: Set<String>] = [:]
        for e in run.events where !e.user.isEmpty { ips[e.user, default: []].insert(e.ip) }
        let travellers = ips.values.filter { $0.count > 1_000 }
        #expect((2...3).contains(travellers.count))
        #expect(ips.values.allSatisfy { $0.count <= 4_000 })
        #expect(travellers.allSatisfy { (1_500...3_000).contains($0.count) })
        #expect(ips.values.filter { $0.count <= 4 }.count >= 40)

        // Events sit in their hour's file, except ~0.5 % filed in a neighbour, never > 10 min away.
        var outside = 0
        var unordered = 0
        for (path, events) in run.byFile {
            let parts = path.split(separator: "/")  // YYYY/MM/DD/HH.csv
            let day = daysFromCivil(Int64(parts[0])!, Int64(parts[1])!, Int64(parts[2])!)
            let hourStart = (day * 86_400 + Int64(parts[3].prefix(2))! * 3600) * 1000
            for e in events {
                #expect(e.time >= hourStart - 600_000 && e.time < hourStart + 3_600_000 + 600_000)
                if e.time < hourStart || e.time >= hourStart + 3_600_000 { outside += 1 }
            }
            for (a, b) in zip(events, events.dropFirst()) where b.time < a.time { unordered += 1 }
        }
        #expect(outside > 120_000 / 400 && outside < 120_000 / 100)
        #expect(unordered > 0)
    }
}

@Suite struct ValidationTests {
    @Test(arguments: [
        SampleLogOptions(format: .twingateCSV, users: 0, start: start, hours: 1, eventsPerHour: 10),
        SampleLogOptions(format: .twingateCSV, users: 5, start: start, hours: 0, eventsPerHour: 10),
        SampleLogOptions(format: .twingateCSV, users: 5, start: start, hours: 1, eventsPerHour: -1),
        SampleLogOptions(format: .twingateCSV, users: 5, start: start + 60, hours: 1, eventsPerHour: 10),
        SampleLogOptions(format: .twingateCSV, users: 5, start: -3600, hours: 1, eventsPerHour: 10),
    ])
    func rejectsBadOptions(_ opts: SampleLogOptions) throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let error = #expect(throws: SampleLogError.self) { try SampleLogGenerator.write(opts, to: dir.path) }
        #expect(error?.kind == .invalidOptions)
        #expect(!FileManager.default.fileExists(atPath: dir.path))
    }

    @Test func reportsUnwritableDirectory() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir.sub("file"), contents: Data())
        let error = #expect(throws: SampleLogError.self) {
            try SampleLogGenerator.write(options(.twingateS3, hours: 1), to: dir.sub("file/out"))
        }
        #expect(error?.kind == .createDirectory)
        #expect(error?.description.contains(dir.sub("file")) == true)
    }

    @Test func zeroEventsStillWritesFiles() throws {
        let dir = TempDir()
        defer { dir.cleanup() }
        let summary = try SampleLogGenerator.write(options(.twingateCSV, hours: 2, eventsPerHour: 0), to: dir.path)
        #expect(summary == SampleLogSummary(files: 2, events: 0, bytes: summary.bytes, malformedLines: 0))
        #expect(try parseRun(dir.path, format: .twingateCSV).events.isEmpty)
    }
}
