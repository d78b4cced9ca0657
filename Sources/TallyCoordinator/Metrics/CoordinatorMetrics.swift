import Metrics
import Synchronization
import TallyProtocol
import TallyStore

/// The coordinator's metrics, through the swift-metrics API (the process bootstraps the
/// Prometheus backend once; see docs/design.md §5.5). Jobs and tasks by state are read from the
/// store at scrape time; counters accumulate as things happen.
///
/// `factory` is the bootstrapped system's by default; tests give each coordinator its own.
final class CoordinatorMetrics: Sendable {
    /// Leases that expired without a heartbeat.
    let leaseExpiries: Counter
    /// Task failures reported by workers (each one is a retry).
    let taskFailures: Counter
    /// Partials committed.
    let partialsCommitted: Counter
    /// Events read by committed tasks.
    let eventsProcessed: Counter
    /// Bytes read by committed tasks.
    let bytesProcessed: Counter
    /// Uploads ignored (late, repeated or for ended jobs).
    let uploadsIgnored: Counter
    /// Partials refused as implausible (`Partial.checkPlausible`).
    let partialsRefused: Counter
    /// Source reads retried by workers, reported with their committed partials.
    let sourceRetries: Counter
    /// Second leases of straggling tasks, and those that committed first.
    let copiesStarted: Counter
    let copiesWon: Counter
    /// Tasks whose partial came from the shard cache; partials added to it, and evicted.
    let shardsReused: Counter
    let shardsCached: Counter
    let shardsEvicted: Counter
    /// Bytes of partials the shard cache holds.
    let shardCacheBytes: Gauge
    private let factory: any MetricsFactory
    /// When each worker with a series was last seen (its gauge, to destroy).
    private let workers = Mutex<[String: (seen: Double, gauge: Gauge)]>([:])

    /// A worker unseen this long loses its series; at most `maximumWorkerSeries` exist (the
    /// longest unseen go first), so names cannot grow the scrape without bound.
    static let workerSeriesSeconds: Double = 3600
    static let maximumWorkerSeries = 1000

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        leaseExpiries = Counter(label: "tally_lease_expiries_total", factory: factory)
        taskFailures = Counter(label: "tally_task_failures_total", factory: factory)
        partialsCommitted = Counter(label: "tally_partials_committed_total", factory: factory)
        eventsProcessed = Counter(label: "tally_events_processed_total", factory: factory)
        bytesProcessed = Counter(label: "tally_bytes_processed_total", factory: factory)
        uploadsIgnored = Counter(label: "tally_uploads_ignored_total", factory: factory)
        partialsRefused = Counter(label: "tally_partials_refused_total", factory: factory)
        sourceRetries = Counter(label: "tally_source_retries_total", factory: factory)
        copiesStarted = Counter(label: "tally_task_copies_started_total", factory: factory)
        copiesWon = Counter(label: "tally_task_copies_won_total", factory: factory)
        shardsReused = Counter(label: "tally_shards_reused_total", factory: factory)
        shardsCached = Counter(label: "tally_shards_cached_total", factory: factory)
        shardsEvicted = Counter(label: "tally_shards_evicted_total", factory: factory)
        shardCacheBytes = Gauge(label: "tally_shard_cache_bytes", factory: factory)
    }

    /// Counts a refused secret or sign-in by reason (`unknown`, `revoked`, `expired`, `malformed`,
    /// `session`, `role`, `throttled`), so a guessing client shows on a dashboard.
    func authenticationRefused(reason: String) {
        Counter(label: "tally_authentication_failures_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// Sets the gauges of jobs and tasks by state.
    func updateStates(jobs: [JobState: Int], tasks: [TaskState: Int]) {
        for state in JobState.allCases {
            Gauge(label: "tally_jobs", dimensions: [("state", state.rawValue)], factory: factory).record(jobs[state] ?? 0)
        }
        for state in TaskState.allCases {
            Gauge(label: "tally_tasks", dimensions: [("state", state.rawValue)], factory: factory).record(tasks[state] ?? 0)
        }
    }

    /// Records a worker's heartbeat or lease time.
    func workerSeen(_ worker: String, at time: Double) {
        let gauge = workers.withLock { workers in
            let gauge =
                workers[worker]?.gauge
                ?? Gauge(label: "tally_worker_last_seen_seconds", dimensions: [("worker", worker)], factory: factory)
            workers[worker] = (time, gauge)
            return gauge
        }
        gauge.record(time)
    }

    /// Destroys the series of workers unseen for `workerSeriesSeconds`, and of the longest
    /// unseen beyond `maximumWorkerSeries`; returns the workers still shown.
    @discardableResult
    func expireWorkers(now: Double) -> Int {
        let gone = workers.withLock { workers -> [Gauge] in
            var gone: [Gauge] = []
            for (name, entry) in workers where now - entry.seen >= Self.workerSeriesSeconds {
                gone.append(entry.gauge)
                workers[name] = nil
            }
            if workers.count > Self.maximumWorkerSeries {
                for (name, entry) in workers.sorted(by: { $0.value.seen < $1.value.seen }).prefix(workers.count - Self.maximumWorkerSeries)
                {
                    gone.append(entry.gauge)
                    workers[name] = nil
                }
            }
            return gone
        }
        for gauge in gone { gauge.destroy() }
        return workers.withLock { $0.count }
    }
}
