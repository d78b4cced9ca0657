import Logging
import TallyAccess
import TallyProtocol
import TallyServices
import TallyStore

/// `tally token … --data-dir DIR`: tokens made, listed and revoked straight in a coordinator's
/// data directory, also while it runs (SQLite in WAL mode takes the second writer).
public struct TokenAdministration: Sendable {
    private let issuer: TokenService

    /// Opens the store `store` names (SQLite's in `dataDirectory`, created when needed).
    public init(dataDirectory: String?, store: StoreLocation = .sqlite) throws {
        issuer = TokenService(
            store: try CoordinatorStores.open(
                store, files: try DataDirectory(administering: dataDirectory), logger: Logger(label: "tally.token")
            ).tokens, clock: SystemClock())
    }

    /// A new token; its secret is in `secret`, the only time it is ever shown. With `secret`,
    /// the token takes that secret (idempotent: the same import again returns the same token).
    public func create(_ request: TokenRequest, secret: String? = nil) async throws -> TokenInfo {
        let (token, text) = try await issuer.issue(request, secret: secret)
        return TokenService.info(token, secret: text)
    }

    /// A fresh secret, stored nowhere: for deployments that keep secrets in their own store and
    /// import them with `create(_:secret:)`.
    public static func generateSecret() -> String { TokenSecret.generate().text }

    /// Every token, newest first.
    public func list() async throws -> [TokenInfo] {
        try await issuer.list().map { TokenService.info($0) }
    }

    /// Marks a worker token trusted (its partials may enter the shard cache) or not; false when
    /// there is none with that id.
    public func setTrusted(_ id: String, _ trusted: Bool) async throws -> Bool {
        try await issuer.setTrusted(id, trusted)
    }

    /// Revokes a token; false when there is none with that id.
    public func revoke(_ id: String) async throws -> Bool {
        try await issuer.revoke(id)
    }
}
