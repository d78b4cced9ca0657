import Logging
import TallyAccess
import TallyProtocol
import TallyStore

/// `tally user activity … --data-dir DIR` and `tally activity … --data-dir DIR`: per-user
/// settings and exports straight in a coordinator's data directory, also while it runs (SQLite
/// in WAL mode takes the second writer; the coordinator reads settings at every batch).
public struct ActivityAdministration: Sendable {
    private let service: ActivityService

    /// Opens the activity log `store` names (SQLite's in `dataDirectory`, created when needed).
    public init(dataDirectory: String?, store: StoreLocation = .sqlite) throws {
        service = ActivityService(
            store: try CoordinatorStores.open(
                store, files: try DataDirectory(administering: dataDirectory), logger: Logger(label: "tally.activity")
            ).activity,
            policy: ActivityLogPolicy())
    }

    /// A user's own setting; nil when they follow the configured default.
    public func setting(of user: String) async throws -> ActivitySetting? {
        let (setting, own) = try await service.setting(of: user)
        return own ? setting : nil
    }

    /// Sets a user's setting; an invalid one is refused with the reason.
    public func set(_ setting: ActivitySetting, for user: String) async throws {
        try await service.set(setting, for: user)
    }

    /// Writes an export, chunk by chunk, to `write`.
    public func export(_ export: ActivityExport, to write: (String) async throws -> Void) async throws {
        try await service.export(export, to: write)
    }
}
