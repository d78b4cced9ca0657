import AsyncHTTPClient
import NIOCore
import Synchronization

/// The HTTP client the sources of one owner share (connection pooling across objects): the
/// worker makes one for its tasks, the coordinator one for its listings, and each shuts its own
/// down when it stops. The connection pool is made at the first request, so an owner whose
/// sources are all local never starts one.
///
/// A request's deadline only covers the response head, so a stalled body is caught by the
/// read timeout (and the readers' own `Deadline`) instead.
public final class SourceHTTPClient: Sendable {
    private let client = Mutex<HTTPClient?>(nil)
    private let closed = Mutex(false)

    /// Deadline for the response head of one request.
    static let headTimeout: TimeAmount = .seconds(60)

    /// A client; nothing is started until a source makes a request.
    public init() {}

    /// The pooled client, made on first use; an error once `shutdown` ran.
    func http(for location: String) throws -> HTTPClient {
        try client.withLock { client in
            if let client { return client }
            guard !closed.withLock({ $0 }) else {
                throw SourceError(.unreachable, location: location, detail: "the source client was shut down")
            }
            var configuration = HTTPClient.Configuration()
            configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
            configuration.decompression = .disabled
            configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
            let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            client = made
            return made
        }
    }

    /// Sends one request with the head deadline; `bodySeconds` more for a request whose body
    /// is sent before the server answers (an upload).
    func execute(_ request: HTTPClientRequest, location: String, bodySeconds: Int64 = 0) async throws -> HTTPClientResponse {
        try await http(for: location).execute(request, timeout: Self.headTimeout + .seconds(bodySeconds))
    }

    /// Closes the pool (after requests under way end); later requests fail.
    public func shutdown() async throws {
        closed.withLock { $0 = true }
        let made = client.withLock { client -> HTTPClient? in
            defer { client = nil }
            return client
        }
        try await made?.shutdown()
    }
}

extension HTTPClientResponse {
    /// Streams the body chunk by chunk to `consume`. Whatever ends the body early — the client's
    /// own errors, the HTTP parser's (`invalidEOFState` when a connection closes before its
    /// `Content-Length`), a socket error — is a transient `SourceError` for `location`; the
    /// consumer's own errors and cancellation pass through as they are.
    func stream(from location: String, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        try await streamBuffers(from: location) { chunk in try chunk.withUnsafeReadableBytes { try consume($0) } }
    }

    /// Streams the body chunk by chunk to an asynchronous `consume` (one that writes off the
    /// cooperative pool), with the same errors as `stream(from:into:)`.
    func streamBuffers(from location: String, into consume: (ByteBuffer) async throws -> Void) async throws {
        var chunks = body.makeAsyncIterator()
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await chunks.next()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw SourceError(.unreachable, location: location, detail: "download interrupted: \(error)")
            }
            guard let chunk else { return }
            try await consume(chunk)
        }
    }
}
