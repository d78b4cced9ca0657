import Foundation
import Logging
import Metrics
import Prometheus

/// The process's logging and metrics backends, bootstrapped once at start.
enum LoggingSetup {
    /// Metrics go to Prometheus's default registry, which a coordinator's `/metrics` shows.
    static func bootstrapMetrics() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: PrometheusMetricsFactory.defaultRegistry))
    }

    /// Logs on standard error, as text or one JSON object per line (`--log-format`, else
    /// `TALLY_LOG_FORMAT`, else text); the level comes from `TALLY_LOG_LEVEL` (default `info`).
    static func bootstrap(format: LogLineFormat?) {
        let environment = ProcessInfo.processInfo.environment
        let level = environment["TALLY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let format = format ?? environment["TALLY_LOG_FORMAT"].flatMap(LogLineFormat.init(rawValue:)) ?? .text
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                return JSONLogHandler(label: label, logLevel: level)
            }
        }
    }
}
