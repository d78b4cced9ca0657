import Foundation
import TallyFormats
import Testing

/// Gzip through the system's `gzip`, so the reader is checked against an independent encoder.
func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-c"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    let writer = Thread {
        input.fileHandleForWriting.write(Data(bytes))
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Array(data)
}

@Suite struct LogObjectReaderTests {
    static let csv =
        "start_time,user,status,bytes_transferred\n"
        + (0..<2000).map { "2024-01-01 00:00:\(String(format: "%02d", $0 % 60)) UTC,u\($0 % 7)@x,NORMAL,\($0)" }.joined(separator: "\n")
        + "\n"

    @Test func gzipIsDetectedByMagicBytesAndMatchesPlainText() throws {
        let plain = try readText(Self.csv, format: .twingateCSV, chunkSize: 1000)
        let zipped = try gzip(Array(Self.csv.utf8))
        // Chunks of every small size, including one byte, so the magic check spans chunks.
        for size in [1, 2, 3, 500, 1 << 16] {
            let chunks = stride(from: 0, to: zipped.count, by: size).map { Array(zipped[$0..<min($0 + size, zipped.count)]) }
            let result = try readObject(chunks, format: .twingateCSV)
            #expect(result.events == plain.events)
            #expect(result.events.count == 2000)
        }
    }

    @Test func concatenatedGzipMembersAreAllRead() throws {
        let half = Self.csv.utf8.count / 2
        let bytes = Array(Self.csv.utf8)
        let splitAt = bytes[half...].firstIndex(of: 0x0A)! + 1
        let zipped = try gzip(Array(bytes[..<splitAt])) + gzip(Array(bytes[splitAt...]))
        let result = try readObject([zipped], format: .twingateCSV)
        #expect(result.events.count == 2000)
    }

    @Test func smallLineBuffersLoseNoInflatedBytes() throws {
        // With little room for output the inflater stops mid-member over and over, at member
        // ends too; every inflated byte must still reach the parser, and no member may be
        // taken for truncated.
        let plain = try readText(Self.csv, format: .twingateCSV, chunkSize: 1000)
        let bytes = Array(Self.csv.utf8)
        let third = bytes.count / 3
        let cut1 = bytes[third...].firstIndex(of: 0x0A)! + 1
        let cut2 = bytes[(2 * third)...].firstIndex(of: 0x0A)! + 1
        let zipped = try gzip(Array(bytes[..<cut1])) + gzip(Array(bytes[cut1..<cut2])) + gzip(Array(bytes[cut2...]))
        for bufferSize in [4096, 4097, 6000] {  // the reader's smallest buffer is 4096 bytes
            for chunkSize in [7, 4096, zipped.count] {
                let chunks = stride(from: 0, to: zipped.count, by: chunkSize).map { Array(zipped[$0..<min($0 + chunkSize, zipped.count)]) }
                let result = try readObject(chunks, format: .twingateCSV, bufferSize: bufferSize)
                #expect(result.events == plain.events, "buffer \(bufferSize), chunks of \(chunkSize)")
            }
        }
    }

    @Test func aGzipStreamCutShortIsAnErrorNotASilentlyShortCount() throws {
        let zipped = try gzip(Array(Self.csv.utf8))
        #expect(throws: LogReadError.self) {
            _ = try readObject([Array(zipped.dropLast(20))], format: .twingateCSV, name: "cut.csv.gz")
        }
        do {
            _ = try readObject([Array(zipped.dropLast(20))], format: .twingateCSV, name: "cut.csv.gz")
        } catch let error as LogReadError {
            #expect(error.kind == .truncatedGzip)
            #expect(error.description.contains("cut.csv.gz"))
        }
    }

    @Test func corruptGzipIsAnError() throws {
        var zipped = try gzip(Array(Self.csv.utf8))
        for i in 20..<40 { zipped[i] ^= 0x5A }
        #expect(throws: LogReadError.self) { _ = try readObject([zipped], format: .twingateCSV) }
    }

    @Test func autoDetectsEachFormatFromItsFirstLine() throws {
        #expect(try readText(Self.csv, format: .auto).format == .twingateCSV)
        #expect(try readText(TwingateS3ParserTests.example, format: .auto).format == .twingateS3)
        #expect(try readText("2023-10-26 INFO boot\n" + TwingateAnalyticsParserTests.example, format: .auto).format == .twingateAnalytics)
        #expect(try readText(TwingateAnalyticsParserTests.example, format: .auto).events.count == 1)
    }

    @Test func aLastLineWithoutLineEndIsRead() throws {
        let result = try readText("start_time,user,status\n2024-01-01 00:00:00 UTC,a@b,NORMAL", format: .twingateCSV, chunkSize: 3)
        #expect(result.events.count == 1)
    }

    @Test func linesLongerThanTheBufferAreRead() throws {
        let long = String(repeating: "x", count: 20_000)
        let text = "start_time,user,status,note\n2024-01-01 00:00:00 UTC,a@b,NORMAL,\(long)\n"
        let result = try readText(text, format: .twingateCSV, chunkSize: 999)
        #expect(result.events.count == 1)
    }

    @Test func formatExtensionsAndHiddenNames() {
        #expect(LogFormat.twingateCSV.reads(objectNamed: "2024/01/01/00.csv.gz"))
        #expect(!LogFormat.twingateCSV.reads(objectNamed: "2024/01/01/00.json"))
        #expect(LogFormat.twingateS3.reads(objectNamed: "2025-07-25T18:20:00+00:00.json"))
        #expect(LogFormat.twingateS3.reads(objectNamed: "x.ndjson.gz"))
        #expect(!LogFormat.auto.reads(objectNamed: "_SUCCESS"))
        #expect(!LogFormat.auto.reads(objectNamed: "dir/.hidden.csv"))
        #expect(LogFormat.auto.reads(objectNamed: "connector-2025-07-25T18.log"))
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2024-02-20 20:16:05.92 UTC", micros(2024, 2, 20, 20, 16, 5, 920_000)),
        ("2024-02-20 20:16:05 UTC", micros(2024, 2, 20, 20, 16, 5)),
        ("2024-02-20 20:16:05. UTC", micros(2024, 2, 20, 20, 16, 5)),
        ("2024-02-20 20:16:05.123456 UTC", micros(2024, 2, 20, 20, 16, 5, 123_456)),
        ("2024-02-29 00:00:00 UTC", micros(2024, 2, 29, 0, 0, 0)),
    ])
    func parsesCSVTimes(text: String, expected: Int64) {
        #expect(Array(text.utf8).withUnsafeBytes { EventTimestamp.parseCSV($0) } == expected)
    }

    @Test(arguments: [
        "2023-02-29 00:00:00 UTC", "2024-02-20 24:00:00 UTC", "2024-02-20 20:16:60 UTC", "2024-02-20 20:16:05.1234567 UTC",
        "2024-02-20 20:16:05 PST", "2024-02-20 20:16:05", "2024-02-20T20:16:05Z", "2024-02-20 20:16:05+00:00", "2024-02-20", "",
    ])
    func rejectsOtherCSVShapes(text: String) {
        #expect(Array(text.utf8).withUnsafeBytes { EventTimestamp.parseCSV($0) } == nil)
    }

    @Test(arguments: [
        ("2025-07-25T18:19:41.236597+00:00", micros(2025, 7, 25, 18, 19, 41, 236_597)),
        ("2025-07-25T18:19:41.2365979+00:00", micros(2025, 7, 25, 18, 19, 41, 236_597)),
        ("2025-07-25t18:19:41z", micros(2025, 7, 25, 18, 19, 41)),
        ("2025-07-25T18:19:41-05:30", micros(2025, 7, 25, 23, 49, 41)),
        ("1969-12-31T23:59:59Z", -1_000_000),
    ])
    func parsesRFC3339(text: String, expected: Int64) {
        #expect(Array(text.utf8).withUnsafeBytes { EventTimestamp.parseRFC3339($0) } == expected)
    }

    @Test(arguments: [
        "2025-07-25T18:19:41", "2025-07-25 18:19:41Z", "2025-07-25T18:19:41.Z", "2025-07-25T18:19:41+0000", "2025-07-25T18:19:41 UTC",
    ])
    func rejectsOtherRFC3339Shapes(text: String) {
        #expect(Array(text.utf8).withUnsafeBytes { EventTimestamp.parseRFC3339($0) } == nil)
    }

    @Test func formatsMillisecondsTruncated() {
        #expect(CivilTime.rfc3339Millis(micros: micros(2024, 2, 20, 20, 16, 5, 920_999)) == "2024-02-20T20:16:05.920Z")
        #expect(CivilTime.rfc3339Millis(micros: -1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func civilRoundTripsOverCenturies() {
        for days in stride(from: Int64(-800_000), to: 800_000, by: 997) {
            let (y, m, d) = CivilTime.civil(days: days)
            #expect(CivilTime.days(year: y, month: m, day: d) == days)
        }
    }
}
