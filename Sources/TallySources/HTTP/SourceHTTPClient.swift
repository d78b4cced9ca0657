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
    /// Streams the body chunk by chunk to `consume`; a connection lost mid-body becomes a
    /// transient `SourceError` for `location`, while the consumer's own errors pass through.
    func stream(from location: String, into consume: (UnsafeRawBufferPointer) throws -> Void) async throws {
        do {
            for try await chunk in body {
                try chunk.withUnsafeReadableBytes { try consume($0) }
            }
        } catch let error as HTTPClientError {
            throw SourceError(.unreachable, location: location, detail: "download interrupted: \(error)")
        }
    }
}
