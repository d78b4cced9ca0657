import GRDB

/// Opens the coordinator's SQLite files the one way they are opened: WAL mode (a `DatabasePool`),
/// so `tally … --data-dir` can write beside a running coordinator, waiting up to 10 s for the
/// other writer, and brought up to date by the file's migrations.
package enum SQLiteFile {
    package static func open(_ path: String, migrator: DatabaseMigrator) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let database = try DatabasePool(path: path, configuration: configuration)
        try migrator.migrate(database)
        return database
    }
}
