import TallyFormats
import TallyReport

/// The worker protocol (version 1), spoken over `/v1/worker/…`:
///
/// 1. `POST /v1/worker/lease` with a `LeaseRequest` → `200` `LeaseGrant`, or `204` when there
///    is no work (retry after a pause).
/// 2. While running, `POST /v1/worker/leases/{lease_id}/heartbeat` at least every
///    `heartbeat_seconds` → `HeartbeatReply`; `action: stop` (job cancelled, lease lost) means
///    abandon the task. `410` means the lease is gone.
/// 3. `PUT /v1/worker/leases/{lease_id}/partial` with the partial's bytes
///    (`application/octet-stream`; the bytes carry their own CRC32C) → `UploadReply`. Only the
///    current lease holder's first upload commits; a repeated upload is acknowledged and ignored;
///    a lease that expired answers `409`.
/// 4. Or `POST /v1/worker/leases/{lease_id}/failure` with a `FailureReport`.
public enum WorkerProtocol {
    /// Version spoken by this build.
    public static let version = 1
}

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
    public var window: ReportWindow
    /// The objects to read.
    public var task: ReportTask

    /// A grant.
    public init(leaseId: String, jobId: String, leaseSeconds: Double, heartbeatSeconds: Double, source: SourceSpec, window: ReportWindow, task: ReportTask) {
        self.leaseId = leaseId
        self.jobId = jobId
        self.leaseSeconds = leaseSeconds
        self.heartbeatSeconds = heartbeatSeconds
        self.source = source
        self.window = window
        self.task = task
    }
}

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

/// A worker's report that its task failed.
public struct FailureReport: Codable, Sendable {
    /// What went wrong, in a sentence.
    public var reason: String

    /// A report.
    public init(reason: String) {
        self.reason = reason
    }
}
