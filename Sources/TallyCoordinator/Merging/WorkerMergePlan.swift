import TallyReport

/// Whether a merging job is merged by the workers, and over which ranges (docs/design.md §3.9).
struct WorkerMergePlan: Sendable {
    /// Partials' bytes from which the workers merge (`merge_on_workers_from_bytes`).
    var fromBytes: Int
    /// Partials' bytes one merge task reads, about (`merge_task_bytes`).
    var taskBytes: Int
    /// The most ranges of one job.
    static let maximumRanges = 64

    /// The ranges of the job's merge tasks, or nil when the coordinator merges it: partials too
    /// small to be worth a lease round, some partial without an index, or no merge worker.
    func ranges(for survey: PartialSurvey, mergeWorkers: Int) -> [UserKeyRange]? {
        guard survey.indexed, mergeWorkers > 0, survey.bytes >= fromBytes else { return nil }
        let bySize = (survey.bytes + taskBytes - 1) / max(1, taskBytes)
        // A whole number of ranges per merge worker, so none waits on another's second range.
        let perWorker = (max(1, bySize) + mergeWorkers - 1) / mergeWorkers
        let wanted = min(Self.maximumRanges, perWorker * mergeWorkers)
        return UserKeyRange.split(samples: survey.keys, into: wanted)
    }
}
