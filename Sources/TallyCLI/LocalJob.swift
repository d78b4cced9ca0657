import TallyFormats
import TallyReport
import TallySources

/// Runs a plan's tasks inside this process, `workers` at a time, and merges their partials in
/// plan order. Tasks cross the boundary as `ReportTask` in and encoded partial bytes out, the
/// same contract a worker process has.
struct LocalJob {
    let plan: ReportPlan
    let window: ReportWindow
    let format: LogFormat
    let source: any LogSource
    let workers: Int

    /// How often a task is tried before the job fails.
    static let attempts = 3

    func run() async throws -> ReportMerger {
        var encoded = [[UInt8]?](repeating: nil, count: plan.tasks.count)
        try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            var next = 0
            func startNext() {
                guard next < plan.tasks.count else { return }
                let task = plan.tasks[next]
                next += 1
                group.addTask { [window, format, source] in
                    (task.index, try await Self.runWithRetries(task, window: window, format: format, source: source))
                }
            }
            for _ in 0..<min(workers, plan.tasks.count) { startNext() }
            while let (index, bytes) = try await group.next() {
                encoded[index] = bytes
                startNext()
            }
        }
        var merger = ReportMerger()
        for (index, bytes) in encoded.enumerated() {
            guard let bytes else { throw JobError(reason: "task \(index) produced no partial") }
            merger.merge(try Partial(encoded: bytes))
        }
        return merger
    }

    private static func runWithRetries(_ task: ReportTask, window: ReportWindow, format: LogFormat, source: any LogSource) async throws -> [UInt8] {
        var attempt = 1
        while true {
            do {
                return try await TaskRunner.run(task, window: window, format: format, source: source).encoded()
            } catch let error as SourceError where error.isTransient && attempt < attempts {
                attempt += 1
            } catch let error as LogReadError where error.kind == .truncatedGzip && attempt < attempts {
                attempt += 1
            }
        }
    }
}

/// A job that could not complete, with the reason.
struct JobError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
