import Logging
import TallyPostgres

/// `tally store migrate`: a data directory's SQLite store moved into an empty PostgreSQL store,
/// so a single coordinator becomes the first of several replicas (docs/operations.md). The
/// data directory's files (partials, results, the cache) stay where they are: the replicas
/// share that folder.
public enum StoreMigration {
    /// Copies `dataDirectory`'s store into the PostgreSQL store at `url`; the rows copied per table.
    public static func copy(fromDataDirectory dataDirectory: String, toURL url: String, passwordFile: String?) async throws
        -> [(table: String, rows: Int)]
    {
        let files = try DataDirectory(root: dataDirectory)
        let database = PostgresDatabase(
            try PostgresLocation(url: url, passwordFile: passwordFile), maxConnections: 2, logger: Logger(label: "tally.store"))
        return try await SQLiteStoreCopy.copy(jobDatabase: files.databasePath, activityDatabase: files.activityDatabasePath, into: database)
    }
}
