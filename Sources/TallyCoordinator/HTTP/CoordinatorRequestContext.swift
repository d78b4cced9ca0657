import Hummingbird

/// The request context of the coordinator's router.
struct CoordinatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Who is asking (set by `AuthenticationMiddleware`).
    var identity = Identity.open
    /// What the matched route does (set by `AuthenticationMiddleware`).
    var operation: Operation?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// JSON bodies are small; partial uploads are read separately with their own limit.
    var maxUploadSize: Int { 64 * 1024 }
}
