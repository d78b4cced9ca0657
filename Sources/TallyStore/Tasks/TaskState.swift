/// Where a task is.
package enum TaskState: String, Sendable, CaseIterable {
    /// Waiting for a worker.
    case pending
    /// Held by a worker until its lease expires.
    case leased
    /// Its partial is committed.
    case done
    /// Its job ended before it ran.
    case abandoned
}
