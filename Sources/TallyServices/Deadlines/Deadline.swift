import Synchronization

/// The one way tally bounds a piece of work in real time — a source listing, an SMTP exchange,
/// a read from a log source: the work runs in a child task beside a watch that cancels it and
/// throws the caller's error once the time budget is spent or, when the work reports progress,
/// once it has made none for a while (a body that trickles a byte at a time keeps a
/// connection's own idle timer happy forever).
package enum Deadline {
    /// Why the watch cut the work.
    package enum Cut: Sendable, Equatable {
        /// The whole budget was spent.
        case budget
        /// No progress was reported for the stall time.
        case stall
    }

    /// The last moment the work made progress; the work calls `mark` on every step.
    package final class Progress: Sendable {
        private let last = Mutex(ContinuousClock.now)

        package init() {}

        /// Notes progress now.
        package func mark() { last.withLock { $0 = .now } }

        /// Time since the last progress.
        package var idle: Duration { .now - last.withLock { $0 } }
    }

    /// `work`'s result, or the error `expired` makes once `seconds` have passed or (with
    /// `stall`) once `stall.progress` saw no progress for `stall.seconds`; the work is
    /// cancelled either way.
    package static func run<T: Sendable>(
        seconds: Double, stall: (seconds: Double, progress: Progress)? = nil,
        expired: @escaping @Sendable (Cut) -> any Error,
        _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await watch(seconds: seconds, stall: stall)
                throw expired(stall.map { $0.progress.idle > .seconds($0.seconds) } == true ? .stall : .budget)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else { throw expired(.budget) }
            return result
        }
    }

    /// Returns when the budget is spent or the work stalled; throws when cancelled.
    private static func watch(seconds: Double, stall: (seconds: Double, progress: Progress)?) async throws {
        let budget = Duration.milliseconds(Int64(seconds * 1000))
        guard let stall else {
            try await Task.sleep(for: budget)
            return
        }
        let started = ContinuousClock.now
        let limit = Duration.milliseconds(Int64(stall.seconds * 1000))
        let tick = Duration.milliseconds(max(10, min(250, Int64(stall.seconds * 250))))
        while true {
            try await Task.sleep(for: tick)
            if stall.progress.idle > limit || ContinuousClock.now - started > budget { return }
        }
    }
}
