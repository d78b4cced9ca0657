import Hummingbird
import TallyAccess
import TallyProtocol

/// `/v1/tokens`: tokens made, listed and revoked by an admin.
struct TokenRoutes: Sendable {
    let issuer: TokenService

    func add(to router: SecuredRouter) {
        let tokens = router.group("v1/tokens")
        tokens.post(.createToken) { request, _ in try await create(request) }
        tokens.get(.listTokens) { _, _ in try JSONBody.make(TokenList(tokens: try await issuer.list().map { TokenService.info($0) })) }
        tokens.delete(":id", .revokeToken) { _, context in
            let id = context.parameters.get("id") ?? ""
            guard try await issuer.revoke(id) else { throw APIError(.notFound, "no token '\(id)'", field: "id") }
            return Response(status: .noContent)
        }
    }

    private func create(_ request: Request) async throws -> Response {
        let body = try await JSONBody.decode(TokenRequest.self, from: request)
        do {
            let (token, secret) = try await issuer.issue(body)
            return try JSONBody.make(TokenService.info(token, secret: secret), status: .created)
        } catch let TokenError.invalid(reason, field) {
            throw APIError(.badRequest, reason, field: field)
        }
    }
}
