import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TallyProtocol

/// One coordinator's HTTP endpoint, shared by the job API client (CLI) and the worker protocol
/// client: how requests are sent, retried and their answers read.
public struct CoordinatorConnection: Sendable {
    /// The coordinator's base URL, without a trailing slash.
    public let baseURL: String
    let http: HTTPClient
    let logger: Logger
    /// The bearer secret sent with every request (none for a coordinator in open loopback mode).
    let token: String?

    /// Longest pause between retries.
    static let maximumBackoff: Double = 5

    /// A connection to the coordinator at `baseURL` over `http` (owned by the caller), sending
    /// `token` as `Authorization: Bearer`.
    public init(baseURL: String, http: HTTPClient, token: String? = nil, logger: Logger = Logger(label: "tally.client")) {
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.http = http
        self.logger = logger
        if let warning = Self.plainTextWarning(baseURL: url, sendsSecret: self.token != nil) { logger.warning("\(warning)") }
    }

    /// A warning when a secret would cross a network in clear text: plain `http://` to a host
    /// that is not loopback (docs/security.md).
    static func plainTextWarning(baseURL: String, sendsSecret: Bool) -> String? {
        guard sendsSecret, baseURL.lowercased().hasPrefix("http://") else { return nil }
        let authority = String(baseURL.dropFirst("http://".count).prefix { $0 != "/" })
        let host = LoopbackAddress.host(ofAuthority: String(authority.split(separator: "@").last ?? ""))
        guard !LoopbackAddress.contains(host) else { return nil }
        return
            "sending a secret to \(baseURL) over plain HTTP: anyone on the network between can read it; use https:// (tls in the coordinator's tally.yaml)"
    }

    /// How long transient failures (network trouble, 5xx) are retried.
    public enum Retry: Sendable {
        /// Not at all: the first failure is the answer.
        case never
        /// With capped exponential backoff until this much time has passed.
        case upTo(Duration)
        /// Until the task is cancelled (a worker waiting for a restarting coordinator).
        case forever
    }

    /// A whole answer: status and body.
    public struct Answer: Sendable {
        /// HTTP status code.
        public var status: Int
        /// The body.
        public var body: ByteBuffer
        /// The response's headers.
        public var headers: HTTPHeaders = [:]

        /// The body decoded as tally JSON.
        public func decode<T: Decodable>(_ type: T.Type) throws -> T {
            do {
                return try TallyJSON.decoder().decode(T.self, from: Data(body.readableBytesView))
            } catch {
                throw ClientError.invalidAnswer("\(T.self): \(error)")
            }
        }

        /// The reason of an error answer: the JSON body's `error`, else the body as text.
        public var reason: String {
            (try? TallyJSON.decoder().decode(APIErrorBody.self, from: Data(body.readableBytesView)).error)
                ?? String(buffer: body)
        }
    }

    /// Sends one request and returns the response head with its body still streaming.
    public func execute(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
        headers: [(String, String)] = [], timeout: Duration = .seconds(120)
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer " + token) }
        do {
            return try await http.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ClientError.unreachable(url: baseURL, detail: "\(error)")
        }
    }

    /// Sends a request and reads the whole answer (at most `limit` bytes), retrying network
    /// failures and 5xx answers as `retry` says.
    public func exchange(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
        headers: [(String, String)] = [], retry: Retry = .never, limit: Int = 64 << 20
    ) async throws -> Answer {
        let started = ContinuousClock.now
        var backoff = 0.1
        while true {
            do {
                let response = try await execute(method, path, body: body, contentType: contentType, headers: headers)
                let bytes: ByteBuffer
                do {
                    bytes = try await response.body.collect(upTo: limit)
                } catch {
                    throw ClientError.unreachable(url: baseURL, detail: "answer to \(path) cut short: \(error)")
                }
                let answer = Answer(status: Int(response.status.code), body: bytes, headers: response.headers)
                if answer.status >= 500, case .never = retry { return answer }
                if answer.status >= 500 {
                    throw ClientError.refused(status: answer.status, reason: "HTTP \(answer.status) from \(path): \(answer.reason)")
                }
                return answer
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                switch retry {
                case .never: throw error
                case .upTo(let limit) where ContinuousClock.now - started > limit: throw error
                default: break
                }
                try Task.checkCancellation()
                logger.warning("coordinator unreachable, retrying", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
                try await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
                backoff = min(backoff * 2, Self.maximumBackoff)
            }
        }
    }

    /// A path segment or query value percent-encoded (only unreserved characters left as they are).
    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? text
    }

    private static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// A value as tally JSON bytes.
    static func json(_ value: some Encodable) throws -> [UInt8] { Array(try TallyJSON.encoder().encode(value)) }
}
