/// `POST /v1/tokens`: a token for `user` with `role`, valid for `expiresDays` days (for ever
/// when absent).
public struct TokenRequest: Codable, Sendable, Equatable {
    public var user: String
    public var role: Role
    public var expiresDays: Double?
    /// For a worker token: its partials may enter the shard cache, and it may run merge tasks
    /// (docs/security.md).
    public var trusted: Bool?

    public init(user: String, role: Role, expiresDays: Double? = nil, trusted: Bool? = nil) {
        self.user = user
        self.role = role
        self.expiresDays = expiresDays
        self.trusted = trusted
    }
}

extension TokenRequest: WireBody {
    public static let wireKeys: Set<String> = ["user", "role", "expires_days", "trusted"]
}
