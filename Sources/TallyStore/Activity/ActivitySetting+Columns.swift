import TallyProtocol

extension ActivitySetting {
    /// The setting a user's stored columns describe, in whichever database they are kept: `logs`
    /// is the log names joined by commas.
    package static func stored(enabled: Bool, logs: String) -> ActivitySetting {
        ActivitySetting(enabled: enabled, logs: logs.split(separator: ",").map(String.init))
    }

    /// The `logs` column: the names joined by commas. An off setting keeps no log names:
    /// switched on again, it names its logs anew.
    package var storedLogs: String {
        enabled ? logs.joined(separator: ",") : ""
    }
}
