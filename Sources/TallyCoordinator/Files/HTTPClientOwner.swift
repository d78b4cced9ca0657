import Logging
import ServiceLifecycle
import TallySources

/// Owns an HTTP client the coordinator's services share (the blob store's): it waits for the
/// graceful shutdown and, once the services registered after it have stopped, shuts it down.
struct HTTPClientOwner: Service {
    let client: SourceHTTPClient
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        do { try await client.shutdown() } catch { logger.warning("blob client shutdown failed", metadata: ["error": "\(error)"]) }
    }
}
