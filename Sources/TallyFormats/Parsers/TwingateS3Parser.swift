/// Parses S3 sync JSON lines (`twingate-s3`): `{"event_type":"network_access","event":{…}}`.
public struct TwingateS3Parser: LineParser {
    @usableFromInline let text = JSONStringDecoder()

    /// A parser with its own scratch space.
    public init() {}

    @inlinable
    public mutating func parse(_ line: UnsafeRawBufferPointer, into event: inout ConnectionEvent, resources: Bool) -> LineVerdict {
        text.reset(forLineOfLength: line.count)
        var scanner = JSONScanner(line)
        scanner.skipWhitespace()
        if scanner.atEnd { return .notAnEvent }
        var record = JSONConnectionRecord()
        guard record.scan(&scanner, level: .s3Wrapper, keys: text) else { return .malformed(.badJSON) }
        scanner.skipWhitespace()
        guard scanner.atEnd else { return .malformed(.badJSON) }
        guard record.eventType.kind == .string, let type = text.text(of: record.eventType) else {
            return .malformed(.missingField)
        }
        guard ByteScanning.equals(type, "network_access") || ByteScanning.equals(type, "network") else {
            return .notAnEvent
        }
        guard record.hasEventBody else { return .malformed(.missingField) }
        var time: Int64?
        if record.time.kind == .string, let t = text.text(of: record.time) { time = EventTimestamp.parseRFC3339(t) }
        let view = JSONConnectionRecord.FormatView(
            status: record.status, time: time, timePresent: record.time.isPresent,
            transferred: record.bytesTransferred, received: record.bytesReceived,
            relayed: record.relayCount > 0, resourceIP: record.resourceIP)
        return record.fill(&event, view, text: text, resources: resources)
    }
}
