/// The answer to a heartbeat.
public struct HeartbeatReply: Codable, Sendable {
    /// What the worker should do.
    public enum Action: String, Codable, Sendable {
        /// Keep going; the lease was renewed.
        case `continue`
        /// Abandon the task (job cancelled or failed, lease lost).
        case stop
    }

    /// What to do.
    public var action: Action
    /// The renewed lease length.
    public var leaseSeconds: Double

    /// A reply.
    public init(action: Action, leaseSeconds: Double) {
        self.action = action
        self.leaseSeconds = leaseSeconds
    }
}
