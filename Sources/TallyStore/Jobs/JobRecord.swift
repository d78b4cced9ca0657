import TallyProtocol
import TallyReport

/// A job as stored.
package struct JobRecord: Sendable {
    package var id: String
    package var sequence: Int64
    package var definition: JobDefinition
    package var state: JobState
    package var error: String?
    package var createdAt: Double
    package var startedAt: Double?
    package var lastPartialAt: Double?
    package var finishedAt: Double?
    package var tasksTotal: Int
    package var objectsTotal: Int64
    package var bytesTotal: Int64
    package var users: Int?
    package var resultBytes: Int64?
    /// Second leases of straggling tasks started, and how many of them committed first.
    package var copiesStarted: Int = 0
    package var copiesWon: Int = 0
    /// The user who submitted it (nil for jobs from before tokens).
    package var owner: String?

    /// A value with every field given.
    package init(
        id: String, sequence: Int64, definition: JobDefinition, state: JobState, error: String? = nil, createdAt: Double,
        startedAt: Double? = nil, lastPartialAt: Double? = nil, finishedAt: Double? = nil, tasksTotal: Int, objectsTotal: Int64,
        bytesTotal: Int64, users: Int? = nil, resultBytes: Int64? = nil, copiesStarted: Int = 0, copiesWon: Int = 0, owner: String? = nil
    ) {
        self.id = id
        self.sequence = sequence
        self.definition = definition
        self.state = state
        self.error = error
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.lastPartialAt = lastPartialAt
        self.finishedAt = finishedAt
        self.tasksTotal = tasksTotal
        self.objectsTotal = objectsTotal
        self.bytesTotal = bytesTotal
        self.users = users
        self.resultBytes = resultBytes
        self.copiesStarted = copiesStarted
        self.copiesWon = copiesWon
        self.owner = owner
    }

    /// The window of logs the job reads.
    package var window: ReportWindow { definition.report.window }
}
