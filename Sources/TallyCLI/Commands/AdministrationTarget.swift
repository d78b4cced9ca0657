import ArgumentParser
import TallyClient

/// Where an administrative command acts: a coordinator's data directory directly, or its API.
struct AdministrationTarget: ParsableArguments {
    @Option(help: "A coordinator's data directory, used directly (no token needed).")
    var dataDir: String?

    @OptionGroup var api: CoordinatorOptions

    func run<T>(local: (String) async throws -> T, remote: (CoordinatorConnection) async throws -> T) async throws -> T {
        if let dataDir { return try await local(dataDir) }
        return try await api.withConnection { try await remote($0) }
    }
}
