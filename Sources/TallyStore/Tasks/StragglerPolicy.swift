/// When a task that runs far longer than its job's finished ones is leased a second time, to
/// another worker (docs/design.md §3.3): the first of the two copies to commit wins.
///
/// A copy is only started once most of the job is done, so copies use workers that would
/// otherwise sit idle at the job's tail, never ones a pending task could use.
public struct StragglerPolicy: Sendable, Equatable {
    /// The share of a job's tasks that must be done before any copy starts.
    public var afterDoneShare: Double = 0.75
    /// A task is a straggler when it has run this many times the median run time of the job's
    /// finished tasks…
    public var slowerThanMedian: Double = 3
    /// …and at least this many seconds.
    public var floorSeconds: Double = 30
    /// At most this share of a job's tasks get a copy (rounded up; 0 turns copies off).
    public var maxCopyShare: Double = 0.1

    /// The defaults.
    public init() {}

    /// How many copies a job of `tasks` tasks may start.
    package func copiesAllowed(tasks: Int) -> Int {
        guard maxCopyShare > 0, tasks > 0 else { return 0 }
        return Int((maxCopyShare * Double(tasks)).rounded(.up))
    }

    /// Whether copies may start for a job with `done` of `tasks` tasks done.
    package func mayCopy(done: Int, of tasks: Int) -> Bool {
        tasks > 0 && Double(done) >= afterDoneShare * Double(tasks)
    }

    /// How long a task must have run to be a straggler, given the run times of the job's
    /// finished tasks; nil when none has finished (nothing to compare with).
    package func stragglerSeconds(finished runSeconds: [Double]) -> Double? {
        guard !runSeconds.isEmpty else { return nil }
        let sorted = runSeconds.sorted()
        let middle = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        return max(floorSeconds, slowerThanMedian * median)
    }
}
