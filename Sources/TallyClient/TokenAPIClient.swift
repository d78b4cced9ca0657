import NIOHTTP1
import TallyProtocol

/// `/v1/tokens` as `tally token … --coordinator` uses it (an admin token required).
public struct TokenAPIClient: Sendable {
    /// The coordinator.
    public let connection: CoordinatorConnection

    public init(_ connection: CoordinatorConnection) {
        self.connection = connection
    }

    /// A new token; its secret is in `secret`, shown this once.
    public func create(_ request: TokenRequest) async throws -> TokenInfo {
        let answer = try await connection.exchange(.POST, "/v1/tokens", body: try CoordinatorConnection.json(request))
        guard answer.status == 201 else { throw ClientError.refused(status: answer.status, reason: answer.reason) }
        return try answer.decode(TokenInfo.self)
    }

    /// Every token, newest first.
    public func list() async throws -> [TokenInfo] {
        let answer = try await connection.exchange(.GET, "/v1/tokens")
        guard answer.status == 200 else { throw ClientError.refused(status: answer.status, reason: answer.reason) }
        return try answer.decode(TokenList.self).tokens
    }

    /// Revokes a token.
    public func revoke(_ id: String) async throws {
        let answer = try await connection.exchange(.DELETE, "/v1/tokens/\(CoordinatorConnection.escape(id))")
        guard answer.status == 204 else { throw ClientError.refused(status: answer.status, reason: answer.reason) }
    }
}
