import TallyStore

/// The leader row of a shared PostgreSQL store: one statement takes or renews it, timed by the
/// database's clock, so replicas whose clocks disagree still agree on who leads.
package final class PostgresLeaderLease: LeaderLease {
    package let database: PostgresDatabase
    /// The row's name: one singleton lease per store.
    static let name = "coordinator"

    /// The lease in `database`.
    package init(database: PostgresDatabase) {
        self.database = database
    }

    package func claimLeadership(holder: String, seconds: Double) async throws -> Int64? {
        try await database.one(
            """
            INSERT INTO coordinator_leader AS l (name, holder, term, expires_at)
            VALUES (\(Self.name), \(holder), 1, extract(epoch FROM clock_timestamp()) + \(seconds))
            ON CONFLICT (name) DO UPDATE SET
                holder = EXCLUDED.holder,
                term = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > extract(epoch FROM clock_timestamp())
                            THEN l.term ELSE l.term + 1 END,
                expires_at = EXCLUDED.expires_at
            WHERE l.holder = EXCLUDED.holder OR l.expires_at <= extract(epoch FROM clock_timestamp())
            RETURNING term
            """)?.value("term", as: Int64.self)
    }

    package func releaseLeadership(holder: String) async throws {
        try await database.execute(
            """
            UPDATE coordinator_leader SET expires_at = 0 WHERE name = \(Self.name) AND holder = \(holder) RETURNING 1
            """)
    }

    package func storeClock() async throws -> Double? {
        try await database.one("SELECT extract(epoch FROM clock_timestamp())::float8 AS now")?.value("now", as: Double.self)
    }
}
