import ArgumentParser
import TallyClient
import TallyCoordinator

/// Where an administrative command acts: a coordinator's store directly (its data directory's
/// SQLite files, or the PostgreSQL database its replicas share), or its API.
struct AdministrationTarget: ParsableArguments {
    @Option(help: "A coordinator's data directory, used directly (no token needed).")
    var dataDir: String?

    @Option(help: "A shared PostgreSQL store, used directly (no token needed): postgres://USER@HOST:PORT/DATABASE.")
    var store: String?

    @Option(help: "The file holding the --store database's password.")
    var storePasswordFile: String?

    @OptionGroup var api: CoordinatorOptions

    func run<T>(local: (String?, StoreLocation) async throws -> T, remote: (CoordinatorConnection) async throws -> T) async throws -> T {
        // A PostgreSQL store keeps nothing in the data directory: it is not opened for it.
        if let store { return try await local(dataDir, .postgres(url: store, passwordFile: storePasswordFile)) }
        if let dataDir { return try await local(dataDir, .sqlite) }
        return try await api.withConnection { try await remote($0) }
    }
}
