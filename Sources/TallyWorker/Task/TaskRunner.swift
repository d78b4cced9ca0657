import TallyFormats
import TallyReport
import TallySources

/// Runs one task: streams its objects from the source into the engine's `TaskAggregation` and
/// returns the partial. Nothing else is shared with the caller.
public enum TaskRunner {
    /// The partial of `task` for a job reading `format` over `window`.
    public static func run(_ task: ReportTask, window: ReportWindow, format: LogFormat, source: any LogSource) async throws -> Partial {
        try await aggregate(task, window: window, format: format, source: source).partial()
    }

    /// The partial of `task`, encoded for upload: what a worker sends.
    public static func runEncoded(_ task: ReportTask, window: ReportWindow, format: LogFormat, source: any LogSource) async throws -> [UInt8] {
        try await aggregate(task, window: window, format: format, source: source).encodedPartial()
    }

    private static func aggregate(_ task: ReportTask, window: ReportWindow, format: LogFormat, source: any LogSource) async throws -> TaskAggregation {
        var aggregation = TaskAggregation(window: window)
        for object in task.objects {
            try Task.checkCancellation()
            let reader = aggregation.startObject(named: object.name.isEmpty ? source.location : object.name, format: format)
            try await source.read(object) { chunk in
                try aggregation.consume(chunk, of: reader)
            }
            try aggregation.finishObject(reader)
        }
        return aggregation
    }
}
