import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import TallyProtocol

/// The job API (`/v1/jobs`) as the CLI and `tally run` use it.
public struct JobAPIClient: Sendable {
    /// The coordinator.
    public let connection: CoordinatorConnection

    /// A client over `connection`.
    public init(_ connection: CoordinatorConnection) {
        self.connection = connection
    }

    private func call<T: Decodable>(_ type: T.Type, _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, expect: Int) async throws
        -> T
    {
        let answer = try await connection.exchange(method, path, body: body)
        guard answer.status == expect else { throw ClientError.refused(status: answer.status, reason: answer.reason) }
        return try answer.decode(T.self)
    }

    /// Submits a job; the coordinator answers with its first status.
    public func submit(_ request: JobRequest) async throws -> JobStatus {
        try await call(JobStatus.self, .POST, "/v1/jobs", body: try CoordinatorConnection.json(request), expect: 202)
    }

    /// A job's status.
    public func status(_ id: String) async throws -> JobStatus {
        try await call(JobStatus.self, .GET, "/v1/jobs/\(CoordinatorConnection.escape(id))", expect: 200)
    }

    /// A page of jobs, newest first.
    public func list(limit: Int, before: String?) async throws -> JobList {
        try await call(JobList.self, .GET, "/v1/jobs?limit=\(limit)" + (before.map { "&before=\($0)" } ?? ""), expect: 200)
    }

    /// Cancels a job.
    public func cancel(_ id: String) async throws -> JobStatus {
        try await call(JobStatus.self, .DELETE, "/v1/jobs/\(CoordinatorConnection.escape(id))", expect: 200)
    }

    /// Announces an ended job again, to its targets or to `target`.
    public func notify(_ id: String, target: String?) async throws -> JobStatus {
        let query = target.map { "?target=" + CoordinatorConnection.escape($0) } ?? ""
        return try await call(JobStatus.self, .POST, "/v1/jobs/\(CoordinatorConnection.escape(id))/notify" + query, expect: 202)
    }

    /// Streams a finished job's CSV to `write`, chunk by chunk.
    public func fetch(_ id: String, into write: (ByteBuffer) async throws -> Void) async throws {
        let response = try await connection.execute(.GET, "/v1/jobs/\(CoordinatorConnection.escape(id))/result", timeout: .seconds(60))
        guard response.status.code == 200 else {
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let reason = CoordinatorConnection.Answer(status: Int(response.status.code), body: bytes).reason
            throw ClientError.refused(status: Int(response.status.code), reason: "cannot fetch the result of job \(id): \(reason)")
        }
        for try await chunk in response.body { try await write(chunk) }
    }
}
