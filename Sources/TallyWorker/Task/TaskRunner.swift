import TallyFormats
import TallyReport
import TallySources

/// Runs one task: streams its objects from the source into the engine's `TaskAggregation` and
/// returns the partial. Nothing else is shared with the caller.
///
/// A read that fails in a way that may pass is retried under the source retry policy, so a
/// half-read object never counts. Objects up to `wholeObjectLimit` are downloaded whole before
/// they are parsed, so a failed read is retried for that object alone; a larger one streams into
/// the aggregation, and its failure starts the task over with a fresh aggregation. An object is
/// read whole or not at all: its byte count must equal the size its listing gave.
public enum TaskRunner {
    /// The partial of `task` for a job reading `format` over `window`.
    public static func run(
        _ task: ReportTask, window: ReportWindow, shape: ReportShape = .byUser, format: LogFormat, source: any LogSource,
        retry: SourceRetryPolicy = SourceRetryPolicy()
    ) async throws -> Partial {
        let read = ReadTask(task: task, window: window, shape: shape, format: format, source: source)
        return try await RetriesSpent.unwrapping {
            try await retry.run { try await aggregate(read, limits: retry, onRetry: { _, _, _ in }) }.partial()
        }
    }

    /// Objects up to this size are downloaded into memory before they are parsed (per-object
    /// retries); larger ones stream (a failure restarts the task).
    static let wholeObjectLimit: Int64 = 8 << 20

    /// The partial of `task`, encoded for upload (what a worker sends), and the number of
    /// retries it took. `onRetry` hears each retry.
    public static func runEncoded(
        _ task: ReportTask, window: ReportWindow, shape: ReportShape = .byUser, format: LogFormat, source: any LogSource,
        retry: SourceRetryPolicy = SourceRetryPolicy(), hedging: ReadHedging? = nil,
        onRetry: (_ retry: Int, _ error: SourceError, _ pauseSeconds: Double) -> Void = { _, _, _ in },
        onHedge: @escaping @Sendable (_ object: String, _ offset: Int) -> Void = { _, _ in }
    )
        async throws -> (partial: [UInt8], retries: Int)
    {
        var retries = 0
        let read = ReadTask(task: task, window: window, shape: shape, format: format, source: source, hedging: hedging, onHedge: onHedge)
        let aggregation = try await RetriesSpent.unwrapping {
            try await retry.run(
                {
                    try await aggregate(
                        read, limits: retry,
                        onRetry: {
                            retries += 1
                            onRetry(retries, $1, $2)
                        })
                },
                onRetry: {
                    retries += 1
                    onRetry(retries, $1, $2)
                })
        }
        return (aggregation.encodedPartial(), retries)
    }

    private static func aggregate(
        _ task: ReadTask, limits: SourceRetryPolicy,
        onRetry: (_ retry: Int, _ error: SourceError, _ pauseSeconds: Double) -> Void
    ) async throws -> TaskAggregation {
        let state = ReadState(TaskAggregation(window: task.window, shape: task.shape))
        let whole = ObjectBytes()
        for object in task.task.objects {
            try Task.checkCancellation()
            try ObjectName.check(object.name, in: task.source.location)
            let name = object.name.isEmpty ? task.source.location : object.name
            let downloadsWhole = object.size > 0 && object.size <= wholeObjectLimit
            if downloadsWhole {
                do {
                    try await limits.run(
                        { try await download(object, named: name, from: task, into: whole, limits: limits) },
                        onRetry: onRetry)
                } catch let error as SourceError {
                    // This object had its retries: starting the task over would only repeat them.
                    throw RetriesSpent(error: error)
                }
            }
            let reader = state.aggregation.startObject(named: name, format: task.format)
            state.reader = reader
            if downloadsWhole {
                try whole.bytes.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let end = min(bytes.count, offset + (1 << 20))
                        try state.consume(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                        offset = end
                    }
                }
            } else {
                try await read(object, named: name, from: task.source, limits: limits) { try state.consume($0) }
                // A body cut short without a transport error (no Content-Length, or a gzip stream
                // cut between members) must never pass for the whole object. (A whole download
                // was checked before it was parsed.)
                if object.size > 0, reader.rawBytes != object.size {
                    throw sizeMismatch(name, read: reader.rawBytes, listed: object.size)
                }
            }
            try state.aggregation.finishObject(reader)
        }
        return state.aggregation
    }

    /// Streams one object to `consume` under the read deadlines: cut when no chunk comes for
    /// `stallSeconds`, or when the read runs past its size's budget.
    private static func read(
        _ object: LogObject, named name: String, from source: any LogSource, limits: SourceRetryPolicy,
        into consume: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws {
        try await ReadDeadline.enforce(
            on: name, stallSeconds: limits.stallSeconds,
            budgetSeconds: limits.readBudgetSeconds(size: object.size)
        ) { progress in
            try await source.read(object) { chunk in
                progress.mark()
                try consume(chunk)
            }
        }
    }

    /// Downloads one object whole into `whole`, under the read deadlines, hedged when the task
    /// has a `ReadHedging`; a byte count other than the listed size is a transient failure of
    /// the object.
    private static func download(
        _ object: LogObject, named name: String, from task: ReadTask, into whole: ObjectBytes,
        limits: SourceRetryPolicy
    ) async throws {
        let source = task.source
        whole.bytes.removeAll(keepingCapacity: true)
        if let hedging = task.hedging {
            let started = ContinuousClock.now
            let onHedge = task.onHedge
            whole.bytes = try await HedgedDownload.run(
                object, named: name, from: source, limits: limits, hedging: hedging, hedged: { onHedge(name, $0) })
            if Int64(whole.bytes.count) != object.size {
                throw sizeMismatch(name, read: Int64(whole.bytes.count), listed: object.size)
            }
            let elapsed = ContinuousClock.now - started
            hedging.record(seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, bytes: object.size)
            return
        }
        try await read(object, named: name, from: source, limits: limits) { chunk in
            // More than listed: stop early, the count below names it.
            guard whole.bytes.count + chunk.count <= object.size + 1 else {
                throw SourceError(.truncated, location: name, detail: "more bytes than the \(object.size) listed")
            }
            whole.bytes.append(contentsOf: chunk)
        }
        if Int64(whole.bytes.count) != object.size {
            throw sizeMismatch(name, read: Int64(whole.bytes.count), listed: object.size)
        }
    }

    /// The transient failure of an object whose byte count differs from its listing.
    private static func sizeMismatch(_ name: String, read: Int64, listed: Int64) -> SourceError {
        SourceError(.truncated, location: name, detail: "read \(read) bytes of an object listed at \(listed) bytes")
    }

    /// A source error whose retries were spent on one object, carried past the task-level retry.
    private struct RetriesSpent: Error {
        var error: SourceError

        static func unwrapping<T>(_ body: () async throws -> T) async throws -> T {
            do {
                return try await body()
            } catch let spent as RetriesSpent {
                throw spent.error
            }
        }
    }

    /// One object's bytes, reused from object to object; owned like `ReadState`.
    private final class ObjectBytes: @unchecked Sendable {
        var bytes: [UInt8] = []
    }

    /// What one attempt reads.
    struct ReadTask: Sendable {
        var task: ReportTask
        var window: ReportWindow
        var shape: ReportShape
        var format: LogFormat
        var source: any LogSource
        var hedging: ReadHedging? = nil
        var onHedge: @Sendable (_ object: String, _ offset: Int) -> Void = { _, _ in }
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
