import Foundation
import Logging
import TallyFormats
import TallyProtocol

/// Log lines as JSON objects, one per line on standard error (`--log-format json`): what log
/// shippers parse without guessing, and where a value from a request can never start a line of
/// its own — every value is a JSON string literal.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("time", CivilTime.rfc3339Millis(micros: Int64(Date().timeIntervalSince1970 * 1_000_000)).jsonLiteral),
            ("level", event.level.rawValue.jsonLiteral), ("label", label.jsonLiteral), ("message", event.message.description.jsonLiteral),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !["time", "level", "label", "message"].contains(key) {
            fields.append((key, "\(value)".jsonLiteral))
        }
        let line = "{" + fields.map { $0.0.jsonLiteral + ":" + $0.1 }.joined(separator: ",") + "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
