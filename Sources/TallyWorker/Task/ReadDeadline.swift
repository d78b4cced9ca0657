import Synchronization
import TallySources

/// Cuts a read that stops making progress, or that runs past its budget, with a transient
/// `SourceError` (so it is retried), whatever the transport's own timeouts: a body that trickles
/// a byte at a time keeps a connection's idle timer happy forever.
enum ReadDeadline {
    /// The last moment a read made progress.
    final class Progress: Sendable {
        private let last = Mutex(ContinuousClock.now)
        /// Notes a chunk.
        func mark() { last.withLock { $0 = .now } }
        var idle: Duration { .now - last.withLock { $0 } }
    }

    /// Runs `read` (which must call `Progress.mark` on every chunk) in a child task watched by
    /// another, which cuts it when no chunk came for `stallSeconds` or `budgetSeconds` passed.
    static func enforce(
        on object: String, stallSeconds: Double, budgetSeconds: Double,
        _ read: @escaping @Sendable (_ progress: Progress) async throws -> Void
    ) async throws {
        let progress = Progress()
        let stall = Duration.milliseconds(Int64(stallSeconds * 1000))
        let budget = Duration.milliseconds(Int64(budgetSeconds * 1000))
        let started = ContinuousClock.now
        let tick = Duration.milliseconds(max(10, min(250, Int64(stallSeconds * 250))))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await read(progress) }
            group.addTask {
                while true {
                    try await Task.sleep(for: tick)
                    if progress.idle > stall {
                        throw SourceError(.unreachable, location: object, detail: "no data for \(stallSeconds) s; read cut")
                    }
                    if ContinuousClock.now - started > budget {
                        throw SourceError(.unreachable, location: object, detail: "read ran past its \(Int(budgetSeconds)) s budget; cut")
                    }
                }
            }
            defer { group.cancelAll() }
            // The read finishing ends the watch; the watch throwing ends the read.
            try await group.next()
        }
    }
}
