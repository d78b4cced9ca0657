import ArgumentParser

/// How log lines are written.
enum LogLineFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// A command that runs a long-lived service and lets its logs be chosen as text or JSON.
protocol LogFormatOption {
    var logFormat: LogLineFormat? { get }
}
