import Hummingbird
import NIOCore
import TallyAccess

/// The request context of the coordinator's router.
struct CoordinatorRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client's address (nil in in-process tests).
    let remoteAddress: SocketAddress?
    /// Who is asking (set by `AuthenticationMiddleware`).
    var identity = Identity.open
    /// What the matched route does (set by `AuthenticationMiddleware`).
    var operation: Operation?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// JSON bodies are small; partial uploads are read separately with their own limit.
    var maxUploadSize: Int { 64 * 1024 }

    /// The client's IP address as text ("local" when unknown): what throttling and logs name.
    var clientAddress: String { remoteAddress?.ipAddress ?? "local" }
}
