/// Asks for a task.
public struct LeaseRequest: Codable, Sendable {
    /// The worker's name, for logs and metrics.
    public var worker: String
    /// The worker protocol version the worker speaks.
    public var protocolVersion: Int
    /// Extensions of the protocol the worker takes part in (`WorkerProtocol.mergeCapability`);
    /// absent from older workers, which get aggregation tasks only.
    public var capabilities: [String]?

    /// A request.
    public init(worker: String, protocolVersion: Int = WorkerProtocol.version, capabilities: [String]? = nil) {
        self.worker = worker
        self.protocolVersion = protocolVersion
        self.capabilities = capabilities
    }
}
