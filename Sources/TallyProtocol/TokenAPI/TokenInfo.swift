/// A token as the API shows it: never its secret, except once, in `secret`, when it is created.
public struct TokenInfo: Codable, Sendable, Equatable {
    public var id: String
    public var user: String
    public var role: Role
    /// The secret's last 4 characters.
    public var fingerprint: String
    /// RFC 3339.
    public var createdAt: String
    /// RFC 3339; absent for a token that never expires.
    public var expiresAt: String?
    /// RFC 3339; absent while not revoked.
    public var revokedAt: String?
    /// The secret: only in the answer to its creation.
    public var secret: String?
    /// A worker token whose partials may enter the shard cache; absent for other tokens.
    public var trusted: Bool?

    public init(
        id: String, user: String, role: Role, fingerprint: String, createdAt: String, expiresAt: String?, revokedAt: String?,
        secret: String? = nil, trusted: Bool? = nil
    ) {
        self.trusted = trusted
        self.id = id
        self.user = user
        self.role = role
        self.fingerprint = fingerprint
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.secret = secret
    }
}

/// `GET /v1/tokens`: every token, newest first.
public struct TokenList: Codable, Sendable, Equatable {
    public var tokens: [TokenInfo]

    public init(tokens: [TokenInfo]) {
        self.tokens = tokens
    }
}
