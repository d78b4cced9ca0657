import Foundation
import Synchronization
import TallyReport

/// Folds each running job's partials into its report while its other tasks still run, so that
/// when the last partial arrives only that partial and the CSV are left to do.
///
/// Partials go in plan order (`ReportMerger` needs it): a committed partial whose predecessors
/// are all merged is folded in at once; one that arrives early waits on disk until its turn.
/// This state is only a head start: after a restart, or for a job it dropped, the final merge
/// starts from task 0 and reads every partial from disk, with the same result.
final class RunningMerges: Sendable {
    /// One job's report so far and the index of the next partial it needs.
    private final class JobMerge: Sendable {
        struct State {
            var merger = ReportMerger()
            var next = 0
        }
        /// Whether a thread is folding for this job, and whether more partials came meanwhile:
        /// one thread folds at a time, and the others leave their partial on disk for it rather
        /// than queue up on `state`, holding threads the uploads and the scheduler need.
        struct Folding {
            var running = false
            var more = false

            /// Whether the caller is to fold; if another thread is folding, it is told to go round
            /// once more instead.
            mutating func claim() -> Bool {
                if running {
                    more = true
                    return false
                }
                running = true
                return true
            }

            /// Whether the folding thread is to go round again (partials came meanwhile); if not,
            /// it is done and the next caller folds.
            mutating func again() -> Bool {
                if more {
                    more = false
                    return true
                }
                running = false
                return false
            }
        }
        let state = Mutex(State())
        let folding = Mutex(Folding())
    }

    private struct Jobs {
        var running: [String: JobMerge] = [:]
        /// Jobs whose final merge has begun: a late `advance` must not start them over.
        var finished: Set<String> = []
    }

    private let jobs = Mutex(Jobs())
    private let files: DataDirectory

    init(files: DataDirectory) {
        self.files = files
    }

    /// Folds in every partial of the job that is next in plan order and already on disk.
    ///
    /// - Parameter committed: The partial just committed, already decoded by the upload, so the
    ///   common case (it is the next one) does not read it back.
    /// Blocking: call from `BlockingWork`. Errors drop the job's head start; the final merge
    /// then redoes everything and reports whatever is really wrong.
    func advance(_ jobId: String, committed: (index: Int, partial: Partial)? = nil) {
        let job = jobs.withLock { jobs -> JobMerge? in
            guard !jobs.finished.contains(jobId) else { return nil }
            if let job = jobs.running[jobId] { return job }
            let job = JobMerge()
            jobs.running[jobId] = job
            return job
        }
        guard let job else { return }
        guard job.folding.withLock({ $0.claim() }) else { return }
        var committed = committed
        while true {
            do {
                try job.state.withLock { state in
                    try fold(jobId, into: &state, upTo: Int.max, committed: committed)
                }
            } catch {
                forget(jobId)
            }
            committed = nil
            if !job.folding.withLock({ $0.again() }) || jobs.withLock({ $0.finished.contains(jobId) }) { return }
        }
    }

    /// The job's report with all `tasksTotal` partials folded in; the job is then forgotten.
    ///
    /// Blocking: call from `BlockingWork`. Waits for a fold of the same job in progress.
    /// - Throws: `CoordinatorError.storage` when a partial is missing, or its decoding error.
    func finish(_ jobId: String, tasksTotal: Int) throws -> ReportMerger {
        let job = jobs.withLock { jobs in
            jobs.finished.insert(jobId)
            return jobs.running.removeValue(forKey: jobId)
        } ?? JobMerge()
        return try job.state.withLock { state in
            try fold(jobId, into: &state, upTo: tasksTotal, committed: nil)
            guard state.next == tasksTotal else {
                throw CoordinatorError.storage("partial of task \(state.next) is missing at \(files.partialPath(jobId, state.next))")
            }
            return state.merger
        }
    }

    /// Drops a job's head start (job ended, or its files are gone).
    func forget(_ jobId: String) {
        _ = jobs.withLock { $0.running.removeValue(forKey: jobId) }
    }

    /// Drops what is kept for every job not in `active` (running or merging): head starts of
    /// jobs cancelled or failed meanwhile, and the marks of jobs whose merge is over.
    func keep(only active: Set<String>) {
        jobs.withLock { jobs in
            for id in jobs.running.keys where !active.contains(id) { jobs.running.removeValue(forKey: id) }
            jobs.finished = jobs.finished.intersection(active)
        }
    }

    /// Jobs with a head start or a merge mark.
    var jobCount: Int { jobs.withLock { $0.running.count + $0.finished.count } }

    /// The plan index of the next partial the job's head start needs; nil without one.
    func nextPartial(_ jobId: String) -> Int? {
        jobs.withLock { $0.running[jobId] }?.state.withLock { $0.next }
    }

    private func fold(_ jobId: String, into state: inout JobMerge.State, upTo limit: Int,
                      committed: (index: Int, partial: Partial)?) throws {
        while state.next < limit {
            if let committed, committed.index == state.next {
                state.merger.merge(committed.partial)
            } else {
                let path = files.partialPath(jobId, state.next)
                guard let data = FileManager.default.contents(atPath: path) else { return }
                state.merger.merge(try Partial(encoded: Array(data)))
            }
            state.next += 1
        }
    }
}
