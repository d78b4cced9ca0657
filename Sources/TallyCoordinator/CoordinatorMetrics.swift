import Prometheus

/// Prometheus metrics of the coordinator (DESIGN §4): jobs and tasks by state are read from the
/// store at scrape time; counters accumulate as things happen.
final class CoordinatorMetrics: Sendable {
    /// The registry `/metrics` emits.
    let registry = PrometheusCollectorRegistry()
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

    init() {
        leaseExpiries = registry.makeCounter(descriptor: .init(namespace: "tally", metricName: "lease_expiries", unitName: "total", helpText: "Leases that expired without a heartbeat"))
        taskFailures = registry.makeCounter(descriptor: .init(namespace: "tally", metricName: "task_failures", unitName: "total", helpText: "Task attempts reported failed by workers"))
        partialsCommitted = registry.makeCounter(descriptor: .init(namespace: "tally", metricName: "partials_committed", unitName: "total", helpText: "Task partials committed"))
        eventsProcessed = registry.makeCounter(descriptor: .init(namespace: "tally", metricName: "events_processed", unitName: "total", helpText: "Events read by committed tasks"))
        bytesProcessed = registry.makeCounter(descriptor: .init(namespace: "tally", metricName: "bytes_processed", unitName: "total", helpText: "Bytes read by committed tasks"))
        uploadsIgnored = registry.makeCounter(descriptor: .init(namespace: "tally", metricName: "uploads_ignored", unitName: "total", helpText: "Partial uploads acknowledged but not committed"))
    }

    /// Sets the gauges of jobs and tasks by state.
    func updateStates(jobs: [String: Int], tasks: [String: Int]) {
        for state in ["queued", "running", "merging", "succeeded", "failed", "cancelled"] {
            registry.makeGauge(descriptor: .init(namespace: "tally", metricName: "jobs", unitName: "", helpText: "Jobs by state"), labels: [("state", state)]).set(Double(jobs[state] ?? 0))
        }
        for state in ["pending", "leased", "done", "abandoned"] {
            registry.makeGauge(descriptor: .init(namespace: "tally", metricName: "tasks", unitName: "", helpText: "Tasks by state"), labels: [("state", state)]).set(Double(tasks[state] ?? 0))
        }
    }

    /// Records a worker's heartbeat or lease time.
    func workerSeen(_ worker: String, at time: Double) {
        registry.makeGauge(descriptor: .init(namespace: "tally", metricName: "worker_last_seen", unitName: "seconds", helpText: "Unix time of the worker's last lease or heartbeat"), labels: [("worker", worker)]).set(time)
    }
}
