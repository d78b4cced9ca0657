import Foundation
import Logging

/// Structured logs on standard error; the level comes from `TALLY_LOG_LEVEL` (default `info`).
enum LoggingSetup {
    static func bootstrap() {
        let level = ProcessInfo.processInfo.environment["TALLY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
