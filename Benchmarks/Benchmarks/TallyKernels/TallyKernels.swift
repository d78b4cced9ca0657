// Kernel benchmarks for tally: the parse-and-aggregate loop per format (plain and gzip), the
// sketches (inserts and merges) and the partial's binary encoding.
//
// Benchmark names use only letters, digits, '.', '-' and '_': package-benchmark 1.38.1 writes
// Thresholds/<target>.<name>.p90.json with a shell-safe version of the name but reads it back
// with the raw name, so a name with spaces or parentheses is silently never checked.
//
// How to read the figures (`scripts/bench-kernels` prints them):
// - Parse benchmarks ("Parse.<format>.<plain|gzip>"): one iteration reads the in-memory objects
//   of one generated hour (one object, or several for twingate-s3) holding `ParseFixture.eventsPerObject` (100,000) generated events, fed in 256 KiB chunks to
//   a fresh `LogObjectReader` with a fresh `RowAggregator` as sink, then `finish`.
//   * events/s = Throughput (# / s) x 100,000; bytes/s = Throughput x the object's size, both
//     printed to stderr as "fixture ..." lines when the benchmark process starts.
//     Throughput of these is a handful of iterations per second, so for finer figures run
//     `scripts/bench-kernels --filter 'Parse.*' --metric wallClock` and use 100,000 / wall clock.
//   * mallocs per event = Malloc (total) / 100,000. The figure includes the per-object setup
//     (reader buffer, gzip stream, the aggregator's interners growing to the object's users), so
//     it is an upper bound on the steady-state per-event cost.
// - Sketch and encoding benchmarks use `scalingFactor` where one iteration does many operations:
//   ".x1000" in a name means each iteration does 1,000 operations, so ops/s = Throughput x 1,000
//   (or pass `--scale` to see per-operation values). Encode/decode MB/s = Throughput x the
//   partial's encoded size (printed as a "fixture" line).
import Benchmark
import Foundation
import TallyFormats
import TallyGen
import TallyReport
import TallySketches

/// A reference cell for state that must persist across iterations.
final class Cell<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

enum ParseFixture {
    static let eventsPerObject = 100_000
    static let users = 2_000
    /// 2026-11-02T00:00:00Z, a whole hour.
    static let start: Int64 = 1_793_577_600
    static let chunkSize = 256 << 10

    /// The window: the generated hour with a day of margin each side.
    static var window: ReportWindow {
        let day: Int64 = 86_400 * 1_000_000
        return try! ReportWindow(from: start * 1_000_000 - day, to: start * 1_000_000 + 2 * day)
    }

    /// One hour of `format` written by TallyGen and read back: the objects' bytes, in name order
    /// (one object for CSV and analytics; S3 sync writes several per hour).
    static func objects(_ format: SampleFormat, gzip: Bool) -> [[UInt8]] {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("tally-bench-\(ProcessInfo.processInfo.processIdentifier)-\(format.rawValue)-\(gzip)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = SampleLogOptions(
            format: format, users: users, start: start, hours: 1, eventsPerHour: eventsPerObject, seed: 42, gzip: gzip)
        _ = try! SampleLogGenerator.write(options, to: dir.path)
        var files: [String] = []
        let walker = FileManager.default.enumerator(atPath: dir.path)!
        while let name = walker.nextObject() as? String {
            let last = (name as NSString).lastPathComponent
            if last.hasPrefix(".") || last.hasPrefix("_") { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                files.append(name)
            }
        }
        precondition(!files.isEmpty, "TallyGen wrote no objects")
        return files.sorted().map { Array(FileManager.default.contents(atPath: dir.appendingPathComponent($0).path)!) }
    }

    /// Parses `objects` into a fresh aggregator, each with a fresh reader: the loop a task runs.
    @inline(never)
    static func parse(_ objects: [[UInt8]], format: LogFormat, name: String, shape: ReportShape = .byUser) -> RowAggregator {
        var sink = RowAggregator(window: window, shape: shape)
        for bytes in objects { parse(bytes, format: format, name: name, into: &sink) }
        return sink
    }

    static func parse(_ bytes: [UInt8], format: LogFormat, name: String, into sink: inout RowAggregator) {
        let reader = LogObjectReader(objectName: name, format: format)
        bytes.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let end = min(offset + chunkSize, all.count)
                try! reader.consume(UnsafeRawBufferPointer(rebasing: all[offset..<end]), into: &sink)
                offset = end
            }
            try! reader.finish(into: &sink)
        }
    }

    static func logFormat(_ format: SampleFormat) -> LogFormat {
        switch format {
        case .twingateCSV: return .twingateCSV
        case .twingateS3: return .twingateS3
        case .twingateAnalytics: return .twingateAnalytics
        }
    }
}

func note(_ line: String) {
    FileHandle.standardError.write(Data("fixture \(line)\n".utf8))
}

/// Thresholds for the tolerances of `thresholds check` against Thresholds/*.json (p90 values
/// recorded on a reference machine). Throughput is loose (shared, noisy 2-core machines);
/// allocations are strict.
enum Tolerance {
    /// How far throughput (p90, the slow tail) may drop, in percent: 50 by default. CI sets
    /// `TALLY_BENCH_THROUGHPUT_TOLERANCE` higher, because its machine is not the one the
    /// thresholds were recorded on; a kernel that gets several times slower still fails there,
    /// and the allocation thresholds, which do not depend on the machine, stay strict.
    static var throughputPercent: Double {
        ProcessInfo.processInfo.environment["TALLY_BENCH_THROUGHPUT_TOLERANCE"].flatMap(Double.init) ?? 50
    }

    /// Throughput may drop by `throughputPercent`.
    static var timing: [BenchmarkMetric: BenchmarkThresholds] {
        [.throughput: .init(relative: [.p90: throughputPercent])]
    }

    /// `timing` plus mallocs that may grow by at most 5% (the partial codec allocates per user).
    static var codec: [BenchmarkMetric: BenchmarkThresholds] {
        var result = timing
        result[.mallocCountTotal] = .init(relative: [.p90: 5])
        return result
    }

    /// `timing` plus mallocs that may grow by at most `mallocSlack` per iteration.
    static func withMallocs(_ mallocSlack: Int) -> [BenchmarkMetric: BenchmarkThresholds] {
        var result = timing
        result[.mallocCountTotal] = .init(absolute: [.p90: mallocSlack])
        return result
    }
}

let benchmarks: @Sendable () -> Void = {
    // scripts/bench-kernels --short sets TALLY_BENCH_SHORT for CI: at most 0.7 s per benchmark
    // (the iteration cap stays high so the p90 of the fast kernels is not the cold start).
    let short = ProcessInfo.processInfo.environment["TALLY_BENCH_SHORT"] != nil
    Benchmark.defaultConfiguration = .init(
        // No wall clock: throughput carries the same information, and every collected metric
        // without a tolerance below would be checked strictly.
        metrics: [.throughput, .mallocCountTotal],
        warmupIterations: 2,
        maxDuration: short ? .milliseconds(700) : .seconds(3),
        maxIterations: 1_000
    )

    // MARK: Parse and aggregate

    for format in SampleFormat.allCases {
        for gzip in [false, true] {
            let name = "Parse.\(format.rawValue).\(gzip ? "gzip" : "plain")"
            let object = Cell<[[UInt8]]>([])
            // Mallocs: at most 1 per 1,000 events above the recorded per-object figure.
            Benchmark(
                name,
                configuration: .init(
                    thresholds: Tolerance.withMallocs(ParseFixture.eventsPerObject / 1_000),
                    setup: {
                        object.value = ParseFixture.objects(format, gzip: gzip)
                        let sink = ParseFixture.parse(
                            object.value, format: ParseFixture.logFormat(format), name: "bench")
                        note(
                            "\(name): objects=\(object.value.count) bytes=\(object.value.reduce(0) { $0 + $1.count }) eventsInWindow=\(sink.eventsInWindow)"
                        )
                    },
                    teardown: { object.value = [] }
                )
            ) { benchmark in
                let bytes = object.value
                let logFormat = ParseFixture.logFormat(format)
                benchmark.startMeasurement()
                blackHole(ParseFixture.parse(bytes, format: logFormat, name: "bench").eventsInWindow)
            }
        }
    }

    // The other reports' aggregations over the same objects (docs/design.md §1.10): rows by
    // Resource, and by user and Resource.
    for (label, shape) in [("by-resource", ReportShape.byResource), ("by-user-and-resource", .byUserAndResource)] {
        let name = "Parse.twingate-csv.gzip.\(label)"
        let object = Cell<[[UInt8]]>([])
        Benchmark(
            name,
            configuration: .init(
                thresholds: Tolerance.withMallocs(ParseFixture.eventsPerObject / 1_000),
                setup: { object.value = ParseFixture.objects(.twingateCSV, gzip: true) },
                teardown: { object.value = [] }
            )
        ) { benchmark in
            let bytes = object.value
            benchmark.startMeasurement()
            blackHole(ParseFixture.parse(bytes, format: .twingateCSV, name: "bench", shape: shape).eventsInWindow)
        }
    }

    // MARK: Sketches

    let hashes: [UInt64] = (0..<1_000_000).map { StableHash.mix(UInt64($0) &+ 0x9E37_79B9) }

    Benchmark(
        "DistinctCounter.insert.exact.x1000",
        configuration: .init(scalingFactor: .kilo, thresholds: Tolerance.withMallocs(5))
    ) { benchmark in
        // A fresh counter each iteration: 1,000 distinct hashes stay below the exact limit.
        var counter = DistinctCounter()
        for i in benchmark.scaledIterations { counter.insert(hash: hashes[i]) }
        blackHole(counter.count)
    }

    let hll = Cell(DistinctCounter())
    let hllCursor = Cell(0)
    Benchmark(
        "DistinctCounter.insert.HLL.x1000",
        configuration: .init(
            scalingFactor: .kilo, thresholds: Tolerance.withMallocs(5),
            setup: {
                var counter = DistinctCounter()
                for h in hashes.prefix(DistinctCounter.exactLimit * 2) { counter.insert(hash: h) }
                precondition(!counter.isExact)
                hll.value = counter
                hllCursor.value = DistinctCounter.exactLimit * 2
            }
        )
    ) { benchmark in
        var cursor = hllCursor.value
        for _ in benchmark.scaledIterations {
            hll.value.insert(hash: hashes[cursor])
            cursor = cursor + 1 == hashes.count ? 0 : cursor + 1
        }
        hllCursor.value = cursor
        blackHole(hll.value.count)
    }

    // Client IPs with a skewed distribution: most traffic from a few addresses, a long tail.
    let ipKeys: [[UInt8]] = (0..<100_000).map { i in
        let skewed = Int(StableHash.mix(UInt64(i)) % 97) < 70 ? i % 200 : i % 50_000
        return Array("10.\(skewed / 65_536).\(skewed / 256 % 256).\(skewed % 256)".utf8)
    }
    let hitters = Cell(HeavyHitters<[UInt8]>())
    let hitterCursor = Cell(0)
    Benchmark(
        "HeavyHitters.add.x1000",
        configuration: .init(scalingFactor: .kilo, thresholds: Tolerance.withMallocs(5))
    ) { benchmark in
        var cursor = hitterCursor.value
        for _ in benchmark.scaledIterations {
            hitters.value.add(ipKeys[cursor])
            cursor = cursor + 1 == ipKeys.count ? 0 : cursor + 1
        }
        hitterCursor.value = cursor
        blackHole(hitters.value.total)
    }

    func counter(_ range: Range<Int>) -> DistinctCounter {
        var c = DistinctCounter()
        for i in range { c.insert(hash: hashes[i]) }
        return c
    }
    let exactA = counter(0..<1_000), exactB = counter(500..<1_500)
    let hllA = counter(0..<50_000), hllB = counter(25_000..<75_000)
    Benchmark("DistinctCounter.merge.exact", configuration: .init(thresholds: Tolerance.withMallocs(5))) { _ in
        var merged = exactA
        merged.merge(exactB)
        blackHole(merged.count)
    }
    Benchmark("DistinctCounter.merge.HLL", configuration: .init(thresholds: Tolerance.withMallocs(5))) { _ in
        var merged = hllA
        merged.merge(hllB)
        blackHole(merged.count)
    }

    func hitterSketch(_ range: Range<Int>) -> HeavyHitters<[UInt8]> {
        var h = HeavyHitters<[UInt8]>()
        for i in range { h.add(ipKeys[i % ipKeys.count]) }
        return h
    }
    let hitA = hitterSketch(0..<100_000), hitB = hitterSketch(30_000..<130_000)
    Benchmark("HeavyHitters.merge", configuration: .init(thresholds: Tolerance.withMallocs(5))) { _ in
        var merged = hitA
        merged.merge(hitB)
        blackHole(merged.total)
    }

    // MARK: Partial encoding

    // The partial of a realistic task: one hour of CSV, 100,000 events, 2,000 users.
    let partial = Cell<Partial?>(nil)
    let encoded = Cell<[UInt8]>([])
    let makePartial: @Sendable () -> Void = {
        guard partial.value == nil else { return }
        let bytes = ParseFixture.objects(.twingateCSV, gzip: false)
        let sink = ParseFixture.parse(bytes, format: .twingateCSV, name: "bench")
        partial.value = sink.makePartial(statistics: ReadStatistics())
        encoded.value = partial.value!.encoded()
        note("Partial: users=\(partial.value!.rows.count) encodedBytes=\(encoded.value.count)")
    }
    Benchmark(
        "Partial.encode",
        configuration: .init(thresholds: Tolerance.codec, setup: makePartial)
    ) { _ in
        blackHole(partial.value!.encoded().count)
    }
    Benchmark(
        "Partial.decode",
        configuration: .init(thresholds: Tolerance.codec, setup: makePartial)
    ) { _ in
        blackHole(try! Partial(encoded: encoded.value).rows.count)
    }

    // MARK: Merging (docs/design.md §3.8)

    // Eight hourly partials of the same 2,000 users, decoded and merged: whole in memory, as a
    // stream (one block and one user per partial), and one of four ranges of the stream.
    let mergeInputs = 8
    Benchmark(
        "Merge.whole.x8",
        configuration: .init(thresholds: Tolerance.codec, setup: makePartial)
    ) { _ in
        var merger = ReportMerger()
        for _ in 0..<mergeInputs { merger.merge(try! Partial(encoded: encoded.value)) }
        blackHole(merger.userCount)
    }
    Benchmark(
        "Merge.streamed.x8",
        configuration: .init(thresholds: Tolerance.codec, setup: makePartial)
    ) { _ in
        let streams = (0..<mergeInputs).map { _ in try! PartialUserStream(PartialInMemory(encoded.value), verify: false) }
        var merge = try! StreamingMerge(streams: streams)
        var users = 0
        while try! merge.next() != nil { users += 1 }
        blackHole(users)
    }
    Benchmark(
        "Merge.range.x8",
        configuration: .init(thresholds: Tolerance.codec, setup: makePartial)
    ) { _ in
        let keys = try! PartialUserStream(PartialInMemory(encoded.value), verify: false).indexKeys
        let range = UserKeyRange.split(samples: keys, into: 4)[1]
        let streams = (0..<mergeInputs).map { _ in try! PartialUserStream(PartialInMemory(encoded.value), range: range, verify: false) }
        var merge = try! StreamingMerge(streams: streams)
        var users = 0
        while try! merge.next() != nil { users += 1 }
        blackHole(users)
    }
}
