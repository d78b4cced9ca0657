/// A worker's report that its task failed.
public struct FailureReport: Codable, Sendable {
    /// What went wrong, in a sentence.
    public var reason: String

    /// A report.
    public init(reason: String) {
        self.reason = reason
    }
}
