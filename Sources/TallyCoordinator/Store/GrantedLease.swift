/// A lease handed to a worker: the task, its job, and whether it is a second copy of a
/// straggling task that another worker still holds.
struct GrantedLease: Sendable {
    var job: JobRecord
    var task: TaskRecord
    var leaseId: String
    var isCopy: Bool
}
