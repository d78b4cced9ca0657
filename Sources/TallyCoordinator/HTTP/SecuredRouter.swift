import HTTPTypes
import Hummingbird
import TallyAccess

/// Registers the routes behind `AuthenticationMiddleware`, each with its operation: a route
/// cannot be added here without one, and the `RoleTable` it fills is what the middleware holds
/// requests to. Routes added to the router directly after the middleware have no operation and
/// are refused (`403`).
struct SecuredRouter {
    let router: Router<CoordinatorRequestContext>
    let table: RoleTable
    /// The group's path, e.g. `v1/jobs`.
    let prefix: String

    init(router: Router<CoordinatorRequestContext>, table: RoleTable, prefix: String = "") {
        self.router = router
        self.table = table
        self.prefix = prefix
    }

    /// Routes under `path`.
    func group(_ path: String) -> SecuredRouter {
        SecuredRouter(router: router, table: table, prefix: join(prefix, path))
    }

    @discardableResult
    func get(
        _ path: String, _ operation: Operation,
        use handler: @escaping @Sendable (Request, CoordinatorRequestContext) async throws -> some ResponseGenerator
    ) -> SecuredRouter {
        on(.get, path, operation, handler)
    }

    @discardableResult
    func post(
        _ path: String, _ operation: Operation,
        use handler: @escaping @Sendable (Request, CoordinatorRequestContext) async throws -> some ResponseGenerator
    ) -> SecuredRouter {
        on(.post, path, operation, handler)
    }

    @discardableResult
    func put(
        _ path: String, _ operation: Operation,
        use handler: @escaping @Sendable (Request, CoordinatorRequestContext) async throws -> some ResponseGenerator
    ) -> SecuredRouter {
        on(.put, path, operation, handler)
    }

    @discardableResult
    func delete(
        _ path: String, _ operation: Operation,
        use handler: @escaping @Sendable (Request, CoordinatorRequestContext) async throws -> some ResponseGenerator
    ) -> SecuredRouter {
        on(.delete, path, operation, handler)
    }

    /// The group's own path.
    @discardableResult
    func get(
        _ operation: Operation, use handler: @escaping @Sendable (Request, CoordinatorRequestContext) async throws -> some ResponseGenerator
    ) -> SecuredRouter {
        on(.get, "", operation, handler)
    }

    @discardableResult
    func post(
        _ operation: Operation, use handler: @escaping @Sendable (Request, CoordinatorRequestContext) async throws -> some ResponseGenerator
    ) -> SecuredRouter {
        on(.post, "", operation, handler)
    }

    private func on(
        _ method: HTTPRequest.Method, _ path: String, _ operation: Operation,
        _ handler: @escaping @Sendable (Request, CoordinatorRequestContext) async throws -> some ResponseGenerator
    ) -> SecuredRouter {
        let full = join(prefix, path)
        table.add(method: method, path: full, operation: operation)
        router.on(RouterPath(full), method: method, use: handler)
        return self
    }

    private func join(_ a: String, _ b: String) -> String {
        [a, b].flatMap { $0.split(separator: "/") }.joined(separator: "/")
    }
}
