import TallyProtocol
import TallyReport

/// A job as stored.
struct JobRecord: Sendable {
    var id: String
    var sequence: Int64
    var request: JobRequest
    var window: ReportWindow
    var state: JobState
    var error: String?
    var createdAt: Double
    var startedAt: Double?
    var lastPartialAt: Double?
    var finishedAt: Double?
    var tasksTotal: Int
    var objectsTotal: Int64
    var bytesTotal: Int64
    var users: Int?
    var resultBytes: Int64?
}

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
}

/// Where a task is.
enum TaskState: String, Sendable {
    /// Waiting for a worker.
    case pending
    /// Held by a worker until its lease expires.
    case leased
    /// Its partial is committed.
    case done
    /// Its job ended before it ran.
    case abandoned
}

/// Sums over a job's committed tasks, for progress.
struct JobTotals: Sendable {
    var tasksDone = 0
    var objects: Int64 = 0
    var bytes: Int64 = 0
    var events: Int64 = 0
    var statistics = ReadStatistics()
}
