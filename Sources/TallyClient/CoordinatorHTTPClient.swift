import AsyncHTTPClient
import NIOSSL

/// Makes the HTTP client a process uses to talk to a coordinator. The caller owns it: it is
/// handed to `CoordinatorConnection`s and shut down when the command or service ends.
///
/// AsyncHTTPClient retries a refused connection until the request's deadline by default; here a
/// refused connection fails at once, so a CLI command reports an unreachable coordinator in a
/// moment and a worker's own backoff (with its log line) takes over.
///
/// An `https://` coordinator's certificate is always verified: against the system's roots, or
/// against `caFile` (PEM) for a coordinator whose certificate a private CA signed.
public enum CoordinatorHTTPClient {
    /// A new client with tally's timeouts; a `caFile` that cannot be read is an error naming it.
    public static func make(caFile: String? = nil) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(120))
        configuration.connectionPool.retryConnectionEstablishment = false
        if let caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw ClientError.invalidConfiguration("cannot read the CA certificates in \(caFile): \(error)")
            }
            configuration.tlsConfiguration = tls
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs `body` with a new client and shuts the client down afterwards, also on error.
    public static func with<T>(caFile: String? = nil, _ body: (HTTPClient) async throws -> T) async throws -> T {
        let client = try make(caFile: caFile)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
