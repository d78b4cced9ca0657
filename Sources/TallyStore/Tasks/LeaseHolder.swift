/// A lease that may commit, as a store's fencing check found it: its task, whether it is the
/// straggler copy, and the lease's token and start.
package struct LeaseHolder: Sendable {
    package var jobId: String
    package var index: Int
    package var byCopy: Bool
    package var token: String?
    package var leasedAt: Double?

    /// A value with every field given.
    package init(jobId: String, index: Int, byCopy: Bool, token: String?, leasedAt: Double?) {
        self.jobId = jobId
        self.index = index
        self.byCopy = byCopy
        self.token = token
        self.leasedAt = leasedAt
    }

    /// How long the lease ran until `now`, when its start is known.
    package func runSeconds(now: Double) -> Double? { leasedAt.map { max(0, now - $0) } }
}
