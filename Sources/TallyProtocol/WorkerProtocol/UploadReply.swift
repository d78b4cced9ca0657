/// The answer to an upload.
public struct UploadReply: Codable, Sendable {
    /// Whether this upload became the task's partial.
    public var committed: Bool
    /// Why not, when it did not (already committed by this lease, job cancelled).
    public var reason: String?

    /// A reply.
    public init(committed: Bool, reason: String? = nil) {
        self.committed = committed
        self.reason = reason
    }
}
