import Foundation
import GRDB
import TallyProtocol

/// Access tokens in the shared SQLite database: hashed secrets, roles, expiry and revocation.
package struct SQLiteTokenStore: TokenStore {
    package let database: DatabasePool

    /// The repository over a database opened by `SQLiteStores`.
    package init(database: DatabasePool) {
        self.database = database
    }

    package func createToken(
        user: String, role: Role, trusted: Bool, secretHash: [UInt8], fingerprint: String, expiresAt: Double?,
        now: Double
    ) async throws -> AccessToken {
        let token = AccessToken(
            id: JobID.make(), user: user, role: role, fingerprint: fingerprint, createdAt: now, expiresAt: expiresAt,
            revokedAt: nil, trusted: trusted)
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO tokens (id, user, role, secret_hash, fingerprint, created_at, expires_at, trusted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [token.id, user, role.rawValue, Data(secretHash), fingerprint, now, expiresAt, trusted])
        }
        return token
    }

    package func token(secretHash: [UInt8]) async throws -> (AccessToken, storedHash: [UInt8])? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE secret_hash = ?", arguments: [Data(secretHash)])
                .map { (Self.token(from: $0), [UInt8]($0["secret_hash"] as Data)) }
        }
    }

    package func tokens() async throws -> [AccessToken] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens ORDER BY created_at DESC, id").map(Self.token(from:))
        }
    }

    package func setTrusted(_ id: String, _ trusted: Bool) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "UPDATE tokens SET trusted = ? WHERE id = ?", arguments: [trusted, id])
            return db.changesCount > 0
        }
    }

    package func revokeToken(_ id: String, now: Double) async throws -> Bool {
        try await database.write { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM tokens WHERE id = ?", arguments: [id]) != nil else { return false }
            try db.execute(sql: "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: [now, id])
            return true
        }
    }

    package func hasTokens() async throws -> Bool {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT 1 FROM tokens LIMIT 1") != nil }
    }

    package static func token(from row: Row) -> AccessToken {
        AccessToken(
            id: row["id"], user: row["user"], role: Role(rawValue: row["role"]) ?? .monitor, fingerprint: row["fingerprint"],
            createdAt: row["created_at"], expiresAt: row["expires_at"], revokedAt: row["revoked_at"], trusted: row["trusted"] ?? false)
    }
}
