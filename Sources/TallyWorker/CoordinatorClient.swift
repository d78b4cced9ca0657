import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TallyProtocol

/// Speaks the worker protocol to a coordinator. Network trouble and 5xx answers are retried
/// with capped exponential backoff — a coordinator that restarts or is briefly unreachable is
/// waited for, not fatal.
public struct CoordinatorClient: Sendable {
    /// The coordinator's base URL, without a trailing slash.
    public let baseURL: String
    let client: HTTPClient
    let logger: Logger

    /// Longest pause between retries.
    static let maximumBackoff: Double = 5

    /// A client of the coordinator at `baseURL`.
    public init(baseURL: String, client: HTTPClient = CoordinatorHTTPClient.shared, logger: Logger) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.client = client
        self.logger = logger
    }

    /// An answer: status code and body.
    struct Answer {
        var status: Int
        var body: ByteBuffer
    }

    /// Sends a request, retrying transient failures until `deadline` (or forever when nil).
    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]?, contentType: String = "application/json", retryFor deadline: Duration? = nil) async throws -> Answer {
        let started = ContinuousClock.now
        var backoff = 0.1
        while true {
            do {
                var request = HTTPClientRequest(url: baseURL + path)
                request.method = method
                if let body {
                    request.headers.add(name: "Content-Type", value: contentType)
                    request.body = .bytes(ByteBuffer(bytes: body))
                }
                let response = try await client.execute(request, timeout: .seconds(120))
                let bytes = try await response.body.collect(upTo: 16 << 20)
                if response.status.code >= 500 {
                    throw WorkerError.coordinator("HTTP \(response.status.code) from \(path)")
                }
                return Answer(status: Int(response.status.code), body: bytes)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if let deadline, ContinuousClock.now - started > deadline { throw error }
                try Task.checkCancellation()
                logger.warning("coordinator unreachable, retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                try await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
                backoff = min(backoff * 2, Self.maximumBackoff)
            }
        }
    }

    /// Asks for a task; `nil` when there is none.
    func lease(worker: String) async throws -> LeaseGrant? {
        let answer = try await send(.POST, "/v1/worker/lease", body: try Self.json(LeaseRequest(worker: worker)))
        switch answer.status {
        case 200: return try Self.decode(LeaseGrant.self, answer.body)
        case 204: return nil
        default: throw WorkerError.coordinator("lease refused: HTTP \(answer.status) \(String(buffer: answer.body))")
        }
    }

    /// Renews a lease; false when the task must be abandoned.
    func heartbeat(_ leaseId: String) async throws -> Bool {
        let answer = try await send(.POST, "/v1/worker/leases/\(leaseId)/heartbeat", body: nil, retryFor: .seconds(30))
        guard answer.status == 200 else { return false }
        return try Self.decode(HeartbeatReply.self, answer.body).action == .continue
    }

    /// Uploads a partial; returns the coordinator's verdict, or nil when the lease was lost.
    func upload(_ leaseId: String, partial: [UInt8]) async throws -> UploadReply? {
        let answer = try await send(.PUT, "/v1/worker/leases/\(leaseId)/partial", body: partial, contentType: "application/octet-stream")
        switch answer.status {
        case 200: return try Self.decode(UploadReply.self, answer.body)
        case 409, 410: return nil
        default: throw WorkerError.coordinator("upload refused: HTTP \(answer.status) \(String(buffer: answer.body))")
        }
    }

    /// Reports a failed attempt.
    func reportFailure(_ leaseId: String, reason: String) async throws {
        _ = try await send(.POST, "/v1/worker/leases/\(leaseId)/failure", body: try Self.json(FailureReport(reason: reason)), retryFor: .seconds(60))
    }

    static func json(_ value: some Encodable) throws -> [UInt8] { Array(try TallyJSON.encoder().encode(value)) }

    static func decode<T: Decodable>(_ type: T.Type, _ body: ByteBuffer) throws -> T {
        try TallyJSON.decoder().decode(T.self, from: Data(body.readableBytesView))
    }
}

/// Worker-side failures.
public enum WorkerError: Error, CustomStringConvertible {
    /// The coordinator answered in a way the worker cannot use.
    case coordinator(String)

    public var description: String {
        switch self {
        case .coordinator(let reason): return reason
        }
    }
}
