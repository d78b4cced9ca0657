import Foundation
import Synchronization
import TallyFormats
import TallyReport
import TallySources
import Testing

@testable import TallyWorker

/// A task's objects are read whole or not at all: a body shorter than its listing is a
/// transient failure, retried from a fresh aggregation, never a short report.
@Suite struct TaskRunnerTests {
    static let csv = Array(
        """
        start_time,user,status,bytes_transferred,bytes_received,client_ip,device_id,relays
        2026-10-01 10:05:00 UTC,alice@example.com,NORMAL,100,200,10.0.0.1,dev-a1,
        2026-10-01 10:15:00 UTC,bob@example.com,NORMAL,50,60,10.0.0.2,dev-b1,
        2026-10-01 10:20:00 UTC,carol@example.com,DNS_ERROR,0,0,10.0.0.3,dev-c1,

        """.utf8)

    /// What both in-memory sources list: one object, the CSV at its whole size.
    static let listing = [LogObject(name: "2026-10-01T10.csv", size: Int64(csv.count))]

    /// An in-memory source whose first `cutReads` reads end early without an error, as a
    /// connection closed before the end of a body without `Content-Length` does.
    final class CuttingSource: LogSource {
        let location = "mem://logs"
        let reads = Mutex(0)
        let cutReads: Int

        init(cutReads: Int) { self.cutReads = cutReads }

        func list(format: LogFormat) async throws -> [LogObject] { TaskRunnerTests.listing }

        func read(_ object: LogObject, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
            let n = reads.increment()
            let bytes = n <= cutReads ? Array(TaskRunnerTests.csv.prefix(TaskRunnerTests.csv.count * 2 / 3)) : TaskRunnerTests.csv
            try bytes.withUnsafeBytes { try consume($0) }
        }
    }

    static let window = try! ReportWindow(from: "2026-10-01T00:00:00Z", to: "2026-10-02T00:00:00Z", timeZone: nil)
    static let quick = SourceRetryPolicy(attempts: 3, initialBackoffSeconds: 0, maximumBackoffSeconds: 0, budgetSeconds: 60)

    func task(_ source: CuttingSource) async throws -> ReportTask {
        ReportPlan(objects: try await source.list(format: .twingateCSV), window: Self.window).tasks[0]
    }

    @Test func aBodyCutShortIsRetriedAndTheResultIsTheWholeObjects() async throws {
        let clean = CuttingSource(cutReads: 0)
        let expected = try await TaskRunner.run(
            try await task(clean), window: Self.window, format: .twingateCSV, source: clean, retry: Self.quick)
        let cut = CuttingSource(cutReads: 2)
        let (bytes, retries) = try await TaskRunner.runEncoded(
            try await task(cut), window: Self.window, format: .twingateCSV,
            source: cut, retry: Self.quick)
        #expect(retries == 2)
        #expect(bytes == expected.encoded())
        #expect(expected.rows.count == 3)
    }

    /// A lease naming an object outside its source (a coordinator impersonated or compromised)
    /// fails at once, before any read, naming the object.
    @Test(arguments: ["../x", "/etc/passwd", "a/../../b"])
    func aLeaseNamingAnObjectOutsideTheSourceFailsAtOnce(_ name: String) async throws {
        let source = CuttingSource(cutReads: 0)
        do {
            _ = try await TaskRunner.run(
                ReportTask(index: 0, shard: nil, objects: [LogObject(name: name, size: 10)]), window: Self.window,
                format: .twingateCSV, source: source, retry: Self.quick)
            Issue.record("a task naming '\(name)' ran")
        } catch let error as SourceError {
            #expect(error.kind == .invalidLocation && !error.isTransient)
            #expect(error.detail.contains("'\(name)'"))
        }
        #expect(source.reads.withLock { $0 } == 0)
    }

    @Test func aBodyAlwaysCutShortFailsNamingTheObject() async throws {
        let cut = CuttingSource(cutReads: 10)
        do {
            _ = try await TaskRunner.run(try await task(cut), window: Self.window, format: .twingateCSV, source: cut, retry: Self.quick)
            Issue.record("a short body passed for a whole object")
        } catch let error as SourceError {
            #expect(error.kind == .truncated)
            #expect(error.location == "2026-10-01T10.csv")
            #expect(error.detail.contains("listed at \(Self.csv.count) bytes"), "\(error.detail)")
        }
        #expect(cut.reads.withLock { $0 } == 3)
    }

    /// A source whose first read hangs after its first bytes (`stall`) or sends a byte every
    /// 20 ms (`trickle`); later reads are whole and quick.
    final class SlowSource: LogSource {
        enum Mode: Sendable { case stall, trickle }
        let location = "mem://slow"
        let mode: Mode
        let reads = Mutex(0)

        init(_ mode: Mode) { self.mode = mode }

        func list(format: LogFormat) async throws -> [LogObject] { TaskRunnerTests.listing }

        func read(_ object: LogObject, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
            let n = reads.increment()
            guard n == 1 else { return try TaskRunnerTests.csv.withUnsafeBytes { try consume($0) } }
            switch mode {
            case .stall:
                try TaskRunnerTests.csv.prefix(10).withUnsafeBytes { try consume(UnsafeRawBufferPointer($0)) }
                try await Task.sleep(for: .seconds(3600))
            case .trickle:
                for byte in TaskRunnerTests.csv {
                    try [byte].withUnsafeBytes { try consume($0) }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(1)), arguments: [SlowSource.Mode.stall, .trickle])
    func aStalledOrTricklingReadIsCutAndRetried(mode: SlowSource.Mode) async throws {
        var limits = Self.quick
        limits.stallSeconds = 0.3
        limits.minimumBytesPerSecond = 1_000_000
        limits.readGraceSeconds = 0.5
        let clean = CuttingSource(cutReads: 0)
        let expected = try await TaskRunner.run(
            try await task(clean), window: Self.window, format: .twingateCSV, source: clean, retry: Self.quick)
        let slow = SlowSource(mode)
        let tasks = ReportPlan(objects: try await slow.list(format: .twingateCSV), window: Self.window).tasks
        let (bytes, retries) = try await TaskRunner.runEncoded(
            tasks[0], window: Self.window, format: .twingateCSV, source: slow, retry: limits)
        #expect(retries == 1)
        #expect(bytes == expected.encoded())
    }

    /// A source whose first read stalls after 10 bytes; it serves ranged reads, and notes the
    /// offsets asked for.
    final class StallingRangeSource: LogSource {
        let location = "mem://ranges"
        let reads = Mutex(0)
        let offsets = Mutex([Int64]())

        func list(format: LogFormat) async throws -> [LogObject] { TaskRunnerTests.listing }

        func read(_ object: LogObject, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
            guard reads.increment() == 1 else { return try TaskRunnerTests.csv.withUnsafeBytes { try consume($0) } }
            try TaskRunnerTests.csv.prefix(10).withUnsafeBytes { try consume(UnsafeRawBufferPointer($0)) }
            try await Task.sleep(for: .seconds(3600))
        }

        func read(_ object: LogObject, from offset: Int64, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
            offsets.withLock { $0.append(offset) }
            try TaskRunnerTests.csv.dropFirst(Int(offset)).withUnsafeBytes { try consume(UnsafeRawBufferPointer($0)) }
        }
    }

    /// A read that stalls is raced by a second read of the rest of the object, from the offset
    /// the first had reached, long before the stall deadline; nothing is retried. With the
    /// hedging share spent, the stall deadline cuts it and it is retried, as without hedging.
    @Test(.timeLimit(.minutes(1)), arguments: [true, false])
    func aStalledReadIsHedgedWithinTheShare(shareLeft: Bool) async throws {
        var limits = Self.quick
        limits.stallSeconds = shareLeft ? 30 : 0.3
        let clean = CuttingSource(cutReads: 0)
        let expected = try await TaskRunner.run(try await task(clean), window: Self.window, format: .twingateCSV, source: clean)
        let source = StallingRangeSource()
        let hedging = ReadHedging(unknownSeconds: 0.05, maxShare: 0, burst: shareLeft ? 1 : 0)
        let tasks = ReportPlan(objects: try await source.list(format: .twingateCSV), window: Self.window).tasks
        let hedged = Mutex([Int]())
        let (bytes, retries) = try await TaskRunner.runEncoded(
            tasks[0], window: Self.window, format: .twingateCSV, source: source, retry: limits, hedging: hedging,
            onHedge: { _, offset in hedged.withLock { $0.append(offset) } })
        #expect(bytes == expected.encoded())
        #expect(retries == (shareLeft ? 0 : 1))
        #expect(source.offsets.withLock { $0 } == (shareLeft ? [10] : []))
        #expect(hedged.withLock { $0 } == (shareLeft ? [10] : []))
        #expect(hedging.counts == (reads: 1, hedges: shareLeft ? 1 : 0))
    }

    /// The typical read time is the median of recent reads, scaled to the size; a read is hedged
    /// past a multiple of it, never before the floor.
    @Test func theHedgeWaitFollowsTheTypicalRead() {
        let hedging = ReadHedging(slowerThanTypical: 4, floorSeconds: 0.3, unknownSeconds: 2)
        #expect(hedging.hedgeAfter(bytes: 1000) == 2)
        for _ in 0..<ReadHedging.minimumSamples { hedging.record(seconds: 0.5, bytes: 1000) }
        #expect(hedging.hedgeAfter(bytes: 1000) == 2)
        #expect(hedging.hedgeAfter(bytes: 4000) == 8)
        #expect(hedging.hedgeAfter(bytes: 10) == 2)
        for _ in 0..<ReadHedging.window { hedging.record(seconds: 0.01, bytes: 1000) }
        #expect(hedging.hedgeAfter(bytes: 1000) == 0.3)
    }

    /// A local read that never returns — a hung NFS mount, here a named pipe with no data — is
    /// cut by the stall deadline like a network read: the blocking calls run on NIO's thread
    /// pool, and the task walks away from them.
    @Test(.timeLimit(.minutes(1)), arguments: [false, true])
    func aLocalReadThatHangsIsCutByTheStallDeadline(blockInRead: Bool) async throws {
        let directory = NSTemporaryDirectory() + "tally-fifo-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let name = "2026-10-01T10.csv"
        let path = directory + "/" + name
        #expect(mkfifo(path, 0o600) == 0)
        // With a writer that sent a few bytes and went quiet, the worker blocks in `read`;
        // without one, it blocks in `open`.
        var writer: Int32 = -1
        if blockInRead {
            writer = open(path, O_RDWR)
            #expect(writer >= 0)
            _ = Self.csv.prefix(90).withUnsafeBytes { write(writer, $0.baseAddress, $0.count) }
        }
        defer {
            // Lets the abandoned pool thread finish its call.
            if writer < 0 { writer = open(path, O_RDWR) }
            close(writer)
        }
        var limits = Self.quick
        limits.attempts = 2
        limits.stallSeconds = 0.3
        let source = LocalDirectorySource(path: directory)
        let task = ReportPlan(objects: [LogObject(name: name, size: Int64(Self.csv.count))], window: Self.window).tasks[0]
        let error = await #expect(throws: SourceError.self) {
            try await TaskRunner.run(task, window: Self.window, format: .twingateCSV, source: source, retry: limits)
        }
        #expect(error?.location == name)
        #expect(error.map { "\($0)" }?.contains("no data for 0.3 s") == true, "\(String(describing: error))")
    }

    /// Five objects in one task; the fourth is cut short on its first read.
    final class FiveObjects: LogSource {
        let location = "mem://five"
        let reads = Mutex([String: Int]())
        let cutFourth: Bool

        init(cutFourth: Bool) { self.cutFourth = cutFourth }

        static let names = (0..<5).map { "2026-10-01T1\($0).csv" }

        func list(format: LogFormat) async throws -> [LogObject] {
            Self.names.map { LogObject(name: $0, size: Int64(TaskRunnerTests.csv.count)) }
        }

        func read(_ object: LogObject, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
            let n = reads.withLock {
                $0[object.name, default: 0] += 1
                return $0[object.name]!
            }
            let cut = cutFourth && object.name == Self.names[3] && n == 1
            let bytes = cut ? Array(TaskRunnerTests.csv.prefix(40)) : TaskRunnerTests.csv
            try bytes.withUnsafeBytes { try consume($0) }
        }
    }

    @Test func aSmallObjectIsRetriedAloneNotTheWholeTask() async throws {
        let clean = FiveObjects(cutFourth: false)
        let task = ReportTask(index: 0, shard: nil, objects: try await clean.list(format: .twingateCSV))
        let expected = try await TaskRunner.run(task, window: Self.window, format: .twingateCSV, source: clean, retry: Self.quick)
        let cut = FiveObjects(cutFourth: true)
        let (bytes, retries) = try await TaskRunner.runEncoded(
            task, window: Self.window, format: .twingateCSV, source: cut, retry: Self.quick)
        #expect(retries == 1)
        #expect(bytes == expected.encoded())
        let reads = cut.reads.withLock { $0 }
        #expect(reads == Dictionary(uniqueKeysWithValues: FiveObjects.names.enumerated().map { ($1, $0 == 3 ? 2 : 1) }), "\(reads)")
    }
}

extension Mutex where Value == Int {
    /// Counts a read begun by an in-memory source and returns its number, 1 for the first.
    func increment() -> Int {
        withLock {
            $0 += 1
            return $0
        }
    }
}
