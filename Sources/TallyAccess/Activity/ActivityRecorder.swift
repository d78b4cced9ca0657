import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TallyProtocol
import TallyServices
import TallyStore

/// Takes activity rows from the request path and writes them in batches, so a request pays for
/// an append to an in-memory list, never for a transaction of its own. A service: it flushes
/// every `flushInterval` (sooner when a batch fills), expires old rows hourly, and writes what
/// is pending when the coordinator shuts down.
///
/// If the store cannot keep up (a full disk), at most `maximumPending` rows wait; later ones are
/// dropped and counted (`tally_activity_rows_dropped_total`) rather than growing the process.
package final class ActivityRecorder: Service, Sendable {
    package let store: any ActivityLogStore
    package let policy: ActivityLogPolicy
    package let clock: any CoordinatorClock
    package let logger: Logger
    private let pending = Mutex<[ActivityRecord]>([])
    private let wakeup = Wakeup()
    private let written: Counter
    private let dropped: Counter

    package static let batchSize = 512
    package static let maximumPending = 100_000
    package static let flushInterval: Double = 0.25
    /// How often expired rows are deleted, in seconds.
    package static let expiryInterval: Double = 3600

    package init(
        store: any ActivityLogStore, policy: ActivityLogPolicy, clock: any CoordinatorClock, metricsFactory: any MetricsFactory,
        logger: Logger
    ) {
        self.store = store
        self.policy = policy
        self.clock = clock
        self.logger = logger
        written = Counter(label: "tally_activity_rows_written_total", factory: metricsFactory)
        dropped = Counter(label: "tally_activity_rows_dropped_total", factory: metricsFactory)
    }

    /// Queues one row; never waits.
    package func record(_ record: ActivityRecord) {
        let (accepted, count) = pending.withLock { rows -> (Bool, Int) in
            guard rows.count < Self.maximumPending else { return (false, rows.count) }
            rows.append(record)
            return (true, rows.count)
        }
        if !accepted { dropped.increment() }
        if count == Self.batchSize { wakeup.signal() }
    }

    package func run() async throws {
        let lastExpiry = Mutex<Double?>(nil)
        await PeriodicService.run(every: Self.flushInterval, on: clock, wakeup: wakeup) {
            await self.flushLogging()
            let now = self.clock.now()
            guard lastExpiry.withLock({ last in last.map { now - $0 < Self.expiryInterval } ?? false }) == false else { return }
            lastExpiry.withLock { $0 = now }
            do { _ = try await self.expire() } catch {
                self.logger.error("activity log expiry failed", metadata: ["error": "\(error)"])
            }
        }
        // Rows of requests answered before the shutdown are written, not lost — also when the
        // service group cancels this task: the store's async API gives up on a cancelled task,
        // so the last flush runs in a task of its own, awaited here (its errors are logged).
        await Task.detached { [self] in await self.flushLogging() }.value
    }

    /// Writes every pending row, a batch at a time; rows of a batch that fails stay pending.
    package func flush() async throws {
        while true {
            let batch = pending.withLock { rows -> [ActivityRecord] in
                let batch = Array(rows.prefix(Self.batchSize * 8))
                rows.removeFirst(batch.count)
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                written.increment(by: try await store.append(batch, defaultSetting: policy.defaultSetting))
            } catch {
                pending.withLock { rows in rows.insert(contentsOf: batch.prefix(max(0, Self.maximumPending - rows.count)), at: 0) }
                throw error
            }
        }
    }

    private func flushLogging() async {
        do { try await flush() } catch { logger.error("activity log write failed; rows kept to retry", metadata: ["error": "\(error)"]) }
    }

    /// Deletes rows older than the retention period (by the injected clock); returns how many.
    package func expire() async throws -> Int {
        let cutoff = (clock.now() - policy.retentionDays * 86_400) * 1_000_000
        return try await store.expire(before: Int64(cutoff))
    }
}
