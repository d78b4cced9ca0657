import TallyFormats

/// A copy of a `ConnectionEvent` whose fields outlive the parser's buffers, for assertions.
struct ParsedEvent: Equatable, CustomStringConvertible {
    var time: Int64
    var outcome: ConnectionOutcome
    var transferred: UInt64
    var received: UInt64
    var relayed: Bool
    var user: String
    var device: String
    var ip: String

    init(_ e: ConnectionEvent) {
        time = e.time
        outcome = e.outcome
        transferred = e.bytesTransferred
        received = e.bytesReceived
        relayed = e.relayed
        user = String(decoding: e.user, as: UTF8.self)
        device = String(decoding: e.device, as: UTF8.self)
        ip = String(decoding: e.clientIP, as: UTF8.self)
    }

    var description: String { "\(user) \(time) \(outcome) \(transferred)/\(received) relayed=\(relayed) dev=\(device) ip=\(ip)" }
}

/// Collects events as `ParsedEvent`s.
struct CollectingSink: ConnectionEventSink {
    var events: [ParsedEvent] = []
    mutating func receive(_ event: ConnectionEvent) { events.append(ParsedEvent(event)) }
}

/// Reads a whole object given as chunks and returns its events and statistics.
func readObject(_ chunks: [[UInt8]], format: LogFormat, name: String = "object", bufferSize: Int = 4096) throws -> (
    events: [ParsedEvent], stats: LineStatistics, format: LogFormat
) {
    let reader = LogObjectReader(objectName: name, format: format, bufferSize: bufferSize)
    var sink = CollectingSink()
    for chunk in chunks {
        try chunk.withUnsafeBytes { try reader.consume($0, into: &sink) }
    }
    try reader.finish(into: &sink)
    return (sink.events, reader.statistics, reader.format)
}

/// Reads text split into chunks of `chunkSize` bytes (to exercise lines spanning chunks).
func readText(_ text: String, format: LogFormat, chunkSize: Int = 7) throws -> (
    events: [ParsedEvent], stats: LineStatistics, format: LogFormat
) {
    let bytes = Array(text.utf8)
    let chunks = stride(from: 0, to: bytes.count, by: chunkSize).map { Array(bytes[$0..<min($0 + chunkSize, bytes.count)]) }
    return try readObject(chunks, format: format)
}

/// Microseconds of a UTC instant, computed independently of the parser (Foundation-free).
func micros(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int, _ us: Int = 0) -> Int64 {
    Int64(CivilTime.days(year: Int64(y), month: Int64(mo), day: Int64(d))) * 86_400_000_000
        + Int64(h * 3600 + mi * 60 + s) * 1_000_000 + Int64(us)
}
