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

    /// Structured logs on standard error; the level comes from `TALLY_LOG_LEVEL` (default `info`).
    static func bootstrap() {
        let level = ProcessInfo.processInfo.environment["TALLY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
