import TallyProtocol

/// The activity log's configuration (`activity_log` in `tally.yaml`): what users never
/// configured get, and how long rows are kept.
public struct ActivityLogPolicy: Sendable, Equatable {
    /// The setting of users never configured (`default: on` sends to the log `default`).
    public var defaultSetting = ActivitySetting(enabled: true, logs: ["default"])
    /// Rows older than this are deleted.
    public var retentionDays: Double = 90

    public init() {}
}
