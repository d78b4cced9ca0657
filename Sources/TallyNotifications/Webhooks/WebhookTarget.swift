import Foundation

/// A webhook a job's end is announced to (`notifications.targets` in `tally.yaml`): deliveries
/// are signed as the Standard Webhooks specification says, with the target's `whsec_` secret.
public struct WebhookTarget: Sendable, Equatable {
    public var name: String
    public var url: String
    /// The signing key: the secret's bytes after `whsec_`, base64-decoded.
    public var key: [UInt8]

    /// A target; a secret that is not `whsec_` + base64 is refused with the reason.
    public init(name: String, url: String, secret: String) throws(NotificationConfigurationError) {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count))), key.count >= 16 else {
            throw NotificationConfigurationError(
                reason: "the secret of target '\(name)' must be whsec_ followed by base64 of at least 16 bytes")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw NotificationConfigurationError(reason: "the url of target '\(name)' must be http(s)://")
        }
        self.name = name
        self.url = url
        self.key = Array(key)
    }
}

/// Notification settings that cannot be used.
public struct NotificationConfigurationError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
