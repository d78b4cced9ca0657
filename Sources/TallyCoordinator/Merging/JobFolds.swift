import Foundation
import Synchronization
import TallyReport

/// Each running job's report so far: committed partials folded in while the job's other tasks
/// still run, so that when the last partial arrives only that partial and the CSV are left.
///
/// Partials go in plan order (`ReportMerger` needs it): a committed partial whose predecessors
/// are all folded in goes in at once; one that arrives early waits on disk until its turn. This
/// state is only a head start: after a restart, or for a job it dropped, the final merge starts
/// from task 0 and reads every partial from disk, with the same result.
///
/// A head start is held only while it takes less than `memoryLimit` bytes: past it the job's
/// head start is dropped for good, and its final merge streams the partials from disk instead
/// (`StreamingMerge`, docs/design.md §3.8), so the coordinator never holds such a report whole.
///
/// Used by the merge pipeline, one call at a time, on a thread-pool thread (it reads files and
/// does CPU-heavy merging); the lock guards only the table of folds, never a file read.
final class JobFolds: Sendable {
    private struct Fold {
        var merger = ReportMerger()
        var next = 0
    }

    private struct State {
        var running: [String: Fold] = [:]
        /// Jobs whose final merge has begun: a late partial must not start them over.
        var finished: Set<String> = []
        /// Jobs whose head start outgrew the limit: merged as a stream at the end.
        var streamed: Set<String> = []
    }

    private let state = Mutex(State())
    private let files: DataDirectory
    /// The most one job's head start may take.
    let memoryLimit: Int

    init(files: DataDirectory, memoryLimit: Int = .max) {
        self.files = files
        self.memoryLimit = memoryLimit
    }

    /// Folds in every partial of the job that is next in plan order and already on disk.
    ///
    /// - Parameter committed: The partial just committed, already decoded by the upload, so the
    ///   common case (it is the next one) does not read it back.
    /// Errors drop the job's head start; the final merge then redoes everything and reports
    /// whatever is really wrong.
    func advance(_ jobId: String, committed: (index: Int, partial: Partial)? = nil) {
        // The fold is taken out while files are read and merged, so the lock is never held
        // across I/O.
        guard memoryLimit > 0 else { return }  // every job streams: no head start
        let taken = state.withLock { state -> Fold? in
            guard !state.finished.contains(jobId), !state.streamed.contains(jobId) else { return nil }
            return state.running.removeValue(forKey: jobId) ?? Fold()
        }
        guard var fold = taken else { return }
        do {
            try self.fold(jobId, into: &fold, upTo: Int.max, committed: committed, partials: nil)
        } catch {
            return  // dropped: the final merge reads everything again
        }
        guard memoryLimit == .max || fold.merger.estimatedBytes <= memoryLimit else {
            _ = state.withLock { $0.streamed.insert(jobId) }
            return
        }
        state.withLock { state in
            if !state.finished.contains(jobId) { state.running[jobId] = fold }
        }
    }

    /// Whether the job's final merge should stream its partials: its head start outgrew the
    /// limit, or the limit is 0 (every job streamed).
    func streams(_ jobId: String) -> Bool {
        memoryLimit == 0 || state.withLock { $0.streamed.contains(jobId) }
    }

    /// The job's report with all its partials (their paths in plan order) folded in; the job
    /// is then forgotten.
    ///
    /// - Throws: `UnusablePartial` naming the first partial that is missing or does not decode.
    func finish(_ jobId: String, partials: [String]) throws -> ReportMerger {
        let tasksTotal = partials.count
        var fold = state.withLock { state in
            state.finished.insert(jobId)
            state.streamed.remove(jobId)
            return state.running.removeValue(forKey: jobId) ?? Fold()
        }
        try self.fold(jobId, into: &fold, upTo: tasksTotal, committed: nil, partials: partials)
        guard fold.next == tasksTotal else {
            throw UnusablePartial(index: fold.next, reason: "its file \(partials[fold.next]) is missing")
        }
        return fold.merger
    }

    /// Marks the job's final merge as begun without a head start (it streams its partials).
    func beginStreamedMerge(_ jobId: String) {
        state.withLock { state in
            state.finished.insert(jobId)
            state.streamed.remove(jobId)
            state.running.removeValue(forKey: jobId)
        }
    }

    /// Drops a job's head start (job ended, or its files are gone).
    func forget(_ jobId: String) {
        _ = state.withLock { $0.running.removeValue(forKey: jobId) }
    }

    /// Drops what is kept for every job not in `active` (running or merging): head starts of
    /// jobs cancelled or failed meanwhile, and the marks of jobs whose merge is over.
    func keep(only active: Set<String>) {
        state.withLock { state in
            for id in state.running.keys where !active.contains(id) { state.running.removeValue(forKey: id) }
            state.finished = state.finished.intersection(active)
            state.streamed = state.streamed.intersection(active)
        }
    }

    /// Jobs with a head start or a merge mark.
    var jobCount: Int { state.withLock { $0.running.count + $0.finished.count } }

    /// The plan index of the next partial the job's head start needs; nil without one.
    func nextPartial(_ jobId: String) -> Int? {
        state.withLock { $0.running[jobId]?.next }
    }

    /// Folds partials in plan order up to `limit`, read from `partials` (their paths) or, for a
    /// head start, where a local store puts them (head starts are off with shared blobs).
    private func fold(
        _ jobId: String, into fold: inout Fold, upTo limit: Int, committed: (index: Int, partial: Partial)?, partials: [String]?
    ) throws {
        while fold.next < limit {
            if let committed, committed.index == fold.next {
                fold.merger.merge(committed.partial)
            } else {
                let path = partials?[fold.next] ?? files.partialPath(jobId, fold.next)
                guard let data = FileManager.default.contents(atPath: path) else { return }
                do {
                    fold.merger.merge(try Partial(encoded: Array(data)))
                } catch {
                    throw UnusablePartial(index: fold.next, reason: "its file \(path) does not decode: \(error)")
                }
            }
            fold.next += 1
        }
    }
}

/// A committed partial that cannot be merged: its file is gone or damaged (a disk fault, a power
/// loss on a file system that lost it). The task is computed again rather than the job failed.
struct UnusablePartial: Error, CustomStringConvertible {
    /// The task's plan index.
    var index: Int
    /// What is wrong with it.
    var reason: String

    var description: String { "the partial of task \(index) cannot be merged: \(reason)" }
}
