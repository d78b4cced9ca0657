import Logging
import TallyPostgres
import TallyStore

/// Every repository the coordinator uses, opened from its configuration: SQLite files in the
/// data directory, or one PostgreSQL database that all replicas share. Nothing above this type
/// knows which.
struct CoordinatorStores: Sendable {
    let jobs: any JobStore
    let tokens: any TokenStore
    let notifications: any NotificationStore
    let schedules: any ScheduleStore
    let sessions: any SessionStore
    let shardCache: any ShardCacheStore
    let activity: any ActivityLogStore
    /// The lease on singleton work, and this replica's term in it (nil for a store only one
    /// coordinator opens: it always leads).
    let leadership: (lease: any LeaderLease, term: LeaderTerm)?

    /// Opens the stores `location` names; SQLite's files go in `files` (opened for SQLite only).
    /// `replica` names this process in a shared store's leader row.
    static func open(
        _ location: StoreLocation, files: @autoclosure () throws -> DataDirectory, replica: String = ReplicaName.make(), logger: Logger
    ) throws
        -> CoordinatorStores
    {
        switch location {
        case .sqlite:
            let files = try files()
            let stores = try SQLiteStores(path: files.databasePath)
            return CoordinatorStores(
                jobs: stores.jobs, tokens: stores.tokens, notifications: stores.notifications, schedules: stores.schedules,
                sessions: stores.sessions, shardCache: stores.shardCache, activity: try SQLiteActivityLog(path: files.activityDatabasePath),
                leadership: nil)
        case .postgres(let url, let passwordFile):
            let database = PostgresDatabase(try PostgresLocation(url: url, passwordFile: passwordFile), logger: logger)
            let term = LeaderTerm(holder: replica)
            return CoordinatorStores(
                jobs: PostgresJobStore(database: database, leader: term), tokens: PostgresTokenStore(database: database),
                notifications: PostgresNotificationStore(database: database), schedules: PostgresScheduleStore(database: database),
                sessions: PostgresSessionStore(database: database), shardCache: PostgresShardCacheStore(database: database),
                activity: PostgresActivityLog(database: database),
                leadership: (PostgresLeaderLease(database: database), term))
        }
    }
}
