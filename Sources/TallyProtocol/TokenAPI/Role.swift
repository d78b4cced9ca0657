/// What a token may do (docs/security.md): one role per token.
public enum Role: String, Sendable, CaseIterable, Codable {
    /// Everything, every user's jobs included.
    case admin
    /// Submits jobs, and sees, fetches and cancels its own.
    case reporter
    /// The worker protocol only.
    case worker
    /// `/metrics` only: what a Prometheus scrape job is given.
    case monitor
}
