import Foundation

/// The three log formats `tally gen` can write (docs/design.md §2.1).
public enum SampleFormat: String, CaseIterable, Sendable {
    case twingateCSV = "twingate-csv"
    case twingateS3 = "twingate-s3"
    case twingateAnalytics = "twingate-analytics"
}

/// How often each user connects.
public enum SampleActivity: String, CaseIterable, Sendable {
    /// Zipf (s = 1): a few users connect most, most users seldom, as in real logs.
    case zipf
    /// Every user alike: the most distinct users for the events (a report of a million users
    /// from a few million events).
    case uniform
}

/// What to generate.
public struct SampleLogOptions: Sendable, Equatable {
    public var format: SampleFormat
    /// Number of distinct users, 1 ... 2,000,000.
    public var users: Int
    /// First hour of the run, epoch seconds UTC. Must be a whole hour (a multiple of 3600),
    /// from 1970 on.
    public var start: Int64
    /// Number of hours, ≥ 1; the run must end before the year 10000.
    public var hours: Int
    /// Logical connection-ending events per hour, 0 ... 10,000,000.
    public var eventsPerHour: Int
    /// PRNG seed: the same options give byte-identical files; the same seed gives the same
    /// logical events in every format.
    public var seed: UInt64
    /// Gzip every data file (names get `.gz`).
    public var gzip: Bool
    /// How often each user connects.
    public var activity: SampleActivity

    public init(
        format: SampleFormat, users: Int, start: Int64, hours: Int, eventsPerHour: Int,
        seed: UInt64 = 1, gzip: Bool = false, activity: SampleActivity = .zipf
    ) {
        self.activity = activity
        self.format = format
        self.users = users
        self.start = start
        self.hours = hours
        self.eventsPerHour = eventsPerHour
        self.seed = seed
        self.gzip = gzip
    }

    public static let maxUsers = 2_000_000
    public static let maxEventsPerHour = 10_000_000
    /// 10000-01-01T00:00:00Z.
    static let endOfTime: Int64 = 253_402_300_800

    /// Throws `SampleLogError` (`.invalidOptions`) naming the first bad option.
    public func validate() throws {
        func fail(_ message: String) -> SampleLogError { SampleLogError(.invalidOptions, path: nil, reason: message) }
        guard users >= 1 else { throw fail("users must be at least 1 (got \(users))") }
        guard users <= Self.maxUsers else { throw fail("users must be at most \(Self.maxUsers) (got \(users))") }
        guard hours >= 1 else { throw fail("hours must be at least 1 (got \(hours))") }
        guard eventsPerHour >= 0 else { throw fail("events per hour must not be negative (got \(eventsPerHour))") }
        guard eventsPerHour <= Self.maxEventsPerHour else {
            throw fail("events per hour must be at most \(Self.maxEventsPerHour) (got \(eventsPerHour))")
        }
        guard start >= 0 else { throw fail("start must not be before 1970-01-01T00:00:00Z (got \(start))") }
        guard start % 3600 == 0 else {
            throw fail(
                "start must be a whole UTC hour, a multiple of 3600 seconds (got \(start); previous whole hour: \(start - start % 3600))")
        }
        guard hours <= Int((Self.endOfTime - start) / 3600) else { throw fail("the run must end before the year 10000") }
    }
}

/// What was written.
public struct SampleLogSummary: Sendable, Equatable {
    /// Data files written (not counting `_SUCCESS` and `.hidden`).
    public var files: Int
    /// Logical connection-ending events written (user and service-account ones; not the
    /// `established_connection` records, unrelated event types, service log lines or malformed lines).
    public var events: Int
    /// Bytes of the data files as stored (compressed when gzip).
    public var bytes: Int64
    /// Deliberately malformed lines written (not events).
    public var malformedLines: Int

    public init(files: Int = 0, events: Int = 0, bytes: Int64 = 0, malformedLines: Int = 0) {
        self.files = files
        self.events = events
        self.bytes = bytes
        self.malformedLines = malformedLines
    }
}

/// Why generation failed.
public struct SampleLogError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case invalidOptions = "invalid options"
        case createDirectory = "cannot create directory"
        case createFile = "cannot create file"
        case writeFile = "cannot write file"
        case compression = "compression failed"
    }

    public var kind: Kind
    /// The file or directory concerned, if any.
    public var path: String?
    public var reason: String

    public init(_ kind: Kind, path: String?, reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public var description: String {
        if let path { return "\(kind.rawValue) \(path): \(reason)" }
        return "\(kind.rawValue): \(reason)"
    }
}

/// Deterministic sample Twingate logs.
///
/// Layout under the output directory (`.gz` appended to data files with gzip):
/// - `twingate-csv`: `YYYY/MM/DD/HH.csv`, one file per hour with the 26-column header;
/// - `twingate-s3`: `YYYY-MM-DDTHH:MM:00+00:00.json`, one file per 5 minutes, flat;
/// - `twingate-analytics`: `connector-YYYY-MM-DDTHH.log`, one file per hour;
/// plus an empty `_SUCCESS` and a `.hidden` file that readers must ignore.
///
/// Each hour's logical events derive from `(seed, hour index, event index)` alone, so the three
/// formats describe the same connections and hours can be written in parallel without changing
/// a byte.
public enum SampleLogGenerator {
    public static func write(_ options: SampleLogOptions, to directory: String) throws -> SampleLogSummary {
        try options.validate()
        let root = directory.isEmpty ? "." : directory
        try makeDirectory(root)
        let world = World(options)
        if options.format == .twingateCSV {
            var made = Set<String>()
            for h in 0..<options.hours {
                let t = FileTime(epochSeconds: options.start + Int64(h) * 3600)
                let dir = "\(root)/\(t.year)/\(t.month)/\(t.day)"
                if made.insert(dir).inserted { try makeDirectory(dir) }
            }
        }

        let queue = HourQueue(hours: options.hours)
        let workers = max(1, min(options.hours, ProcessInfo.processInfo.activeProcessorCount))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            var writer = LineWriter(capacity: FileSink.flushThreshold + (1 << 16))
            defer { writer.deallocate() }
            while let h = queue.take() {
                do {
                    let result = try HourRenderer(world: world, hour: Hour(world: world, index: h), root: root)
                        .render(&writer)
                    queue.finish(h, result)
                } catch {
                    writer.count = 0
                    queue.fail(h, error)
                }
            }
        }
        if let error = queue.firstError { throw error }
        var summary = SampleLogSummary()
        for result in queue.results {
            summary.files += result.files
            summary.events += result.events
            summary.bytes += result.bytes
            summary.malformedLines += result.malformedLines
        }
        try writeSmallFile("\(root)/.hidden", Array("This file is not a log; readers must skip names starting with '.' or '_'.\n".utf8))
        try writeSmallFile("\(root)/_SUCCESS", [])
        return summary
    }

    static func makeDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return }
            throw SampleLogError(.createDirectory, path: path, reason: "a file with that name exists")
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw SampleLogError(.createDirectory, path: path, reason: (error as NSError).localizedDescription)
        }
    }

    static func writeSmallFile(_ path: String, _ bytes: [UInt8]) throws {
        let sink = try FileSink(path: path, gzip: false)
        var writer = LineWriter(capacity: max(64, bytes.count))
        defer { writer.deallocate() }
        writer.bytes(bytes)
        try sink.finish(&writer)
    }
}

/// Per-hour totals.
struct HourResult: Sendable {
    var files = 0
    var events = 0
    var bytes: Int64 = 0
    var malformedLines = 0
}

/// Hands out hour indices to worker threads and collects their results.
final class HourQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let hours: Int
    private var stopped = false
    private var stored: [HourResult]
    private var errorHour = Int.max
    private var error: (any Error)?

    init(hours: Int) {
        self.hours = hours
        stored = Array(repeating: HourResult(), count: hours)
    }

    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped, next < hours else { return nil }
        next += 1
        return next - 1
    }

    func finish(_ hour: Int, _ result: HourResult) {
        lock.lock()
        stored[hour] = result
        lock.unlock()
    }

    func fail(_ hour: Int, _ error: any Error) {
        lock.lock()
        stopped = true
        if hour < errorHour {
            errorHour = hour
            self.error = error
        }
        lock.unlock()
    }

    var firstError: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }

    var results: [HourResult] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

/// Writes all files of one hour in one format.
struct HourRenderer {
    let world: World
    let hour: Hour
    let root: String

    private var gzipSuffix: String { world.options.gzip ? ".gz" : "" }

    func render(_ w: inout LineWriter) throws -> HourResult {
        w.count = 0
        let order = hour.order()
        let plan = hour.malformedPlan()
        switch world.options.format {
        case .twingateCSV: return try renderCSV(order, plan, &w)
        case .twingateS3: return try renderS3(order, plan, &w)
        case .twingateAnalytics: return try renderAnalytics(order, plan, &w)
        }
    }

    private func renderCSV(_ order: [UInt64], _ plan: [(position: Int, ordinal: Int)], _ w: inout LineWriter) throws -> HourResult {
        let t = FileTime(epochSeconds: hour.startMs / 1000)
        let path = "\(root)/\(t.year)/\(t.month)/\(t.day)/\(t.hour).csv\(gzipSuffix)"
        let sink = try FileSink(path: path, gzip: world.options.gzip)
        w.lit(CSVRenderer.header)
        var next = 0
        for position in 0..<order.count {
            let e = hour.event(Int(truncatingIfNeeded: order[position] & 0xFFFF_FFFF))
            CSVRenderer.row(e, world, &w)
            while next < plan.count && plan[next].position == position {
                CSVRenderer.row(e, world, &w, malform: CSVRenderer.malform(ordinal: plan[next].ordinal))
                next += 1
            }
            try sink.drainIfFull(&w)
        }
        try sink.finish(&w)
        return HourResult(files: 1, events: order.count, bytes: sink.written, malformedLines: plan.count)
    }

    private func renderS3(_ order: [UInt64], _ plan: [(position: Int, ordinal: Int)], _ w: inout LineWriter) throws -> HourResult {
        var result = HourResult(files: 0, events: order.count, bytes: 0, malformedLines: plan.count)
        var position = 0
        var next = 0
        for slot in 0..<12 {
            let t = FileTime(epochSeconds: hour.startMs / 1000 + Int64(slot) * 300)
            let path = "\(root)/\(t.year)-\(t.month)-\(t.day)T\(t.hour):\(t.minute):00+00:00.json\(gzipSuffix)"
            let sink = try FileSink(path: path, gzip: world.options.gzip)
            while position < order.count {
                let key = order[position]
                let writeKey = Int64(key >> 32) - Hour.keyBias
                if slot < 11 && writeKey >= Int64(slot + 1) * 300_000 { break }
                let e = hour.event(Int(truncatingIfNeeded: key & 0xFFFF_FFFF))
                S3Renderer.lines(e, world, &w)
                while next < plan.count && plan[next].position == position {
                    S3Renderer.malformed(e, world, &w, S3Renderer.malform(ordinal: plan[next].ordinal))
                    next += 1
                }
                try sink.drainIfFull(&w)
                position += 1
            }
            try sink.finish(&w)
            result.files += 1
            result.bytes += sink.written
        }
        return result
    }

    private func renderAnalytics(_ order: [UInt64], _ plan: [(position: Int, ordinal: Int)], _ w: inout LineWriter) throws -> HourResult {
        let t = FileTime(epochSeconds: hour.startMs / 1000)
        let path = "\(root)/connector-\(t.year)-\(t.month)-\(t.day)T\(t.hour).log\(gzipSuffix)"
        let sink = try FileSink(path: path, gzip: world.options.gzip)
        AnalyticsRenderer.fileHeader(hourStartMs: hour.startMs, &w)
        var next = 0
        for position in 0..<order.count {
            let e = hour.event(Int(truncatingIfNeeded: order[position] & 0xFFFF_FFFF))
            AnalyticsRenderer.lines(e, world, &w)
            while next < plan.count && plan[next].position == position {
                AnalyticsRenderer.malformed(e, world, &w, AnalyticsRenderer.malform(ordinal: plan[next].ordinal))
                next += 1
            }
            try sink.drainIfFull(&w)
        }
        try sink.finish(&w)
        return HourResult(files: 1, events: order.count, bytes: sink.written, malformedLines: plan.count)
    }
}
