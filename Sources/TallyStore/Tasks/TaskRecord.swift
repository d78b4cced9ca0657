import TallyReport

/// A task as stored, with its lease.
package struct TaskRecord: Sendable {
    package var jobId: String
    package var index: Int
    package var state: TaskState
    package var task: ReportTask
    package var leaseId: String?
    package var leaseExpires: Double?
    package var worker: String?
    package var failures: Int
    package var expiries: Int
    /// The token the lease was taken with (set by `leasedTask`).
    package var leaseToken: String?
    /// A merge task's range of users (nil for an aggregation task; docs/design.md §3.9).
    package var mergeRange: UserKeyRange?
    /// A committed merge task's rows, and its CSV's bytes and CRC-32.
    package var rangeRows: Int?
    package var rangeBytes: Int64?
    package var rangeCRC: UInt32?
    /// The lease whose upload was kept, for a done task a worker computed (nil when it was
    /// given a cached shard): with shared blobs, its files are named by it (docs/design.md §3.11).
    package var committedLease: String?

    /// A value with every field given.
    package init(
        jobId: String, index: Int, state: TaskState, task: ReportTask, leaseId: String? = nil, leaseExpires: Double? = nil,
        worker: String? = nil, failures: Int, expiries: Int, leaseToken: String? = nil,
        mergeRange: UserKeyRange? = nil, rangeRows: Int? = nil, rangeBytes: Int64? = nil, rangeCRC: UInt32? = nil,
        committedLease: String? = nil
    ) {
        self.committedLease = committedLease
        self.rangeCRC = rangeCRC
        self.mergeRange = mergeRange
        self.rangeRows = rangeRows
        self.rangeBytes = rangeBytes
        self.jobId = jobId
        self.index = index
        self.state = state
        self.task = task
        self.leaseId = leaseId
        self.leaseExpires = leaseExpires
        self.worker = worker
        self.failures = failures
        self.expiries = expiries
        self.leaseToken = leaseToken
    }
}
