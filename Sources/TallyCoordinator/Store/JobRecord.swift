import TallyProtocol
import TallyReport

/// A job as stored.
struct JobRecord: Sendable {
    var id: String
    var sequence: Int64
    var definition: JobDefinition
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
    /// Second leases of straggling tasks started, and how many of them committed first.
    var copiesStarted = 0
    var copiesWon = 0
    /// The user who submitted it (nil for jobs from before tokens).
    var owner: String?

    /// The window of logs the job reads.
    var window: ReportWindow { definition.report.window }
}
