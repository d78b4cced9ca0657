#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads one log object from a stream of byte chunks: gunzips it when it starts with the gzip
/// magic bytes (whatever its name), splits it into records, validates UTF-8, parses each record
/// with the object's format and hands events to a sink.
///
/// Memory stays bounded by the longest line: decompressed bytes land directly in one line
/// buffer that is reused for the whole object.
public final class LogObjectReader {
    /// Longest accepted line; anything longer fails the object instead of exhausting memory.
    public static let maximumLineLength = 64 << 20
    /// The most physical lines one quoted CSV record may span (docs/design.md §1.3).
    public static let maximumRecordLines = 100
    /// The most bytes one quoted CSV record may span.
    public static let maximumRecordBytes = 1 << 20

    /// The object's name, used in malformed-line samples and errors.
    public let objectName: String
    /// What the lines turned out to be so far.
    public private(set) var statistics = LineStatistics()
    /// The format in use; for `auto`, known once the first line has been seen.
    public private(set) var format: LogFormat
    /// Raw (possibly compressed) bytes consumed.
    public private(set) var rawBytes: Int64 = 0

    private var parser: Parser = .undecided
    // The parsers live in their own properties, mutated in place: kept as payloads of `Parser`,
    // each line copied the parser out of the enum and back (a retain, a release and a copy of
    // its cell array's reference), which was a tenth of a worker's time on CSV.
    private var csvParser: TwingateCSVParser?
    private var s3Parser: TwingateS3Parser?
    private var analyticsParser: TwingateAnalyticsParser?
    private var inflater: GzipInflater?
    private var magic: [UInt8] = []
    private var decidedCompression = false
    private var buffer: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var lineNumber: Int64 = 0
    private var event = ConnectionEvent()

    /// Which parser reads the lines.
    private enum Parser {
        case undecided
        case csv
        case s3
        case analytics
    }

    /// A reader for one object in `format` (`auto` detects it from the first line).
    public init(objectName: String, format: LogFormat, bufferSize: Int = 1 << 20) {
        self.objectName = objectName
        self.format = format
        buffer = .allocate(byteCount: max(bufferSize, 4096), alignment: 16)
        if format != .auto { useParser(for: format) }
    }

    deinit { buffer.deallocate() }

    /// Feeds the next chunk of the object's bytes.
    public func consume<Sink: ConnectionEventSink>(_ chunk: UnsafeRawBufferPointer, into sink: inout Sink) throws {
        rawBytes += Int64(chunk.count)
        if !decidedCompression {
            let held = magic.count
            magic.append(contentsOf: chunk.prefix(2 - held))
            guard magic.count == 2 else { return }
            decidedCompression = true
            if magic == [0x1F, 0x8B] {
                inflater = GzipInflater()
            }
            // Bytes of earlier chunks that arrived while too few were there to decide.
            if held > 0 {
                let saved = Array(magic.prefix(held))
                try saved.withUnsafeBytes { bytes in try feed(bytes, into: &sink) }
            }
        }
        try feed(chunk, into: &sink)
    }

    /// Signals the end of the object: parses a last line without a line end and checks that a
    /// gzip stream was complete.
    public func finish<Sink: ConnectionEventSink>(into sink: inout Sink) throws {
        if !decidedCompression, !magic.isEmpty {
            decidedCompression = true
            let saved = magic
            try saved.withUnsafeBytes { bytes in try feed(bytes, into: &sink) }
        }
        if let inflater, inflater.hasPendingInput {
            // Bytes ISA-L gave back at a member's end, with no input after them.
            try feed(UnsafeRawBufferPointer(start: nil, count: 0), into: &sink)
        }
        if let inflater, !inflater.atMemberEnd || inflater.hasPendingInput {
            throw LogReadError(kind: .truncatedGzip, detail: "after \(inflater.totalIn) compressed bytes", object: objectName)
        }
        processRecords(final: true, into: &sink)
    }

    private func feed<Sink: ConnectionEventSink>(_ input: UnsafeRawBufferPointer, into sink: inout Sink) throws {
        var rest = input
        // A full output buffer may leave inflated bytes inside the inflater: go round again.
        var outputFull = false
        while !rest.isEmpty || outputFull || inflater?.hasPendingInput == true {
            try ensureSpace()
            let space = UnsafeMutableRawBufferPointer(rebasing: buffer[filled...])
            if let inflater {
                let (consumed, produced) = try inflater.inflate(rest, into: space, object: objectName)
                filled += produced
                rest = UnsafeRawBufferPointer(rebasing: rest[consumed...])
                outputFull = produced == space.count
            } else {
                let n = min(space.count, rest.count)
                space.baseAddress!.copyMemory(from: rest.baseAddress!, byteCount: n)
                filled += n
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            }
            processRecords(final: false, into: &sink)
        }
    }

    /// Makes room after the pending partial record, growing the buffer only when one record
    /// fills it entirely.
    private func ensureSpace() throws {
        guard filled == buffer.count else { return }
        guard buffer.count < Self.maximumLineLength else {
            throw LogReadError(
                kind: .lineTooLong, detail: "line \(lineNumber + 1) exceeds \(Self.maximumLineLength) bytes", object: objectName)
        }
        let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
        grown.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: filled)
        buffer.deallocate()
        buffer = grown
    }

    private func processRecords<Sink: ConnectionEventSink>(final: Bool, into sink: inout Sink) {
        guard filled > 0 else { return }
        let base = UnsafeRawPointer(buffer.baseAddress!)
        if case .undecided = parser {
            guard let detected = detectFormat(final: final) else { return }
            format = detected
            useParser(for: detected)
        }
        let quoteAware: Bool
        if case .csv = parser { quoteAware = true } else { quoteAware = false }
        var start = 0
        while start < filled {
            var newlines: Int64 = 1
            var end: Int
            if let nl = findNewline(base, from: start, to: filled) {
                end = nl
                if quoteAware {
                    var quotes = countQuotes(base, start, nl)
                    var searchFrom = nl
                    var unclosed = false
                    while quotes & 1 == 1 {
                        // A quoted cell may hold line ends, but not without bound: past it, the
                        // quote is taken for a stray one and costs its own line only.
                        if newlines >= Self.maximumRecordLines || searchFrom - start > Self.maximumRecordBytes {
                            unclosed = true
                            break
                        }
                        guard let next = findNewline(base, from: searchFrom + 1, to: filled) else { break }
                        quotes += countQuotes(base, searchFrom, next)
                        newlines += 1
                        searchFrom = next
                    }
                    if unclosed {
                        statistics.lines += 1
                        statistics.recordMalformed(.fieldCount, object: objectName, line: lineNumber + 1)
                        lineNumber += 1
                        start = nl + 1
                        continue
                    }
                    if quotes & 1 == 1 && !final { break }
                    end = quotes & 1 == 1 ? filled : searchFrom
                }
            } else {
                guard final else { break }
                end = filled
            }
            var lineEnd = end
            if lineEnd > start, base.load(fromByteOffset: lineEnd - 1, as: UInt8.self) == 0x0D { lineEnd -= 1 }
            handle(UnsafeRawBufferPointer(start: base + start, count: lineEnd - start), into: &sink)
            lineNumber += newlines
            start = end + 1
        }
        let consumed = min(start, filled)
        if consumed > 0 {
            let remaining = filled - consumed
            if remaining > 0 { buffer.baseAddress!.copyMemory(from: base + consumed, byteCount: remaining) }
            filled = remaining
        }
    }

    @inline(__always)
    private func handle<Sink: ConnectionEventSink>(_ line: UnsafeRawBufferPointer, into sink: inout Sink) {
        statistics.lines += 1
        guard UTF8Validation.isValid(line) else {
            statistics.recordMalformed(.invalidUTF8, object: objectName, line: lineNumber + 1)
            return
        }
        let verdict: LineVerdict
        let resources = sink.readsResources
        switch parser {
        case .csv:
            verdict = csvParser!.parse(line, into: &event, resources: resources)
        case .s3:
            verdict = s3Parser!.parse(line, into: &event, resources: resources)
        case .analytics:
            verdict = analyticsParser!.parse(line, into: &event, resources: resources)
        case .undecided:
            verdict = .notAnEvent
        }
        switch verdict {
        case .event:
            statistics.events += 1
            sink.receive(event)
        case .notAnEvent:
            statistics.notEvents += 1
        case .malformed(let reason):
            statistics.recordMalformed(reason, object: objectName, line: lineNumber + 1)
        }
    }

    private func findNewline(_ base: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        guard from < to, let hit = memchr(base + from, 0x0A, to - from) else { return nil }
        return UnsafeRawPointer(hit) - base
    }

    private func countQuotes(_ base: UnsafeRawPointer, _ from: Int, _ to: Int) -> Int {
        var count = 0
        var i = from
        while i < to, let hit = memchr(base + i, 0x22, to - i) {
            count += 1
            i = UnsafeRawPointer(hit) - base + 1
        }
        return count
    }

    /// Decides the format from the first non-blank line: a JSON object is S3 sync, a line naming
    /// `start_time` with commas is the CSV export, anything else is a Connector log.
    private func detectFormat(final: Bool) -> LogFormat? {
        let base = UnsafeRawPointer(buffer.baseAddress!)
        var i = 0
        if filled >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { i = 3 }
        while i < filled, buffer[i] == 0x20 || buffer[i] == 0x0A || buffer[i] == 0x0D || buffer[i] == 0x09 { i += 1 }
        let lineEnd = findNewline(base, from: i, to: filled) ?? (final ? filled : -1)
        guard lineEnd >= 0 else { return nil }
        let first = UnsafeRawBufferPointer(start: base + i, count: lineEnd - i)
        if first.first == UInt8(ascii: "{") { return .twingateS3 }
        if TwingateAnalyticsParser.payload(of: first) != nil { return .twingateAnalytics }
        if first.contains(UInt8(ascii: ",")), Self.contains(first, "start_time") { return .twingateCSV }
        return .twingateAnalytics
    }

    private static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        let n = needle.utf8CodeUnitCount
        guard haystack.count >= n else { return false }
        for i in 0...(haystack.count - n)
        where ByteScanning.memcmpEqual(haystack.baseAddress! + i, UnsafeRawPointer(needle.utf8Start), n) {
            return true
        }
        return false
    }

    private func useParser(for format: LogFormat) {
        switch format {
        case .twingateCSV:
            csvParser = TwingateCSVParser()
            parser = .csv
        case .twingateS3:
            s3Parser = TwingateS3Parser()
            parser = .s3
        case .twingateAnalytics:
            analyticsParser = TwingateAnalyticsParser()
            parser = .analytics
        case .auto:
            parser = .undecided
        }
    }
}
