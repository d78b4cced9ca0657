import AsyncHTTPClient

/// The HTTP client used to talk to a coordinator (workers and the CLI).
///
/// AsyncHTTPClient retries a refused connection until the request's deadline by default; here a
/// refused connection fails at once, so a CLI command reports an unreachable coordinator in a
/// moment and a worker's own backoff (with its log line) takes over.
public enum CoordinatorHTTPClient {
    /// The process-wide client; it lives as long as the process and is never shut down.
    public static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(120))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
