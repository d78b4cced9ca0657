import TallyProtocol
import TallyServices
import TallyStore

/// Issues, lists and revokes tokens: the one implementation behind `POST/GET/DELETE /v1/tokens`
/// and `tally token … --data-dir`.
package struct TokenService: Sendable {
    package let store: any TokenStore
    package let clock: any CoordinatorClock

    /// A value with every field given.
    package init(store: any TokenStore, clock: any CoordinatorClock) {
        self.store = store
        self.clock = clock
    }

    /// User names are shown in logs and the activity log: printable, no separators.
    package static func validate(user: String) throws(TokenError) {
        guard !user.isEmpty, user.count <= 128,
            user.unicodeScalars.allSatisfy({
                $0.properties.isAlphabetic || $0.properties.numericType != nil || "@._-+".unicodeScalars.contains($0)
            })
        else { throw TokenError.invalid("user names are 1 to 128 letters, digits and @ . _ - +", field: "user") }
    }

    /// A new token and its secret (shown once); with `secret` (imported), that secret, and when
    /// a token with it exists already, that token: deployments replay the same import safely.
    package func issue(_ request: TokenRequest, secret imported: String? = nil) async throws -> (AccessToken, secret: String) {
        try Self.validate(user: request.user)
        if let days = request.expiresDays, !(days > 0 && days <= 36_500) {
            throw TokenError.invalid(
                "expires_days must be between 0 and 36500 (leave it out for a token that never expires)", field: "expires_days")
        }
        if request.trusted == true, request.role != .worker {
            throw TokenError.invalid("only worker tokens can be trusted", field: "trusted")
        }
        let secret = try imported.map { text throws(TokenError) in try TokenSecret.imported(text) } ?? TokenSecret.generate()
        if imported != nil, let (existing, _) = try await store.token(secretHash: TokenSecret.hash(secret.text)) {
            guard existing.user == request.user, existing.role == request.role else {
                throw TokenError.invalid("that secret belongs to another token (\(existing.id))", field: "secret")
            }
            // A deployment that adds --trusted to its import makes the existing token trusted.
            if let trusted = request.trusted, trusted != existing.trusted {
                _ = try await store.setTrusted(existing.id, trusted)
                var changed = existing
                changed.trusted = trusted
                return (changed, secret.text)
            }
            return (existing, secret.text)
        }
        let now = clock.now()
        let token = try await store.createToken(
            user: request.user, role: request.role, trusted: request.trusted ?? false, secretHash: TokenSecret.hash(secret.text),
            fingerprint: TokenSecret.fingerprint(secret.text),
            expiresAt: request.expiresDays.map { now + $0 * 86_400 }, now: now)
        return (token, secret.text)
    }

    /// Every token, newest first.
    package func list() async throws -> [AccessToken] { try await store.tokens() }

    /// Marks a worker token trusted or not (its partials may enter the shard cache from now
    /// on, or no cached shard it produced is reused any more); false when there is none.
    package func setTrusted(_ id: String, _ trusted: Bool) async throws -> Bool {
        guard let token = try await store.tokens().first(where: { $0.id == id }) else { return false }
        guard token.role == .worker else { throw TokenError.invalid("only worker tokens can be trusted", field: "trusted") }
        return try await store.setTrusted(id, trusted)
    }

    /// Revokes a token; false when there is none with that id.
    package func revoke(_ id: String) async throws -> Bool { try await store.revokeToken(id, now: clock.now()) }

    /// The API view of a token.
    package static func info(_ token: AccessToken, secret: String? = nil) -> TokenInfo {
        TokenInfo(
            id: token.id, user: token.user, role: token.role, fingerprint: token.fingerprint,
            createdAt: WireTime.timestamp(token.createdAt), expiresAt: token.expiresAt.map(WireTime.timestamp),
            revokedAt: token.revokedAt.map(WireTime.timestamp), secret: secret, trusted: token.role == .worker ? token.trusted : nil)
    }
}

/// A token request that cannot be honoured.
public enum TokenError: Error, CustomStringConvertible {
    case invalid(String, field: String)

    public var description: String {
        switch self {
        case .invalid(let reason, _): reason
        }
    }
}
