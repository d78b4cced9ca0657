import TallyProtocol
import Hummingbird

/// The one place requests are authenticated and held to the role table (`Operation`): runs
/// after routing (it is added to the router after `/healthz`, before every other route), so it
/// knows which operation a request performs.
///
/// Missing, unknown, expired or revoked secret → `401`; a role the operation does not allow →
/// `403`; both with a JSON reason. A coordinator whose store holds no token at all serves every
/// request as an admin: it listens on loopback only (`Coordinator.checkListenAddress`).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext
    let tokens: any TokenStore
    let clock: any CoordinatorClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let route = context.endpointPath.map { $0.hasPrefix("/") ? $0 : "/" + $0 } ?? ""
        guard let operation = Operation.of(method: request.method, route: route) else {
            return try await next(request, context)
        }
        var context = context
        context.operation = operation
        context.identity = try await authenticate(request)
        // The open mode (no token exists, loopback only) allows everything.
        guard context.identity.token == nil || operation.allowedRoles.contains(context.identity.role) else {
            throw APIError(.forbidden, "the \(context.identity.role.rawValue) role may not \(operation.rawValue); it needs "
                           + Role.allCases.filter(operation.allowedRoles.contains).map(\.rawValue).joined(separator: " or "))
        }
        return try await next(request, context)
    }

    private func authenticate(_ request: Request) async throws -> Identity {
        guard let header = request.headerValue("Authorization") else {
            guard try await tokens.hasTokens() else { return .open }
            throw APIError(.unauthorized, "missing Authorization: Bearer <secret> header")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw APIError(.unauthorized, "the Authorization header must be 'Bearer <secret>'")
        }
        let secret = String(parts[1])
        let hash = TokenSecret.hash(secret)
        guard let (token, stored) = try await tokens.token(secretHash: hash), TokenSecret.constantTimeEqual(hash, stored) else {
            throw APIError(.unauthorized, "unknown secret")
        }
        if token.revokedAt != nil { throw APIError(.unauthorized, "the secret ending \(token.fingerprint) was revoked") }
        guard token.isValid(at: clock.now()) else { throw APIError(.unauthorized, "the secret ending \(token.fingerprint) has expired") }
        return Identity(token: token)
    }
}
