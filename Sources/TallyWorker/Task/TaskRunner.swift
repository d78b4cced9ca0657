import TallyFormats
import TallyReport
import TallySources

/// Runs one task: streams its objects from the source into the engine's `TaskAggregation` and
/// returns the partial. Nothing else is shared with the caller.
///
/// A read that fails in a way that may pass is retried under the source retry policy, and the
/// task starts over with a fresh aggregation, so a half-read object never counts. An object is
/// read whole or not at all: its byte count must equal the size its listing gave.
public enum TaskRunner {
    /// The partial of `task` for a job reading `format` over `window`.
    public static func run(_ task: ReportTask, window: ReportWindow, format: LogFormat, source: any LogSource,
                           retry: SourceRetryPolicy = SourceRetryPolicy()) async throws -> Partial {
        let read = ReadTask(task: task, window: window, format: format, source: source)
        return try await retry.run { try await aggregate(read, limits: retry) }.partial()
    }

    /// The partial of `task`, encoded for upload (what a worker sends), and the number of
    /// retries it took. `onRetry` hears each retry.
    public static func runEncoded(_ task: ReportTask, window: ReportWindow, format: LogFormat, source: any LogSource,
                                  retry: SourceRetryPolicy = SourceRetryPolicy(),
                                  onRetry: (_ retry: Int, _ error: SourceError, _ pauseSeconds: Double) -> Void = { _, _, _ in })
        async throws -> (partial: [UInt8], retries: Int) {
        var retries = 0
        let read = ReadTask(task: task, window: window, format: format, source: source)
        let aggregation = try await retry.run({ try await aggregate(read, limits: retry) },
                                              onRetry: { retries = $0; onRetry($0, $1, $2) })
        return (aggregation.encodedPartial(), retries)
    }

    private static func aggregate(_ task: ReadTask, limits: SourceRetryPolicy) async throws -> TaskAggregation {
        let state = ReadState(TaskAggregation(window: task.window))
        for object in task.task.objects {
            try Task.checkCancellation()
            let name = object.name.isEmpty ? task.source.location : object.name
            let reader = state.aggregation.startObject(named: name, format: task.format)
            state.reader = reader
            let source = task.source
            try await ReadDeadline.enforce(on: name, stallSeconds: limits.stallSeconds,
                                           budgetSeconds: limits.readBudgetSeconds(size: object.size)) { progress in
                try await source.read(object) { chunk in
                    progress.mark()
                    try state.consume(chunk)
                }
            }
            // A body cut short without a transport error (no Content-Length, or a gzip stream cut
            // between members) must never pass for the whole object.
            if object.size > 0, reader.rawBytes != object.size {
                throw SourceError(.truncated, location: name,
                                  detail: "read \(reader.rawBytes) bytes of an object listed at \(object.size) bytes")
            }
            try state.aggregation.finishObject(reader)
        }
        return state.aggregation
    }

    /// What one attempt reads.
    struct ReadTask: Sendable {
        var task: ReportTask
        var window: ReportWindow
        var format: LogFormat
        var source: any LogSource
    }

    /// The aggregation and the object reader of one attempt, handed to the child task that reads
    /// (so that a watchdog beside it can cut the read). Owned by one task at a time: the reading
    /// child while it runs, this attempt otherwise.
    private final class ReadState: @unchecked Sendable {
        var aggregation: TaskAggregation
        var reader: LogObjectReader?

        init(_ aggregation: TaskAggregation) { self.aggregation = aggregation }

        func consume(_ chunk: UnsafeRawBufferPointer) throws {
            try aggregation.consume(chunk, of: reader!)
        }
    }
}
