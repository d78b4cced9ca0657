import Metrics
import TallyProtocol

/// The coordinator's metrics, through the swift-metrics API (the process bootstraps the
/// Prometheus backend once; see docs/design.md §5.5). Jobs and tasks by state are read from the
/// store at scrape time; counters accumulate as things happen.
///
/// `factory` is the bootstrapped system's by default; tests give each coordinator its own.
struct CoordinatorMetrics: Sendable {
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
    /// Source reads retried by workers, reported with their committed partials.
    let sourceRetries: Counter
    /// Second leases of straggling tasks, and those that committed first.
    let copiesStarted: Counter
    let copiesWon: Counter
    private let factory: any MetricsFactory

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        leaseExpiries = Counter(label: "tally_lease_expiries_total", factory: factory)
        taskFailures = Counter(label: "tally_task_failures_total", factory: factory)
        partialsCommitted = Counter(label: "tally_partials_committed_total", factory: factory)
        eventsProcessed = Counter(label: "tally_events_processed_total", factory: factory)
        bytesProcessed = Counter(label: "tally_bytes_processed_total", factory: factory)
        uploadsIgnored = Counter(label: "tally_uploads_ignored_total", factory: factory)
        sourceRetries = Counter(label: "tally_source_retries_total", factory: factory)
        copiesStarted = Counter(label: "tally_task_copies_started_total", factory: factory)
        copiesWon = Counter(label: "tally_task_copies_won_total", factory: factory)
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
        Gauge(label: "tally_worker_last_seen_seconds", dimensions: [("worker", worker)], factory: factory).record(time)
    }
}
