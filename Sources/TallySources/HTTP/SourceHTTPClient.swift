import AsyncHTTPClient
import NIOCore

/// The one HTTP client every source of a process shares (connection pooling across objects).
///
/// It lives for the whole process, so it is never shut down. A request's deadline only covers
/// the response head, so a stalled body is caught by the read timeout instead.
enum SourceHTTPClient {
    static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        configuration.decompression = .disabled
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Deadline for the response head of one request.
    static let headTimeout: TimeAmount = .seconds(60)
}

extension HTTPClientResponse {
    /// Streams the body chunk by chunk to `consume`. Whatever ends the body early — the client's
    /// own errors, the HTTP parser's (`invalidEOFState` when a connection closes before its
    /// `Content-Length`), a socket error — is a transient `SourceError` for `location`; the
    /// consumer's own errors and cancellation pass through as they are.
    func stream(from location: String, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
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
            try chunk.withUnsafeReadableBytes { try consume($0) }
        }
    }
}
