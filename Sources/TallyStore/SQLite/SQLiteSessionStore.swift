import Foundation
import GRDB

/// Web sessions in the shared SQLite database, each tied to the token it was opened with.
package struct SQLiteSessionStore: SessionStore {
    package let database: DatabasePool

    /// The repository over a database opened by `SQLiteStores`.
    package init(database: DatabasePool) {
        self.database = database
    }

    package func createSession(idHash: [UInt8], tokenId: String, formToken: String, expiresAt: Double, now: Double) async throws {
        try await database.write { db in
            // Ended sessions go as new ones start: the table holds the live ones and a few more.
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at <= ?", arguments: [now])
            try db.execute(
                sql: "INSERT INTO sessions (id_hash, token_id, form_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [Data(idHash), tokenId, formToken, now, expiresAt])
        }
    }

    package func session(idHash: [UInt8], now: Double) async throws -> WebSession? {
        try await database.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT t.*, s.form_token, s.expires_at AS session_expires_at FROM sessions s JOIN tokens t ON t.id = s.token_id
                        WHERE s.id_hash = ? AND s.expires_at > ?
                        """, arguments: [Data(idHash), now])
            else { return nil }
            let token = SQLiteTokenStore.token(from: row)
            guard token.isValid(at: now) else { return nil }
            return WebSession(token: token, formToken: row["form_token"], expiresAt: row["session_expires_at"])
        }
    }

    package func deleteSession(idHash: [UInt8]) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE id_hash = ?", arguments: [Data(idHash)])
        }
    }
}
