/// A job page of `GET /v1/jobs`, newest first.
public struct JobList: Codable, Sendable {
    /// The jobs of this page.
    public var jobs: [JobStatus]
    /// Pass as `before` to get the next (older) page; absent on the last page.
    public var next: String?

    /// A page.
    public init(jobs: [JobStatus], next: String?) {
        self.jobs = jobs
        self.next = next
    }
}
