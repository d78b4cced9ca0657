/// A leased task with everything needed to run it.
public struct LeaseGrant: Codable, Sendable {
    /// The lease, named in heartbeats, uploads and failure reports.
    public var leaseId: String
    /// The job the task belongs to.
    public var jobId: String
    /// How long the lease lasts without a heartbeat.
    public var leaseSeconds: Double
    /// How often to send heartbeats.
    public var heartbeatSeconds: Double
    /// Where to read.
    public var source: SourceSpec
    /// The report window.
    public var window: WireWindow
    /// The objects to read.
    public var task: WireTask
    /// How to retry reads that fail in a way that may pass; absent from older coordinators
    /// (the worker then uses its defaults).
    public var retry: WireRetryPolicy?
    /// Present when the task is a merge task (then `task` lists no objects); only sent to
    /// workers that announced `WorkerProtocol.mergeCapability`.
    public var merge: WireMergeTask?
    /// The job's report kind (`active-users`, `network-summary`, …), which says what the
    /// partial's rows are keyed by; absent from older coordinators (rows by user).
    public var report: String?

    /// A grant.
    public init(
        leaseId: String, jobId: String, leaseSeconds: Double, heartbeatSeconds: Double, source: SourceSpec, window: WireWindow,
        task: WireTask,
        retry: WireRetryPolicy? = nil, merge: WireMergeTask? = nil, report: String? = nil
    ) {
        self.merge = merge
        self.report = report
        self.leaseId = leaseId
        self.jobId = jobId
        self.leaseSeconds = leaseSeconds
        self.heartbeatSeconds = heartbeatSeconds
        self.source = source
        self.window = window
        self.task = task
        self.retry = retry
    }
}
