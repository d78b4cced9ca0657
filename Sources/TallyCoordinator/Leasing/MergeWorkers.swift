import Synchronization

/// The workers lately seen asking for work that can take merge tasks (they announce the
/// capability and their token is trusted): the merge pipeline plans a job's merge on the workers
/// only when some are there to run it.
final class MergeWorkers: Sendable {
    private let seen = Mutex([String: Double]())

    /// Notes that worker `name` asked for work at `now`.
    func saw(_ name: String, at now: Double) {
        seen.withLock { seen in
            seen[name] = now
            // Names are bounded by the lease route; forget the long gone now and then.
            if seen.count > 4096 { seen = seen.filter { $0.value > now - 3600 } }
        }
    }

    /// How many were seen since `since`.
    func count(since: Double) -> Int {
        seen.withLock { $0.values.count { $0 >= since } }
    }
}
