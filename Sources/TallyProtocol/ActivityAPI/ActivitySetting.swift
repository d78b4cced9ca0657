import TallyFormats

/// Whether one user's API requests are written to the activity log, and to which named logs
/// (`PUT /v1/users/{user}/activity`, `tally user activity`).
public struct ActivitySetting: Codable, Sendable, Equatable {
    /// Off: none of the user's requests are written.
    public var enabled: Bool
    /// The named logs each of the user's rows goes to (one row in each); empty when off.
    public var logs: [String]

    public init(enabled: Bool, logs: [String]) {
        self.enabled = enabled
        self.logs = logs
    }

    /// Off for this user.
    public static let off = ActivitySetting(enabled: false, logs: [])

    /// A log name: 1 to 64 of `A-Z a-z 0-9 . _ -` (names reach file names and URLs).
    public static func isValidLogName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy {
                $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
            }
    }

    /// Why this setting cannot be stored, or nil: at most 16 valid log names, at least one when
    /// enabled.
    public var problem: String? {
        guard logs.count <= 16, !enabled || !logs.isEmpty else { return "an enabled setting names 1 to 16 logs (at most 16 when off)" }
        if let bad = logs.first(where: { !Self.isValidLogName($0) }) {
            return "log name '\(bad.escapingControlCharacters)' must be 1 to 64 of A-Z a-z 0-9 . _ -"
        }
        return nil
    }
}

extension ActivitySetting: WireBody {
    public static let wireKeys: Set<String> = ["enabled", "logs"]
}

/// `GET /v1/users/{user}/activity`: a user's setting, and whether it was set for them (`false`:
/// the configured default applies).
public struct UserActivity: Codable, Sendable, Equatable {
    public var user: String
    public var setting: ActivitySetting
    public var configured: Bool

    public init(user: String, setting: ActivitySetting, configured: Bool) {
        self.user = user
        self.setting = setting
        self.configured = configured
    }
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
