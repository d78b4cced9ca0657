import Logging
import PostgresNIO
import Synchronization
import TallyStore

/// One PostgreSQL database shared by every coordinator replica: a pooled `PostgresClient` and the
/// few ways the stores talk to it.
///
/// The database owns its pool's run loop and its migration, as two tasks it starts when made
/// and cancels when it goes: a store is made where nothing can wait (a coordinator is built
/// synchronously, then driven in-process by the tests or served), and every statement first
/// waits for the migration, so a migration that failed fails every statement with its reason.
///
/// Statements run at READ COMMITTED. A change to one job's state takes that job's advisory lock
/// first (`PostgresTransaction.lockJob`), so changes to one job follow each other as they do in
/// SQLite, while jobs, and the lease claim (one statement, `FOR UPDATE SKIP LOCKED`), run side
/// by side across replicas (docs/design.md §3.10).
package final class PostgresDatabase: Sendable {
    package let client: PostgresClient
    package let location: PostgresLocation
    let logger: Logger
    private let pool: Task<Void, Never>
    private let migration: Task<Void, Never>
    /// The migration's last outcome.
    private let migrated: MigrationOutcome

    /// A pool of up to `maxConnections` connections to `location`, running, and the schema's
    /// migration, started.
    package init(_ location: PostgresLocation, maxConnections: Int = 20, logger: Logger) {
        self.location = location
        self.logger = logger
        let client = PostgresClient(configuration: location.clientConfiguration(maxConnections: maxConnections), backgroundLogger: logger)
        self.client = client
        pool = Task { await client.run() }
        let migrated = MigrationOutcome()
        self.migrated = migrated
        // Tried again every second until it succeeds: a replica started while PostgreSQL is
        // down becomes ready when it comes back. Until then statements fail with its reason.
        migration = Task {
            while !Task.isCancelled {
                do {
                    try await PostgresSchema.migrate(client, schema: location.schema, logger: logger)
                    migrated.set(.success(()))
                    return
                } catch {
                    migrated.set(.failure(Self.readable(error)))
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    deinit {
        migration.cancel()
        pool.cancel()
    }

    /// Waits for the schema to be migrated; throws the migration's error, or, when the caller is
    /// cancelled first (a deadline), `CancellationError`: a statement never waits longer than
    /// its caller while the server cannot be reached.
    package func ready() async throws {
        while true {
            if let outcome = migrated.value { return try outcome.get() }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Rows of one statement outside a transaction.
    package func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await ready()
        do {
            return try await client.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
        } catch {
            throw Self.readable(error)
        }
    }

    /// Whether the database answers: the readiness probe's test.
    package func ping() async throws {
        try await execute("SELECT 1")
    }

    /// Runs `body` in one transaction, committed when it returns and rolled back when it throws.
    /// A transaction PostgreSQL aborted for a deadlock or a serialization failure did nothing, so
    /// it runs again (up to 5 times); `body` must not act outside the database unless it is safe
    /// to act twice.
    package func transaction<T: Sendable>(_ body: (PostgresTransaction) async throws -> T) async throws -> T {
        try await ready()
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await client.withConnection { connection in
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        let result = try await body(PostgresTransaction(connection: connection, logger: logger))
                        try await connection.query("COMMIT", logger: logger)
                        return result
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: logger)
                        throw error
                    }
                }
            } catch let error as PSQLError where attempt < 5 && Self.isRetryable(error) {
                logger.debug("transaction retried", metadata: ["sqlstate": "\(error.serverInfo?[.sqlState] ?? "")"])
                continue
            } catch {
                throw Self.readable(error)
            }
        }
    }

    /// A driver error as an operator can read it: the server's message and SQLSTATE, or the
    /// driver's own reason (PSQLError's description hides both).
    static func readable(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        if let info = error.serverInfo {
            return StoreError(
                "PostgreSQL: \(info[.message] ?? "error") (SQLSTATE \(info[.sqlState] ?? "?"))"
                    + (info[.detail].map { ": \($0)" } ?? ""))
        }
        return StoreError("PostgreSQL: \(error.code)")
    }

    /// Deadlocks and serialization failures: PostgreSQL rolled the transaction back whole.
    static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == PostgresError.Code.serializationFailure.raw || state == PostgresError.Code.deadlockDetected.raw
    }
}

/// The outcome of the schema's migration, shared by the task that runs it and every statement.
private final class MigrationOutcome: Sendable {
    private let outcome = Mutex<Result<Void, any Error>?>(nil)

    var value: Result<Void, any Error>? { outcome.withLock { $0 } }

    func set(_ result: Result<Void, any Error>) { outcome.withLock { $0 = result } }
}

/// What runs statements: the database outside a transaction, or one transaction.
package protocol PostgresReader: Sendable {
    /// Rows of one statement.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow]
}

extension PostgresReader {
    /// The first row of one statement, if any.
    package func one(_ query: PostgresQuery) async throws -> PostgresRandomAccessRow? {
        try await rows(query).first
    }

    /// Runs one statement; returns the rows it returned (an `UPDATE … RETURNING 1` counts the rows it changed).
    @discardableResult
    package func execute(_ query: PostgresQuery) async throws -> Int {
        try await rows(query).count
    }
}

extension PostgresDatabase: PostgresReader {}
extension PostgresTransaction: PostgresReader {}

/// The statements of one transaction, on its connection.
package struct PostgresTransaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Rows of one statement.
    package func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    /// Waits for, then holds until the transaction ends, the lock on one job's state.
    package func lockJob(_ jobId: String) async throws {
        try await execute("SELECT pg_advisory_xact_lock(\(Self.jobLockSpace), hashtext(\(jobId)))")
    }

    /// The first key of the job locks' two-key advisory lock space (the second is the job id's hash).
    static let jobLockSpace: Int32 = 7_411_001
}

extension PostgresRandomAccessRow {
    /// The value of column `name`, decoded; a mismatch names the column.
    package func value<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        do {
            return try self[name].decode(T.self)
        } catch {
            throw StoreError("column \(name): \(String(reflecting: error))")
        }
    }
}

extension String {
    /// The text as PostgreSQL's `text` can hold it: NUL, which it refuses, becomes U+FFFD. For
    /// free text a remote party supplies (worker names, failure reasons), so that a hostile NUL
    /// costs its request nothing more than the character.
    package var storable: String {
        utf8.contains(0) ? replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : self
    }
}
