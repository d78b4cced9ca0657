import NIOCore
import TallyProtocol

/// The worker protocol (`/v1/worker`, see `WorkerProtocol`) as a worker speaks it. Network
/// trouble and 5xx answers are retried with capped exponential backoff: a coordinator that
/// restarts or is briefly unreachable is waited for, not fatal.
public struct WorkerProtocolClient: Sendable {
    /// The coordinator.
    public let connection: CoordinatorConnection

    /// How long an upload is retried (coordinator unreachable, or answering 5xx such as a full
    /// disk's 507) before the task fails with the coordinator's last answer as its reason.
    public let uploadRetryLimit: Duration

    /// A client over `connection`.
    public init(_ connection: CoordinatorConnection, uploadRetryLimit: Duration = .seconds(300)) {
        self.connection = connection
        self.uploadRetryLimit = uploadRetryLimit
    }

    /// Asks for a task; `nil` when there is none.
    /// `capabilities` lists the protocol extensions the worker takes part in.
    public func lease(worker: String, capabilities: [String]? = nil) async throws -> LeaseGrant? {
        let answer = try await connection.exchange(
            .POST, "/v1/worker/lease", body: try CoordinatorConnection.json(LeaseRequest(worker: worker, capabilities: capabilities)),
            retry: .forever, limit: 16 << 20)
        switch answer.status {
        case 200: return try answer.decode(LeaseGrant.self)
        case 204: return nil
        default: throw ClientError.refused(status: answer.status, reason: "lease refused: \(answer.reason)")
        }
    }

    /// Renews a lease; false when the task must be abandoned.
    public func heartbeat(_ leaseId: String) async throws -> Bool {
        let answer = try await connection.exchange(
            .POST, "/v1/worker/leases/\(CoordinatorConnection.escape(leaseId))/heartbeat", retry: .upTo(.seconds(30)), limit: 1 << 20)
        guard answer.status == 200 else { return false }
        return try answer.decode(HeartbeatReply.self).action == .continue
    }

    /// Uploads a partial, with the number of retries reading it took; returns the coordinator's
    /// verdict, or nil when the lease was lost.
    public func upload(_ leaseId: String, partial: [UInt8], sourceRetries: Int = 0) async throws -> UploadReply? {
        let answer = try await connection.exchange(
            .PUT, "/v1/worker/leases/\(CoordinatorConnection.escape(leaseId))/partial", body: partial,
            contentType: "application/octet-stream",
            headers: [(WorkerProtocol.sourceRetriesHeader, String(sourceRetries))],
            retry: .upTo(uploadRetryLimit), limit: 1 << 20)
        switch answer.status {
        case 200: return try answer.decode(UploadReply.self)
        case 409, 410: return nil
        default: throw ClientError.refused(status: answer.status, reason: "upload refused: \(answer.reason)")
        }
    }

    /// The bytes of partial `index` a merge task's lease reads (its range's blocks) and their
    /// CRC-32C as the coordinator computed it; nil when the lease was lost.
    public func partialSlice(_ leaseId: String, index: Int, limit: Int) async throws -> (bytes: [UInt8], checksum: UInt32)? {
        let answer = try await connection.exchange(
            .GET, "/v1/worker/leases/\(CoordinatorConnection.escape(leaseId))/partials/\(index)", retry: .upTo(.seconds(60)), limit: limit)
        switch answer.status {
        case 200:
            guard let checksum = answer.headers.first(name: WorkerProtocol.sliceChecksumHeader).flatMap(UInt32.init) else {
                throw ClientError.invalidAnswer("partial slice without \(WorkerProtocol.sliceChecksumHeader)")
            }
            return (Array(answer.body.readableBytesView), checksum)
        case 409, 410: return nil
        default: throw ClientError.refused(status: answer.status, reason: "partial slice refused: \(answer.reason)")
        }
    }

    /// The user directory of a merge task's job; nil when the lease was lost.
    public func userDirectory(_ leaseId: String, limit: Int) async throws -> [UInt8]? {
        let answer = try await connection.exchange(
            .GET, "/v1/worker/leases/\(CoordinatorConnection.escape(leaseId))/directory", retry: .upTo(.seconds(60)), limit: limit)
        switch answer.status {
        case 200: return Array(answer.body.readableBytesView)
        case 409, 410: return nil
        default: throw ClientError.refused(status: answer.status, reason: "user directory refused: \(answer.reason)")
        }
    }

    /// Uploads a merge task's rows (a raw DEFLATE segment, `WorkerProtocol`); the coordinator's
    /// verdict, or nil when the lease was lost.
    public func uploadRows(_ leaseId: String, rows: [UInt8], count: Int) async throws -> UploadReply? {
        let answer = try await connection.exchange(
            .PUT, "/v1/worker/leases/\(CoordinatorConnection.escape(leaseId))/rows", body: rows,
            contentType: "application/octet-stream",
            headers: [(WorkerProtocol.rowsHeader, String(count))], retry: .upTo(uploadRetryLimit), limit: 1 << 20)
        switch answer.status {
        case 200: return try answer.decode(UploadReply.self)
        case 409, 410: return nil
        default: throw ClientError.refused(status: answer.status, reason: "rows upload refused: \(answer.reason)")
        }
    }

    /// Reports a failed attempt; `permanent` when trying again cannot help.
    public func reportFailure(_ leaseId: String, reason: String, permanent: Bool = false) async throws {
        _ = try await connection.exchange(
            .POST, "/v1/worker/leases/\(CoordinatorConnection.escape(leaseId))/failure",
            body: try CoordinatorConnection.json(FailureReport(reason: reason, permanent: permanent ? true : nil)),
            retry: .upTo(.seconds(60)), limit: 1 << 20)
    }
}
