/// Parses Connector real-time log lines (`twingate-analytics`): `ANALYTICS {json}`, possibly
/// after a journald or Docker prefix, interleaved with service log lines that are skipped.
public struct TwingateAnalyticsParser: LineParser {
    @usableFromInline let text = JSONStringDecoder()

    /// A parser with its own scratch space.
    public init() {}

    @inlinable
    public mutating func parse(_ line: UnsafeRawBufferPointer, into event: inout ConnectionEvent, resources: Bool) -> LineVerdict {
        guard let json = Self.payload(of: line) else { return .notAnEvent }
        text.reset(forLineOfLength: json.count)
        var scanner = JSONScanner(json)
        var record = JSONConnectionRecord()
        guard record.scan(&scanner, level: .body, keys: text) else { return .malformed(.badJSON) }
        scanner.skipWhitespace()
        guard scanner.atEnd else { return .malformed(.badJSON) }
        var time: Int64?
        if record.timestamp.kind == .number { time = EventTimestamp.parseEpochMillis(record.timestamp.bytes) }
        let relayed: Bool
        if record.tunnelPath.kind == .string, let path = text.text(of: record.tunnelPath) {
            relayed = !ByteScanning.equals(path, "direct")
        } else {
            relayed = record.relayCount > 0
        }
        let view = JSONConnectionRecord.FormatView(
            status: record.eventType, time: time, timePresent: record.timestamp.isPresent,
            transferred: record.tx, received: record.rx, relayed: relayed, resourceIP: record.connectionResourceIP)
        return record.fill(&event, view, text: text, resources: resources)
    }

    /// The JSON after the word `ANALYTICS` and its whitespace, or `nil` for a line that is not
    /// an analytics record.
    @inlinable
    static func payload(of line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let marker: StaticString = "ANALYTICS"
        let m = marker.utf8CodeUnitCount
        guard line.count > m, let p = line.baseAddress else { return nil }
        var i = 0
        while i + m < line.count {
            if p.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: "A"),
                ByteScanning.memcmpEqual(p + i, UnsafeRawPointer(marker.utf8Start), m),
                i == 0 || line[i - 1] == 0x20 || line[i - 1] == 0x09
            {
                var j = i + m
                let hasSpace = j < line.count && (line[j] == 0x20 || line[j] == 0x09)
                while j < line.count, line[j] == 0x20 || line[j] == 0x09 { j += 1 }
                if hasSpace, j < line.count, line[j] == UInt8(ascii: "{") {
                    return UnsafeRawBufferPointer(rebasing: line[j...])
                }
            }
            i += 1
        }
        return nil
    }
}
