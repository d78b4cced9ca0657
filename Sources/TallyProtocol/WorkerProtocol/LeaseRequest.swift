/// Asks for a task.
public struct LeaseRequest: Codable, Sendable {
    /// The worker's name, for logs and metrics.
    public var worker: String
    /// The worker protocol version the worker speaks.
    public var protocolVersion: Int

    /// A request.
    public init(worker: String, protocolVersion: Int = WorkerProtocol.version) {
        self.worker = worker
        self.protocolVersion = protocolVersion
    }
}
