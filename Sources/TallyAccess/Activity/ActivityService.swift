import TallyProtocol
import TallyStore

/// The activity log as every door uses it (the API, the Activity page, `tally user activity
/// --data-dir`): who is logged where, with the configured default for users without a setting
/// of their own, and exports. Refusals are `ActivityError`s naming the field.
package struct ActivityService: Sendable {
    package let store: any ActivityLogStore
    package let policy: ActivityLogPolicy

    package init(store: any ActivityLogStore, policy: ActivityLogPolicy) {
        self.store = store
        self.policy = policy
    }

    /// The setting in force for `user`, and whether it is their own (not the default).
    package func setting(of user: String) async throws -> (setting: ActivitySetting, own: Bool) {
        let own = try await store.setting(of: user)
        return (own ?? policy.defaultSetting, own != nil)
    }

    /// Sets a user's own setting.
    package func set(_ setting: ActivitySetting, for user: String) async throws {
        try Self.check(user: user)
        if let problem = setting.problem { throw ActivityError(field: "logs", reason: problem) }
        try await store.setSetting(setting, for: user)
    }

    /// A user name a setting may be stored under: 1 to 256 bytes.
    package static func check(user: String) throws(ActivityError) {
        guard !user.isEmpty, user.utf8.count <= 256 else { throw ActivityError(field: "user", reason: "user must be 1 to 256 bytes") }
    }

    /// Writes an export, chunk by chunk, to `write`.
    package func export(_ export: ActivityExport, to write: (String) async throws -> Void) async throws {
        try await export.write(from: store, to: write)
    }
}
