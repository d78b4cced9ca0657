import TallyProtocol

/// A token as stored: who it is for, its role and validity; never its secret.
public struct AccessToken: Sendable, Equatable, Codable {
    /// Public identifier (for listing and revoking).
    public var id: String
    /// The user it acts for.
    public var user: String
    public var role: Role
    /// The secret's last 4 characters.
    public var fingerprint: String
    /// Seconds since the epoch.
    public var createdAt: Double
    /// When it stops working; nil for never.
    public var expiresAt: Double?
    /// When it was revoked; nil while it is not.
    public var revokedAt: Double?
    /// A worker token an admin vouches for: only partials its workers commit enter the shard
    /// cache (docs/security.md). Meaningless for other roles.
    public var trusted = false

    /// Whether it may be used at `now`.
    public init(
        id: String, user: String, role: Role, fingerprint: String, createdAt: Double, expiresAt: Double?, revokedAt: Double?,
        trusted: Bool = false
    ) {
        self.id = id
        self.user = user
        self.role = role
        self.fingerprint = fingerprint
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.trusted = trusted
    }

    package func isValid(at now: Double) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }
}
