import Foundation
import PostgresNIO
import TallyProtocol
import TallyStore

/// Access tokens in the shared PostgreSQL database: hashed secrets, roles, expiry and revocation,
/// as `SQLiteTokenStore` keeps them.
package final class PostgresTokenStore: TokenStore {
    package let database: PostgresDatabase

    /// The repository over a migrated database.
    package init(database: PostgresDatabase) {
        self.database = database
    }

    package func createToken(
        user: String, role: Role, trusted: Bool, secretHash: [UInt8], fingerprint: String, expiresAt: Double?,
        now: Double
    ) async throws -> AccessToken {
        let token = AccessToken(
            id: JobID.make(), user: user, role: role, fingerprint: fingerprint, createdAt: now, expiresAt: expiresAt,
            revokedAt: nil, trusted: trusted)
        // Replicas that import the same secret at start-up at once: the first insert wins and the
        // others get its token, as they would had they come a moment later.
        let inserted = try await database.execute(
            """
            INSERT INTO tokens (id, "user", role, secret_hash, fingerprint, created_at, expires_at, trusted)
            VALUES (\(token.id), \(user), \(role.rawValue), \(Data(secretHash)), \(fingerprint), \(now), \(expiresAt), \(trusted ? 1 : 0))
            ON CONFLICT (secret_hash) DO NOTHING RETURNING 1
            """)
        if inserted == 0, let (existing, _) = try await self.token(secretHash: secretHash) {
            guard existing.user == user, existing.role == role else {
                throw StoreError("that secret belongs to another token (\(existing.id))")
            }
            return existing
        }
        return token
    }

    package func token(secretHash: [UInt8]) async throws -> (AccessToken, storedHash: [UInt8])? {
        guard let row = try await database.one("SELECT * FROM tokens WHERE secret_hash = \(Data(secretHash))") else { return nil }
        return (try Self.token(from: row), [UInt8](try row.value("secret_hash", as: Data.self)))
    }

    package func tokens() async throws -> [AccessToken] {
        // COLLATE "C": ids compare by their bytes, as in SQLite.
        try await database.rows("SELECT * FROM tokens ORDER BY created_at DESC, id COLLATE \"C\"").map(Self.token(from:))
    }

    package func setTrusted(_ id: String, _ trusted: Bool) async throws -> Bool {
        try await database.execute("UPDATE tokens SET trusted = \(trusted ? 1 : 0) WHERE id = \(id) RETURNING 1") > 0
    }

    package func revokeToken(_ id: String, now: Double) async throws -> Bool {
        // One statement: a token revoked before keeps its first revocation time.
        try await database.execute("UPDATE tokens SET revoked_at = COALESCE(revoked_at, \(now)) WHERE id = \(id) RETURNING 1") > 0
    }

    package func hasTokens() async throws -> Bool {
        try await database.one("SELECT 1 FROM tokens LIMIT 1") != nil
    }

    /// A token from its row (a `tokens` row, or one that holds its columns); a role no release
    /// writes reads as `monitor`, as in SQLite.
    package static func token(from row: PostgresRandomAccessRow) throws -> AccessToken {
        AccessToken(
            id: try row.value("id"), user: try row.value("user"), role: Role(rawValue: try row.value("role", as: String.self)) ?? .monitor,
            fingerprint: try row.value("fingerprint"), createdAt: try row.value("created_at"), expiresAt: try row.value("expires_at"),
            revokedAt: try row.value("revoked_at"), trusted: (try row.value("trusted", as: Int?.self) ?? 0) != 0)
    }
}
