import Foundation
import PostgresNIO
import TallyStore

/// Web sessions in the shared PostgreSQL database, each tied to the token it was opened with, as
/// `SQLiteSessionStore` keeps them.
package final class PostgresSessionStore: SessionStore {
    package let database: PostgresDatabase

    /// The repository over a migrated database.
    package init(database: PostgresDatabase) {
        self.database = database
    }

    package func createSession(idHash: [UInt8], tokenId: String, formToken: String, expiresAt: Double, now: Double) async throws {
        try await database.transaction { tx in
            // Ended sessions go as new ones start: the table holds the live ones and a few more.
            try await tx.execute("DELETE FROM sessions WHERE expires_at <= \(now)")
            try await tx.execute(
                """
                INSERT INTO sessions (id_hash, token_id, form_token, created_at, expires_at)
                VALUES (\(Data(idHash)), \(tokenId), \(formToken), \(now), \(expiresAt))
                """)
        }
    }

    package func session(idHash: [UInt8], now: Double) async throws -> WebSession? {
        guard
            let row = try await database.one(
                """
                SELECT t.*, s.form_token, s.expires_at AS session_expires_at FROM sessions s JOIN tokens t ON t.id = s.token_id
                WHERE s.id_hash = \(Data(idHash)) AND s.expires_at > \(now)
                """)
        else { return nil }
        let token = try PostgresTokenStore.token(from: row)
        guard token.isValid(at: now) else { return nil }
        return WebSession(token: token, formToken: try row.value("form_token"), expiresAt: try row.value("session_expires_at"))
    }

    package func deleteSession(idHash: [UInt8]) async throws {
        try await database.execute("DELETE FROM sessions WHERE id_hash = \(Data(idHash))")
    }
}
