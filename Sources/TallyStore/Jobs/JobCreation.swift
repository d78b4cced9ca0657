/// What submitting a job did.
package enum JobCreation: Sendable {
    /// A new job.
    case created(JobRecord)
    /// The job an earlier submit with the same idempotency key and request created.
    case replayed(JobRecord)
    /// The idempotency key was used with another request.
    case keyReused
    /// The user has this many jobs queued, running or merging already: the most allowed.
    case tooManyActive(Int)
}
