import GRDB

/// The coordinator's repositories over one SQLite file (WAL mode) in the data directory: the
/// file is opened and migrated once, and each aggregate gets its own repository type over it.
package struct SQLiteStores: Sendable {
    package let jobs: SQLiteJobStore
    package let shardCache: SQLiteShardCacheStore
    package let notifications: SQLiteNotificationStore
    package let tokens: SQLiteTokenStore
    package let schedules: SQLiteScheduleStore
    package let sessions: SQLiteSessionStore

    /// Opens (creating when needed) and migrates the database at `path`.
    package init(path: String) throws {
        let database = try SQLiteFile.open(path, migrator: StoreSchema.migrator())
        jobs = SQLiteJobStore(database: database)
        shardCache = SQLiteShardCacheStore(database: database)
        notifications = SQLiteNotificationStore(database: database)
        tokens = SQLiteTokenStore(database: database)
        schedules = SQLiteScheduleStore(database: database)
        sessions = SQLiteSessionStore(database: database)
    }
}
