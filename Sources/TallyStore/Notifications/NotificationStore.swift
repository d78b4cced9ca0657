/// The deliveries of job-end notifications, kept with the jobs so a restart loses none.
package protocol NotificationStore: Sendable {
    /// Creates a pending delivery per named target for every job that ended since the last
    /// call (and marks those jobs as announced); returns how many were created.
    func enqueueEndedJobs(now: Double) async throws -> Int
    /// Pending deliveries due at `now`, oldest first.
    func dueDeliveries(now: Double, limit: Int) async throws -> [Delivery]
    /// Records an attempt's outcome.
    func recordAttempt(_ id: Int64, state: String, status: Int?, error: String?, nextAt: Double?) async throws
    /// A job's deliveries.
    func deliveries(of jobId: String) async throws -> [Delivery]
    /// The deliveries of many jobs in one read, by job.
    func deliveries(ofJobs jobIds: [String]) async throws -> [String: [Delivery]]
    /// New deliveries of a job's end (all its targets, or one), with new message ids; returns
    /// how many.
    func redeliver(_ jobId: String, target: String?, targets: [String], now: Double) async throws -> Int
    /// A target that answered 410 Gone: no more deliveries go to it.
    func stopTarget(_ name: String, now: Double) async throws
    /// Whether a target was stopped.
    func isStopped(_ name: String) async throws -> Bool
}
