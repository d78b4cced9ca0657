/// A lease handed to a worker: the task, its job, and whether it is a second copy of a
/// straggling task that another worker still holds.
package struct GrantedLease: Sendable {
    package var job: JobRecord
    package var task: TaskRecord
    package var leaseId: String
    package var isCopy: Bool

    /// A value with every field given.
    package init(job: JobRecord, task: TaskRecord, leaseId: String, isCopy: Bool) {
        self.job = job
        self.task = task
        self.leaseId = leaseId
        self.isCopy = isCopy
    }
}
