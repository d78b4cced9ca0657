/// A worker's report that its task failed.
public struct FailureReport: Codable, Sendable {
    /// What went wrong, in a sentence.
    public var reason: String
    /// True when trying again cannot help (a refused credential, an object gone, a corrupt gzip
    /// stream): the job fails at once with the reason. Absent means false.
    public var permanent: Bool?

    /// A report.
    public init(reason: String, permanent: Bool? = nil) {
        self.reason = reason
        self.permanent = permanent
    }
}
