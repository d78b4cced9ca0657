/// Where a job is in its life.
public enum JobState: String, Codable, Sendable, CaseIterable {
    /// Accepted, not yet planned.
    case queued
    /// Planned; workers are running its tasks.
    case running
    /// Every task is done; partials are being merged.
    case merging
    /// The result is ready.
    case succeeded
    /// Stopped with a reason.
    case failed
    /// Cancelled by a user.
    case cancelled

    /// Whether the job will not change state again.
    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}
