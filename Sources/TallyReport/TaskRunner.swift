import TallyFormats
import TallySources

/// Runs one task: streams its objects from the source, parses and filters them, aggregates per
/// user and returns the partial. Nothing else is shared with the caller.
public enum TaskRunner {
    /// The partial of `task` for a job reading `format` over `window`.
    public static func run(_ task: ReportTask, window: ReportWindow, format: LogFormat, source: any LogSource) async throws -> Partial {
        let (aggregator, statistics) = try await aggregate(task, window: window, format: format, source: source)
        return aggregator.makePartial(statistics: statistics)
    }

    /// The partial of `task`, encoded for upload: what a worker sends (see
    /// `UserAggregator.encodedPartial`).
    public static func runEncoded(_ task: ReportTask, window: ReportWindow, format: LogFormat, source: any LogSource) async throws -> [UInt8] {
        let (aggregator, statistics) = try await aggregate(task, window: window, format: format, source: source)
        return aggregator.encodedPartial(statistics: statistics)
    }

    private static func aggregate(_ task: ReportTask, window: ReportWindow, format: LogFormat, source: any LogSource) async throws -> (UserAggregator, ReadStatistics) {
        var aggregator = UserAggregator(window: window)
        var statistics = ReadStatistics()
        for object in task.objects {
            try Task.checkCancellation()
            let reader = LogObjectReader(objectName: object.name.isEmpty ? source.location : object.name, format: format)
            try await source.read(object) { chunk in
                try reader.consume(chunk, into: &aggregator)
            }
            try reader.finish(into: &aggregator)
            statistics.objects += 1
            statistics.bytes += reader.rawBytes
            statistics.lines.add(reader.statistics)
        }
        return (aggregator, statistics)
    }
}
