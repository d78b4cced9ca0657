/// What a heartbeat found.
package enum HeartbeatOutcome: Sendable {
    /// The lease was renewed.
    case renewed
    /// The task is no longer this lease's to run (job ended, lease lost): stop.
    case stop
    /// No such lease.
    case unknown
}

/// What an upload found.
package enum CommitOutcome: Sendable, Equatable {
    /// The partial is the task's; `byCopy` when a straggler's second lease won. `completesJob`
    /// when it was the job's last task: the job moved to merging in the same transaction.
    case committed(jobId: String, index: Int, byCopy: Bool, completesJob: Bool)
    /// This lease committed already; the repeat is ignored.
    case alreadyCommitted
    /// The other lease of a task that ran twice (a straggler's copy) committed first.
    case otherCopyWon
    /// The lease is not current (expired, given to another worker).
    case leaseLost
    /// The job is no longer running.
    case jobEnded
}
