/// `POST /v1/tokens`: a token for `user` with `role`, valid for `expiresDays` days (for ever
/// when absent).
public struct TokenRequest: Codable, Sendable, Equatable {
    public var user: String
    public var role: Role
    public var expiresDays: Double?

    public init(user: String, role: Role, expiresDays: Double? = nil) {
        self.user = user
        self.role = role
        self.expiresDays = expiresDays
    }
}

extension TokenRequest: WireBody {
    public static let wireKeys: Set<String> = ["user", "role", "expires_days"]
}
