import TallyProtocol

/// Where the API activity log lives: rows appended in batches, per-user settings that route them
/// to named logs, exports page by page, and expiry.
package protocol ActivityLogStore: Sendable {
    /// This deployment's id, made when the log was first opened.
    /// (Async: a shared database reads it once, on first use.)
    var account: String { get async throws }

    /// Writes each record to the logs its user's setting names (`defaultSetting` for users never
    /// configured), in one transaction; returns the rows written.
    func append(_ records: [ActivityRecord], defaultSetting: ActivitySetting) async throws -> Int

    /// A user's own setting; nil when never configured.
    func setting(of user: String) async throws -> ActivitySetting?

    /// Sets a user's setting; nil puts them back on the default.
    func setSetting(_ setting: ActivitySetting?, for user: String) async throws

    /// Up to `limit` rows matching `query` after position `after` (0 for the first page), oldest
    /// first, with their positions.
    func records(_ query: ActivityQuery, after: Int64, limit: Int) async throws -> [(position: Int64, record: ActivityRecord)]

    /// Deletes the rows written before `cutoff`; returns how many.
    func expire(before cutoff: Int64) async throws -> Int
}
