import TallyReport

/// A task as stored, with its lease.
struct TaskRecord: Sendable {
    var jobId: String
    var index: Int
    var state: TaskState
    var task: ReportTask
    var leaseId: String?
    var leaseExpires: Double?
    var worker: String?
    var failures: Int
    var expiries: Int
    /// The token the lease was taken with (set by `leasedTask`).
    var leaseToken: String?
}
