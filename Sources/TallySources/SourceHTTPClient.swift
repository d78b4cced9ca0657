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
