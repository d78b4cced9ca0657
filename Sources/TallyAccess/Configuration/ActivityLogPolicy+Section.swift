import TallyProtocol
import TallyServices

extension ActivityLogPolicy {
    /// The `activity_log:` section of tally.yaml as written (docs/operations.md).
    package struct Section: Decodable, Sendable {
        var `default`: Switch?
        var retentionDays: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case `default`
            case retentionDays = "retention_days"
        }

        /// `on` or `off` (YAML may read them as booleans or as words).
        struct Switch: Decodable, Sendable {
            var on: Bool

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let flag = try? container.decode(Bool.self) {
                    on = flag
                    return
                }
                switch try container.decode(String.self) {
                case "on": on = true
                case "off": on = false
                default: throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be on or off")
                }
            }
        }

        /// The keys the section may hold.
        package static let keys = ConfigurationKeys.values(CodingKeys.self)
    }

    /// Applies the section; a problem names its field.
    package mutating func apply(_ section: Section, _ context: ConfigurationContext) throws(ConfigurationError) {
        if let on = section.default?.on {
            defaultSetting = on ? ActivitySetting(enabled: true, logs: ["default"]) : .off
        }
        if let v = try context.checked(section.retentionDays, "activity_log.retention_days", 1...36_500) {
            retentionDays = v
        }
    }
}
